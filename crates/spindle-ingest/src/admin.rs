//! Bodies of the administration API (`/api/public/organizations/…`, `/api/public/projects…`):
//! a project (`{name, metadata?, retention?}`), a membership (`{userId, role}`, or
//! `{userId}` to remove one) and a project key (`{note?, publicKey?, secretKey?}`). Errors
//! name the field (`retention: must be 0 or at least 3 days`).

use crate::fields::Fields;
use serde_json::{Map, Value};
use spindle_core::Error;

/// The shortest and longest project names, in characters.
pub const PROJECT_NAME_CHARS: (usize, usize) = (3, 60);

/// A project body.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectBody {
    /// Trimmed, 3 to 60 characters.
    pub name: String,
    /// `None` when absent; `Some(None)` for 0 (keep everything); else at least 3 days.
    pub retention: Option<Option<u32>>,
    /// A JSON object as text (sent as an object or as a string holding one).
    pub metadata: Option<String>,
}

/// A membership body: the user, and the role's name when the body gives one (a removal
/// names none).
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipBody {
    pub user_id: String,
    pub role: Option<String>,
}

/// A project key body: a note, and the key pair the caller chose (both keys or neither).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyBody {
    pub note: Option<String>,
    /// `(pk-lf-…, sk-lf-…)`.
    pub key_pair: Option<(String, String)>,
}

/// The JSON object of a request body.
pub fn object(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Error::invalid("body", "expected a JSON object")),
        Err(error) => Err(Error::invalid("body", format!("not JSON: {error}"))),
    }
}

/// A required string field of `body`.
fn required_text(body: &Map<String, Value>, field: &str) -> Result<String, Error> {
    Fields::new(body, "")
        .string(field)?
        .ok_or_else(|| Error::invalid(field, "is required"))
}

fn project_name(body: &Map<String, Value>) -> Result<String, Error> {
    let name = required_text(body, "name")?;
    let chars = name.trim().chars().count();
    if chars < PROJECT_NAME_CHARS.0 || chars > PROJECT_NAME_CHARS.1 {
        return Err(Error::invalid(
            "name",
            "Invalid project name. Should be between 3 and 60 characters.",
        ));
    }
    Ok(name.trim().to_owned())
}

/// `retention`: absent, or 0 (keep everything) or at least 3 days.
fn retention(body: &Map<String, Value>) -> Result<Option<Option<u32>>, Error> {
    let invalid = || Error::invalid("retention", "must be 0 or at least 3 days");
    match body.get("retention") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => {
            let days = number
                .as_u64()
                .and_then(|days| u32::try_from(days).ok())
                .ok_or_else(invalid)?;
            match days {
                0 => Ok(Some(None)),
                1 | 2 => Err(invalid()),
                days => Ok(Some(Some(days))),
            }
        }
        Some(_) => Err(invalid()),
    }
}

/// `metadata`: absent, a JSON object, or a string holding one; kept as JSON text.
fn metadata(body: &Map<String, Value>) -> Result<Option<String>, Error> {
    let invalid = || {
        Error::invalid(
            "metadata",
            "Invalid metadata. Should be a valid JSON object.",
        )
    };
    match body.get("metadata") {
        None => Ok(None),
        Some(Value::Object(object)) => Ok(Some(Value::Object(object.clone()).to_string())),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => Ok(Some(Value::Object(object).to_string())),
            _ => Err(invalid()),
        },
        Some(_) => Err(invalid()),
    }
}

/// Reads a project body: `name` (required), `retention`, `metadata`.
pub fn parse_project_body(bytes: &[u8]) -> Result<ProjectBody, Error> {
    let body = object(bytes)?;
    Ok(ProjectBody {
        name: project_name(&body)?,
        retention: retention(&body)?,
        metadata: metadata(&body)?,
    })
}

/// Reads a membership body: `userId` (required) and, when `with_role`, `role` (required;
/// its name is checked by the caller, which knows the roles).
pub fn parse_membership_body(bytes: &[u8], with_role: bool) -> Result<MembershipBody, Error> {
    let body = object(bytes)?;
    Ok(MembershipBody {
        user_id: required_text(&body, "userId")?,
        role: if with_role {
            Some(required_text(&body, "role")?)
        } else {
            None
        },
    })
}

