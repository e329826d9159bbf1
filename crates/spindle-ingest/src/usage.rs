//! Usage shapes of every SDK and convention to one map of usage types
//! (`input`, `output`, `total`, `input_cached_tokens`, `output_reasoning_tokens`, ...).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A usage map as sent in `usageDetails` / `langfuse.observation.usage_details`: either
/// Langfuse's own `{input, output, total, ...}` map (kept as given) or an OpenAI/Anthropic
/// usage object (flattened). Negative and non-integer values are dropped.
pub fn from_json_map(map: &Map<String, Value>) -> BTreeMap<String, i64> {
    let is_provider_object = map.keys().any(|key| {
        matches!(
            key.as_str(),
            "prompt_tokens"
                | "completion_tokens"
                | "input_tokens"
                | "output_tokens"
                | "total_tokens"
        )
    });
    if is_provider_object {
        return from_provider_object(map);
    }
    map.iter()
        .filter_map(|(key, value)| Some((key.clone(), non_negative(value)?)))
        .collect()
}

/// The largest usage count accepted (10^15): no request uses more, and sums of counts stay far
/// from overflowing.
pub const MAX_USAGE_COUNT: i64 = 1_000_000_000_000_000;

fn non_negative(value: &Value) -> Option<i64> {
    let number = match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|v| v.is_finite() && v.abs() <= MAX_USAGE_COUNT as f64)
                .map(|v| v.round() as i64)
        })?,
        Value::String(text) => text.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    (0..=MAX_USAGE_COUNT).contains(&number).then_some(number)
}

/// OpenAI `{prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details: {...},
/// completion_tokens_details: {...}}` and Anthropic/OpenAI-responses `{input_tokens,
/// output_tokens, *_details}`: details become `input_<k>` / `output_<k>` and are subtracted.
fn from_provider_object(map: &Map<String, Value>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let input = map
        .get("prompt_tokens")
        .or_else(|| map.get("input_tokens"))
        .and_then(non_negative);
    let output = map
        .get("completion_tokens")
        .or_else(|| map.get("output_tokens"))
        .and_then(non_negative);
    let total = map.get("total_tokens").and_then(non_negative);
    let mut input_details: i64 = 0;
    let mut output_details: i64 = 0;
    for (key, value) in map {
        let (direction, details) = match key.as_str() {
            "prompt_tokens_details" | "input_tokens_details" => ("input", value),
            "completion_tokens_details" | "output_tokens_details" => ("output", value),
            "prompt_tokens" | "completion_tokens" | "input_tokens" | "output_tokens"
            | "total_tokens" => continue,
            "cache_read_input_tokens" => {
                if let Some(count) = non_negative(value) {
                    out.insert("input_cache_read".to_owned(), count);
                    input_details = input_details.saturating_add(count);
                }
                continue;
            }
            "cache_creation_input_tokens" => {
                if let Some(count) = non_negative(value) {
                    out.insert("input_cache_creation".to_owned(), count);
                    input_details = input_details.saturating_add(count);
                }
                continue;
            }
            other => {
                if let Some(count) = non_negative(value) {
                    out.insert(other.to_owned(), count);
                }
                continue;
            }
        };
        let Value::Object(details) = details else {
            continue;
        };
        for (detail, value) in details {
            if let Some(count) = non_negative(value) {
                out.insert(format!("{direction}_{detail}"), count);
                if direction == "input" {
                    input_details = input_details.saturating_add(count);
                } else {
                    output_details = output_details.saturating_add(count);
                }
            }
        }
    }
    // Anthropic's input_tokens exclude cache tokens; OpenAI's prompt_tokens include them.
    let anthropic_style =
        map.contains_key("input_tokens") && map.contains_key("cache_read_input_tokens");
    if let Some(input) = input {
        let subtract = if anthropic_style { 0 } else { input_details };
        out.insert("input".to_owned(), input.saturating_sub(subtract).max(0));
    }
    if let Some(output) = output {
        out.insert(
            "output".to_owned(),
            output.saturating_sub(output_details).max(0),
        );
    }
    match total {
        Some(total) => {
            out.insert("total".to_owned(), total);
        }
        None => {
            let sum = out
                .values()
                .fold(0i64, |sum, value| sum.saturating_add(*value));
            if sum > 0 {
                out.insert("total".to_owned(), sum);
            }
        }
    }
    out
}

/// The usage type of a flat cache or reasoning detail key, and whether it is part of the input
/// count (else of the output count).
fn flat_detail(key: &str) -> Option<(&'static str, bool)> {
    Some(match key {
        "cache_read_input_tokens"
        | "cache_read.input_tokens"
        | "prompt_details.cache_read"
        | "input_tokens.cached"
        | "cachedInputTokens"
        | "cached_tokens" => ("input_cached_tokens", true),
        "cache_creation_input_tokens"
        | "cache_creation.input_tokens"
        | "prompt_details.cache_write"
        | "prompt_details.cache_input" => ("input_cache_creation", true),
        "reasoning.output_tokens"
        | "completion_details.reasoning"
        | "reasoningTokens"
        | "reasoning_tokens" => ("output_reasoning_tokens", false),
        "completion_details.audio" => ("output_audio_tokens", false),
        _ => return None,
    })
}

