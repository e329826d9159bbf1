//! trybuild case `not_serialize`: see tests/ui.rs.
use spindle::observe;

struct Connection;

#[observe]
fn query(connection: Connection, text: &str) -> usize {
    let _ = connection;
    text.len()
}

fn main() {}
