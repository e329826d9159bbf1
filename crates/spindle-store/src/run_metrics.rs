//! What a dataset run measured: per run item, the latency, tokens and cost of the trace (or
//! the one observation) it links and the scores of that trace; per run, the same aggregated
//! over its items; and the comparison of a few runs item by item. The types, and the pure
//! folding of score values into summaries (numeric mean and histogram, categorical counts,
//! boolean rates). The statements are in `run_metrics_sql.rs`.

use std::collections::BTreeMap;

use spindle_core::dataset::{DatasetItem, DatasetRun};

use crate::Page;

/// The number of equal-width bins of a numeric score's histogram.
pub const HISTOGRAM_BINS: usize = 10;

/// The most runs one comparison reads.
pub const MAX_COMPARED_RUNS: usize = 5;

/// One bin of a histogram: the values in `[lower, upper)` (the last bin includes `upper`).
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramBin {
    pub lower: f64,
    pub upper: f64,
    pub count: u64,
}

/// The numeric values of a score name.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericSummary {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub histogram: Vec<HistogramBin>,
}

/// The values of one score name and data type over some traces.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    pub name: String,
    /// `NUMERIC`, `CATEGORICAL`, `BOOLEAN`, … as stored.
    pub data_type: String,
    pub count: u64,
    /// Numeric and boolean scores: their values.
    pub numeric: Option<NumericSummary>,
    /// Categorical and boolean scores: each string value with its count, most frequent first.
    pub categories: Vec<(String, u64)>,
    /// Boolean scores: the share of values that are true (1).
    pub true_rate: Option<f64>,
}

/// One stored score value, as the summaries read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreValue {
    pub name: String,
    pub data_type: String,
    pub value: Option<f64>,
    pub string_value: Option<String>,
}

/// Folds score values into one [`ScoreSummary`] per name and data type, ordered by name.
pub fn summarize_scores<'a>(values: impl IntoIterator<Item = &'a ScoreValue>) -> Vec<ScoreSummary> {
    let mut groups: BTreeMap<(&str, &str), Vec<&ScoreValue>> = BTreeMap::new();
    for value in values {
        groups
            .entry((value.name.as_str(), value.data_type.as_str()))
            .or_default()
            .push(value);
    }
    groups
        .into_iter()
        .map(|((name, data_type), values)| summarize_group(name, data_type, &values))
        .collect()
}

fn summarize_group(name: &str, data_type: &str, values: &[&ScoreValue]) -> ScoreSummary {
    let numbers: Vec<f64> = values
        .iter()
        .filter_map(|value| value.value)
        .filter(|number| number.is_finite())
        .collect();
    let numeric_kind = matches!(data_type, "NUMERIC" | "BOOLEAN");
    let categorical_kind = matches!(data_type, "CATEGORICAL" | "BOOLEAN");
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    if categorical_kind {
        for value in values {
            if let Some(text) = value.string_value.as_deref() {
                *counts.entry(text).or_default() += 1;
            }
        }
    }
    let mut categories: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(text, count)| (text.to_owned(), count))
        .collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let true_rate = (data_type == "BOOLEAN" && !numbers.is_empty()).then(|| {
        numbers.iter().filter(|number| **number >= 0.5).count() as f64 / numbers.len() as f64
    });
    ScoreSummary {
        name: name.to_owned(),
        data_type: data_type.to_owned(),
        count: values.len() as u64,
        numeric: if numeric_kind {
            numeric_summary(&numbers)
        } else {
            None
        },
        categories,
        true_rate,
    }
}

/// Mean, bounds and a [`HISTOGRAM_BINS`]-bin histogram of finite numbers; `None` for none.
pub fn numeric_summary(numbers: &[f64]) -> Option<NumericSummary> {
    if numbers.is_empty() {
        return None;
    }
    let min = numbers.iter().copied().fold(f64::INFINITY, f64::min);
    let max = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mean = numbers.iter().sum::<f64>() / numbers.len() as f64;
    let width = (max - min) / HISTOGRAM_BINS as f64;
    let mut histogram: Vec<HistogramBin> = (0..HISTOGRAM_BINS)
        .map(|bin| HistogramBin {
            lower: min + width * bin as f64,
            upper: if bin + 1 == HISTOGRAM_BINS {
                max
            } else {
                min + width * (bin + 1) as f64
            },
            count: 0,
        })
        .collect();
    for number in numbers {
        let bin = if width > 0.0 {
            (((number - min) / width) as usize).min(HISTOGRAM_BINS - 1)
        } else {
            0
        };
        histogram[bin].count += 1;
    }
    if width == 0.0 {
        histogram.truncate(1);
    }
    Some(NumericSummary {
        mean,
        min,
        max,
        histogram,
    })
}

