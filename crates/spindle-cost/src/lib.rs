//! Usage and cost: the built-in price table (`data/model-prices.json`), custom per-project
//! models, model-name matching tolerant of provider prefixes and date suffixes, usage × price
//! with tiers, and token counting when a generation reports no usage.
//!
//! Pure computation: callers hand in the table, the observation's model, time and usage.

pub mod derive;
pub mod matching;
pub mod table;
pub mod tokens;

pub use derive::{
    builtin_entry, builtin_table, CustomCondition, CustomModel, CustomTier, Pricer, ProjectPricing,
};
pub use table::{ModelPrice, PriceTable, PriceTier, TierCondition, TierOperator};

use std::collections::BTreeMap;

/// The cost of one observation, per usage type, with the entry that priced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    /// USD per usage type present in the usage map and priced, plus `total`.
    pub details: BTreeMap<String, f64>,
    pub model_id: String,
    /// The tier whose prices applied, if any.
    pub tier: Option<String>,
}

/// Canonical usage type of a usage key, as the price table names it.
pub fn canonical_usage_type(key: &str) -> &str {
    match key {
        "input" | "prompt_tokens" | "input_tokens" | "promptTokens" => "input",
        "output" | "completion_tokens" | "output_tokens" | "completionTokens" => "output",
        "total" | "total_tokens" | "totalTokens" => "total",
        "input_cached_tokens"
        | "cache_read_input_tokens"
        | "input_cache_read"
        | "cached_tokens"
        | "input_cached"
        | "cache_read"
        | "input_cache_read_tokens" => "input_cache_read",
        "input_cache_creation"
        | "cache_creation_input_tokens"
        | "input_cache_write"
        | "cache_creation"
        | "input_cache_creation_tokens" => "input_cache_creation",
        "output_reasoning_tokens" | "reasoning_tokens" | "output_reasoning" => "output_reasoning",
        "input_audio_tokens" | "input_audio" | "audio_input_tokens" => "input_audio",
        "output_audio_tokens" | "output_audio" | "audio_output_tokens" => "output_audio",
        other => other,
    }
}

/// Price keys to try for a canonical usage type, most specific first: cached input falls back
/// to the input price, reasoning to the output price, and so on.
fn price_keys(usage_type: &str) -> &'static [&'static str] {
    match usage_type {
        "input" => &["input"],
        "output" => &["output"],
        "total" => &["total"],
        "input_cache_read" => &["input_cache_read", "input_cached_tokens", "input"],
        "input_cache_creation" => &["input_cache_creation", "input"],
        "output_reasoning" => &["output_reasoning", "output_reasoning_tokens", "output"],
        "input_audio" => &["input_audio", "input_audio_tokens", "input"],
        "output_audio" => &["output_audio", "output_audio_tokens", "output"],
        _ => &[],
    }
}

/// Prices a usage map with `model`. `total` is only priced when the entry has a `total` price
/// and nothing else was priced. Returns `None` when nothing in the usage has a price.
pub fn cost_of(usage: &BTreeMap<String, i64>, model: &ModelPrice) -> Option<Cost> {
    let sum = |keep: &dyn Fn(&str) -> bool| -> i64 {
        usage
            .iter()
            .filter(|(key, _)| keep(key))
            .fold(0i64, |total, (_, count)| total.saturating_add(*count))
    };
    let tier = model.tiers.iter().find(|tier| {
        tier.conditions.iter().all(|condition| {
            let value = match (&condition.pattern, condition.usage.as_str()) {
                (Some(pattern), _) => sum(&|key| pattern.is_match(key)),
                (None, "input_total") => sum(&|key| canonical_usage_type(key).starts_with("input")),
                (None, "output_total") => {
                    sum(&|key| canonical_usage_type(key).starts_with("output"))
                }
                (None, wanted) => sum(&|key| canonical_usage_type(key) == wanted),
            };
            condition.operator.holds(value as f64, condition.value)
        })
    });
    let prices = tier.map(|tier| &tier.prices).unwrap_or(&model.prices);
    let lookup = |usage_type: &str| -> Option<f64> {
        price_keys(usage_type)
            .iter()
            .find_map(|key| prices.get(*key).or_else(|| model.prices.get(*key)))
            .copied()
    };
    let mut details = BTreeMap::new();
    for (key, count) in usage {
        let usage_type = canonical_usage_type(key);
        if usage_type == "total" {
            continue;
        }
        if let Some(price) = lookup(usage_type) {
            details.insert(key.clone(), *count as f64 * price);
        }
    }
    if details.is_empty() {
        let total_price = lookup("total")?;
        let total_usage = usage
            .iter()
            .find(|(key, _)| canonical_usage_type(key) == "total")
            .map(|(_, count)| *count)?;
        details.insert("total".to_owned(), total_usage as f64 * total_price);
        return Some(Cost {
            details,
            model_id: model.id.clone(),
            tier: tier.map(|tier| tier.name.clone()),
        });
    }
    let total = details.values().fold(0.0, |sum, value| sum + value);
    details.insert("total".to_owned(), total);
    Some(Cost {
        details,
        model_id: model.id.clone(),
        tier: tier.map(|tier| tier.name.clone()),
    })
}

#[cfg(test)]
mod tests;
