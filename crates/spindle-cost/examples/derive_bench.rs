//! Times what cost tracking adds to each stored generation: `Pricer::derive` (match the
//! model, then usage × price) for the benchmark workload's models, with reported usage and
//! without costs, and the tokenizer fallback for a 1 KB chat input. Run with
//! `cargo run --release -p spindle-cost --example derive_bench`.

use spindle_core::ObservationRecord;
use spindle_cost::{Pricer, ProjectPricing};
use std::hint::black_box;
use std::time::Instant;

fn generation(model: &str, with_usage: bool) -> ObservationRecord {
    let mut record = ObservationRecord::new("g");
    record.model = Some(model.to_owned());
    record.start_time = Some(1_790_000_000_000_000);
    if with_usage {
        record.usage_details = Some(
            [("input", 640), ("output", 210), ("total", 850)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        );
    }
    let sentence = "The retrieved passage says the refund window is thirty days from delivery. ";
    let content: String = sentence.repeat(1024 / sentence.len() + 1);
    record.input = Some(format!(r#"[{{"role":"user","content":"{content}"}}]"#));
    record.output = Some(r#"{"role":"assistant","content":"Thirty days."}"#.to_owned());
    record
}

fn time(label: &str, records: &[ObservationRecord], rounds: usize, pricer: &Pricer) {
    let pricing = ProjectPricing::default();
    for record in records {
        black_box(pricer.derive(&pricing, record));
    }
    let start = Instant::now();
    for _ in 0..rounds {
        for record in records {
            black_box(pricer.derive(&pricing, black_box(record)));
        }
    }
    let per_call = start.elapsed().as_nanos() as f64 / (rounds * records.len()) as f64;
    println!("{label}: {per_call:.0} ns per generation");
}

fn main() {
    let pricer = Pricer::new();
    let models = [
        "gpt-4o",
        "gpt-4o-mini",
        "claude-3-5-sonnet",
        "llama-3.1-70b",
    ];
    let with_usage: Vec<_> = models.iter().map(|m| generation(m, true)).collect();
    time(
        "derive, usage reported (match + usage x price)",
        &with_usage,
        250_000,
        &pricer,
    );
    let unknown: Vec<_> = ["my-finetune-v3", "acme/internal-llm"]
        .iter()
        .map(|m| generation(m, true))
        .collect();
    time("derive, unknown model", &unknown, 250_000, &pricer);
    let without_usage = vec![generation("gpt-4o", false)];
    time(
        "derive, no usage (tokenizer counts 1 KB input + output)",
        &without_usage,
        2_000,
        &pricer,
    );
}
