//! trybuild case `unknown_argument`: see tests/ui.rs.
use spindle::observe;

#[observe(level = "debug")]
fn query(text: &str) -> usize {
    text.len()
}

fn main() {}
