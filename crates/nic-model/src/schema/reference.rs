//! The human-readable field reference, `docs/SCHEMA.md`, made from the same shapes as the
//! JSON Schema, so the two cannot disagree.

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write;

use super::describe::{Object, Shape};
use crate::DocKind;

const PREAMBLE: &str = include_str!("reference_preamble.md");

/// The whole reference as Markdown.
pub fn render() -> String {
    let mut out = String::from(PREAMBLE);
    for kind in DocKind::ALL {
        let root = super::shape_of(kind);
        let _ = writeln!(out, "\n## `{}`\n", kind.as_str());
        let _ = writeln!(out, "{}\n", root.doc);
        let _ = writeln!(
            out,
            "JSON Schema: [`schema/{0}.schema.json`](schema/{0}.schema.json). Besides the fields below, the root holds `kind` = `\"{0}\"` (string, required) and `schema` (uint, the version).\n",
            kind.as_str()
        );
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::new();
        let mut first = Vec::new();
        table(&mut out, &root, &mut first);
        queue.extend(first);
        while let Some(o) = queue.pop_front() {
            if seen.insert(o.name) {
                let _ = writeln!(out, "\n#### {} (in `{}`)\n", o.name, kind.as_str());
                let _ = writeln!(out, "{}\n", o.doc);
                let mut more = Vec::new();
                table(&mut out, &o, &mut more);
                queue.extend(more);
            }
        }
    }
    out
}

fn table(out: &mut String, o: &Object, nested: &mut Vec<Object>) {
    out.push_str("| field | type | absent | meaning |\n|---|---|---|---|\n");
    for f in &o.fields {
        let absent = if f.required() {
            "required".to_owned()
        } else if matches!((f.shape)(), Shape::Optional(_)) {
            "null".to_owned()
        } else if let Shape::Enum(c) = (f.shape)() {
            c.default.map_or("default".to_owned(), |d| format!("`{d}`"))
        } else {
            "default".to_owned()
        };
        let key = if f.key {
            " Identifies the entry in its list."
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {}{} |",
            f.name,
            type_name(&(f.shape)(), nested)
                + &f.format.map_or(String::new(), |fmt| format!(" ({fmt})")),
            absent,
            f.doc.replace('|', "\\|"),
            key
        );
    }
}

fn type_name(s: &Shape, nested: &mut Vec<Object>) -> String {
    match s {
        Shape::Text => "text".into(),
        Shape::Str => "string".into(),
        Shape::Uint { max } if *max == u64::from(u32::MAX) => "uint (32-bit)".into(),
        Shape::Uint { .. } => "uint".into(),
        Shape::Int => "int".into(),
        Shape::F64 => "f64".into(),
        Shape::Bool => "boolean".into(),
        Shape::Optional(inner) => format!("{} or null", type_name(inner, nested)),
        Shape::List(inner) => format!("list of {}", type_name(inner, nested)),
        Shape::Object(o) => {
            nested.push(o.clone());
            format!("map: {}", o.name)
        }
        Shape::Enum(c) => {
            let values: Vec<String> = c
                .variants
                .iter()
                .map(|v| format!("`{}` ({})", v.name, v.doc.trim_end_matches('.')))
                .collect();
            format!("one of {}", values.join(", "))
        }
    }
}
