//! Usage shapes of every SDK and convention to one map of usage types
//! (`input`, `output`, `total`, `input_cached_tokens`, `output_reasoning_tokens`, ...).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A usage map as sent in `usageDetails` / `langfuse.observation.usage_details`, the way
/// Langfuse reads it: only a complete, strict OpenAI usage object (Chat Completions'
/// `{prompt_tokens, completion_tokens, total_tokens}` or Responses' `{input_tokens,
/// output_tokens, total_tokens}`, each with at most its two optional `*_details` maps and no
/// other key) is converted to `input`/`output`/`total` plus `input_<k>`/`output_<k>`. Any other
/// map is kept as sent, key by key: non-negative integers, and strings that start with one;
/// other values are dropped. `total` is added as the sum of the kept counts when absent.
pub fn from_json_map(map: &Map<String, Value>) -> BTreeMap<String, i64> {
    for shape in [OPENAI_COMPLETION, OPENAI_RESPONSE] {
        if let Some(converted) = from_openai_object(map, &shape) {
            return converted;
        }
    }
    let kept = map
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), raw_count(value)?)))
        .collect();
    with_total(kept)
}

/// The largest usage count accepted (10^15): no request uses more, and sums of counts stay far
/// from overflowing.
pub const MAX_USAGE_COUNT: i64 = 1_000_000_000_000_000;

/// Adds `total` as the sum of every count when the map has counts but no `total`.
pub(crate) fn with_total(mut usage: BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    if !usage.is_empty() && !usage.contains_key("total") {
        let sum = usage
            .values()
            .fold(0i64, |sum, value| sum.saturating_add(*value));
        usage.insert("total".to_owned(), sum);
    }
    usage
}

/// A JSON number that is a whole number in `0..=MAX_USAGE_COUNT` (`10` and `10.0`, not `10.5`).
fn whole_count(value: &Value) -> Option<i64> {
    let Value::Number(number) = value else {
        return None;
    };
    let count = match number.as_i64() {
        Some(count) => count,
        None => {
            let float = number.as_f64()?;
            if !(float.is_finite() && float.fract() == 0.0 && float.abs() <= MAX_USAGE_COUNT as f64)
            {
                return None;
            }
            float as i64
        }
    };
    (0..=MAX_USAGE_COUNT).contains(&count).then_some(count)
}

/// A count of a map kept as sent: a whole non-negative number, or a string that starts with
/// one (after optional whitespace and `+`, the way JavaScript's `parseInt` reads it).
fn raw_count(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => {
            let text = text.trim_start();
            let (negative, digits) = match text.as_bytes().first() {
                Some(b'-') => (true, &text[1..]),
                Some(b'+') => (false, &text[1..]),
                _ => (false, text),
            };
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            let digits = &digits[..end];
            if digits.is_empty() {
                return None;
            }
            let count = digits.parse::<i64>().ok()?;
            if negative && count != 0 {
                return None;
            }
            (count <= MAX_USAGE_COUNT).then_some(count)
        }
        other => whole_count(other),
    }
}

/// Flat usage counts (`gen_ai.usage.*` and the like, already typed): non-negative, capped,
/// floats rounded.
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

/// The keys of one of OpenAI's usage objects.
struct OpenAiShape {
    input: &'static str,
    output: &'static str,
    input_details: &'static str,
    output_details: &'static str,
}

/// Chat Completions' usage object.
const OPENAI_COMPLETION: OpenAiShape = OpenAiShape {
    input: "prompt_tokens",
    output: "completion_tokens",
    input_details: "prompt_tokens_details",
    output_details: "completion_tokens_details",
};

/// The Responses API's usage object.
const OPENAI_RESPONSE: OpenAiShape = OpenAiShape {
    input: "input_tokens",
    output: "output_tokens",
    input_details: "input_tokens_details",
    output_details: "output_tokens_details",
};

/// The `*_details` map of an OpenAI usage object: absent or null is empty; otherwise every
/// value must be a whole non-negative number or null (null entries are skipped).
fn openai_details(value: Option<&Value>) -> Option<Vec<(&str, i64)>> {
    match value {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Object(details)) => {
            let mut counts = Vec::with_capacity(details.len());
            for (key, value) in details {
                if value.is_null() {
                    continue;
                }
                counts.push((key.as_str(), whole_count(value)?));
            }
            Some(counts)
        }
        Some(_) => None,
    }
}

