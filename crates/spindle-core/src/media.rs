//! Media reference strings (`@@@langfuseMedia:type=image/png|id=…|source=bytes@@@`), which
//! the SDKs put in place of media in inputs, outputs and dataset item fields, and the search of
//! a JSON value for the strings that are one, each with its JSONPath.
//!
//! The JSONPaths are the normalized bracket form the SDKs parse to put a resolved reference
//! back in place: `$`, then `['key']` per object key and `[3]` per array index. That form has
//! no escapes, so a reference under a key holding `']` cannot be addressed and is left out.

use serde_json::Value;

const PREFIX: &str = "@@@langfuseMedia:";
const SUFFIX: &str = "@@@";

/// How many references one value may yield; the rest are not looked for.
pub const MAX_REFERENCES: usize = 100;

/// What a reference string names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaReference {
    /// The media id: base64url characters only.
    pub media_id: String,
    pub content_type: Option<String>,
    pub source: Option<String>,
}

/// A string of a JSON value that is a reference, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundReference {
    /// The normalized JSONPath of the string within the value (`$` for the value itself).
    pub json_path: String,
    /// The string as stored.
    pub reference_string: String,
    pub reference: MediaReference,
}

/// The reference `text` is, when the whole of it is one (surrounding text or a second
/// reference make it an ordinary string: replacing it would lose what else it says).
pub fn parse_reference(text: &str) -> Option<MediaReference> {
    let body = text.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if body.contains(SUFFIX) {
        return None;
    }
    let mut media_id = None;
    let mut content_type = None;
    let mut source = None;
    for pair in body.split('|') {
        let (key, value) = pair.split_once('=')?;
        match key {
            "id" => media_id = Some(value),
            "type" => content_type = Some(value.to_owned()),
            "source" => source = Some(value.to_owned()),
            _ => {}
        }
    }
    let media_id = media_id.filter(|id| {
        !id.is_empty()
            && id
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    })?;
    Some(MediaReference {
        media_id: media_id.to_owned(),
        content_type,
        source,
    })
}

/// The strings of `value` that are each one reference, in document order, at most
/// [`MAX_REFERENCES`].
pub fn find_references(value: &Value) -> Vec<FoundReference> {
    let mut found = Vec::new();
    let mut pending: Vec<(&Value, String)> = vec![(value, "$".to_owned())];
    while let Some((node, path)) = pending.pop() {
        if found.len() == MAX_REFERENCES {
            break;
        }
        match node {
            Value::String(text) => {
                if let Some(reference) = parse_reference(text) {
                    found.push(FoundReference {
                        json_path: path,
                        reference_string: text.clone(),
                        reference,
                    });
                }
            }
            // Pushed in reverse so the first child is visited first.
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate().rev() {
                    pending.push((item, format!("{path}[{index}]")));
                }
            }
            Value::Object(map) => {
                for (key, item) in map.iter().rev() {
                    if !key.contains("']") {
                        pending.push((item, format!("{path}['{key}']")));
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PNG: &str = "@@@langfuseMedia:type=image/png|id=a3-kNPkqi4CqsC2b8aEuSf|source=bytes@@@";

    #[test]
    fn parses_a_whole_reference_only() {
        let reference = parse_reference(PNG).expect("a reference");
        assert_eq!(reference.media_id, "a3-kNPkqi4CqsC2b8aEuSf");
        assert_eq!(reference.content_type.as_deref(), Some("image/png"));
        assert_eq!(reference.source.as_deref(), Some("bytes"));
        for text in [
            "",
            "plain",
            &format!("see {PNG}"),
            &format!("{PNG} {PNG}"),
            "@@@langfuseMedia:type=image/png|source=bytes@@@",
            "@@@langfuseMedia:type=image/png|id=../etc|source=bytes@@@",
            "@@@langfuseMedia:type=image/png|id=|source=bytes@@@",
            "@@@langfuseMedia:novalue|id=x@@@",
        ] {
            assert_eq!(parse_reference(text), None, "{text:?}");
        }
    }

    #[test]
    fn finds_references_with_their_paths() {
        let value = json!({
            "image": PNG,
            "messages": [{"content": ["text", PNG]}, {"content": "not one"}],
            "0": PNG,
            "odd']key": PNG,
        });
        let paths: Vec<String> = find_references(&value)
            .into_iter()
            .map(|found| found.json_path)
            .collect();
        assert_eq!(
            paths,
            ["$['image']", "$['messages'][0]['content'][1]", "$['0']"]
        );
        assert_eq!(find_references(&json!(PNG))[0].json_path, "$");
        assert!(find_references(&json!(null)).is_empty());
    }

    #[test]
    fn stops_at_the_bound() {
        let many = Value::Array(vec![json!(PNG); MAX_REFERENCES + 5]);
        assert_eq!(find_references(&many).len(), MAX_REFERENCES);
    }
}
