//! `get_client()` without an installed client builds one from the `LANGFUSE_*` environment, as
//! Python's `get_client()` does, and `#[observe]` then records through it.

mod support;

use support::Receiver;

#[spindle::observe(name = "env-observed")]
fn env_observed(x: u8) -> u8 {
    x + 1
}

#[test]
fn get_client_reads_the_environment() {
    let receiver = Receiver::start(0);
    // the only test of this binary: no other thread reads the environment meanwhile
    std::env::set_var("LANGFUSE_PUBLIC_KEY", "pk-lf-env");
    std::env::set_var("LANGFUSE_SECRET_KEY", "sk-lf-env");
    std::env::set_var("LANGFUSE_BASE_URL", &receiver.base_url);
    std::env::set_var("LANGFUSE_TRACING_ENVIRONMENT", "from-env");
    let client = spindle::get_client();
    assert!(client.is_enabled());
    assert_eq!(env_observed(1), 2);
    spindle::get_client().flush();
    let span = receiver.span_named("env-observed");
    assert_eq!(span.string("langfuse.environment"), Some("from-env"));
    assert_eq!(
        span.scope_attributes["public_key"],
        serde_json::json!({"string": "pk-lf-env"})
    );
    assert!(
        !client.install_global(),
        "the environment client is already the global one"
    );
}
