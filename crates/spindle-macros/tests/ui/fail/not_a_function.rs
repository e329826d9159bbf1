use spindle::observe;

#[observe]
struct Query;

fn main() {}