/// What one run item measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RunItemMetrics {
    pub run_item_id: String,
    pub run_id: String,
    pub dataset_item_id: String,
    pub trace_id: String,
    pub observation_id: Option<String>,
    /// From the first start to the last end of the observations, in seconds.
    pub latency_seconds: Option<f64>,
    pub total_cost: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    /// The output (JSON text) of the trace, or of the observation when the run item names one.
    pub output: Option<String>,
    pub scores: Vec<ScoreSummary>,
    pub created_at: i64,
}

/// A run's aggregates over all its items.
#[derive(Debug, Clone, PartialEq)]
pub struct RunAggregates {
    pub run: DatasetRun,
    pub item_count: u64,
    /// Over the items with a latency.
    pub latency: Option<NumericSummary>,
    pub total_cost: f64,
    /// Over the items with a cost.
    pub mean_cost: Option<f64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub total_tokens: i64,
    pub scores: Vec<ScoreSummary>,
}

/// One dataset item across the compared runs: for each run (in the order asked), its latest
/// run item for the item, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparedItem {
    pub item: DatasetItem,
    pub runs: Vec<Option<RunItemMetrics>>,
}

/// A page of the dataset items that at least one of the runs ran, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RunComparison {
    pub runs: Vec<DatasetRun>,
    pub items: Page<ComparedItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(name: &str, data_type: &str, value: Option<f64>, text: Option<&str>) -> ScoreValue {
        ScoreValue {
            name: name.to_owned(),
            data_type: data_type.to_owned(),
            value,
            string_value: text.map(str::to_owned),
        }
    }

    #[test]
    fn numeric_scores_have_a_mean_and_a_histogram() {
        let values: Vec<ScoreValue> = [0.0, 0.05, 0.5, 1.0]
            .into_iter()
            .map(|number| value("accuracy", "NUMERIC", Some(number), None))
            .collect();
        let summaries = summarize_scores(&values);
        assert_eq!(summaries.len(), 1);
        let numeric = summaries[0].numeric.as_ref().expect("numeric");
        assert_eq!((numeric.mean, numeric.min, numeric.max), (0.3875, 0.0, 1.0));
        let counts: Vec<u64> = numeric.histogram.iter().map(|bin| bin.count).collect();
        assert_eq!(counts, vec![2, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(numeric.histogram[9].upper, 1.0);
        assert!(summaries[0].categories.is_empty());
        assert_eq!(summaries[0].true_rate, None);

        let same = numeric_summary(&[2.0, 2.0]).expect("two values");
        assert_eq!(same.histogram.len(), 1, "one bin when all values are equal");
        assert_eq!(same.histogram[0].count, 2);
        assert_eq!(numeric_summary(&[]), None);
    }

    #[test]
    fn categorical_and_boolean_scores_count_their_values() {
        let values = vec![
            value("tone", "CATEGORICAL", None, Some("polite")),
            value("tone", "CATEGORICAL", None, Some("rude")),
            value("tone", "CATEGORICAL", None, Some("polite")),
            value("correct", "BOOLEAN", Some(1.0), Some("True")),
            value("correct", "BOOLEAN", Some(0.0), Some("False")),
            value("correct", "BOOLEAN", Some(1.0), Some("True")),
            value("correct", "BOOLEAN", Some(1.0), Some("True")),
        ];
        let summaries = summarize_scores(&values);
        let names: Vec<&str> = summaries.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["correct", "tone"]);
        assert_eq!(summaries[0].true_rate, Some(0.75));
        assert_eq!(
            summaries[0].categories,
            vec![("True".to_owned(), 3), ("False".to_owned(), 1)]
        );
        assert_eq!(summaries[1].count, 3);
        assert_eq!(summaries[1].numeric, None);
        assert_eq!(
            summaries[1].categories,
            vec![("polite".to_owned(), 2), ("rude".to_owned(), 1)]
        );
    }
}
