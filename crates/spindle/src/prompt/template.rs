//! Prompt templates: finding `{{variable}}`s and compiling text and chat prompts with the rules
//! of the official Python SDK.
//!
//! The rules: a variable opens with `{{` and closes at the next `}}`; the name between them is
//! trimmed of whitespace; a variable with a value is replaced by it, one without keeps its
//! `{{…}}` text unchanged; an unclosed `{{` is plain text; there is no escaping, nesting or
//! section syntax. Chat prompts compile every message's content; a placeholder message is
//! replaced by the messages given for it (their content compiled too) or, with none given, kept
//! as an unresolved placeholder.

use std::collections::HashMap;
use std::fmt::Display;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const OPENING: &str = "{{";
const CLOSING: &str = "}}";

/// One `{{name}}` found in a template: the trimmed name and the byte range of the whole tag.
struct VariableTag<'a> {
    name: &'a str,
    start: usize,
    end: usize,
}

fn next_variable(content: &str, from: usize) -> Option<VariableTag<'_>> {
    let start = from + content[from..].find(OPENING)?;
    let name_start = start + OPENING.len();
    let close = name_start + content[name_start..].find(CLOSING)?;
    Some(VariableTag {
        name: content[name_start..close].trim(),
        start,
        end: close + CLOSING.len(),
    })
}

/// The variable names of a template, in order, repeats included.
pub(crate) fn variable_names(content: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut position = 0;
    while let Some(tag) = next_variable(content, position) {
        names.push(tag.name.to_owned());
        position = tag.end;
    }
    names
}

/// Replaces the variables that have a value; the others stay as written.
pub(crate) fn compile_template(content: &str, values: &HashMap<String, String>) -> String {
    let mut compiled = String::with_capacity(content.len());
    let mut position = 0;
    while let Some(tag) = next_variable(content, position) {
        compiled.push_str(&content[position..tag.start]);
        match values.get(tag.name) {
            Some(value) => compiled.push_str(value),
            None => compiled.push_str(&content[tag.start..tag.end]),
        }
        position = tag.end;
    }
    compiled.push_str(&content[position..]);
    compiled
}

/// A chat message: a role, its content, and any other fields (tool calls, names) kept as given.
///
/// ```
/// let message = spindle::ChatMessage::new("user", "Hello {{name}}");
/// assert_eq!(
///     serde_json::to_value(&message).unwrap(),
///     serde_json::json!({"role": "user", "content": "Hello {{name}}"})
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who speaks: `system`, `user`, `assistant`, `tool`, ...
    pub role: String,
    /// What is said.
    pub content: String,
    /// Other fields of the message, sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatMessage {
    /// A message with a role and content and no other fields.
    ///
    /// ```
    /// let message = spindle::ChatMessage::new("system", "Be brief.");
    /// assert_eq!(message.role, "system");
    /// ```
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
            extra: Map::new(),
        }
    }

    /// Adds another field to the message (e.g. `tool_calls`).
    ///
    /// ```
    /// let message = spindle::ChatMessage::new("tool", "42").field("tool_call_id", "call_1");
    /// assert_eq!(message.extra["tool_call_id"], "call_1");
    /// ```
    #[must_use]
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

/// One entry of a chat prompt: a message template or a placeholder for a list of messages.
///
/// ```
/// let history = spindle::PromptMessage::placeholder("history");
/// assert_eq!(history.placeholder_name(), Some("history"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PromptMessage {
    /// A message whose content may hold `{{variables}}`.
    Message(ChatMessage),
    /// A slot filled with a list of messages at compile time.
    Placeholder {
        /// The placeholder's name.
        name: String,
    },
}

impl PromptMessage {
    /// A message template.
    ///
    /// ```
    /// let _message = spindle::PromptMessage::message("user", "Question: {{question}}");
    /// ```
    pub fn message(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self::Message(ChatMessage::new(role, content))
    }

    /// A placeholder for a list of messages.
    ///
    /// ```
    /// let _placeholder = spindle::PromptMessage::placeholder("history");
    /// ```
    pub fn placeholder(name: impl Into<String>) -> Self {
        Self::Placeholder { name: name.into() }
    }

    /// The placeholder's name, if this is a placeholder.
    ///
    /// ```
    /// assert_eq!(spindle::PromptMessage::message("user", "hi").placeholder_name(), None);
    /// ```
    pub fn placeholder_name(&self) -> Option<&str> {
        match self {
            Self::Message(_) => None,
            Self::Placeholder { name } => Some(name),
        }
    }
}

