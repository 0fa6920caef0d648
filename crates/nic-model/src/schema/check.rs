//! Whether a document's content reads as its kind, and if not, which field breaks which
//! rule — so the hub can refuse it with a message a tool builder can act on.
//!
//! The walk follows the kind's `Shape`; the typed read
//! ([`super::read`]) then runs as the last word, so nothing the product cannot read passes.
//! A property test (`tests/schema_check.rs`) holds the two to the same verdict.

use std::fmt;

use automerge::{ObjId, ObjType, Prop, ROOT, ReadDoc, ScalarValue, Value};

use super::describe::{Object, Shape};
use crate::DocKind;

/// Why a document does not read as its kind: the field (a path such as
/// `plan.questions[0].prediction`) and the rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Invalid {
    /// Where, from the document's root: map keys joined by `.`, list positions in `[]`.
    pub path: String,
    /// What the value there must be, and what it is.
    pub rule: String,
}

/// Checks that `doc` reads as a `kind`: the envelope (`kind`, `schema`), then every field
/// the kind names, then the typed read itself. Fields the kind does not name are allowed
/// (a newer version may have written them).
pub fn check<D: ReadDoc + autosurgeon::ReadDoc>(doc: &D, kind: DocKind) -> Result<(), Invalid> {
    walk(doc, kind)?;
    super::hydrates(doc, kind).map_err(|e| Invalid {
        path: String::new(),
        rule: format!("the content does not read as a {kind}: {e}"),
    })
}

/// What the hub accepts as a document's content: nothing yet (a document created empty),
/// or content that reads as `kind` ([`check`]). The one rule for `Documents.Create` and
/// for every change through sync.
pub fn accepted<D: ReadDoc + autosurgeon::ReadDoc>(doc: &D, kind: DocKind) -> Result<(), Invalid> {
    if is_empty(doc) {
        return Ok(());
    }
    check(doc, kind)
}

/// The envelope and shape walk alone, without the typed read: what names the field. Tests
/// hold its verdict to the typed read's; [`check`] runs both.
pub fn walk(doc: &impl ReadDoc, kind: DocKind) -> Result<(), Invalid> {
    envelope(doc, kind)?;
    let shape = super::shape_of(kind);
    object(doc, &ROOT, &shape, &mut Path::default())
}

/// Whether the document has no content at all (a document created empty, before its first
/// write): the hub accepts it as it is, but not a change that leaves content it cannot read.
pub fn is_empty(doc: &impl ReadDoc) -> bool {
    doc.length(&ROOT) == 0
}

fn envelope(doc: &impl ReadDoc, kind: DocKind) -> Result<(), Invalid> {
    let want = kind.as_str();
    match doc.get(&ROOT, "kind") {
        Ok(Some((Value::Scalar(s), _))) if matches!(s.as_ref(), ScalarValue::Str(k) if k.as_str() == want) =>
            {}
        found => {
            return Err(Invalid {
                path: "kind".into(),
                rule: format!(
                    "must be the string scalar \"{want}\" (the document's kind; in JavaScript `new Automerge.ImmutableString(\"{want}\")`), found {}",
                    describe_found(found.ok().flatten().as_ref().map(|(v, _)| v))
                ),
            });
        }
    }
    match doc.get(&ROOT, "schema") {
        Ok(None) => Ok(()),
        Ok(Some((Value::Scalar(s), _)))
            if matches!(s.as_ref(), ScalarValue::Uint(_))
                || matches!(s.as_ref(), ScalarValue::Int(v) if *v >= 0) =>
        {
            Ok(())
        }
        found => Err(Invalid {
            path: "schema".into(),
            rule: format!(
                "must be the schema version, an unsigned integer (in JavaScript `new Automerge.Uint(1)`), found {}",
                describe_found(found.ok().flatten().as_ref().map(|(v, _)| v))
            ),
        }),
    }
}

#[derive(Default)]
struct Path(Vec<Prop>);

