//! Prompts: versioned text or chat templates that applications fetch by name and label, the
//! rules their names and labels follow, and composition (a prompt that embeds another with a
//! `@@@langfusePrompt:name=…|label=…@@@` or `|version=…` reference, resolved on read).
//!
//! A prompt's content is kept as JSON text (a JSON string for a text prompt, a JSON array of
//! messages for a chat prompt), the way it travels; references are found and replaced in that
//! text, so a reference inside a chat message's content resolves like one in a text prompt.

use crate::time::Micros;
use crate::Error;

/// The label the newest version of a prompt always carries.
pub const LATEST_LABEL: &str = "latest";
/// The label fetched when neither a version nor a label is asked for.
pub const PRODUCTION_LABEL: &str = "production";
/// How deep references may nest (a prompt, a prompt it embeds, …).
pub const MAX_NESTING_DEPTH: usize = 5;
/// The longest accepted label.
pub const MAX_LABEL_LENGTH: usize = 36;
/// The longest accepted name.
pub const MAX_NAME_LENGTH: usize = 255;
/// The longest accepted commit message.
pub const MAX_COMMIT_MESSAGE_LENGTH: usize = 500;

/// Whether a prompt is one text or a list of chat messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptType {
    Text,
    Chat,
}

impl PromptType {
    pub fn as_str(self) -> &'static str {
        match self {
            PromptType::Text => "text",
            PromptType::Chat => "chat",
        }
    }

    pub fn parse(text: &str) -> Option<PromptType> {
        match text {
            "text" => Some(PromptType::Text),
            "chat" => Some(PromptType::Chat),
            _ => None,
        }
    }
}

/// Which version of a prompt: a number, or the version that holds a label.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PromptSelector {
    Version(i64),
    Label(String),
}

impl Default for PromptSelector {
    fn default() -> Self {
        PromptSelector::Label(PRODUCTION_LABEL.to_owned())
    }
}

/// A new version of a prompt, as a create request gives it (validated).
#[derive(Debug, Clone, PartialEq)]
pub struct NewPrompt {
    pub name: String,
    pub prompt_type: PromptType,
    /// JSON text: a string, or an array of messages.
    pub prompt: String,
    /// JSON text of any JSON value (`{}` when none was given).
    pub config: String,
    /// The labels asked for, without `latest` (which the store adds), without duplicates.
    pub labels: Vec<String>,
    /// The prompt's tags from now on; `None` keeps the ones it has.
    pub tags: Option<Vec<String>>,
    pub commit_message: Option<String>,
}

/// One stored version of a prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptVersion {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub version: i64,
    pub prompt_type: PromptType,
    /// JSON text as stored (references intact), or resolved when read that way.
    pub prompt: String,
    /// JSON text.
    pub config: String,
    /// Sorted.
    pub labels: Vec<String>,
    /// The prompt's tags (the same for all its versions), sorted.
    pub tags: Vec<String>,
    pub commit_message: Option<String>,
    pub created_by: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// A version as identified in a resolution graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptNode {
    pub id: String,
    pub name: String,
    pub version: i64,
}

/// Which versions a resolved prompt embedded: for each version (by id), the versions its
/// references resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionGraph {
    pub root: PromptNode,
    pub dependencies: Vec<(String, Vec<PromptNode>)>,
}

/// A version read for serving: with its references replaced when it was resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedPrompt {
    pub version: PromptVersion,
    /// `None` when the prompt references nothing or was read raw.
    pub graph: Option<ResolutionGraph>,
}

/// A reference to another prompt found in a prompt's content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PromptReference {
    pub name: String,
    pub selector: PromptSelector,
}

const TAG_START: &str = "@@@langfusePrompt:";
const TAG_END: &str = "@@@";

/// The distinct references in a prompt's JSON text, in order of first appearance.
///
/// A reference reads `@@@langfusePrompt:name=NAME|version=N@@@` or
/// `@@@langfusePrompt:name=NAME|label=LABEL@@@`; anything else between the markers (no
/// `name=` first, more or fewer than two parts, a version that is not a number) is left as
/// text, as Langfuse leaves it.
pub fn references(prompt_json: &str) -> Vec<PromptReference> {
    let mut found: Vec<PromptReference> = Vec::new();
    let mut rest = prompt_json;
    while let Some(start) = rest.find(TAG_START) {
        let after = &rest[start + TAG_START.len()..];
        let Some(end) = after.find(TAG_END) else {
            break;
        };
        let inner = &after[..end];
        rest = &after[end + TAG_END.len()..];
        if let Some(reference) = parse_reference(inner) {
            if !found.contains(&reference) {
                found.push(reference);
            }
        }
    }
    found
}

fn parse_reference(inner: &str) -> Option<PromptReference> {
    let mut parts = inner.split('|');
    let name = parts.next()?.strip_prefix("name=")?;
    let selector_part = parts.next()?;
    if parts.next().is_some() || name.is_empty() {
        return None;
    }
    let selector = if let Some(version) = selector_part.strip_prefix("version=") {
        PromptSelector::Version(version.trim().parse::<i64>().ok()?)
    } else if let Some(label) = selector_part.strip_prefix("label=") {
        if label.is_empty() {
            return None;
        }
        PromptSelector::Label(label.to_owned())
    } else {
        return None;
    };
    Some(PromptReference {
        name: name.to_owned(),
        selector,
    })
}

