//! Prompt bodies of `/api/public/v2/prompts`: a create request (`POST`) into a
//! [`NewPrompt`], and a version's new labels (`PATCH …/versions/{version}`). Errors name the
//! field: `prompt[2].content: is required and must be a string`.
//!
//! Chat messages are kept as `{"role", "content"}` (a `"type": "chatmessage"` is accepted
//! and dropped) and placeholders as `{"type": "placeholder", "name"}`, the shapes Langfuse
//! returns; other keys of a message are dropped too.

use serde_json::{json, Map, Value};
use spindle_core::prompt::{
    check_label, check_name, variables, NewPrompt, PromptType, LATEST_LABEL,
    MAX_COMMIT_MESSAGE_LENGTH,
};
use spindle_core::Error;

fn parse_json(bytes: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(bytes)
        .map_err(|error| Error::invalid("body", format!("invalid JSON: {error}")))
}

/// Reads the bytes of a create request.
pub fn parse_create_prompt_body(bytes: &[u8]) -> Result<NewPrompt, Error> {
    parse_create_prompt(&parse_json(bytes)?)
}

/// Reads a create request: `name`, `prompt`, `type` (`text` by default, `chat` when `prompt`
/// is a list), `config`, `labels`, `tags`, `commitMessage`.
pub fn parse_create_prompt(body: &Value) -> Result<NewPrompt, Error> {
    let object = body
        .as_object()
        .ok_or_else(|| Error::invalid("body", "expected a JSON object"))?;
    let name = match object.get("name") {
        Some(Value::String(name)) => name.trim().to_owned(),
        Some(Value::Null) | None => return Err(Error::invalid("name", "is required")),
        Some(_) => return Err(Error::invalid("name", "must be a string")),
    };
    check_name(&name, "name")?;
    let prompt_value = object.get("prompt").unwrap_or(&Value::Null);
    let prompt_type = match object.get("type") {
        None | Some(Value::Null) => match prompt_value {
            Value::Array(_) => PromptType::Chat,
            _ => PromptType::Text,
        },
        Some(Value::String(text)) => PromptType::parse(text)
            .ok_or_else(|| Error::invalid("type", "must be \"text\" or \"chat\""))?,
        Some(_) => return Err(Error::invalid("type", "must be \"text\" or \"chat\"")),
    };
    let prompt = match prompt_type {
        PromptType::Text => match prompt_value {
            Value::String(text) => Value::String(text.clone()),
            Value::Null => return Err(Error::invalid("prompt", "is required")),
            _ => {
                return Err(Error::invalid(
                    "prompt",
                    "must be a string for a text prompt",
                ))
            }
        },
        PromptType::Chat => chat_messages(prompt_value)?,
    };
    let config = match object.get("config") {
        None | Some(Value::Null) => json!({}),
        Some(config) => config.clone(),
    };
    let labels = labels(object, "labels")?.unwrap_or_default();
    let labels = labels
        .into_iter()
        .filter(|label| label != LATEST_LABEL)
        .collect();
    let tags = match object.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut tags: Vec<String> = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let tag = item
                    .as_str()
                    .ok_or_else(|| Error::invalid(format!("tags[{index}]"), "must be a string"))?;
                if !tags.iter().any(|known| known == tag) {
                    tags.push(tag.to_owned());
                }
            }
            Some(tags)
        }
        Some(_) => return Err(Error::invalid("tags", "must be an array of strings")),
    };
    let commit_message = match object.get("commitMessage") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.chars().count() <= MAX_COMMIT_MESSAGE_LENGTH => {
            Some(text.clone())
        }
        Some(Value::String(_)) => {
            return Err(Error::invalid(
                "commitMessage",
                format!("must be at most {MAX_COMMIT_MESSAGE_LENGTH} characters"),
            ))
        }
        Some(_) => return Err(Error::invalid("commitMessage", "must be a string")),
    };
    Ok(NewPrompt {
        name,
        prompt_type,
        prompt: prompt.to_string(),
        config: config.to_string(),
        labels,
        tags,
        commit_message,
    })
}