impl Path {
    fn render(&self) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Prop::Map(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Prop::Seq(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn invalid(&self, rule: String) -> Invalid {
        Invalid {
            path: self.render(),
            rule,
        }
    }
}

/// How deep a document's typed content may nest (a cause's sub-causes, and so on). The
/// typed read recurses as deep as the content does, so without a bound a crafted document
/// could exhaust the stack of whoever reads it; no real worksheet comes near.
pub const MAX_DEPTH: usize = 64;

fn object(doc: &impl ReadDoc, obj: &ObjId, shape: &Object, path: &mut Path) -> Result<(), Invalid> {
    if path.0.len() > MAX_DEPTH {
        return Err(path.invalid(format!(
            "nests deeper than {MAX_DEPTH} levels: flatten the content"
        )));
    }
    for field in &shape.fields {
        path.0.push(Prop::Map(field.name.to_owned()));
        let got = doc.get(obj, field.name).ok().flatten();
        match got {
            None if !field.required() => {}
            None => {
                return Err(path.invalid(format!("is required: {}", expectation(&(field.shape)()))));
            }
            Some((value, id)) => self::value(doc, &value, &id, &(field.shape)(), path)?,
        }
        path.0.pop();
    }
    Ok(())
}

fn value(
    doc: &impl ReadDoc,
    got: &Value<'_>,
    id: &ObjId,
    shape: &Shape,
    path: &mut Path,
) -> Result<(), Invalid> {
    let fits = match (shape, got) {
        (Shape::Optional(_), Value::Scalar(s)) if matches!(s.as_ref(), ScalarValue::Null) => true,
        (Shape::Optional(inner), _) => return value(doc, got, id, inner, path),
        (Shape::Text, Value::Object(ObjType::Text)) => true,
        (Shape::Str, Value::Scalar(s)) => matches!(s.as_ref(), ScalarValue::Str(_)),
        (Shape::Uint { max }, Value::Scalar(s)) => {
            matches!(s.as_ref(), ScalarValue::Uint(v) if v <= max)
        }
        (Shape::Int, Value::Scalar(s)) => matches!(s.as_ref(), ScalarValue::Int(_)),
        (Shape::F64, Value::Scalar(s)) => matches!(s.as_ref(), ScalarValue::F64(_)),
        (Shape::Bool, Value::Scalar(s)) => matches!(s.as_ref(), ScalarValue::Boolean(_)),
        (Shape::Enum(choice), Value::Scalar(s)) => match s.as_ref() {
            ScalarValue::Str(v) => choice.variants.iter().any(|c| c.name == v.as_str()),
            _ => false,
        },
        (Shape::List(inner), Value::Object(ObjType::List)) => {
            for i in 0..doc.length(id) {
                path.0.push(Prop::Seq(i));
                // Within the list's length every position holds a value.
                if let Some((v, vid)) = doc.get(id, i).ok().flatten() {
                    value(doc, &v, &vid, inner, path)?;
                }
                path.0.pop();
            }
            true
        }
        (Shape::Object(o), Value::Object(ObjType::Map | ObjType::Table)) => {
            object(doc, id, o, path)?;
            true
        }
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(path.invalid(format!(
            "{}, found {}",
            expectation(shape),
            describe_found(Some(got))
        )))
    }
}

/// What a value of `shape` must be, with the JavaScript that writes one.
pub fn expectation(shape: &Shape) -> String {
    match shape {
        Shape::Text => {
            "must be collaborative text (an Automerge Text object; in JavaScript a plain string)"
                .into()
        }
        Shape::Str => {
            "must be a string scalar (in JavaScript `new Automerge.ImmutableString(s)`)".into()
        }
        Shape::Uint { max } => format!(
            "must be an unsigned integer no larger than {max} (in JavaScript `new Automerge.Uint(n)`)"
        ),
        Shape::Int => "must be a signed integer (in JavaScript a whole number)".into(),
        Shape::F64 => {
            "must be a 64-bit float (in JavaScript `new Automerge.Float64(x)`: a whole number alone is stored as an integer)".into()
        }
        Shape::Bool => "must be true or false".into(),
        Shape::Optional(inner) => format!("{}, or null", expectation(inner)),
        Shape::List(_) => "must be a list".into(),
        Shape::Object(o) => format!("must be a map (a {})", o.name),
        Shape::Enum(c) => {
            let names: Vec<String> = c.variants.iter().map(|v| format!("\"{}\"", v.name)).collect();
            format!(
                "must be one of {} as a string scalar (in JavaScript `new Automerge.ImmutableString(s)`)",
                names.join(", ")
            )
        }
    }
}

fn describe_found(got: Option<&Value<'_>>) -> String {
    match got {
        None => "nothing".into(),
        Some(Value::Object(ObjType::Text)) => "a Text object".into(),
        Some(Value::Object(ObjType::List)) => "a list".into(),
        Some(Value::Object(ObjType::Map | ObjType::Table)) => "a map".into(),
        Some(Value::Scalar(s)) => match s.as_ref() {
            ScalarValue::Str(v) => format!("the string scalar {:?}", truncate(v)),
            ScalarValue::Int(v) => format!("the signed integer {v}"),
            ScalarValue::Uint(v) => format!("the unsigned integer {v}"),
            ScalarValue::F64(v) => format!("the float {v}"),
            ScalarValue::Boolean(v) => format!("the boolean {v}"),
            ScalarValue::Null => "null".into(),
            ScalarValue::Counter(_) => "a counter".into(),
            ScalarValue::Timestamp(_) => "a timestamp".into(),
            ScalarValue::Bytes(_) => "bytes".into(),
            ScalarValue::Unknown { .. } => "a value of an unknown type".into(),
        },
    }
}

/// At most 40 characters of a found string: the message echoes input, so keep it short.
fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.rule)
        } else {
            write!(f, "field {}: {}", self.path, self.rule)
        }
    }
}
