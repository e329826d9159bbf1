//! Parsing of `#[observe(...)]` arguments into [`ObserveArgs`], rejecting unknown and duplicate
//! keys with errors that point at the offending token.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitBool, LitStr, Token};

/// The observation types `as_type` accepts, with the `ObservationType` variant of each.
pub(crate) const OBSERVATION_TYPES: [(&str, &str); 10] = [
    ("span", "Span"),
    ("generation", "Generation"),
    ("event", "Event"),
    ("agent", "Agent"),
    ("tool", "Tool"),
    ("chain", "Chain"),
    ("retriever", "Retriever"),
    ("embedding", "Embedding"),
    ("evaluator", "Evaluator"),
    ("guardrail", "Guardrail"),
];

/// Arguments of one `#[observe]` attribute.
#[derive(Default)]
pub(crate) struct ObserveArgs {
    /// Observation name; the function's name when absent.
    pub(crate) name: Option<LitStr>,
    /// `ObservationType` variant name and the span of the literal that chose it.
    pub(crate) as_type: Option<(Ident, Span)>,
    pub(crate) capture_input: Option<LitBool>,
    pub(crate) capture_output: Option<LitBool>,
    /// Arguments left out of the captured input.
    pub(crate) skip: Option<Vec<Ident>>,
}

/// Stores `value` in `slot` unless the key was already given.
fn set_once<T>(slot: &mut Option<T>, value: T, key: &Ident) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            key.span(),
            format!("duplicate `{key}` argument"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

impl Parse for ObserveArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = ObserveArgs::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "name" => {
                    input.parse::<Token![=]>()?;
                    let name: LitStr = input.parse()?;
                    if name.value().is_empty() {
                        return Err(syn::Error::new(name.span(), "observation name must not be empty"));
                    }
                    set_once(&mut args.name, name, &key)?;
                }
                "as_type" => {
                    input.parse::<Token![=]>()?;
                    let literal: LitStr = input.parse()?;
                    let value = literal.value();
                    let Some((_, variant)) = OBSERVATION_TYPES.iter().find(|(wire, _)| *wire == value) else {
                        let expected: Vec<&str> = OBSERVATION_TYPES.iter().map(|(wire, _)| *wire).collect();
                        return Err(syn::Error::new(
                            literal.span(),
                            format!("unknown observation type `{value}`, expected one of: {}", expected.join(", ")),
                        ));
                    };
                    set_once(&mut args.as_type, (Ident::new(variant, literal.span()), literal.span()), &key)?;
                }
                "capture_input" => {
                    input.parse::<Token![=]>()?;
                    set_once(&mut args.capture_input, input.parse()?, &key)?;
                }
                "capture_output" => {
                    input.parse::<Token![=]>()?;
                    set_once(&mut args.capture_output, input.parse()?, &key)?;
                }
                "skip" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let names: Punctuated<Ident, Token![,]> = content.parse_terminated(Ident::parse, Token![,])?;
                    set_once(&mut args.skip, names.into_iter().collect(), &key)?;
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown argument `{key}`, expected `name`, `as_type`, `capture_input`, `capture_output` or `skip`"
                        ),
                    ))
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}
