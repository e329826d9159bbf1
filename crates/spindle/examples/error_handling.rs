//! Error handling (seed 000): a returned `Err` marks its observation `ERROR` with the error's
//! message, a failed step is marked by hand with level and status message, and the trace gets an
//! error score.
//!
//! Run: `LANGFUSE_PUBLIC_KEY=… LANGFUSE_SECRET_KEY=… cargo run -p spindle --example error_handling`

mod setup;

use serde_json::json;
use spindle::{observe, Level, ObservationUpdate, Score};

/// A database error.
#[derive(Debug)]
pub struct DbError(String);

impl std::fmt::Display for DbError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "database error: {}", self.0)
    }
}

impl std::error::Error for DbError {}

#[observe(as_type = "tool")]
fn run_query(sql: &str) -> Result<Vec<String>, DbError> {
    if sql.contains("users") {
        return Err(DbError("relation \"users\" does not exist".to_owned()));
    }
    Ok(vec!["row".to_owned()])
}

/// Runs a failing query and records the failure; returns the error message.
#[observe(name = "error-handling")]
pub fn run() -> Result<usize, DbError> {
    let db_call = spindle::observation("db-call")
        .input(&json!({"query": "SELECT * FROM users"}))
        .start();
    let result = db_call.in_scope(|| run_query("SELECT * FROM users WHERE id = 123"));
    if let Err(error) = &result {
        db_call.update(
            ObservationUpdate::new()
                .output(&json!({"error": error.to_string()}))
                .level(Level::Error)
                .status_message(error.to_string()),
        );
        spindle::score_current_trace(Score::numeric("error", 1.0).comment(error.to_string()));
    }
    db_call.end();
    let rows = result?;
    Ok(rows.len())
}

#[allow(dead_code)]
fn main() {
    let client = setup::install_client_from_env();
    if let Err(error) = run() {
        println!("failed as expected: {error}");
    }
    client.flush();
}
