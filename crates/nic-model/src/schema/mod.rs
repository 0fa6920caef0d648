//! The improvement-science documents as typed Rust on Automerge (`autosurgeon`), so every
//! tool that embeds the client library reads and writes the same shapes.
//!
//! Every document's root holds `kind` (e.g. `pdsa_cycle`) and `schema` (its version)
//! beside the kind's fields. Reading checks the kind; a document written by a newer version
//! still reads (fields this version does not know are left untouched when it writes back),
//! and so does one written by an older version: every field carries
//! `#[autosurgeon(missing = "Default::default")]`, so a field added since reads as its
//! default (a new field must therefore have a meaningful default).
//!
//! - [`pdsa`] — the PDSA cycle, its validation, prediction integrity and ramp;
//! - [`aim`] — the aim (what, how much, by when, for whom);
//! - [`driver`] — the driver diagram, change ideas and each site's status with one;
//! - [`measure`] — measure definitions and a site's data points;
//! - [`site_work`] — empathy interviews, root-cause analyses, equity audits, improvement plans;
//! - [`network`] — the network profile, equity lens codes, coaching log and comment threads;
//! - [`findings`] — what validation reports.
//!
//! Each kind's shape ([`describe`]) is derived from these types; from it come the published
//! JSON Schema ([`json_schema`]), the field reference ([`mod@reference`], `docs/SCHEMA.md`) and
//! the check the hub runs on every document it accepts ([`check`]).

pub mod aim;
pub mod check;
pub mod describe;
pub mod driver;
pub mod findings;
pub mod json_schema;
pub mod measure;
pub mod network;
pub mod pdsa;
pub mod reference;
pub mod site_work;

use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};
/// Collaborative text, as the schema's prose fields hold it.
pub use autosurgeon::Text;
use autosurgeon::{Hydrate, Reconcile};

use crate::DocKind;

/// The schema version this build writes, per kind.
pub const SCHEMA_VERSION: u64 = 1;

/// Why a document could not be read or written as a typed value.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The document is of another kind.
    #[error("the document is a {found}, not a {expected}")]
    WrongKind {
        /// The kind asked for.
        expected: &'static str,
        /// The kind the document says it is (empty if none).
        found: String,
    },
    /// The content does not have the kind's shape.
    #[error("the document's content does not fit a {kind}: {source}")]
    Shape {
        /// The kind.
        kind: &'static str,
        /// What did not fit (boxed: the error is large).
        source: Box<autosurgeon::HydrateError>,
    },
    /// Writing the value failed.
    #[error("cannot write the {kind}: {source}")]
    Write {
        /// The kind.
        kind: &'static str,
        /// Why (boxed: the error is large).
        source: Box<autosurgeon::ReconcileError>,
    },
    /// Automerge refused an operation.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

/// The kind and schema version a document's root records.
pub fn envelope(doc: &impl ReadDoc) -> (Option<String>, Option<u64>) {
    let kind = match doc.get(ROOT, "kind") {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(k) => Some(k.to_string()),
            _ => None,
        },
        _ => None,
    };
    let schema = match doc.get(ROOT, "schema") {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Uint(v) => Some(*v),
            ScalarValue::Int(v) => u64::try_from(*v).ok(),
            _ => None,
        },
        _ => None,
    };
    (kind, schema)
}

/// Reads a document as a `kind` value.
pub fn read<T: Hydrate, D: ReadDoc + autosurgeon::ReadDoc>(
    doc: &D,
    kind: DocKind,
) -> Result<T, SchemaError> {
    let (found, _) = envelope(doc);
    if found.as_deref() != Some(kind.as_str()) {
        return Err(SchemaError::WrongKind {
            expected: kind.as_str(),
            found: found.unwrap_or_default(),
        });
    }
    autosurgeon::hydrate(doc).map_err(|source| SchemaError::Shape {
        kind: kind.as_str(),
        source: Box::new(source),
    })
}

/// Writes `value` as the document's content of `kind`: the envelope, then the fields,
/// changing only what differs (so concurrent edits elsewhere merge) and leaving fields this
/// version does not know alone. A document written by a newer schema keeps its version.
///
/// `doc` is an `AutoCommit` or an open `Transaction`, so a caller can make the write one
/// Automerge change with its own commit message.
pub fn write<T: Reconcile, D: Transactable + autosurgeon::Doc>(
    doc: &mut D,
    kind: DocKind,
    value: &T,
) -> Result<(), SchemaError> {
    let (found, schema) = envelope(doc);
    if found.as_deref() != Some(kind.as_str()) {
        Transactable::put(doc, ROOT, "kind", kind.as_str())?;
    }
    if schema.is_none_or(|v| v < SCHEMA_VERSION) {
        Transactable::put(doc, ROOT, "schema", SCHEMA_VERSION)?;
    }
    autosurgeon::reconcile(doc, value).map_err(|source| SchemaError::Write {
        kind: kind.as_str(),
        source: Box::new(source),
    })
}

/// A new document holding `value` of `kind`.
pub fn new_document<T: Reconcile>(kind: DocKind, value: &T) -> Result<AutoCommit, SchemaError> {
    let mut doc = AutoCommit::new();
    write(&mut doc, kind, value)?;
    Ok(doc)
}

/// Calls `$then!(Type)` with the content type of `$kind` — the one table from kind to type.
macro_rules! with_type {
    ($kind:expr, $then:ident) => {
        match $kind {
            DocKind::NetworkProfile => $then!(network::NetworkProfile),
            DocKind::Aim => $then!(aim::Aim),
            DocKind::DriverDiagram => $then!(driver::DriverDiagram),
            DocKind::ChangeIdea => $then!(driver::ChangeIdea),
            DocKind::PdsaCycle => $then!(pdsa::PdsaCycle),
            DocKind::MeasureDefinition => $then!(measure::MeasureDefinition),
            DocKind::MeasureData => $then!(measure::MeasureData),
            DocKind::EmpathyInterview => $then!(site_work::EmpathyInterview),
            DocKind::RootCauseAnalysis => $then!(site_work::RootCauseAnalysis),
            DocKind::EquityAudit => $then!(site_work::EquityAudit),
            DocKind::ImprovementPlan => $then!(site_work::ImprovementPlan),
            DocKind::CoachingLog => $then!(network::CoachingLog),
        }
    };
}

/// The shape of a `kind`'s content (its root map, without the `kind`/`schema` envelope).
pub fn shape_of(kind: DocKind) -> describe::Object {
    macro_rules! shape {
        ($ty:ty) => {
            <$ty as describe::Describe>::shape()
        };
    }
    match with_type!(kind, shape) {
        describe::Shape::Object(o) => o,
        // Every kind's content type is a struct with named fields (the derive emits an
        // object for a struct); an empty object here would accept anything, so no.
        _ => unreachable!("a kind's content type is a struct"),
    }
}

/// Whether the document reads as its kind's typed value — the product's own read.
pub fn hydrates<D: ReadDoc + autosurgeon::ReadDoc>(
    doc: &D,
    kind: DocKind,
) -> Result<(), SchemaError> {
    macro_rules! typed {
        ($ty:ty) => {
            read::<$ty, D>(doc, kind).map(|_| ())
        };
    }
    with_type!(kind, typed)
}
