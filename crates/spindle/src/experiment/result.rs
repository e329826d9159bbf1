//! What an experiment returns: per-item results, run-level evaluations, the aggregate of every
//! score name, and a summary to print.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::ExperimentItem;
use crate::score::{Score, ScoreValue};

/// An evaluator that failed (returned an error or panicked) on an item or on the run.
///
/// ```
/// let failure = spindle::EvaluatorFailure {
///     evaluator: "exact-match".into(),
///     message: "no expected output".into(),
/// };
/// assert_eq!(failure.to_string(), "evaluator \"exact-match\" failed: no expected output");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluatorFailure {
    /// The name given to the evaluator.
    pub evaluator: String,
    /// Its error (or panic message).
    pub message: String,
}

impl fmt::Display for EvaluatorFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "evaluator {:?} failed: {}",
            self.evaluator, self.message
        )
    }
}

/// What happened to one item: the task's output (or its error), the evaluations, and where it
/// was recorded.
///
/// ```
/// # fn show(result: &spindle::ItemResult) {
/// match &result.output {
///     Ok(output) => println!("{} -> {output}", result.item.input),
///     Err(error) => println!("{} failed: {error}", result.item.input),
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ItemResult {
    /// The item the task ran on.
    pub item: ExperimentItem,
    /// The task's output as JSON, or its error (or panic) message.
    pub output: Result<Value, String>,
    /// The scores the item's evaluators gave (sent for the item's trace).
    pub evaluations: Vec<Score>,
    /// The evaluators that failed on this item.
    pub evaluator_failures: Vec<EvaluatorFailure>,
    /// The item's trace (`None` with a disabled client).
    pub trace_id: Option<String>,
    /// The observation the task ran in, which the run item and the scores name.
    pub observation_id: Option<String>,
    /// The dataset run the item was linked to (`None` for items not from a dataset, or when
    /// the run item could not be created).
    pub dataset_run_id: Option<String>,
}

/// The aggregate of one score name over the items of a run.
///
/// ```
/// let summary = spindle::ScoreSummary::default();
/// assert_eq!((summary.count, summary.mean), (0, None));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ScoreSummary {
    /// How many scores of that name the items got.
    pub count: usize,
    /// The mean of the numeric and boolean ones (a boolean counts as 1 or 0).
    pub mean: Option<f64>,
    /// How often each label of the categorical ones occurred.
    pub categories: BTreeMap<String, usize>,
}

impl ScoreSummary {
    fn add(&mut self, value: &ScoreValue) {
        let number = match value {
            ScoreValue::Numeric(number) => Some(*number),
            ScoreValue::Boolean(flag) => Some(if *flag { 1.0 } else { 0.0 }),
            ScoreValue::Categorical(label) => {
                *self.categories.entry(label.clone()).or_default() += 1;
                None
            }
        };
        if let Some(number) = number {
            let numbers = self.count - self.categories.values().sum::<usize>();
            let mean = self.mean.unwrap_or(0.0);
            self.mean = Some(mean + (number - mean) / (numbers as f64 + 1.0));
        }
        self.count += 1;
    }
}

impl fmt::Display for ScoreSummary {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(mean) = self.mean {
            parts.push(format!("mean {mean:.3}"));
        }
        if !self.categories.is_empty() {
            let labels: Vec<String> = self
                .categories
                .iter()
                .map(|(label, count)| format!("{label}: {count}"))
                .collect();
            parts.push(labels.join(", "));
        }
        write!(formatter, "{} (n={})", parts.join("; "), self.count)
    }
}

/// The result of [`Experiment::run`](crate::Experiment::run): every item's result in the order
/// the items were given, the run-level evaluations, and a summary when printed (`{}`), with one
/// line per item too with `{:#}`.
///
/// ```
/// # async fn example(experiment: spindle::Experiment) {
/// let result = experiment
///     .run(|item| async move { Ok::<_, std::io::Error>(item.input) })
///     .await;
/// println!("{result}");
/// let accuracy = result.score_summaries().get("exact-match").and_then(|summary| summary.mean);
/// # let _ = accuracy;
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ExperimentResult {
    /// The experiment's name.
    pub name: String,
    /// The run's name (the dataset run's name for an experiment over a dataset).
    pub run_name: String,
    /// The run's description.
    pub description: Option<String>,
    /// Every item's result, in the order of the items.
    pub item_results: Vec<ItemResult>,
    /// The scores the run-level evaluators gave (sent for the dataset run).
    pub run_evaluations: Vec<Score>,
    /// The run-level evaluators that failed.
    pub run_evaluator_failures: Vec<EvaluatorFailure>,
    /// The dataset run the items were linked to, if any.
    pub dataset_run_id: Option<String>,
}

impl ExperimentResult {
    /// The aggregate of each score name over the items' evaluations.
    ///
    /// ```
    /// # fn show(result: &spindle::ExperimentResult) {
    /// for (name, summary) in result.score_summaries() {
    ///     println!("{name}: {summary}");
    /// }
    /// # }
    /// ```
    pub fn score_summaries(&self) -> BTreeMap<String, ScoreSummary> {
        let mut summaries: BTreeMap<String, ScoreSummary> = BTreeMap::new();
        for score in self.item_results.iter().flat_map(|item| &item.evaluations) {
            summaries
                .entry(score.name().to_owned())
                .or_default()
                .add(score.value());
        }
        summaries
    }

    /// How many items' tasks failed.
    ///
    /// ```
    /// # fn show(result: &spindle::ExperimentResult) {
    /// assert!(result.failed_items() <= result.item_results.len());
    /// # }
    /// ```
    pub fn failed_items(&self) -> usize {
        self.item_results
            .iter()
            .filter(|item| item.output.is_err())
            .count()
    }
}