/// Flat usage keys of `gen_ai.usage.*`, `llm.token_count.*` and `ai.usage.*` (prefix already
/// stripped) to usage types. Cache and reasoning details are subtracted from input/output.
pub fn from_flat_usage(raw: &Map<String, Value>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let mut input = None;
    let mut output = None;
    let mut total = None;
    let mut input_details: i64 = 0;
    let mut output_details: i64 = 0;
    for (key, value) in raw {
        let Some(count) = non_negative(value) else {
            continue;
        };
        let key = key.strip_prefix("details.").unwrap_or(key);
        match key {
            "prompt_tokens" | "input_tokens" | "prompt" | "promptTokens" | "inputTokens" => {
                input = Some(count)
            }
            "completion_tokens" | "output_tokens" | "completion" | "completionTokens"
            | "outputTokens" => output = Some(count),
            "total_tokens" | "total" | "tokens" | "totalTokens" => total = Some(count),
            other => match flat_detail(other) {
                Some((usage_type, part_of_input)) => {
                    out.insert(usage_type.to_owned(), count);
                    let details = if part_of_input {
                        &mut input_details
                    } else {
                        &mut output_details
                    };
                    *details = details.saturating_add(count);
                }
                None => {
                    out.insert(other.to_owned(), count);
                }
            },
        }
    }
    if let Some(input) = input {
        out.insert(
            "input".to_owned(),
            input.saturating_sub(input_details).max(0),
        );
    }
    if let Some(output) = output {
        out.insert(
            "output".to_owned(),
            output.saturating_sub(output_details).max(0),
        );
    }
    if let Some(total) = total {
        out.insert("total".to_owned(), total);
    } else if input.is_some() || output.is_some() {
        out.insert(
            "total".to_owned(),
            input.unwrap_or(0).saturating_add(output.unwrap_or(0)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_map(input: Value, expected: Value) {
        let Value::Object(map) = input else {
            panic!("test input must be an object")
        };
        let got = serde_json::to_value(from_json_map(&map)).expect("serializable");
        assert_eq!(got, expected);
    }

    #[test]
    fn langfuse_maps_are_kept() {
        check_map(
            json!({"input": 10, "output": 5, "total": 15, "cache_read_input_tokens": 2}),
            json!({"cache_read_input_tokens": 2, "input": 10, "output": 5, "total": 15}),
        );
        check_map(
            json!({"input": -1, "output": "x", "total": 3}),
            json!({"total": 3}),
        );
    }

    #[test]
    fn openai_usage_is_flattened() {
        check_map(
            json!({"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150,
                   "prompt_tokens_details": {"cached_tokens": 20},
                   "completion_tokens_details": {"reasoning_tokens": 10}}),
            json!({"input": 80, "input_cached_tokens": 20, "output": 40,
                   "output_reasoning_tokens": 10, "total": 150}),
        );
    }

    #[test]
    fn gen_ai_flat_usage() {
        let Value::Object(raw) = json!({"input_tokens": 12, "output_tokens": 3}) else {
            unreachable!()
        };
        let got = serde_json::to_value(from_flat_usage(&raw)).expect("serializable");
        assert_eq!(got, json!({"input": 12, "output": 3, "total": 15}));
    }

    /// Every usage shape of the wire spec (§4.2) becomes one map of usage types.
    #[test]
    fn usage_shapes_table() {
        let objects = [
            // Anthropic: input_tokens exclude the cache tokens.
            (
                json!({"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 30,
                       "cache_creation_input_tokens": 10}),
                json!({"input": 100, "input_cache_creation": 10, "input_cache_read": 30,
                       "output": 20, "total": 160}),
            ),
            // OpenAI with audio and cached details: subtracted from input and output.
            (
                json!({"prompt_tokens": 50, "completion_tokens": 30, "total_tokens": 80,
                       "prompt_tokens_details": {"audio_tokens": 5, "cached_tokens": 10},
                       "completion_tokens_details": {"audio_tokens": 7}}),
                json!({"input": 35, "input_audio_tokens": 5, "input_cached_tokens": 10,
                       "output": 23, "output_audio_tokens": 7, "total": 80}),
            ),
            // Langfuse's own map: kept as given, unknown types by name.
            (
                json!({"input": 1, "output": 2, "images": 3}),
                json!({"images": 3, "input": 1, "output": 2}),
            ),
        ];
        for (input, expected) in objects {
            check_map(input, expected);
        }
        let flat = [
            // OpenInference `llm.token_count.*`.
            (
                json!({"prompt": 40, "completion": 12, "total": 52,
                       "prompt_details.cache_read": 8}),
                json!({"input": 32, "input_cached_tokens": 8, "output": 12, "total": 52}),
            ),
            // OpenTelemetry `gen_ai.usage.*` with reasoning tokens.
            (
                json!({"input_tokens": 20, "output_tokens": 15, "reasoning.output_tokens": 5}),
                json!({"input": 20, "output": 10, "output_reasoning_tokens": 5, "total": 35}),
            ),
            // Vercel AI SDK `ai.usage.*`.
            (
                json!({"promptTokens": 7, "completionTokens": 3, "cachedInputTokens": 2}),
                json!({"input": 5, "input_cached_tokens": 2, "output": 3, "total": 10}),
            ),
        ];
        for (input, expected) in flat {
            let Value::Object(raw) = input else {
                unreachable!()
            };
            let got = serde_json::to_value(from_flat_usage(&raw)).expect("serializable");
            assert_eq!(got, expected, "{raw:?}");
        }
    }
}
