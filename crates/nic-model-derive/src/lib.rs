//! `#[derive(Describe)]` for nic-model's document types.
//!
//! It reads the attributes `autosurgeon` hydrates with — `rename`, `missing`, `#[key]` —
//! and the doc comments, and emits `nic_model::schema::describe::Describe`, whose shape the
//! published JSON Schema, the field reference and the hub's content check are all made
//! from. Reading autosurgeon's own attributes (rather than a second set) is what keeps the
//! schema from drifting away from what the code reads.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, Lit, Meta, parse_macro_input};

/// Derives `Describe` for a struct with named fields or an enum of unit variants.
#[proc_macro_derive(Describe, attributes(key, autosurgeon, describe))]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let ident = &input.ident;
    let name = ident.to_string();
    let doc = doc_of(&input.attrs);
    let d = quote!(::nic_model::schema::describe);
    let body = match &input.data {
        Data::Struct(s) => {
            let Fields::Named(named) = &s.fields else {
                return Err(syn::Error::new_spanned(
                    ident,
                    "Describe needs named fields",
                ));
            };
            let mut fields = Vec::new();
            for f in &named.named {
                let Some(fident) = &f.ident else { continue };
                let a = autosurgeon_attrs(&f.attrs)?;
                let wire = a.rename.unwrap_or_else(|| fident.to_string());
                let fdoc = doc_of(&f.attrs);
                let key = f.attrs.iter().any(|at| at.path().is_ident("key"));
                let format = match describe_format(&f.attrs)? {
                    Some(fmt) => quote!(::std::option::Option::Some(#fmt)),
                    None => quote!(::std::option::Option::None),
                };
                let has_default = a.missing;
                let ty = &f.ty;
                fields.push(quote! {
                    #d::Field {
                        name: #wire,
                        doc: #fdoc,
                        shape: <#ty as #d::Describe>::shape,
                        defaulted: #has_default,
                        key: #key,
                        format: #format,
                    }
                });
            }
            quote! {
                #d::Shape::Object(#d::Object {
                    name: #name,
                    doc: #doc,
                    fields: ::std::vec![#(#fields),*],
                })
            }
        }
        Data::Enum(e) => {
            let mut variants = Vec::new();
            let mut default = quote!(::std::option::Option::None);
            for v in &e.variants {
                if !matches!(v.fields, Fields::Unit) {
                    return Err(syn::Error::new_spanned(
                        v,
                        "Describe supports enums of unit variants only",
                    ));
                }
                let a = autosurgeon_attrs(&v.attrs)?;
                let wire = a.rename.unwrap_or_else(|| v.ident.to_string());
                let vdoc = doc_of(&v.attrs);
                if v.attrs.iter().any(|at| at.path().is_ident("default")) {
                    default = quote!(::std::option::Option::Some(#wire));
                }
                variants.push(quote!(#d::Variant { name: #wire, doc: #vdoc }));
            }
            quote! {
                #d::Shape::Enum(#d::Choice {
                    name: #name,
                    doc: #doc,
                    variants: ::std::vec![#(#variants),*],
                    default: #default,
                })
            }
        }
        Data::Union(_) => {
            return Err(syn::Error::new_spanned(
                ident,
                "Describe does not support unions",
            ));
        }
    };
    let (imp, ty, wh) = input.generics.split_for_impl();
    Ok(quote! {
        impl #imp #d::Describe for #ident #ty #wh {
            fn shape() -> #d::Shape {
                #body
            }
        }
    })
}

#[derive(Default)]
struct AutosurgeonAttrs {
    rename: Option<String>,
    missing: bool,
}

/// The `rename` and `missing` of `#[autosurgeon(...)]`. Any other autosurgeon option
/// (custom hydrate functions and the like) would change what a field accepts in ways the
/// shape cannot see, so it is refused here rather than described wrongly.
fn autosurgeon_attrs(attrs: &[Attribute]) -> syn::Result<AutosurgeonAttrs> {
    let mut out = AutosurgeonAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("autosurgeon")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let s: syn::LitStr = meta.value()?.parse()?;
                out.rename = Some(s.value());
                Ok(())
            } else if meta.path.is_ident("missing") {
                let _: syn::LitStr = meta.value()?.parse()?;
                out.missing = true;
                Ok(())
            } else {
                Err(meta.error(
                    "Describe cannot describe this autosurgeon option: extend nic-model-derive first",
                ))
            }
        })?;
    }
    Ok(out)
}

/// `#[describe(format = "date")]`: a string's format, published as JSON Schema's `format`.
fn describe_format(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    let mut out = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("describe")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("format") {
                let s: syn::LitStr = meta.value()?.parse()?;
                out = Some(s.value());
                Ok(())
            } else {
                Err(meta.error("describe knows only `format`"))
            }
        })?;
    }
    Ok(out)
}

/// The doc comment, its lines joined with spaces.
fn doc_of(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if let Meta::NameValue(nv) = &attr.meta
            && nv.path.is_ident("doc")
            && let Expr::Lit(lit) = &nv.value
            && let Lit::Str(s) = &lit.lit
        {
            lines.push(s.value().trim().to_owned());
        }
    }
    lines.join(" ").trim().to_owned()
}
