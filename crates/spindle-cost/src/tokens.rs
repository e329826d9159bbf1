//! Token counting with OpenAI's encodings (shipped inside the `tiktoken-rs` crate, offline),
//! for generations that report input or output but no usage.

use std::sync::OnceLock;
use tiktoken_rs::CoreBPE;

fn o200k() -> Option<&'static CoreBPE> {
    static ENCODING: OnceLock<Option<CoreBPE>> = OnceLock::new();
    ENCODING
        .get_or_init(|| tiktoken_rs::o200k_base().ok())
        .as_ref()
}

fn cl100k() -> Option<&'static CoreBPE> {
    static ENCODING: OnceLock<Option<CoreBPE>> = OnceLock::new();
    ENCODING
        .get_or_init(|| tiktoken_rs::cl100k_base().ok())
        .as_ref()
}

/// Counts the tokens of `text` with the named encoding; `None` for an unknown encoding.
pub fn count(encoding: &str, text: &str) -> Option<i64> {
    let bpe = match encoding {
        "o200k_base" => o200k()?,
        "cl100k_base" => cl100k()?,
        _ => return None,
    };
    Some(bpe.encode_ordinary(text).len() as i64)
}

/// The text to count for a stored input or output: chat messages count their contents,
/// anything else counts as written.
pub fn countable_text(stored: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(stored) {
        Ok(serde_json::Value::Array(messages))
            if messages
                .iter()
                .all(|message| message.get("content").is_some()) =>
        {
            messages
                .iter()
                .map(|message| match &message["content"] {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        Ok(serde_json::Value::Object(message)) if message.contains_key("content") => {
            match &message["content"] {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            }
        }
        Ok(serde_json::Value::String(text)) => text,
        _ => stored.to_owned(),
    }
}
