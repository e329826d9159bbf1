//! Datasets and experiments: create a small dataset of countries and their capitals, fetch it
//! with its items, and run an experiment over it. A fake LLM answers each item (it does not
//! know every capital), an item-level evaluator scores exact matches, and a run-level evaluator
//! gives the run's accuracy. Each item becomes a trace linked to the dataset run.
//!
//! Run: `LANGFUSE_PUBLIC_KEY=… LANGFUSE_SECRET_KEY=… cargo run -p spindle --example experiment`

mod setup;

use std::sync::Arc;

use serde_json::json;
use spindle::{
    observe, Client, CreateDataset, CreateDatasetItem, Dataset, DatasetError, EvaluatorInput,
    ExperimentItem, ExperimentResult, ItemResult, ObservationUpdate, Score, ScoreValue,
};

/// The name of the example's dataset.
pub const DATASET_NAME: &str = "capital-cities";

/// The items: their ids (so creating them again updates them), countries, capitals and
/// continents.
pub const CAPITALS: [(&str, &str, &str, &str); 3] = [
    ("capital-france", "France", "Paris", "Europe"),
    ("capital-japan", "Japan", "Tokyo", "Asia"),
    ("capital-peru", "Peru", "Lima", "South America"),
];

/// Creates (or updates) the dataset and its items, then fetches it with all its items.
pub async fn create_dataset(client: &Client) -> Result<Dataset, DatasetError> {
    client
        .create_dataset(
            CreateDataset::new(DATASET_NAME)
                .description("countries and their capitals")
                .metadata(&json!({"source": "example"})),
        )
        .await?;
    for (id, country, capital, continent) in CAPITALS {
        client
            .create_dataset_item(
                CreateDatasetItem::new(DATASET_NAME)
                    .id(id)
                    .input(&json!({"country": country}))
                    .expected_output(&capital)
                    .metadata(&json!({"continent": continent})),
            )
            .await?;
    }
    client.get_dataset(DATASET_NAME).await
}

/// A deterministic stand-in for a chat model that knows only some capitals.
#[observe(as_type = "generation", name = "fake-llm")]
fn fake_llm(country: &str) -> String {
    spindle::update_current_generation(
        ObservationUpdate::new()
            .model("fake-llm")
            .usage_details(&json!({"input": 9, "output": 2})),
    );
    match country {
        "France" => "Paris".to_owned(),
        "Japan" => "Tokyo".to_owned(),
        _ => "I don't know".to_owned(),
    }
}

/// The task: asks the model for the capital of the item's country.
pub async fn answer(item: ExperimentItem) -> Result<String, String> {
    let country = item.input["country"]
        .as_str()
        .ok_or("the input has no country")?;
    Ok(fake_llm(country))
}

/// Item-level evaluator: 1 when the answer is the expected capital, else 0.
pub async fn exact_match(evaluation: EvaluatorInput) -> Result<Score, String> {
    let matched = evaluation.output == evaluation.expected_output;
    Ok(
        Score::numeric("exact-match", if matched { 1.0 } else { 0.0 })
            .comment(format!("expected {}", evaluation.expected_output)),
    )
}

/// Run-level evaluator: the mean of the items' exact-match scores.
pub async fn accuracy(results: Arc<[ItemResult]>) -> Result<Score, String> {
    let matches: Vec<f64> = results
        .iter()
        .flat_map(|result| &result.evaluations)
        .filter(|score| score.name() == "exact-match")
        .filter_map(|score| match score.value() {
            ScoreValue::Numeric(value) => Some(*value),
            _ => None,
        })
        .collect();
    if matches.is_empty() {
        return Err("no exact-match scores".to_owned());
    }
    let mean = matches.iter().sum::<f64>() / matches.len() as f64;
    Ok(Score::numeric("accuracy", mean))
}

/// Runs the experiment over the dataset as the run `run_name`.
pub async fn run_experiment(
    client: &Client,
    dataset: &Dataset,
    run_name: &str,
) -> ExperimentResult {
    client
        .experiment("capital-cities")
        .dataset(dataset)
        .run_name(run_name)
        .description("fake LLM, no retrieval")
        .metadata(&json!({"model": "fake-llm"}))
        .max_concurrency(2)
        .evaluator("exact-match", exact_match)
        .run_evaluator("accuracy", accuracy)
        .run(answer)
        .await
}

fn main() {
    let client = match Client::from_env() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("{error}: an experiment needs a server");
            return;
        }
    };
    client.install_global();
    let Some(runtime) = setup::runtime() else {
        return;
    };
    runtime.block_on(async {
        let dataset = match create_dataset(&client).await {
            Ok(dataset) => dataset,
            Err(error) => {
                eprintln!("dataset not created: {error}");
                return;
            }
        };
        let run_name = format!("example {}", spindle::new_trace_id());
        let result = run_experiment(&client, &dataset, &run_name).await;
        println!("{result:#}");
    });
    client.flush();
}
