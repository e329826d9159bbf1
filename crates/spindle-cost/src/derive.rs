//! What the store computes for an observation after merging it: the matched price entry, the
//! usage counted by a tokenizer when none was reported, and the cost when none was given.

use crate::table::{ModelPrice, PriceTable, PriceTier, TierCondition, TierOperator};
use crate::{cost_of, tokens};
use regex::Regex;
use spindle_core::record::DerivedCost;
use spindle_core::time::Micros;
use spindle_core::ObservationRecord;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// A model defined by a project (`POST /api/public/models`), as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomModel {
    pub id: String,
    pub project_id: String,
    pub model_name: String,
    /// A regular expression, matched case-insensitively against the model names of a
    /// generation (as sent, without provider prefix, without date suffix).
    pub match_pattern: String,
    pub start_date: Option<Micros>,
    /// `TOKENS` (the default), `CHARACTERS`, ...: informational, prices are per unit.
    pub unit: Option<String>,
    /// USD per unit, by usage type (`input`, `output`, `total`, `input_cached_tokens`, ...).
    pub prices: BTreeMap<String, f64>,
    /// `openai` or `claude`, as Langfuse names tokenizers; `None` infers no usage.
    pub tokenizer_id: Option<String>,
    /// JSON text, as given (`{"tokenizerModel": "gpt-4o"}`).
    pub tokenizer_config: Option<String>,
    /// Tiers besides the default one (whose prices are `prices`), by ascending priority.
    pub pricing_tiers: Vec<CustomTier>,
    pub created_at: Micros,
}

/// A pricing tier of a custom model: its prices apply when every condition holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomTier {
    pub id: String,
    pub name: String,
    pub priority: i64,
    pub conditions: Vec<CustomCondition>,
    /// USD per unit, by usage type.
    pub prices: BTreeMap<String, f64>,
}

/// The sum of the usage keys matching `usage_detail_pattern`, compared with `value`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomCondition {
    pub usage_detail_pattern: String,
    /// `gt`, `gte`, `lt`, `lte`, `eq` or `neq`.
    pub operator: String,
    pub value: f64,
    #[serde(default)]
    pub case_sensitive: bool,
}