/// `map` converted when it is exactly an OpenAI usage object of `shape`: its three counts
/// present and whole, no key beyond them and the two details maps. Each detail becomes
/// `input_<k>` / `output_<k>` and is subtracted from `input` / `output` (never below zero);
/// `total` is taken as sent.
fn from_openai_object(
    map: &Map<String, Value>,
    shape: &OpenAiShape,
) -> Option<BTreeMap<String, i64>> {
    let allowed = [
        shape.input,
        shape.output,
        "total_tokens",
        shape.input_details,
        shape.output_details,
    ];
    if map.keys().any(|key| !allowed.contains(&key.as_str())) {
        return None;
    }
    let input = whole_count(map.get(shape.input)?)?;
    let output = whole_count(map.get(shape.output)?)?;
    let total = whole_count(map.get("total_tokens")?)?;
    let input_details = openai_details(map.get(shape.input_details))?;
    let output_details = openai_details(map.get(shape.output_details))?;
    let mut out = BTreeMap::new();
    for (direction, count, details) in [
        ("input", input, input_details),
        ("output", output, output_details),
    ] {
        let mut net = count;
        for (detail, value) in details {
            out.insert(format!("{direction}_{detail}"), value);
            net = net.saturating_sub(value).max(0);
        }
        out.insert(direction.to_owned(), net);
    }
    out.insert("total".to_owned(), total);
    Some(out)
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
        | "inputTokenDetails.cacheReadTokens"
        | "cached_tokens" => ("input_cached_tokens", true),
        "cache_creation_input_tokens"
        | "cache_creation.input_tokens"
        | "prompt_details.cache_write"
        | "prompt_details.cache_input"
        | "inputTokenDetails.cacheWriteTokens" => ("input_cache_creation", true),
        "reasoning.output_tokens"
        | "completion_details.reasoning"
        | "reasoningTokens"
        | "outputTokenDetails.reasoningTokens"
        | "reasoning_tokens" => ("output_reasoning_tokens", false),
        "completion_details.audio" => ("output_audio_tokens", false),
        _ => return None,
    })
}