/// Reads a project key body (an empty body is an empty object): `note`, and `publicKey`
/// with `secretKey`, both or neither, starting with `pk-lf-` and `sk-lf-`.
pub fn parse_key_body(bytes: &[u8]) -> Result<KeyBody, Error> {
    if bytes.is_empty() {
        return Ok(KeyBody::default());
    }
    let body = object(bytes)?;
    let fields = Fields::new(&body, "");
    let note = fields.string("note")?;
    let key_pair = match (fields.string("publicKey")?, fields.string("secretKey")?) {
        (None, None) => None,
        (Some(public_key), Some(secret_key)) => {
            if !public_key.starts_with("pk-lf-") {
                return Err(Error::invalid("publicKey", "must start with 'pk-lf-'"));
            }
            if !secret_key.starts_with("sk-lf-") {
                return Err(Error::invalid("secretKey", "must start with 'sk-lf-'"));
            }
            Some((public_key, secret_key))
        }
        (None, Some(_)) => return Err(Error::invalid("publicKey", "is required with secretKey")),
        (Some(_), None) => return Err(Error::invalid("secretKey", "is required with publicKey")),
    };
    Ok(KeyBody { note, key_pair })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
        result.expect_err("an error").message
    }

    #[test]
    fn projects_name_retention_and_metadata() {
        let body = parse_project_body(
            br#"{"name": "  my project ", "retention": 0, "metadata": "{\"a\": 1}"}"#,
        )
        .expect("a project");
        assert_eq!(
            body,
            ProjectBody {
                name: "my project".into(),
                retention: Some(None),
                metadata: Some(r#"{"a":1}"#.into()),
            }
        );
        let kept = parse_project_body(br#"{"name": "abc", "retention": 30}"#).expect("project");
        assert_eq!((kept.retention, kept.metadata), (Some(Some(30)), None));
        assert!(message(parse_project_body(br#"{"name": "ab"}"#)).starts_with("name:"));
        assert!(
            message(parse_project_body(br#"{"name": "abc", "retention": 2}"#))
                .starts_with("retention:")
        );
        assert!(
            message(parse_project_body(br#"{"name": "abc", "retention": -1}"#))
                .starts_with("retention:")
        );
        assert!(
            message(parse_project_body(br#"{"name": "abc", "metadata": "[1]"}"#))
                .starts_with("metadata:")
        );
        assert_eq!(
            message(parse_project_body(b"[]")),
            "body: expected a JSON object"
        );
        assert!(message(parse_project_body(b"{")).starts_with("body: not JSON"));
    }

    #[test]
    fn memberships_and_keys() {
        let member = parse_membership_body(br#"{"userId": "u", "role": "ADMIN"}"#, true);
        assert_eq!(
            member.expect("a membership"),
            MembershipBody {
                user_id: "u".into(),
                role: Some("ADMIN".into())
            }
        );
        assert_eq!(
            message(parse_membership_body(br#"{"userId": "u"}"#, true)),
            "role: is required"
        );
        assert_eq!(
            parse_membership_body(br#"{"userId": "u"}"#, false)
                .expect("a removal")
                .role,
            None
        );
        assert_eq!(parse_key_body(b"").expect("no body"), KeyBody::default());
        let chosen =
            parse_key_body(br#"{"note": "n", "publicKey": "pk-lf-1", "secretKey": "sk-lf-2"}"#)
                .expect("a chosen pair");
        assert_eq!(chosen.key_pair, Some(("pk-lf-1".into(), "sk-lf-2".into())));
        assert_eq!(
            message(parse_key_body(br#"{"secretKey": "sk-lf-2"}"#)),
            "publicKey: is required with secretKey"
        );
        assert_eq!(
            message(parse_key_body(
                br#"{"publicKey": "pk-1", "secretKey": "sk-lf-2"}"#
            )),
            "publicKey: must start with 'pk-lf-'"
        );
    }
}
