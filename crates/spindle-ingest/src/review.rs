//! Review bodies of the public API: an annotation queue (`POST /api/public/annotation-queues`),
//! a queue item (`POST …/items`) and its status update (`PATCH …/items/{itemId}`), an
//! assignment (`POST`/`DELETE …/assignments`) and a comment (`POST /api/public/comments`).
//! Errors name the field (`objectType: must be "TRACE", "OBSERVATION" or "SESSION"`).

use crate::fields::{json_object_body, Fields};
use spindle_core::review::{
    ItemStatus, NewComment, NewQueue, NewQueueItem, ObjectType, MAX_COMMENT_LEN,
};
use spindle_core::Error;

/// The longest queue name.
pub const MAX_QUEUE_NAME_LEN: usize = 1000;

/// The object types a queue item may name, as its error spells them.
const QUEUE_TYPES: &str = "must be \"TRACE\", \"OBSERVATION\" or \"SESSION\"";

/// The object types a comment may name, as its error spells them.
const COMMENT_TYPES: &str = "must be \"TRACE\", \"OBSERVATION\", \"SESSION\" or \"PROMPT\"";

/// A required string.
fn required(fields: &Fields, key: &str) -> Result<String, Error> {
    fields
        .string(key)?
        .ok_or_else(|| Error::invalid(fields.field(key), "is required"))
}

/// A required id.
fn required_id(fields: &Fields, key: &str) -> Result<String, Error> {
    fields
        .id(key)?
        .ok_or_else(|| Error::invalid(fields.field(key), "is required"))
}

/// An item status, when given.
fn status(fields: &Fields) -> Result<Option<ItemStatus>, Error> {
    match fields.string("status")? {
        None => Ok(None),
        Some(text) => ItemStatus::parse(&text).map(Some).ok_or_else(|| {
            Error::invalid(
                fields.field("status"),
                "must be \"PENDING\" or \"COMPLETED\"",
            )
        }),
    }
}

/// A comment's or a queue item's `objectType`: one of the types `allowed` accepts.
fn object_type(
    fields: &Fields,
    allowed: fn(ObjectType) -> bool,
    expected: &str,
) -> Result<ObjectType, Error> {
    let text = required(fields, "objectType")?;
    ObjectType::parse(&text)
        .filter(|object_type| allowed(*object_type))
        .ok_or_else(|| Error::invalid(fields.field("objectType"), expected))
}

/// An object type given as a query parameter (`TRACE`, … or `PROMPT`).
pub fn parse_comment_object_type(text: &str) -> Result<ObjectType, Error> {
    ObjectType::parse(text).ok_or_else(|| Error::invalid("objectType", COMMENT_TYPES))
}

/// Reads a queue body: `name`, `description`, `scoreConfigIds` (at least one, as Langfuse
/// requires).
pub fn parse_queue_body(bytes: &[u8]) -> Result<NewQueue, Error> {
    let object = json_object_body(bytes)?;
    parse_queue_fields(&Fields::new(&object, ""))
}

/// Reads a queue's `name`, `description` and `scoreConfigIds`.
pub fn parse_queue_fields(fields: &Fields) -> Result<NewQueue, Error> {
    let name = required(fields, "name")?;
    if name.trim().is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    if name.chars().count() > MAX_QUEUE_NAME_LEN {
        return Err(Error::invalid(
            "name",
            format!("must be at most {MAX_QUEUE_NAME_LEN} characters"),
        ));
    }
    let score_config_ids = fields
        .string_array("scoreConfigIds")?
        .ok_or_else(|| Error::invalid("scoreConfigIds", "is required"))?;
    if score_config_ids.is_empty() {
        return Err(Error::invalid(
            "scoreConfigIds",
            "must name at least one score config",
        ));
    }
    Ok(NewQueue {
        name,
        description: fields.string("description")?,
        score_config_ids,
    })
}

/// Reads a queue item body: `objectId`, `objectType` (`TRACE`, `OBSERVATION` or `SESSION`),
/// `status`.
pub fn parse_queue_item_body(bytes: &[u8]) -> Result<NewQueueItem, Error> {
    let object = json_object_body(bytes)?;
    parse_queue_item_fields(&Fields::new(&object, ""))
}

/// Reads a queue item's `objectId`, `objectType` and `status`.
pub fn parse_queue_item_fields(fields: &Fields) -> Result<NewQueueItem, Error> {
    Ok(NewQueueItem {
        object_id: required_id(fields, "objectId")?,
        object_type: object_type(fields, ObjectType::queueable, QUEUE_TYPES)?,
        status: status(fields)?,
    })
}

/// Reads a queue item update body: an optional `status`.
pub fn parse_queue_item_update_body(bytes: &[u8]) -> Result<Option<ItemStatus>, Error> {
    let object = json_object_body(bytes)?;
    status(&Fields::new(&object, ""))
}

/// Reads an assignment body: `userId`.
pub fn parse_assignment_body(bytes: &[u8]) -> Result<String, Error> {
    let object = json_object_body(bytes)?;
    required_id(&Fields::new(&object, ""), "userId")
}