impl CustomModel {
    /// The price entry this model defines; fails, naming the field, when a pattern is not a
    /// valid regular expression or an operator is unknown.
    pub fn to_price(&self) -> Result<ModelPrice, String> {
        let mut tiers = self.pricing_tiers.clone();
        tiers.sort_by_key(|tier| tier.priority);
        let tiers = tiers
            .iter()
            .enumerate()
            .map(|(index, tier)| {
                let conditions = tier
                    .conditions
                    .iter()
                    .enumerate()
                    .map(|(position, condition)| {
                        let field = format!("pricingTiers[{index}].conditions[{position}]");
                        let flags = if condition.case_sensitive { "" } else { "(?i)" };
                        let pattern =
                            Regex::new(&format!("{flags}{}", condition.usage_detail_pattern))
                                .map_err(|error| {
                                    format!("{field}.usageDetailPattern: invalid: {error}")
                                })?;
                        let operator =
                            TierOperator::parse(&condition.operator).ok_or_else(|| {
                                format!("{field}.operator: expected gt, gte, lt, lte, eq or neq")
                            })?;
                        Ok(TierCondition {
                            usage: condition.usage_detail_pattern.clone(),
                            pattern: Some(pattern),
                            operator,
                            value: condition.value,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(PriceTier {
                    name: tier.name.clone(),
                    conditions,
                    prices: tier.prices.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        ModelPrice::new(
            self.id.clone(),
            self.model_name.clone(),
            &self.match_pattern,
            self.start_date,
            self.prices.clone(),
            tiers,
            self.tokenizer_encoding(),
            None,
        )
    }

    /// The tiktoken encoding for this model's tokenizer settings.
    fn tokenizer_encoding(&self) -> Option<String> {
        let tokenizer = self.tokenizer_id.as_deref()?;
        if !tokenizer.eq_ignore_ascii_case("openai") {
            return None;
        }
        let model = self
            .tokenizer_config
            .as_deref()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|config| config["tokenizerModel"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let legacy = ["gpt-4-", "gpt-4", "gpt-3.5", "gpt-35", "text-embedding"];
        let encoding = if model.starts_with("gpt-4o")
            || model.starts_with("gpt-4.1")
            || model.starts_with("gpt-5")
            || model.starts_with('o')
            || !legacy.iter().any(|prefix| model.starts_with(prefix))
        {
            "o200k_base"
        } else {
            "cl100k_base"
        };
        Some(encoding.to_owned())
    }
}

/// A project's pricing: its custom models (compiled) and whether built-in prices apply.
#[derive(Debug, Clone)]
pub struct ProjectPricing {
    pub custom: Vec<ModelPrice>,
    pub builtin_enabled: bool,
}

impl Default for ProjectPricing {
    fn default() -> Self {
        ProjectPricing {
            custom: Vec::new(),
            builtin_enabled: true,
        }
    }
}

/// The most model names whose matches are remembered before the memo is cleared.
const MEMO_LIMIT: usize = 4096;

/// Prices observations. Holds the built-in table and remembers, per model name, which
/// built-in entries match it, so that the regular expressions run once per name.
pub struct Pricer {
    table: &'static PriceTable,
    memo: Mutex<HashMap<String, Arc<Vec<Vec<usize>>>>>,
    compiled: Mutex<HashMap<String, Arc<ProjectPricing>>>,
}

impl Default for Pricer {
    fn default() -> Self {
        Self::new()
    }
}

/// The built-in table, parsed once per process.
pub fn builtin_table() -> &'static PriceTable {
    static TABLE: OnceLock<PriceTable> = OnceLock::new();
    TABLE.get_or_init(PriceTable::builtin)
}

/// The built-in entry with this id, if there is one.
pub fn builtin_entry(id: &str) -> Option<&'static ModelPrice> {
    static INDEX: OnceLock<HashMap<&'static str, &'static ModelPrice>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            builtin_table()
                .models
                .iter()
                .map(|entry| (entry.id.as_str(), entry))
                .collect()
        })
        .get(id)
        .copied()
}

/// Rounds to 12 significant digits: far below a billionth of a dollar on any real cost, and
/// it keeps stored costs short (`0.0016` rather than `0.0016000000000000001`).
fn round_cost(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let digits = 12 - 1 - value.abs().log10().floor() as i32;
    if !(0..=22).contains(&digits) {
        // 10^digits is exact in an f64 only up to 10^22.
        return value;
    }
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}

impl Pricer {
    pub fn new() -> Self {
        Pricer {
            table: builtin_table(),
            memo: Mutex::new(HashMap::new()),
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The built-in table.
    pub fn table(&self) -> &PriceTable {
        self.table
    }

    /// A project's pricing from its stored custom models, compiled once per distinct set. Models with an invalid pattern are
    /// skipped (the API refuses them; this only guards against hand-edited rows).
    pub fn project(&self, models: &[CustomModel], builtin_enabled: bool) -> Arc<ProjectPricing> {
        // Keyed by everything that prices: a model replaced under the same id recompiles.
        let key = format!("{builtin_enabled}{models:?}");
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pricing) = compiled.get(&key) {
            return pricing.clone();
        }
        let pricing = Arc::new(ProjectPricing {
            custom: models
                .iter()
                .filter_map(|model| model.to_price().ok())
                .collect(),
            builtin_enabled,
        });
        if compiled.len() >= MEMO_LIMIT {
            compiled.clear();
        }
        compiled.insert(key, pricing.clone());
        pricing
    }

    /// The entry pricing `model` at time `at`, as [`PriceTable::find`] decides, with the
    /// built-in matches memoized.
    pub fn find<'a>(
        &'a self,
        pricing: &'a ProjectPricing,
        model: &str,
        at: Micros,
    ) -> Option<&'a ModelPrice> {
        if let found @ Some(_) = self.table.find(&pricing.custom, false, model, at) {
            return found;
        }
        if !pricing.builtin_enabled {
            return None;
        }
        let matches = self.builtin_matches(model);
        for indices in matches.iter() {
            let best = indices
                .iter()
                .map(|&index| &self.table.models[index])
                .filter(|entry| entry.start_date.is_none_or(|start| start <= at))
                .max_by_key(|entry| entry.start_date.unwrap_or(i64::MIN));
            if best.is_some() {
                return best;
            }
        }
        None
    }

    /// For each matching candidate of `model`, the indices of the built-in entries matching it.
    fn builtin_matches(&self, model: &str) -> Arc<Vec<Vec<usize>>> {
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = memo.get(model) {
            return found.clone();
        }
        let matches: Vec<Vec<usize>> = crate::matching::candidates(model)
            .iter()
            .map(|name| {
                self.table
                    .models
                    .iter()
                    .enumerate()
                    .filter(|(_, entry)| entry.matches(name))
                    .map(|(index, _)| index)
                    .collect::<Vec<usize>>()
            })
            .filter(|indices| !indices.is_empty())
            .collect();
        let matches = Arc::new(matches);
        if memo.len() >= MEMO_LIMIT {
            memo.clear();
        }
        memo.insert(model.to_owned(), matches.clone());
        matches
    }

    /// Counts, ahead of the store's writer, the tokens of generations that will need it: a
    /// model with a tokenizer in the built-in table, input or output, and no usage. The count
    /// goes into the patch's `derived` with its fingerprint, and [`Pricer::derive`] reuses it
    /// when the merged observation still has that input and output and its model still uses
    /// that encoding. Returns how many were counted. Callers run it off the writer, so that
    /// the expensive part of cost tracking spreads over the request threads.
    pub fn count_ahead(&self, records: &mut [ObservationRecord]) -> usize {
        let builtin = ProjectPricing::default();
        let mut counted = 0;
        for record in records.iter_mut() {
            if !Self::may_count(record) {
                continue;
            }
            let Some(model) = record.model.as_deref() else {
                continue;
            };
            let at = record.start_time.unwrap_or(Micros::MAX);
            let Some(encoding) = self
                .find(&builtin, model, at)
                .and_then(|entry| entry.tokenizer.clone())
            else {
                continue;
            };
            record.derived.inferred_usage = infer_usage(&encoding, record);
            record.derived.counted = Some(fingerprint(&encoding, record));
            counted += 1;
        }
        counted
    }

    /// Whether [`Pricer::count_ahead`] might count this record's tokens: it has a model,
    /// input or output, and no usage.
    pub fn may_count(record: &ObservationRecord) -> bool {
        record.model.is_some()
            && (record.input.is_some() || record.output.is_some())
            && record.usage_details.as_ref().is_none_or(|u| u.is_empty())
    }

    /// What the store records for `record` (merged): see [`DerivedCost`]. Observations without
    /// a model, or whose model matches no entry, get nothing. The prices of a built-in entry
    /// are left empty: they are the table's, and the store reads them from there.
    pub fn derive(&self, pricing: &ProjectPricing, record: &ObservationRecord) -> DerivedCost {
        let Some(model) = record.model.as_deref().filter(|m| !m.trim().is_empty()) else {
            return DerivedCost::default();
        };
        let at = record.start_time.unwrap_or(Micros::MAX);
        let Some(entry) = self.find(pricing, model, at) else {
            return DerivedCost::default();
        };
        // A built-in entry's prices are in the binary: the store fills them in on read.
        let builtin = builtin_entry(&entry.id).is_some_and(|b| std::ptr::eq(b, entry));
        let mut derived = DerivedCost {
            model_id: Some(entry.id.clone()),
            prices: if builtin {
                BTreeMap::new()
            } else {
                entry.prices.clone()
            },
            ..DerivedCost::default()
        };
        let reported = record.usage_details.as_ref().filter(|u| !u.is_empty());
        if reported.is_none() {
            if let Some(encoding) = entry.tokenizer.as_deref() {
                let fingerprint = fingerprint(encoding, record);
                derived.counted = Some(fingerprint);
                derived.inferred_usage = if record.derived.counted == Some(fingerprint) {
                    record.derived.inferred_usage.clone()
                } else {
                    infer_usage(encoding, record)
                };
            }
        }
        let given_cost = record.cost_details.as_ref().is_some_and(|c| !c.is_empty());
        if !given_cost {
            let usage = reported.unwrap_or(&derived.inferred_usage);
            if let Some(cost) = cost_of(usage, entry) {
                derived.calculated_cost = cost
                    .details
                    .into_iter()
                    .map(|(key, value)| (key, round_cost(value)))
                    .collect();
                derived.tier = cost.tier;
            }
        }
        derived
    }
}

/// Identifies what a token count was made from: the encoding, the input and the output.
fn fingerprint(encoding: &str, record: &ObservationRecord) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (encoding, &record.input, &record.output).hash(&mut hasher);
    hasher.finish()
}

/// Counts input and output tokens with `encoding`; empty without input and output.
fn infer_usage(encoding: &str, record: &ObservationRecord) -> BTreeMap<String, i64> {
    let mut usage = BTreeMap::new();
    for (key, text) in [("input", &record.input), ("output", &record.output)] {
        if let Some(text) = text.as_deref() {
            if let Some(count) = tokens::count(encoding, &tokens::countable_text(text)) {
                usage.insert(key.to_owned(), count);
            }
        }
    }
    if !usage.is_empty() {
        let total = usage
            .values()
            .fold(0i64, |sum, count| sum.saturating_add(*count));
        usage.insert("total".to_owned(), total);
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_core::time::parse_iso;

    fn generation(model: &str, usage: Option<&[(&str, i64)]>) -> ObservationRecord {
        let mut record = ObservationRecord::new("g");
        record.model = Some(model.to_owned());
        record.start_time = parse_iso("2026-11-01T00:00:00Z");
        record.usage_details =
            usage.map(|pairs| pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect());
        record
    }

    #[test]
    fn the_memo_finds_what_the_table_finds() {
        let pricer = Pricer::new();
        let pricing = ProjectPricing::default();
        let at = parse_iso("2026-11-01T00:00:00Z").expect("date");
        for name in [
            "gpt-4o",
            "openai/gpt-4o-2024-08-06",
            "gpt-4o-2024-05-13",
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "gemini-2.5-pro",
            "no-such-model",
            "",
        ] {
            for _ in 0..2 {
                let memoized = pricer.find(&pricing, name, at).map(|e| e.id.clone());
                let direct = pricer
                    .table()
                    .find(&[], true, name, at)
                    .map(|e| e.id.clone());
                assert_eq!(memoized, direct, "{name}");
            }
        }
    }

    #[test]
    fn derive_prices_reported_usage_and_keeps_given_costs() {
        let pricer = Pricer::new();
        let pricing = ProjectPricing::default();
        let record = generation(
            "gpt-4o",
            Some(&[
                ("input", 1000),
                ("input_cached_tokens", 200),
                ("output", 100),
            ]),
        );
        let derived = pricer.derive(&pricing, &record);
        assert_eq!(derived.model_id.as_deref(), Some("openai-gpt-4o"));
        let total = derived.calculated_cost["total"];
        let expected = 1000.0 * 2.5e-6 + 200.0 * 1.25e-6 + 100.0 * 10e-6;
        assert!((total - expected).abs() < 1e-12, "{total} != {expected}");
        assert!(derived.inferred_usage.is_empty());

        let mut given = record.clone();
        given.cost_details = Some(BTreeMap::from([("total".to_owned(), 9.0)]));
        let derived = pricer.derive(&pricing, &given);
        assert!(derived.calculated_cost.is_empty());
        assert_eq!(derived.model_id.as_deref(), Some("openai-gpt-4o"));

        let off = ProjectPricing {
            custom: Vec::new(),
            builtin_enabled: false,
        };
        assert!(pricer.derive(&off, &record).is_empty());
        assert!(pricer
            .derive(
                &pricing,
                &generation("no-such-model", Some(&[("input", 1)]))
            )
            .is_empty());
    }

    #[test]
    fn custom_models_win_and_their_tokenizer_counts() {
        let pricer = Pricer::new();
        let custom = CustomModel {
            id: "c1".to_owned(),
            project_id: "p".to_owned(),
            model_name: "gpt-4o".to_owned(),
            match_pattern: "^gpt-4o$".to_owned(),
            start_date: None,
            unit: None,
            prices: BTreeMap::from([("input".to_owned(), 1.0), ("output".to_owned(), 2.0)]),
            tokenizer_id: Some("openai".to_owned()),
            tokenizer_config: Some(r#"{"tokenizerModel":"gpt-4o"}"#.to_owned()),
            pricing_tiers: Vec::new(),
            created_at: 0,
        };
        let pricing = pricer.project(&[custom], true);
        let mut record = generation("openai/gpt-4o", None);
        record.input = Some(r#""hello world""#.to_owned());
        let derived = pricer.derive(&pricing, &record);
        assert_eq!(derived.model_id.as_deref(), Some("c1"));
        assert_eq!(
            derived.inferred_usage,
            BTreeMap::from([("input".to_owned(), 2), ("total".to_owned(), 2)])
        );
        assert_eq!(derived.calculated_cost["total"], 2.0);
    }

    #[test]
    fn costs_are_rounded_to_twelve_digits() {
        assert_eq!(round_cost(640.0 * 2.5e-6), 0.0016);
        assert_eq!(round_cost(0.0), 0.0);
        assert_eq!(round_cost(123456.789), 123456.789);
        assert_eq!(round_cost(1.0 / 3.0), 0.333333333333);
        assert_eq!(round_cost(2.0e-20), 2.0e-20);
        assert_eq!(round_cost(0.0028100000000000004), 0.00281);
    }

    #[test]
    fn counts_made_ahead_are_reused_only_for_the_same_text() {
        let pricer = Pricer::new();
        let pricing = ProjectPricing::default();
        let mut records = vec![
            generation("gpt-4o", None),
            generation("no-such-model", None),
        ];
        for record in &mut records {
            record.input = Some(r#""hello world""#.to_owned());
        }
        assert!(Pricer::may_count(&records[0]));
        assert_eq!(
            pricer.count_ahead(&mut records),
            1,
            "only a known model is counted"
        );
        assert_eq!(records[0].derived.inferred_usage["input"], 2);
        assert!(records[1].derived.is_empty());

        // A planted count with the right fingerprint is taken as it is (no recount)...
        let mut planted = records[0].clone();
        planted
            .derived
            .inferred_usage
            .insert("input".to_owned(), 999);
        let derived = pricer.derive(&pricing, &planted);
        assert_eq!(derived.inferred_usage["input"], 999);
        // ...and a changed input is counted again.
        planted.input = Some(r#""hello world, again""#.to_owned());
        let derived = pricer.derive(&pricing, &planted);
        assert_eq!(derived.inferred_usage["input"], 4);
        assert_ne!(derived.counted, records[0].derived.counted);
    }
}