/// Flat usage keys of `gen_ai.usage.*`, `llm.token_count.*` and `ai.usage.*` (prefix already
/// stripped) to usage types. Cache and reasoning details are subtracted from input/output, each
/// usage type once however many keys name it (the AI SDK 6 sends its cached input tokens both as
/// `cachedInputTokens` and as `inputTokenDetails.cacheReadTokens`). Its remainders
/// (`inputTokenDetails.noCacheTokens`, `outputTokenDetails.textTokens`) are what `input` and
/// `output` become after the subtraction, so they are not stored again.
pub fn from_flat_usage(raw: &Map<String, Value>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let mut input = None;
    let mut output = None;
    let mut total = None;
    let mut no_cache_input = None;
    let mut text_output = None;
    let mut details: BTreeMap<&'static str, (i64, bool)> = BTreeMap::new();
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
            "inputTokenDetails.noCacheTokens" => no_cache_input = Some(count),
            "outputTokenDetails.textTokens" => text_output = Some(count),
            other => match flat_detail(other) {
                Some((usage_type, part_of_input)) => {
                    details.insert(usage_type, (count, part_of_input));
                }
                None => {
                    out.insert(other.to_owned(), count);
                }
            },
        }
    }
    let detail_sum = |of_input: bool| {
        details
            .values()
            .filter(|(_, part_of_input)| *part_of_input == of_input)
            .fold(0i64, |sum, (count, _)| sum.saturating_add(*count))
    };
    let (input_details, output_details) = (detail_sum(true), detail_sum(false));
    // Only the remainder was sent: the whole is the remainder plus the details.
    let input = input.or_else(|| no_cache_input.map(|count| count.saturating_add(input_details)));
    let output = output.or_else(|| text_output.map(|count| count.saturating_add(output_details)));
    for (usage_type, (count, _)) in details {
        out.insert(usage_type.to_owned(), count);
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
    }
    with_total(out)
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
        // No total: the sum of the kept counts is added.
        check_map(
            json!({"input": 10, "output": 5, "input_cached_tokens": 2}),
            json!({"input": 10, "input_cached_tokens": 2, "output": 5, "total": 17}),
        );
        // Kept values: whole non-negative numbers and strings that start with one.
        check_map(
            json!({"a": 1.0, "b": 1.5, "c": " 12abc", "d": "-3", "e": "+4", "f": true,
                   "g": {"x": 1}, "h": null, "i": "x1"}),
            json!({"a": 1, "c": 12, "e": 4, "total": 17}),
        );
        check_map(json!({}), json!({}));
    }

    /// Maps whose keys look like OpenAI's but that are not a complete, strict OpenAI usage
    /// object are kept as sent (plus `total`), the way Langfuse keeps them.
    #[test]
    fn openai_lookalikes_are_kept_as_sent() {
        let cases = [
            // No total_tokens.
            (
                json!({"prompt_tokens": 10, "completion_tokens": 20}),
                json!({"completion_tokens": 20, "prompt_tokens": 10, "total": 30}),
            ),
            // An extra key.
            (
                json!({"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
                       "cost": 1}),
                json!({"completion_tokens": 20, "cost": 1, "prompt_tokens": 10,
                       "total_tokens": 30, "total": 61}),
            ),
            // A count that is not a whole number.
            (
                json!({"prompt_tokens": "10", "completion_tokens": 20, "total_tokens": 30}),
                json!({"completion_tokens": 20, "prompt_tokens": 10, "total_tokens": 30,
                       "total": 60}),
            ),
            // A details map with a value that is not a count: the nested map is dropped.
            (
                json!({"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
                       "prompt_tokens_details": {"cached_tokens": "x"}}),
                json!({"completion_tokens": 20, "prompt_tokens": 10, "total_tokens": 30,
                       "total": 60}),
            ),
            // Chat Completions' and Responses' keys mixed.
            (
                json!({"prompt_tokens": 10, "output_tokens": 20, "total_tokens": 30}),
                json!({"output_tokens": 20, "prompt_tokens": 10, "total_tokens": 30,
                       "total": 60}),
            ),
            // Anthropic's usage object.
            (
                json!({"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 30,
                       "cache_creation_input_tokens": 10}),
                json!({"cache_creation_input_tokens": 10, "cache_read_input_tokens": 30,
                       "input_tokens": 100, "output_tokens": 20, "total": 160}),
            ),
        ];
        for (input, expected) in cases {
            check_map(input, expected);
        }
    }

    #[test]
    fn openai_usage_is_flattened() {
        let cases = [
            (
                json!({"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150,
                       "prompt_tokens_details": {"cached_tokens": 20},
                       "completion_tokens_details": {"reasoning_tokens": 10}}),
                json!({"input": 80, "input_cached_tokens": 20, "output": 40,
                       "output_reasoning_tokens": 10, "total": 150}),
            ),
            // Null details and null detail values are allowed; details never push below zero.
            (
                json!({"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6,
                       "prompt_tokens_details": {"cached_tokens": 8, "audio_tokens": null},
                       "completion_tokens_details": null}),
                json!({"input": 0, "input_cached_tokens": 8, "output": 1, "total": 6}),
            ),
            // The Responses API's usage object.
            (
                json!({"input_tokens": 30, "output_tokens": 12, "total_tokens": 42,
                       "input_tokens_details": {"cached_tokens": 10},
                       "output_tokens_details": {"reasoning_tokens": 4}}),
                json!({"input": 20, "input_cached_tokens": 10, "output": 8,
                       "output_reasoning_tokens": 4, "total": 42}),
            ),
        ];
        for (input, expected) in cases {
            check_map(input, expected);
        }
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
            // OpenAI with audio and cached details: subtracted from input and output.
            (
                json!({"prompt_tokens": 50, "completion_tokens": 30, "total_tokens": 80,
                       "prompt_tokens_details": {"audio_tokens": 5, "cached_tokens": 10},
                       "completion_tokens_details": {"audio_tokens": 7}}),
                json!({"input": 35, "input_audio_tokens": 5, "input_cached_tokens": 10,
                       "output": 23, "output_audio_tokens": 7, "total": 80}),
            ),
            // Langfuse's own map: kept as given, unknown types by name, total added.
            (
                json!({"input": 1, "output": 2, "images": 3}),
                json!({"images": 3, "input": 1, "output": 2, "total": 6}),
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
            // Vercel AI SDK 6: the details by their usage types, each counted once, the
            // remainders not stored again.
            (
                json!({"inputTokens": 100, "outputTokens": 40, "totalTokens": 140,
                       "inputTokenDetails.noCacheTokens": 50,
                       "inputTokenDetails.cacheReadTokens": 30,
                       "inputTokenDetails.cacheWriteTokens": 20,
                       "outputTokenDetails.textTokens": 25,
                       "outputTokenDetails.reasoningTokens": 15,
                       "cachedInputTokens": 30, "reasoningTokens": 15,
                       "input_tokens": 100, "output_tokens": 40}),
                json!({"input": 50, "input_cache_creation": 20, "input_cached_tokens": 30,
                       "output": 25, "output_reasoning_tokens": 15, "total": 140}),
            ),
            // Only the remainders: input and output are what they say.
            (
                json!({"inputTokenDetails.noCacheTokens": 7,
                       "inputTokenDetails.cacheReadTokens": 3,
                       "outputTokenDetails.textTokens": 2}),
                json!({"input": 7, "input_cached_tokens": 3, "output": 2, "total": 12}),
            ),
            // A detail with no input or output: the total is the sum.
            (
                json!({"cachedInputTokens": 4}),
                json!({"input_cached_tokens": 4, "total": 4}),
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
