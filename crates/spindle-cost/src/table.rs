//! The price table: entries loaded from the data file (or defined per project), and the lookup
//! of the entry that prices a model at a given time.

use crate::matching::candidates;
use regex::Regex;
use serde::Deserialize;
use spindle_core::time::{parse_iso, Micros};
use std::collections::BTreeMap;

/// A tier: prices that replace the base prices when every condition holds.
#[derive(Debug, Clone)]
pub struct PriceTier {
    pub name: String,
    pub conditions: Vec<TierCondition>,
    /// USD per token, by usage type.
    pub prices: BTreeMap<String, f64>,
}

/// `usage <operator> value`, where the usage is a usage type, `input_total` /
/// `output_total`, or (custom tiers) the sum of the usage keys a regular expression matches.
#[derive(Debug, Clone)]
pub struct TierCondition {
    pub usage: String,
    /// Set for custom tiers: which usage keys count (Langfuse's `usageDetailPattern`).
    pub pattern: Option<Regex>,
    pub operator: TierOperator,
    pub value: f64,
}

/// How a tier condition compares the usage with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierOperator {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl TierOperator {
    /// Parses Langfuse's spelling (`gt`, `gte`, `lt`, `lte`, `eq`, `neq`).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "gt" => TierOperator::Gt,
            "gte" => TierOperator::Gte,
            "lt" => TierOperator::Lt,
            "lte" => TierOperator::Lte,
            "eq" => TierOperator::Eq,
            "neq" => TierOperator::Neq,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TierOperator::Gt => "gt",
            TierOperator::Gte => "gte",
            TierOperator::Lt => "lt",
            TierOperator::Lte => "lte",
            TierOperator::Eq => "eq",
            TierOperator::Neq => "neq",
        }
    }

    /// Whether `usage <self> value` holds.
    pub fn holds(self, usage: f64, value: f64) -> bool {
        match self {
            TierOperator::Gt => usage > value,
            TierOperator::Gte => usage >= value,
            TierOperator::Lt => usage < value,
            TierOperator::Lte => usage <= value,
            TierOperator::Eq => usage == value,
            TierOperator::Neq => usage != value,
        }
    }
}

/// One priced model.
#[derive(Debug, Clone)]
pub struct ModelPrice {
    pub id: String,
    pub model_name: String,
    pub match_pattern: String,
    matcher: Regex,
    /// When these prices took effect; `None` means always.
    pub start_date: Option<Micros>,
    /// USD per token, by usage type.
    pub prices: BTreeMap<String, f64>,
    pub tiers: Vec<PriceTier>,
    /// A tiktoken encoding name (`o200k_base`, `cl100k_base`) for counting tokens.
    pub tokenizer: Option<String>,
    /// Where the prices come from (built-in entries).
    pub source: Option<String>,
}

impl ModelPrice {
    /// Builds an entry; fails when the pattern is not a valid regular expression.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: impl Into<String>,
        model_name: impl Into<String>,
        match_pattern: &str,
        start_date: Option<Micros>,
        prices: BTreeMap<String, f64>,
        tiers: Vec<PriceTier>,
        tokenizer: Option<String>,
        source: Option<String>,
    ) -> Result<Self, String> {
        let matcher = Regex::new(&format!("(?i){match_pattern}"))
            .map_err(|error| format!("matchPattern: invalid regular expression: {error}"))?;
        Ok(ModelPrice {
            id: id.into(),
            model_name: model_name.into(),
            match_pattern: match_pattern.to_owned(),
            matcher,
            start_date,
            prices,
            tiers,
            tokenizer,
            source,
        })
    }

    /// Whether this entry prices `name` (one of the matching candidates).
    pub fn matches(&self, name: &str) -> bool {
        self.matcher.is_match(name)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileDocument {
    #[allow(dead_code)]
    description: String,
    sources: BTreeMap<String, String>,
    models: Vec<FileModel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileModel {
    id: String,
    model_name: String,
    match_pattern: String,
    start_date: String,
    prices_per_million_tokens: BTreeMap<String, f64>,
    source: String,
    #[serde(default)]
    tokenizer: Option<String>,
    #[serde(default)]
    tiers: Vec<FileTier>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileTier {
    name: String,
    condition: FileCondition,
    prices_per_million_tokens: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileCondition {
    usage: String,
    greater_than: i64,
}

const BUILTIN: &str = include_str!("../data/model-prices.json");

fn per_token(prices: BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    prices
        .into_iter()
        .map(|(key, price)| (key, price / 1_000_000.0))
        .collect()
}

/// The built-in entries, in file order.
#[derive(Debug, Clone)]
pub struct PriceTable {
    pub models: Vec<ModelPrice>,
}

impl PriceTable {
    /// Parses the price table data file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let document: FileDocument =
            serde_json::from_str(text).map_err(|error| format!("model price table: {error}"))?;
        let mut models = Vec::with_capacity(document.models.len());
        for (index, model) in document.models.into_iter().enumerate() {
            let field = |name: &str| format!("models[{index}] ({}).{name}", model.id);
            if !document.sources.contains_key(&model.source) {
                return Err(format!(
                    "{}: unknown source {:?}",
                    field("source"),
                    model.source
                ));
            }
            let start_date = parse_iso(&model.start_date)
                .ok_or_else(|| format!("{}: not a date", field("startDate")))?;
            let tiers = model
                .tiers
                .into_iter()
                .map(|tier| PriceTier {
                    name: tier.name,
                    conditions: vec![TierCondition {
                        usage: tier.condition.usage,
                        pattern: None,
                        operator: TierOperator::Gt,
                        value: tier.condition.greater_than as f64,
                    }],
                    prices: per_token(tier.prices_per_million_tokens),
                })
                .collect();
            let source = document.sources.get(&model.source).cloned();
            let entry = ModelPrice::new(
                model.id.clone(),
                model.model_name.clone(),
                &model.match_pattern,
                Some(start_date),
                per_token(model.prices_per_million_tokens),
                tiers,
                model.tokenizer.clone(),
                source,
            )
            .map_err(|error| format!("{}: {error}", field("matchPattern")))?;
            models.push(entry);
        }
        Ok(PriceTable { models })
    }

    /// The built-in table shipped in `data/model-prices.json`.
    pub fn builtin() -> Self {
        // The file is checked by a test; an invalid file cannot ship.
        Self::parse(BUILTIN).unwrap_or(PriceTable { models: Vec::new() })
    }

    /// The entry pricing `model` at time `at`: custom entries first, then (if enabled) the
    /// built-in ones. Within a group, names closer to what was sent win, then the entry with
    /// the latest start date not after `at`.
    pub fn find<'a>(
        &'a self,
        custom: &'a [ModelPrice],
        builtin_enabled: bool,
        model: &str,
        at: Micros,
    ) -> Option<&'a ModelPrice> {
        let names = candidates(model);
        let groups: [&[ModelPrice]; 2] = [custom, if builtin_enabled { &self.models } else { &[] }];
        for group in groups {
            for name in &names {
                let best = group
                    .iter()
                    .filter(|entry| entry.start_date.is_none_or(|start| start <= at))
                    .filter(|entry| entry.matches(name))
                    .max_by_key(|entry| entry.start_date.unwrap_or(i64::MIN));
                if best.is_some() {
                    return best;
                }
            }
        }
        None
    }
}