/// The wire shape: `{"type": "placeholder", "name"}` or `{"role", "content", ...}`.
impl Serialize for PromptMessage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Message(message) => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("type", "chatmessage")?;
                map.serialize_entry("role", &message.role)?;
                map.serialize_entry("content", &message.content)?;
                for (key, value) in &message.extra {
                    if key != "type" {
                        map.serialize_entry(key, value)?;
                    }
                }
                map.end()
            }
            Self::Placeholder { name } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "placeholder")?;
                map.serialize_entry("name", name)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for PromptMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let message_type = fields.remove("type");
        if message_type.as_ref().and_then(Value::as_str) == Some("placeholder") {
            return match fields.remove("name") {
                Some(Value::String(name)) => Ok(Self::Placeholder { name }),
                _ => Err(serde::de::Error::custom(
                    "placeholder message without a name",
                )),
            };
        }
        let role = match fields.remove("role") {
            Some(Value::String(role)) => role,
            _ => return Err(serde::de::Error::custom("chat message without a role")),
        };
        let content = match fields.remove("content") {
            Some(Value::String(content)) => content,
            _ => return Err(serde::de::Error::custom("chat message without content")),
        };
        Ok(Self::Message(ChatMessage {
            role,
            content,
            extra: fields,
        }))
    }
}

/// A message of a compiled chat prompt: a message ready to send, or a placeholder no messages
/// were given for (kept, as the official SDKs keep it, so the gap is visible).
///
/// ```
/// use spindle::CompiledMessage;
/// let message = CompiledMessage::Message(spindle::ChatMessage::new("user", "hi"));
/// assert_eq!(message.as_message().map(|m| m.content.as_str()), Some("hi"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum CompiledMessage {
    /// A message with its variables filled in.
    Message(ChatMessage),
    /// A placeholder left unresolved; serialized as `{"type": "placeholder", "name"}`.
    UnresolvedPlaceholder {
        /// The placeholder's name.
        name: String,
    },
}

impl CompiledMessage {
    /// The message, unless this is an unresolved placeholder.
    ///
    /// ```
    /// let gap = spindle::CompiledMessage::UnresolvedPlaceholder { name: "history".into() };
    /// assert!(gap.as_message().is_none());
    /// ```
    pub fn as_message(&self) -> Option<&ChatMessage> {
        match self {
            Self::Message(message) => Some(message),
            Self::UnresolvedPlaceholder { .. } => None,
        }
    }
}

impl Serialize for CompiledMessage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Message(message) => message.serialize(serializer),
            Self::UnresolvedPlaceholder { name } => {
                PromptMessage::placeholder(name.clone()).serialize(serializer)
            }
        }
    }
}

/// Values for a prompt's `{{variables}}` and message lists for its placeholders.
///
/// ```
/// let variables = spindle::Variables::new()
///     .var("name", "Alice")
///     .var("count", 3)
///     .placeholder("history", vec![spindle::ChatMessage::new("user", "earlier question")]);
/// assert_eq!(variables.get("count"), Some("3"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[must_use]
pub struct Variables {
    pub(crate) values: HashMap<String, String>,
    pub(crate) placeholders: HashMap<String, Vec<ChatMessage>>,
}

impl Variables {
    /// No values: compiling with it leaves every variable and placeholder as written.
    ///
    /// ```
    /// assert_eq!(spindle::Variables::new().get("x"), None);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives `{{name}}` a value (its `Display` text).
    ///
    /// ```
    /// let variables = spindle::Variables::new().var("temperature", 0.5);
    /// assert_eq!(variables.get("temperature"), Some("0.5"));
    /// ```
    pub fn var(mut self, name: impl Into<String>, value: impl Display) -> Self {
        self.values.insert(name.into(), value.to_string());
        self
    }

    /// Fills the placeholder `name` of a chat prompt with these messages.
    ///
    /// ```
    /// let _variables = spindle::Variables::new().placeholder("history", Vec::new());
    /// ```
    pub fn placeholder(mut self, name: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        self.placeholders.insert(name.into(), messages);
        self
    }

    /// The value given to a variable.
    ///
    /// ```
    /// assert_eq!(spindle::Variables::new().var("a", "b").get("a"), Some("b"));
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

impl<K: Into<String>, V: Display> FromIterator<(K, V)> for Variables {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        pairs
            .into_iter()
            .fold(Self::new(), |variables, (name, value)| {
                variables.var(name, value)
            })
    }
}