/// A value on one line, cut to `limit` characters.
fn short(value: &Value, limit: usize) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if text.chars().count() <= limit {
        return text;
    }
    let cut: String = text.chars().take(limit).collect();
    format!("{cut}…")
}

fn score_text(score: &Score) -> String {
    match score.value() {
        ScoreValue::Numeric(number) => format!("{}={number}", score.name()),
        ScoreValue::Boolean(flag) => format!("{}={flag}", score.name()),
        ScoreValue::Categorical(label) => format!("{}={label}", score.name()),
    }
}

impl fmt::Display for ExperimentResult {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            formatter,
            "Experiment {:?}, run {:?}",
            self.name, self.run_name
        )?;
        if let Some(description) = &self.description {
            writeln!(formatter, "  description: {description}")?;
        }
        write!(
            formatter,
            "  items: {} ({} failed)",
            self.item_results.len(),
            self.failed_items()
        )?;
        if let Some(run_id) = &self.dataset_run_id {
            write!(formatter, ", dataset run {run_id}")?;
        }
        writeln!(formatter)?;
        if formatter.alternate() {
            for (index, item) in self.item_results.iter().enumerate() {
                let output = match &item.output {
                    Ok(output) => short(output, 60),
                    Err(error) => format!("error: {}", short(&Value::String(error.clone()), 60)),
                };
                let scores: Vec<String> = item.evaluations.iter().map(score_text).collect();
                writeln!(
                    formatter,
                    "  [{}] {} -> {}{}{}",
                    index + 1,
                    short(&item.item.input, 40),
                    output,
                    if scores.is_empty() { "" } else { " | " },
                    scores.join(", ")
                )?;
            }
        }
        let summaries = self.score_summaries();
        if !summaries.is_empty() {
            writeln!(formatter, "  item scores:")?;
            for (name, summary) in &summaries {
                writeln!(formatter, "    {name}: {summary}")?;
            }
        }
        if !self.run_evaluations.is_empty() {
            writeln!(formatter, "  run scores:")?;
            for score in &self.run_evaluations {
                writeln!(formatter, "    {}", score_text(score))?;
            }
        }
        let failures: Vec<String> = self
            .item_results
            .iter()
            .enumerate()
            .flat_map(|(index, item)| {
                let task = item
                    .output
                    .as_ref()
                    .err()
                    .map(|error| format!("item {}: task failed: {error}", index + 1));
                task.into_iter().chain(
                    item.evaluator_failures
                        .iter()
                        .map(move |failure| format!("item {}: {failure}", index + 1)),
                )
            })
            .chain(
                self.run_evaluator_failures
                    .iter()
                    .map(|failure| format!("run: {failure}")),
            )
            .collect();
        if !failures.is_empty() {
            writeln!(formatter, "  failures:")?;
            for failure in failures {
                writeln!(formatter, "    {failure}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item_result(input: &str, output: Result<Value, String>, scores: Vec<Score>) -> ItemResult {
        ItemResult {
            item: ExperimentItem::new(&input),
            output,
            evaluations: scores,
            evaluator_failures: Vec::new(),
            trace_id: None,
            observation_id: None,
            dataset_run_id: None,
        }
    }

    #[test]
    fn summaries_average_numbers_and_count_labels() {
        let result = ExperimentResult {
            name: "e".into(),
            run_name: "r".into(),
            description: Some("d".into()),
            item_results: vec![
                item_result(
                    "a",
                    Ok(json!("A")),
                    vec![
                        Score::numeric("accuracy", 1.0),
                        Score::categorical("tone", "calm"),
                    ],
                ),
                item_result(
                    "b",
                    Ok(json!("B")),
                    vec![
                        Score::boolean("accuracy", false),
                        Score::categorical("tone", "calm"),
                    ],
                ),
                item_result(
                    "c",
                    Ok(json!({"x": 1})),
                    vec![
                        Score::numeric("accuracy", 0.5),
                        Score::categorical("tone", "curt"),
                    ],
                ),
                item_result("d", Err("timeout".into()), Vec::new()),
            ],
            run_evaluations: vec![Score::numeric("mean-accuracy", 0.5)],
            run_evaluator_failures: vec![EvaluatorFailure {
                evaluator: "judge".into(),
                message: "no key".into(),
            }],
            dataset_run_id: Some("run-1".into()),
        };
        let summaries = result.score_summaries();
        assert_eq!(summaries["accuracy"].count, 3);
        assert_eq!(summaries["accuracy"].mean, Some(0.5));
        assert_eq!(summaries["tone"].mean, None);
        assert_eq!(
            summaries["tone"].categories,
            BTreeMap::from([("calm".to_owned(), 2), ("curt".to_owned(), 1)])
        );
        assert_eq!(result.failed_items(), 1);
        assert_eq!(
            result.to_string(),
            "Experiment \"e\", run \"r\"\n  description: d\n  items: 4 (1 failed), dataset run run-1\n  item scores:\n    accuracy: mean 0.500 (n=3)\n    tone: calm: 2, curt: 1 (n=3)\n  run scores:\n    mean-accuracy=0.5\n  failures:\n    item 4: task failed: timeout\n    run: evaluator \"judge\" failed: no key\n"
        );
        let detailed = format!("{result:#}");
        assert!(
            detailed.contains("  [3] c -> {\"x\":1} | accuracy=0.5, tone=curt\n"),
            "{detailed}"
        );
        assert!(
            detailed.contains("  [4] d -> error: timeout\n"),
            "{detailed}"
        );
    }
}