/// Reads a comment body: `projectId` (required, as Langfuse does; the key's project is the
/// one written to), then what [`parse_comment_fields`] reads.
pub fn parse_comment_body(bytes: &[u8]) -> Result<NewComment, Error> {
    let object = json_object_body(bytes)?;
    let fields = Fields::new(&object, "");
    required(&fields, "projectId")?;
    parse_comment_fields(&fields)
}

/// Reads a comment's `objectType`, `objectId`, `content` (trimmed, 1 to 5000 characters) and
/// `authorUserId`.
pub fn parse_comment_fields(fields: &Fields) -> Result<NewComment, Error> {
    let object_type = object_type(fields, |_| true, COMMENT_TYPES)?;
    let object_id = required_id(fields, "objectId")?;
    let content = required(fields, "content")?.trim().to_owned();
    if content.is_empty() {
        return Err(Error::invalid(fields.field("content"), "must not be empty"));
    }
    if content.chars().count() > MAX_COMMENT_LEN {
        return Err(Error::invalid(
            fields.field("content"),
            format!("must be at most {MAX_COMMENT_LEN} characters"),
        ));
    }
    Ok(NewComment {
        object_type,
        object_id,
        content,
        author_user_id: fields.id("authorUserId")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(result: Result<impl std::fmt::Debug, Error>) -> String {
        result.expect_err("refused").message
    }

    #[test]
    fn queue_bodies() {
        let queue =
            parse_queue_body(br#"{"name":"triage","description":null,"scoreConfigIds":["c1"]}"#)
                .expect("valid");
        assert_eq!(queue.name, "triage");
        assert_eq!(queue.description, None);
        assert_eq!(queue.score_config_ids, ["c1"]);
        for (body, message) in [
            (&br#"{"scoreConfigIds":["c1"]}"#[..], "name: is required"),
            (
                br#"{"name":" ","scoreConfigIds":["c1"]}"#,
                "name: must not be empty",
            ),
            (br#"{"name":"q"}"#, "scoreConfigIds: is required"),
            (
                br#"{"name":"q","scoreConfigIds":[]}"#,
                "scoreConfigIds: must name at least one score config",
            ),
            (
                br#"{"name":"q","scoreConfigIds":[1]}"#,
                "scoreConfigIds[0]: expected a string",
            ),
            (b"[]", "body: expected a JSON object"),
        ] {
            assert_eq!(error(parse_queue_body(body)), message);
        }
    }

    #[test]
    fn queue_item_bodies() {
        let item =
            parse_queue_item_body(br#"{"objectId":"t1","objectType":"SESSION"}"#).expect("valid");
        assert_eq!(item.object_type, ObjectType::Session);
        assert_eq!(item.status, None);
        let item = parse_queue_item_body(
            br#"{"objectId":"o1","objectType":"OBSERVATION","status":"COMPLETED"}"#,
        )
        .expect("valid");
        assert_eq!(item.status, Some(ItemStatus::Completed));
        for (body, message) in [
            (
                &br#"{"objectId":"p","objectType":"PROMPT"}"#[..],
                format!("objectType: {QUEUE_TYPES}"),
            ),
            (
                br#"{"objectId":"t","objectType":"trace"}"#,
                format!("objectType: {QUEUE_TYPES}"),
            ),
            (
                br#"{"objectType":"TRACE"}"#,
                "objectId: is required".to_owned(),
            ),
            (
                br#"{"objectId":"t","objectType":"TRACE","status":"DONE"}"#,
                "status: must be \"PENDING\" or \"COMPLETED\"".to_owned(),
            ),
        ] {
            assert_eq!(error(parse_queue_item_body(body)), message);
        }
        assert_eq!(parse_queue_item_update_body(b"{}").expect("valid"), None);
        assert_eq!(error(parse_assignment_body(b"{}")), "userId: is required");
    }

    #[test]
    fn comment_bodies() {
        let comment = parse_comment_body(
            br#"{"projectId":"p","objectType":"PROMPT","objectId":"x","content":"  fine  ","authorUserId":null}"#,
        )
        .expect("valid");
        assert_eq!(comment.object_type, ObjectType::Prompt);
        assert_eq!(comment.content, "fine");
        assert_eq!(comment.author_user_id, None);
        let long = format!(
            r#"{{"projectId":"p","objectType":"TRACE","objectId":"t","content":"{}"}}"#,
            "a".repeat(MAX_COMMENT_LEN + 1)
        );
        let exact = long.replacen('a', "", 1);
        assert!(parse_comment_body(exact.as_bytes()).is_ok());
        for (body, message) in [
            (
                long.as_bytes(),
                "content: must be at most 5000 characters".to_owned(),
            ),
            (
                br#"{"projectId":"p","objectType":"TRACE","objectId":"t","content":" "}"#,
                "content: must not be empty".to_owned(),
            ),
            (
                br#"{"objectType":"TRACE","objectId":"t","content":"x"}"#,
                "projectId: is required".to_owned(),
            ),
            (
                br#"{"projectId":"p","objectType":"SPAN","objectId":"t","content":"x"}"#,
                format!("objectType: {COMMENT_TYPES}"),
            ),
        ] {
            assert_eq!(error(parse_comment_body(body)), message);
        }
    }
}
