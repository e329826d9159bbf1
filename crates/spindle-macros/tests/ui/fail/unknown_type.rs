//! trybuild case `unknown_type`: see tests/ui.rs.
use spindle::observe;

#[observe(as_type = "llm")]
fn query(text: &str) -> usize {
    text.len()
}

fn main() {}