/// Replaces, in a prompt's JSON text, every reference to version `version` of `name` or to
/// one of its `labels` with `resolved_text` (the embedded prompt's own text, escaped for a
/// JSON string).
pub fn substitute(
    prompt_json: &str,
    name: &str,
    version: i64,
    labels: &[String],
    resolved_text: &str,
) -> String {
    let escaped = serde_json::to_string(resolved_text).unwrap_or_else(|_| "\"\"".to_owned());
    let escaped = &escaped[1..escaped.len() - 1];
    let mut result = prompt_json.replace(
        &format!("{TAG_START}name={name}|version={version}{TAG_END}"),
        escaped,
    );
    for label in labels {
        result = result.replace(
            &format!("{TAG_START}name={name}|label={label}{TAG_END}"),
            escaped,
        );
    }
    result
}

/// Checks a prompt name: not empty, at most 255 characters, no `|` (references use it), no
/// HTML tag, no leading or trailing `/` nor `//` (names with slashes are folders), not a name
/// Langfuse reserves for its pages.
pub fn check_name(name: &str, field: &str) -> Result<(), Error> {
    if name.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_NAME_LENGTH} characters"),
        ));
    }
    if name.contains('|') {
        return Err(Error::invalid(field, "cannot contain the '|' character"));
    }
    if name.starts_with('/') || name.ends_with('/') {
        return Err(Error::invalid(field, "cannot start or end with a slash"));
    }
    if name.contains("//") {
        return Err(Error::invalid(field, "cannot contain consecutive slashes"));
    }
    if contains_html_tag(name) {
        return Err(Error::invalid(field, "cannot contain HTML tags"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(field, "cannot contain control characters"));
    }
    if matches!(name, "new" | "metrics" | "prompt-detail") {
        return Err(Error::invalid(field, format!("cannot be {name:?}")));
    }
    Ok(())
}

/// `<…>` with no `<` or `>` inside, as Langfuse's "no HTML" rule reads it.
fn contains_html_tag(text: &str) -> bool {
    let mut open = false;
    for c in text.chars() {
        match c {
            '<' => open = true,
            '>' if open => return true,
            _ => {}
        }
    }
    false
}

/// Checks a label: 1 to 36 characters of lowercase letters, digits, `_`, `-` and `.`.
pub fn check_label(label: &str, field: &str) -> Result<(), Error> {
    if label.is_empty() || label.len() > MAX_LABEL_LENGTH {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {MAX_LABEL_LENGTH} characters"),
        ));
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(Error::invalid(
            field,
            "must be lowercase alphanumeric with optional underscores, hyphens, or periods",
        ));
    }
    Ok(())
}

/// The `{{variable}}` names of a text, in order, without duplicates (`{{ name }}` counts as
/// `name`; only names of letters, digits and `_` count).
pub fn variables(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        let name = after[..end].trim();
        if !name.is_empty()
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !names.iter().any(|known| known == name)
        {
            names.push(name.to_owned());
        }
        rest = &after[end + 2..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(name: &str, selector: PromptSelector) -> PromptReference {
        PromptReference {
            name: name.to_owned(),
            selector,
        }
    }

    #[test]
    fn references_are_found_once_each() {
        let text = r#""A @@@langfusePrompt:name=base|label=production@@@ and @@@langfusePrompt:name=f/x|version=2@@@ @@@langfusePrompt:name=base|label=production@@@""#;
        assert_eq!(
            references(text),
            vec![
                reference("base", PromptSelector::Label("production".into())),
                reference("f/x", PromptSelector::Version(2)),
            ]
        );
    }

    #[test]
    fn malformed_references_stay_text() {
        for text in [
            "@@@langfusePrompt:label=x|name=y@@@",
            "@@@langfusePrompt:name=a@@@",
            "@@@langfusePrompt:name=a|version=x@@@",
            "@@@langfusePrompt:name=a|label=b|version=1@@@",
            "@@@langfusePrompt:name=a|label=b",
            "@@@langfusePrompt:name=|label=b@@@",
        ] {
            assert_eq!(references(text), vec![], "{text}");
        }
    }

    #[test]
    fn substitution_replaces_version_and_label_references_escaped() {
        let text = r#""x @@@langfusePrompt:name=b|version=3@@@ y @@@langfusePrompt:name=b|label=prod@@@ z @@@langfusePrompt:name=b|label=other@@@""#;
        let out = substitute(text, "b", 3, &["prod".to_owned()], "say \"hi\"\n");
        assert_eq!(
            out,
            r#""x say \"hi\"\n y say \"hi\"\n z @@@langfusePrompt:name=b|label=other@@@""#
        );
        let parsed: String = serde_json::from_str(&out).expect("still JSON");
        assert!(parsed.starts_with("x say \"hi\"\n y"));
    }

    #[test]
    fn names() {
        for good in ["a", "folder/sub/name", "with space", "ünï"] {
            assert!(check_name(good, "name").is_ok(), "{good}");
        }
        for (bad, reason) in [
            ("", "must not be empty"),
            ("  ", "must not be empty"),
            ("a|b", "'|'"),
            ("/a", "slash"),
            ("a/", "slash"),
            ("a//b", "consecutive"),
            ("<b>x</b>", "HTML"),
            ("new", "cannot be"),
        ] {
            let error = check_name(bad, "name").expect_err(bad);
            assert!(error.message.starts_with("name: "), "{}", error.message);
            assert!(error.message.contains(reason), "{}", error.message);
        }
        assert!(check_name(&"x".repeat(256), "name").is_err());
    }

    #[test]
    fn labels() {
        for good in ["production", "a.b-c_1", "x"] {
            assert!(check_label(good, "labels[0]").is_ok(), "{good}");
        }
        for bad in ["", "Prod", "with space", "ü", &"x".repeat(37)] {
            let error = check_label(bad, "labels[0]").expect_err(bad);
            assert!(
                error.message.starts_with("labels[0]: "),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn variables_in_order() {
        assert_eq!(
            variables("Hi {{name}}, {{ city }} {{name}} {{not a var}} {{"),
            vec!["name".to_owned(), "city".to_owned()]
        );
    }
}
