//! What every example does first: install a client configured from the `LANGFUSE_*`
//! variables, or a disabled one (so an example also runs without a server).

/// The client from the environment, installed as the process-wide client; a disabled one,
/// with a note on stderr, when the environment does not configure one.
#[allow(dead_code)] // The examples' test includes them without calling their `main`.
pub fn install_client_from_env() -> spindle::Client {
    let client = spindle::Client::from_env().unwrap_or_else(|error| {
        eprintln!("{error}: running without export");
        spindle::Client::disabled()
    });
    client.install_global();
    client
}

/// A single-threaded tokio runtime for an example's async code; `None`, with a note on stderr,
/// when none can be built.
#[allow(dead_code)] // Not every example is async.
pub fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| eprintln!("no tokio runtime: {error}"))
        .ok()
}
