//! The `#[observe]` attribute of the Spindle Rust SDK; use it through `spindle::observe`.
//!
//! The entry point and its documentation live here; `args` parses the attribute's arguments
//! and `codegen` writes the wrapped function.

#![warn(missing_docs)]

mod args;
mod codegen;

use proc_macro::TokenStream;

/// Records every call of a function as an observation (sync or async, free function or method).
///
/// Arguments, all optional:
/// - `name = "..."`: the observation name (default: the function's name);
/// - `as_type = "..."`: one of `span` (default), `generation`, `event`, `agent`, `tool`, `chain`,
///   `retriever`, `embedding`, `evaluator`, `guardrail`;
/// - `capture_input = false` / `capture_output = false`: do not record the arguments / the
///   return value (both are recorded by default);
/// - `skip(arg, ...)`: leave these arguments out of the input (checked at compile time).
///
/// The input is `{"args": [...], "kwargs": {}}`, each argument serialized with
/// `serde::Serialize` (`self` is skipped), exactly as the Python SDK records it; every captured
/// argument must therefore implement `Serialize`, or be skipped. The output is the return value
/// (for a `Result`, the `Ok` value); a returned `Err` or a panic marks the observation `ERROR`
/// with its message. Observations nest along the call tree, across `.await` and concurrent
/// branches. With no client configured the cost is one atomic load.
///
/// ```
/// use spindle::observe;
///
/// #[derive(serde::Serialize)]
/// struct Query { text: String }
///
/// struct Retriever;
///
/// impl Retriever {
///     #[observe(as_type = "retriever", skip(limit))]
///     async fn search(&self, query: &Query, limit: usize) -> Result<Vec<String>, std::io::Error> {
///         Ok(vec![query.text.clone(); limit])
///     }
/// }
///
/// #[observe(name = "pipeline", capture_output = false)]
/// async fn pipeline(text: String) -> usize {
///     let query = Query { text };
///     Retriever.search(&query, 2).await.map(|docs| docs.len()).unwrap_or(0)
/// }
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// assert_eq!(runtime.block_on(pipeline("hi".into())), 2);
/// ```
#[proc_macro_attribute]
pub fn observe(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = match syn::parse::<args::ObserveArgs>(attr) {
        Ok(args) => args,
        Err(error) => return error.into_compile_error().into(),
    };
    let function = match syn::parse::<syn::ItemFn>(item) {
        Ok(function) => function,
        Err(error) => {
            return syn::Error::new(
                error.span(),
                "`#[observe]` can only be used on functions and methods",
            )
            .into_compile_error()
            .into()
        }
    };
    codegen::expand(args, function)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