/// The messages of a chat prompt, in their stored shapes; variable names and placeholder
/// names must differ.
fn chat_messages(value: &Value) -> Result<Value, Error> {
    let items = match value {
        Value::Array(items) => items,
        Value::Null => return Err(Error::invalid("prompt", "is required")),
        _ => {
            return Err(Error::invalid(
                "prompt",
                "must be a list of chat messages for a chat prompt",
            ))
        }
    };
    let mut messages = Vec::with_capacity(items.len());
    let mut placeholders: Vec<String> = Vec::new();
    let mut variable_names: Vec<String> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let field = format!("prompt[{index}]");
        let object = item.as_object().ok_or_else(|| {
            Error::invalid(
                &field,
                "must be an object with role and content, or a placeholder",
            )
        })?;
        match object.get("type") {
            Some(Value::String(kind)) if kind == "placeholder" => {
                let name = placeholder_name(object, &field)?;
                placeholders.push(name.clone());
                messages.push(json!({"type": "placeholder", "name": name}));
            }
            None | Some(Value::Null) => {
                messages.push(message(object, &field, &mut variable_names)?)
            }
            Some(Value::String(kind)) if kind == "chatmessage" => {
                messages.push(message(object, &field, &mut variable_names)?)
            }
            Some(_) => {
                return Err(Error::invalid(
                    format!("{field}.type"),
                    "must be \"chatmessage\" or \"placeholder\"",
                ))
            }
        }
    }
    let clashing: Vec<&str> = variable_names
        .iter()
        .filter(|name| placeholders.contains(name))
        .map(String::as_str)
        .collect();
    if !clashing.is_empty() {
        return Err(Error::invalid(
            "prompt",
            format!(
                "variables and placeholders must have different names; both use: {}",
                clashing.join(", ")
            ),
        ));
    }
    Ok(Value::Array(messages))
}

fn placeholder_name(object: &Map<String, Value>, field: &str) -> Result<String, Error> {
    let name = object.get("name").and_then(Value::as_str).ok_or_else(|| {
        Error::invalid(format!("{field}.name"), "is required and must be a string")
    })?;
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Error::invalid(
            format!("{field}.name"),
            "must start with a letter and contain only letters, digits and underscores",
        ));
    }
    Ok(name.to_owned())
}

fn message(
    object: &Map<String, Value>,
    field: &str,
    variable_names: &mut Vec<String>,
) -> Result<Value, Error> {
    let role = object.get("role").and_then(Value::as_str).ok_or_else(|| {
        Error::invalid(format!("{field}.role"), "is required and must be a string")
    })?;
    let content = object
        .get("content")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::invalid(
                format!("{field}.content"),
                "is required and must be a string",
            )
        })?;
    for name in variables(content) {
        if !variable_names.contains(&name) {
            variable_names.push(name);
        }
    }
    Ok(json!({"role": role, "content": content}))
}

/// An optional list of labels under `key`, each checked, without duplicates.
fn labels(object: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, Error> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            let mut labels: Vec<String> = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let field = format!("{key}[{index}]");
                let label = item
                    .as_str()
                    .ok_or_else(|| Error::invalid(&field, "must be a string"))?;
                check_label(label, &field)?;
                if !labels.iter().any(|known| known == label) {
                    labels.push(label.to_owned());
                }
            }
            Ok(Some(labels))
        }
        Some(_) => Err(Error::invalid(key, "must be an array of strings")),
    }
}

/// Reads a `PATCH …/versions/{version}` body: `newLabels`, the labels to add to the version
/// (each moved from the version that holds it; `latest` cannot be set by hand).
pub fn parse_new_labels_body(bytes: &[u8]) -> Result<Vec<String>, Error> {
    let body = parse_json(bytes)?;
    let object = body
        .as_object()
        .ok_or_else(|| Error::invalid("body", "expected a JSON object"))?;
    let labels =
        labels(object, "newLabels")?.ok_or_else(|| Error::invalid("newLabels", "is required"))?;
    if labels.iter().any(|label| label == LATEST_LABEL) {
        return Err(Error::invalid(
            "newLabels",
            "the label \"latest\" is always held by the newest version and cannot be set",
        ));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests;
