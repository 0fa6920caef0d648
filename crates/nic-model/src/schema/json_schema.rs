//! The published JSON Schema of each kind, made from its `Shape`.
//!
//! Standard JSON Schema (draft 2020-12) says what a tool sees when it turns a document into
//! JSON; the `x-automerge` keyword on each value says which Automerge type it must be
//! stored as (`text`, `string`, `uint`, `int`, `f64`, `boolean`), because JSON alone
//! cannot tell collaborative text from a string scalar, or an unsigned integer from a
//! signed one — and the product reads only the type named. `x-key` marks the field that
//! identifies an entry in its list.

use serde_json::{Map, Value, json};

use super::describe::{Choice, Object, Shape};
use crate::DocKind;

/// The JSON Schema of `kind`, pretty-printed with a final newline: what
/// `docs/schema/<kind>.schema.json` holds.
pub fn render(kind: DocKind) -> String {
    let mut text = serde_json::to_string_pretty(&schema(kind)).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of `kind`.
pub fn schema(kind: DocKind) -> Value {
    let root = super::shape_of(kind);
    let mut defs = Map::new();
    let mut out = object(&root, &mut defs);
    if let Value::Object(o) = &mut out {
        o.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        o.insert(
            "$id".into(),
            json!(format!("{}.schema.json", kind.as_str())),
        );
        o.insert("title".into(), json!(kind.as_str()));
        if let Some(Value::Object(props)) = o.get_mut("properties") {
            props.insert(
                "kind".into(),
                json!({
                    "description": "The document's kind; always this value.",
                    "const": kind.as_str(),
                    "type": "string",
                    "x-automerge": "string",
                }),
            );
            props.insert(
                "schema".into(),
                json!({
                    "description": format!(
                        "The schema version the document was last written with (this build writes {}); a newer version keeps its number.",
                        super::SCHEMA_VERSION
                    ),
                    "type": "integer",
                    "minimum": 0,
                    "x-automerge": "uint",
                }),
            );
        }
        if let Some(Value::Array(required)) = o.get_mut("required") {
            required.insert(0, json!("kind"));
        }
        if !defs.is_empty() {
            o.insert("$defs".into(), Value::Object(defs));
        }
    }
    out
}

fn object(o: &Object, defs: &mut Map<String, Value>) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in &o.fields {
        let mut v = shape(&(f.shape)(), defs);
        if let Value::Object(m) = &mut v {
            m.insert("description".into(), json!(f.doc));
            if f.key {
                m.insert("x-key".into(), json!(true));
            }
            if let Some(format) = f.format {
                m.insert("format".into(), json!(format));
            }
        }
        props.insert(f.name.into(), v);
        if f.required() {
            required.push(json!(f.name));
        }
    }
    json!({
        "description": o.doc,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": true,
    })
}

fn choice(c: &Choice) -> Value {
    let names: Vec<&str> = c.variants.iter().map(|v| v.name).collect();
    let docs: Map<String, Value> = c
        .variants
        .iter()
        .map(|v| (v.name.to_owned(), json!(v.doc)))
        .collect();
    let mut out = json!({
        "description": c.doc,
        "type": "string",
        "enum": names,
        "x-enum-descriptions": docs,
        "x-automerge": "string",
    });
    if let (Some(d), Value::Object(o)) = (c.default, &mut out) {
        o.insert("default".into(), json!(d));
    }
    out
}

fn shape(s: &Shape, defs: &mut Map<String, Value>) -> Value {
    match s {
        Shape::Text => json!({"type": "string", "x-automerge": "text"}),
        Shape::Str => json!({"type": "string", "x-automerge": "string"}),
        Shape::Uint { max } => {
            json!({"type": "integer", "minimum": 0, "maximum": max, "x-automerge": "uint"})
        }
        Shape::Int => json!({
            "type": "integer",
            "minimum": i64::MIN,
            "maximum": i64::MAX,
            "x-automerge": "int",
        }),
        Shape::F64 => json!({"type": "number", "x-automerge": "f64"}),
        Shape::Bool => json!({"type": "boolean", "x-automerge": "boolean"}),
        Shape::Optional(inner) => json!({"anyOf": [shape(inner, defs), {"type": "null"}]}),
        Shape::List(inner) => json!({"type": "array", "items": shape(inner, defs)}),
        Shape::Object(o) => {
            if !defs.contains_key(o.name) {
                // Placeholder first: a definition is written once even if it recurses.
                defs.insert(o.name.into(), Value::Null);
                let def = object(o, defs);
                defs.insert(o.name.into(), def);
            }
            json!({"$ref": format!("#/$defs/{}", o.name)})
        }
        Shape::Enum(c) => {
            if !defs.contains_key(c.name) {
                defs.insert(c.name.into(), choice(c));
            }
            json!({"$ref": format!("#/$defs/{}", c.name)})
        }
    }
}
