//! trybuild case `not_a_function`: see tests/ui.rs.
use spindle::observe;

#[observe]
struct Query;

fn main() {}
