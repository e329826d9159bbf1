//! Key figures of every subcommand appended as JSON lines to one file, which `summary`
//! turns into the results table with the targets and the Spindle/Phoenix ratios.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Appends `{"key": key, "value": value, "note": note}` to `file` when one was given.
pub fn record(file: Option<&Path>, key: &str, value: f64, note: &str) -> anyhow::Result<()> {
    let Some(file) = file else {
        return Ok(());
    };
    let line = serde_json::json!({ "key": key, "value": value, "note": note });
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("opening {}", file.display()))?;
    writeln!(out, "{line}")?;
    Ok(())
}

/// Every recorded figure, the last one winning for a key that was recorded twice.
pub fn load(file: &Path) -> anyhow::Result<Vec<(String, f64, String)>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut figures: Vec<(String, f64, String)> = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)?;
        let key = value["key"].as_str().unwrap_or_default().to_owned();
        let number = value["value"].as_f64().unwrap_or(f64::NAN);
        let note = value["note"].as_str().unwrap_or_default().to_owned();
        figures.retain(|(known, _, _)| *known != key);
        figures.push((key, number, note));
    }
    Ok(figures)
}
