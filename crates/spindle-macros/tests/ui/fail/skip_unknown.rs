//! trybuild case `skip_unknown`: see tests/ui.rs.
use spindle::observe;

#[observe(skip(api_key))]
fn query(text: &str) -> usize {
    text.len()
}

fn main() {}
