//! trybuild case `forms`: see tests/ui.rs.
use spindle::observe;

#[derive(serde::Serialize)]
struct Query {
    text: String,
}

struct NotSerialize;

#[observe]
fn free(query: &Query, n: usize) -> usize {
    query.text.len() + n
}

#[observe(name = "custom", as_type = "generation", capture_input = false, capture_output = false)]
fn options(_unused: NotSerialize) {}

#[observe(skip(handle))]
fn skipped(handle: NotSerialize, text: String) -> String {
    let _ = handle;
    text
}

#[observe]
fn generic<T: serde::Serialize + Clone>(item: T) -> Vec<T> {
    vec![item.clone(), item]
}

#[observe(as_type = "tool")]
fn returns_impl() -> impl Iterator<Item = u8> {
    vec![1u8].into_iter()
}

#[observe]
fn early_return(flag: bool) -> Result<u8, String> {
    if flag {
        return Err("flag".to_owned());
    }
    let value: u8 = "7".parse().map_err(|_| "parse".to_owned())?;
    Ok(value)
}

#[observe]
fn destructured((a, b): (u8, u8), _: u8) -> u8 {
    a + b
}

struct Service {
    prefix: String,
}

impl Service {
    #[observe(as_type = "agent")]
    fn method(&self, text: &str) -> String {
        format!("{}{text}", self.prefix)
    }

    #[observe]
    async fn async_method(&mut self, text: String) -> usize {
        self.prefix.push_str(&text);
        self.prefix.len()
    }

    #[observe]
    fn consuming(self) -> String {
        self.prefix
    }
}

#[observe(as_type = "chain")]
pub async fn pipeline(text: String) -> Result<usize, std::io::Error> {
    let mut service = Service { prefix: String::new() };
    let length = service.async_method(text).await;
    Ok(length)
}

fn main() {
    let query = Query { text: "q".into() };
    assert_eq!(free(&query, 1), 2);
    options(NotSerialize);
    assert_eq!(skipped(NotSerialize, "t".into()), "t");
    assert_eq!(generic(1).len(), 2);
    assert_eq!(returns_impl().count(), 1);
    assert!(early_return(true).is_err());
    assert_eq!(destructured((1, 2), 0), 3);
    let service = Service { prefix: "p".into() };
    assert_eq!(service.method("x"), "px");
    assert_eq!(service.consuming(), "p");
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(runtime.block_on(pipeline("ab".into())).unwrap(), 2);
}
