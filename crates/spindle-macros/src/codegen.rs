//! Code generation for `#[observe]`: the user's signature is kept intact and the body is wrapped
//! so the call becomes an observation; generated code names only `::spindle::__private`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType};

use crate::args::ObserveArgs;

/// Whether a return type mentions `impl Trait`, which cannot be written as a closure's type.
fn mentions_impl_trait(return_type: &ReturnType) -> bool {
    match return_type {
        ReturnType::Default => false,
        ReturnType::Type(_, ty) => ty
            .to_token_stream()
            .into_iter()
            .any(|token| token.to_string() == "impl"),
    }
}

/// The identifiers of the arguments to capture, checking that every `skip` name exists.
fn captured_arguments(function: &ItemFn, args: &ObserveArgs) -> syn::Result<Vec<Ident>> {
    let mut names = Vec::new();
    for input in &function.sig.inputs {
        let FnArg::Typed(typed) = input else {
            continue; // `self` is never captured
        };
        if let Pat::Ident(pattern) = typed.pat.as_ref() {
            names.push(pattern.ident.clone());
        }
    }
    let skipped = args.skip.as_deref().unwrap_or_default();
    for skip in skipped {
        if !names.iter().any(|name| name == skip) {
            return Err(syn::Error::new(
                skip.span(),
                format!("`skip`: this function has no argument named `{skip}`"),
            ));
        }
    }
    Ok(names
        .into_iter()
        .filter(|name| !skipped.contains(name))
        .collect())
}

/// Expands `#[observe(args)]` on `function`.
pub(crate) fn expand(args: ObserveArgs, function: ItemFn) -> syn::Result<TokenStream> {
    if function.sig.constness.is_some() {
        return Err(syn::Error::new(
            function.sig.constness.span(),
            "`#[observe]` cannot be used on a `const fn`",
        ));
    }
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = &function;
    let name = match &args.name {
        Some(name) => name.to_token_stream(),
        None => {
            let ident = sig.ident.to_string();
            let ident = ident.strip_prefix("r#").unwrap_or(&ident).to_owned();
            quote!(#ident)
        }
    };
    let observation_type = match &args.as_type {
        Some((variant, span)) => quote_spanned!(*span=> ::spindle::__private::Type::#variant),
        None => quote!(::spindle::__private::Type::Span),
    };
    let capture_input = args.capture_input.as_ref().is_none_or(|flag| flag.value);
    let capture_output = args.capture_output.as_ref().is_none_or(|flag| flag.value);
    let captured = captured_arguments(&function, &args)?;
    let input = if capture_input {
        let pushes = captured
            .iter()
            .map(|ident| quote_spanned!(ident.span()=> __spindle_args.arg(&#ident);));
        quote! {
            ::core::option::Option::Some(&|__spindle_args: &mut ::spindle::__private::ArgsCapture| { #(#pushes)* })
        }
    } else {
        quote!(::core::option::Option::None)
    };
    let nameable_return = !mentions_impl_trait(&sig.output);
    let return_type = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let capture = quote! {
        {
            #[allow(unused_imports)]
            use ::spindle::__private::capture::*;
            (&&&&::spindle::__private::Wrap(&__spindle_ret)).__spindle_capture(&__spindle_scope, #capture_output);
        }
    };
    let start = quote! {
        let __spindle_scope = ::spindle::__private::start(#name, #observation_type, #input);
    };
    let body = if sig.asyncness.is_some() {
        let future = quote!(async move #block);
        let binding = if nameable_return {
            quote!(let __spindle_ret: #return_type)
        } else {
            quote!(let __spindle_ret)
        };
        quote! {
            #start
            #[allow(clippy::let_unit_value)]
            #binding = __spindle_scope.instrument(#future).await;
            #capture
            __spindle_ret
        }
    } else {
        let closure = if nameable_return {
            quote!(move || -> #return_type #block)
        } else {
            quote!(move || #block)
        };
        quote! {
            #start
            let __spindle_guard = __spindle_scope.enter();
            #[allow(clippy::redundant_closure_call)]
            let __spindle_result = ::spindle::__private::catch_unwind(::spindle::__private::AssertUnwindSafe(#closure));
            ::core::mem::drop(__spindle_guard);
            match __spindle_result {
                ::core::result::Result::Ok(__spindle_ret) => {
                    #capture
                    __spindle_ret
                }
                ::core::result::Result::Err(__spindle_panic) => {
                    __spindle_scope.record_panic(&*__spindle_panic);
                    ::core::mem::drop(__spindle_scope);
                    ::spindle::__private::resume_unwind(__spindle_panic)
                }
            }
        }
    };
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    })
}
