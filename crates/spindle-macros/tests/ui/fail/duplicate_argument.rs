//! trybuild case `duplicate_argument`: see tests/ui.rs.
use spindle::observe;

#[observe(name = "a", name = "b")]
fn query(text: &str) -> usize {
    text.len()
}

fn main() {}
