//! What each document kind's content looks like, as data: the one description the
//! published JSON Schema ([`super::json_schema`]), the field reference
//! ([`super::reference`]) and the hub's content check ([`super::check`]) are all made from.
//!
//! The shapes come from `#[derive(Describe)]` on the very types that hydrate the documents
//! (it reads their autosurgeon attributes), and name the Automerge type each value must
//! have — what `autosurgeon` accepts when it reads, no more and no less:
//!
//! | shape | Automerge value | from JavaScript (`@automerge/automerge`) |
//! |---|---|---|
//! | `text` | a Text object | a plain string |
//! | `string` | a string scalar | `new Automerge.ImmutableString(s)` |
//! | `uint` | an unsigned integer | `new Automerge.Uint(n)` |
//! | `int` | a signed integer | a whole number |
//! | `f64` | a 64-bit float | `new Automerge.Float64(x)` (a whole number alone is stored as `int`) |
//! | `boolean` | a boolean | `true` / `false` |

use autosurgeon::Text;

/// A value's shape.
#[derive(Clone, Debug)]
pub enum Shape {
    /// Collaborative text (an Automerge Text object).
    Text,
    /// A string scalar.
    Str,
    /// An unsigned integer scalar no larger than `max`.
    Uint {
        /// The largest value the field holds.
        max: u64,
    },
    /// A signed 64-bit integer scalar.
    Int,
    /// A 64-bit float scalar.
    F64,
    /// A boolean scalar.
    Bool,
    /// The inner shape, `null`, or absent.
    Optional(Box<Shape>),
    /// A list of values of one shape.
    List(Box<Shape>),
    /// A map with named fields (fields it does not name are allowed and kept).
    Object(Object),
    /// A string scalar, one of a fixed set.
    Enum(Choice),
}

/// A map with named fields.
#[derive(Clone, Debug)]
pub struct Object {
    /// The Rust type's name, used as the schema definition's name.
    pub name: &'static str,
    /// What it holds.
    pub doc: &'static str,
    /// Its fields, in declaration order.
    pub fields: Vec<Field>,
}

/// One field of an [`Object`].
#[derive(Clone, Debug)]
pub struct Field {
    /// The key in the Automerge map.
    pub name: &'static str,
    /// What it means.
    pub doc: &'static str,
    /// Its shape, made on demand: types may nest themselves (a cause has sub-causes).
    pub shape: fn() -> Shape,
    /// Whether an absent key reads as the field's default; when not, the key is required
    /// (an [`Shape::Optional`] field may still be absent).
    pub defaulted: bool,
    /// Whether the field identifies its entry within a list (entries carry their own ids
    /// so concurrent edits merge entry by entry).
    pub key: bool,
    /// A string's format (`date`: `YYYY-MM-DD`), from `#[describe(format = "…")]`. Published
    /// as an annotation: the typed read does not enforce it, validation advice does.
    pub format: Option<&'static str>,
}

impl Field {
    /// Whether the key must be present.
    pub fn required(&self) -> bool {
        !self.defaulted && !matches!((self.shape)(), Shape::Optional(_))
    }
}

/// A closed set of string values.
#[derive(Clone, Debug)]
pub struct Choice {
    /// The Rust type's name.
    pub name: &'static str,
    /// What it chooses.
    pub doc: &'static str,
    /// The allowed values.
    pub variants: Vec<Variant>,
    /// The value an absent key reads as (the Rust type's `#[default]`), if any.
    pub default: Option<&'static str>,
}

/// One allowed value of a [`Choice`].
#[derive(Clone, Debug)]
pub struct Variant {
    /// The string stored.
    pub name: &'static str,
    /// What it means.
    pub doc: &'static str,
}

/// A type whose stored shape is known.
pub trait Describe {
    /// The shape of its stored values.
    fn shape() -> Shape;
}

impl Describe for String {
    fn shape() -> Shape {
        Shape::Str
    }
}

impl Describe for Text {
    fn shape() -> Shape {
        Shape::Text
    }
}

impl Describe for u32 {
    fn shape() -> Shape {
        Shape::Uint {
            max: u64::from(u32::MAX),
        }
    }
}

impl Describe for u64 {
    fn shape() -> Shape {
        Shape::Uint { max: u64::MAX }
    }
}

impl Describe for i64 {
    fn shape() -> Shape {
        Shape::Int
    }
}

impl Describe for f64 {
    fn shape() -> Shape {
        Shape::F64
    }
}

impl Describe for bool {
    fn shape() -> Shape {
        Shape::Bool
    }
}

impl<T: Describe> Describe for Option<T> {
    fn shape() -> Shape {
        Shape::Optional(Box::new(T::shape()))
    }
}

impl<T: Describe> Describe for Vec<T> {
    fn shape() -> Shape {
        Shape::List(Box::new(T::shape()))
    }
}

/// `#[derive(Describe)]`: the shape of a struct with named fields or an enum of unit
/// variants, read from its autosurgeon attributes and doc comments.
pub use nic_model_derive::Describe;
