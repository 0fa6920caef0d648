//! A document's whole content as JSON, for tools that take plain values (the Python package,
//! `nic docs show`).
//!
//! The same JSON as `serde_json::to_value(AutoSerde::from(doc))`, read in one pass over each
//! object: `AutoSerde` looks every key (and list index) up again after listing it, which
//! made up most of the time of reading a replica's documents from Python.

use nic_sync::automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValueRef, ValueRef};
use serde_json::{Map, Number, Value};

/// The document's content: maps as objects, lists as arrays, text as strings, and scalars as
/// Automerge serialises them (a conflict shows the value Automerge picks as the winner).
pub fn document_json(doc: &Automerge) -> Value {
    map(doc, &nic_sync::automerge::ROOT)
}

fn map(doc: &Automerge, obj: &ObjId) -> Value {
    let mut out = Map::new();
    for item in doc.map_range(obj, ..) {
        let value = match &item.value {
            ValueRef::Object(kind) => object(doc, *kind, &item.id()),
            ValueRef::Scalar(s) => scalar(s),
        };
        out.insert(item.key.into_owned(), value);
    }
    Value::Object(out)
}

fn list(doc: &Automerge, obj: &ObjId) -> Value {
    Value::Array(
        doc.list_range(obj, ..)
            .map(|item| match &item.value {
                ValueRef::Object(kind) => object(doc, *kind, &item.id()),
                ValueRef::Scalar(s) => scalar(s),
            })
            .collect(),
    )
}

fn object(doc: &Automerge, kind: ObjType, id: &ObjId) -> Value {
    match kind {
        ObjType::Map | ObjType::Table => map(doc, id),
        ObjType::List => list(doc, id),
        ObjType::Text => Value::String(doc.text(id).unwrap_or_default()),
    }
}

fn scalar(s: &ScalarValueRef<'_>) -> Value {
    match s {
        ScalarValueRef::Str(s) => Value::String(s.to_string()),
        ScalarValueRef::Int(i) => Value::from(*i),
        ScalarValueRef::Uint(u) => Value::from(*u),
        ScalarValueRef::F64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        ScalarValueRef::Boolean(b) => Value::Bool(*b),
        ScalarValueRef::Null => Value::Null,
        // Rare in NIC documents: exactly as Automerge serialises them.
        other => match ValueRef::Scalar(other.clone()).into_value() {
            nic_sync::automerge::Value::Scalar(s) => {
                serde_json::to_value(s.as_ref()).unwrap_or(Value::Null)
            }
            nic_sync::automerge::Value::Object(_) => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests;
