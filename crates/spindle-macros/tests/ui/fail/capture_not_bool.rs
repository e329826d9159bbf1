//! trybuild case `capture_not_bool`: see tests/ui.rs.
use spindle::observe;

#[observe(capture_input = "no")]
fn query(text: &str) -> usize {
    text.len()
}

fn main() {}
