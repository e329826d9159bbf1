use spindle::observe;

#[observe(as_type = "llm")]
fn query(text: &str) -> usize {
    text.len()
}

fn main() {}