/// Compiles a chat prompt's messages.
pub(crate) fn compile_chat(
    messages: &[PromptMessage],
    variables: &Variables,
) -> Vec<CompiledMessage> {
    let compile_message = |message: &ChatMessage| {
        CompiledMessage::Message(ChatMessage {
            role: message.role.clone(),
            content: compile_template(&message.content, &variables.values),
            extra: message.extra.clone(),
        })
    };
    let mut compiled = Vec::with_capacity(messages.len());
    for message in messages {
        match message {
            PromptMessage::Message(message) => compiled.push(compile_message(message)),
            PromptMessage::Placeholder { name } => match variables.placeholders.get(name) {
                Some(filling) => compiled.extend(filling.iter().map(compile_message)),
                None => {
                    tracing::debug!(placeholder = %name, "placeholder not given, kept unresolved");
                    compiled.push(CompiledMessage::UnresolvedPlaceholder { name: name.clone() });
                }
            },
        }
    }
    compiled
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(template: &str, variables: &[(&str, &str)], expected: &str) {
        let variables: Variables = variables.iter().copied().collect();
        assert_eq!(
            compile_template(template, &variables.values),
            expected,
            "{template:?}"
        );
    }

    #[test]
    fn text_compile_rules() {
        check("Hello {{name}}!", &[("name", "Alice")], "Hello Alice!");
        check("{{ name }} and {{name}}", &[("name", "A")], "A and A");
        check("{{  spaced\t}}", &[("spaced", "ok")], "ok");
        check("Hi {{missing}}", &[("name", "A")], "Hi {{missing}}");
        check(
            "Hi {{missing}} {{name}}",
            &[("name", "A")],
            "Hi {{missing}} A",
        );
        check("unclosed {{name", &[("name", "A")], "unclosed {{name");
        check(
            "closing only name}}",
            &[("name", "A")],
            "closing only name}}",
        );
        check("{{a}}{{b}}", &[("a", "1"), ("b", "2")], "12");
        check("{{}}", &[("", "empty")], "empty");
        check("{{{name}}}", &[("{name", "brace")], "brace}");
        check("no variables", &[("name", "A")], "no variables");
        check("{{name}}", &[("name", "{{name}}")], "{{name}}");
        check("{{x}} {{y}}", &[("x", "{{y}}"), ("y", "Y")], "{{y}} Y");
        check("héllo {{wörld}}", &[("wörld", "мир")], "héllo мир");
        check("", &[], "");
        check("{{a}} {{b}}", &[("a", "")], " {{b}}");
    }

    #[test]
    fn variable_names_in_order() {
        assert_eq!(
            variable_names("{{a}} {{ b }} {{a}} {{unclosed"),
            vec!["a", "b", "a"]
        );
        assert!(variable_names("plain").is_empty());
    }

    #[test]
    fn display_values() {
        let variables = Variables::new().var("n", 3).var("f", 0.25).var("b", true);
        assert_eq!(
            compile_template("{{n}} {{f}} {{b}}", &variables.values),
            "3 0.25 true"
        );
    }

    #[test]
    fn chat_compile_fills_placeholders_and_variables() {
        let messages = vec![
            PromptMessage::message("system", "You help {{user}}."),
            PromptMessage::placeholder("history"),
            PromptMessage::message("user", "{{question}}"),
            PromptMessage::placeholder("examples"),
        ];
        let variables = Variables::new()
            .var("user", "Alice")
            .var("question", "Why?")
            .placeholder(
                "history",
                vec![
                    ChatMessage::new("user", "Earlier, {{user}} asked"),
                    ChatMessage::new("assistant", "")
                        .field("tool_calls", json!([{"id": "call_1"}])),
                ],
            );
        let compiled = compile_chat(&messages, &variables);
        assert_eq!(
            serde_json::to_value(&compiled).unwrap(),
            json!([
                {"role": "system", "content": "You help Alice."},
                {"role": "user", "content": "Earlier, Alice asked"},
                {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1"}]},
                {"role": "user", "content": "Why?"},
                {"type": "placeholder", "name": "examples"},
            ])
        );
    }

    #[test]
    fn empty_placeholder_removes_the_slot() {
        let messages = vec![
            PromptMessage::placeholder("history"),
            PromptMessage::message("user", "hi"),
        ];
        let compiled = compile_chat(&messages, &Variables::new().placeholder("history", vec![]));
        assert_eq!(
            compiled,
            vec![CompiledMessage::Message(ChatMessage::new("user", "hi"))]
        );
    }

    #[test]
    fn prompt_messages_round_trip_the_wire_shapes() {
        let wire = json!([
            {"role": "system", "content": "be {{tone}}"},
            {"type": "chatmessage", "role": "user", "content": "q", "name": "bob"},
            {"type": "placeholder", "name": "history"},
        ]);
        let messages: Vec<PromptMessage> = serde_json::from_value(wire).unwrap();
        assert_eq!(messages[0], PromptMessage::message("system", "be {{tone}}"));
        assert_eq!(
            messages[1],
            PromptMessage::Message(ChatMessage::new("user", "q").field("name", "bob"))
        );
        assert_eq!(messages[2], PromptMessage::placeholder("history"));
        assert_eq!(
            serde_json::to_value(&messages).unwrap(),
            json!([
                {"type": "chatmessage", "role": "system", "content": "be {{tone}}"},
                {"type": "chatmessage", "role": "user", "content": "q", "name": "bob"},
                {"type": "placeholder", "name": "history"},
            ])
        );
        let missing_role = serde_json::from_value::<PromptMessage>(json!({"content": "x"}));
        assert!(missing_role.unwrap_err().to_string().contains("role"));
        let missing_name = serde_json::from_value::<PromptMessage>(json!({"type": "placeholder"}));
        assert!(missing_name.is_err());
    }
}
