//! What the load tool's clients do: worksheets edited as a school team would — mostly
//! typing into their notes, sometimes setting a field or a measure.
//!
//! The worksheets are school improvement plans by default: three texts typed into, a
//! decision, a measures map and a list of counts, all content an improvement plan may hold.
//! They used to be stored as PDSA cycles, whose every change the hub also reads as a cycle
//! (hindsight: predictions changed after Do) — a cost that documents of this content would
//! not carry. `--kind pdsa-cycle` keeps that workload, for that cost and for comparison.

use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{
    AutoCommit, Automerge, AutomergeError, ChangeHash, ObjType, ROOT, ReadDoc, Value,
};
use rand::Rng;
use rand::seq::IndexedRandom;

/// The kind of document the worksheets are stored as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A school improvement plan (problem, data summary and notes typed into).
    #[default]
    ImprovementPlan,
    /// A PDSA cycle holding plan, do and study notes (read for hindsight by the hub).
    PdsaCycle,
}

impl Kind {
    /// The document kind.
    pub fn doc_kind(self) -> nic_model::DocKind {
        match self {
            Kind::ImprovementPlan => nic_model::DocKind::ImprovementPlan,
            Kind::PdsaCycle => nic_model::DocKind::PdsaCycle,
        }
    }

    /// The text fields edits type into.
    pub fn text_fields(self) -> [&'static str; 3] {
        match self {
            Kind::ImprovementPlan => ["problem", "data_summary", "notes"],
            Kind::PdsaCycle => ["plan_notes", "do_notes", "study_notes"],
        }
    }

    /// The kind a worksheet was made as (its root `kind`).
    fn of(doc: &impl ReadDoc) -> Kind {
        match doc.get(ROOT, "kind") {
            Ok(Some((Value::Scalar(s), _))) if s.as_str() == Some("pdsa_cycle") => Kind::PdsaCycle,
            _ => Kind::ImprovementPlan,
        }
    }
}

/// Words the simulated teams type.
const WORDS: [&str; 16] = [
    "students ",
    "warm-up ",
    "exit ticket ",
    "predicted ",
    "observed ",
    "grade 9 ",
    "attendance ",
    "feedback ",
    "small group ",
    "math talk ",
    "the coach ",
    "improved ",
    "tried ",
    "week 3 ",
    "equity pause ",
    "ELL ",
];

/// The decisions a PDSA cycle ends with.
const DECISIONS: [&str; 3] = ["adopt", "adapt", "abandon"];

/// A new worksheet of the default kind ([`worksheet_of`]).
pub fn worksheet(n: usize) -> Result<Automerge, AutomergeError> {
    worksheet_of(Kind::default(), n)
}

/// A new worksheet of `kind` (the hub accepts only content that reads as its kind)
/// holding a title, three notes texts, a decision, a measures map and a list of daily
/// counts.
pub fn worksheet_of(kind: Kind, n: usize) -> Result<Automerge, AutomergeError> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", kind.doc_kind().as_str())?;
    doc.put(ROOT, "title", format!("Warm-up routine, cycle {n}"))?;
    doc.put(ROOT, "change_idea", "Daily 5-minute number talk")?;
    for field in kind.text_fields() {
        let text = doc.put_object(ROOT, field, ObjType::Text)?;
        doc.splice_text(&text, 0, 0, "Notes: ")?;
    }
    doc.put(ROOT, "decision", "adapt")?;
    doc.put_object(ROOT, "measures", ObjType::Map)?;
    let counts = doc.put_object(ROOT, "counts", ObjType::List)?;
    doc.insert(&counts, 0, 12_i64)?;
    Ok(doc.document().clone())
}

/// One edit, chosen by the tool's seeded generator and applied inside a client.
#[derive(Clone, Debug)]
pub enum Edit {
    /// Type `text` at a fraction `at` (0..1) of a notes field's length.
    Type {
        /// Which notes field, by its place among the kind's three.
        slot: usize,
        /// Where, as a fraction of the current length.
        at: f64,
        /// What.
        text: &'static str,
    },
    /// Set the cycle's act decision.
    Decide(&'static str),
    /// Append a daily count to the list.
    Count(i64),
    /// Record a measure value.
    Measure {
        /// Which measure.
        name: String,
        /// Its value.
        value: i64,
    },
}

impl Edit {
    /// 70% typing; 30% map puts (decisions, measures) and list pushes (counts).
    pub fn random(rng: &mut impl Rng) -> Edit {
        if rng.random_bool(0.7) {
            Edit::Type {
                slot: rng.random_range(0..3),
                at: rng.random_range(0.0..=1.0),
                text: WORDS.choose(rng).copied().unwrap_or("note "),
            }
        } else if rng.random_bool(0.2) {
            Edit::Decide(DECISIONS.choose(rng).copied().unwrap_or("adapt"))
        } else if rng.random_bool(0.5) {
            Edit::Count(rng.random_range(0..40))
        } else {
            Edit::Measure {
                name: format!("week_{}", rng.random_range(1..=12)),
                value: rng.random_range(0..100),
            }
        }
    }

    /// Applies the edit as one change and returns that change's hash.
    pub fn apply(&self, doc: &mut Automerge) -> Result<ChangeHash, AutomergeError> {
        let mut tx = doc.transaction();
        match self {
            Edit::Type { slot, at, text } => {
                let field = Kind::of(&tx).text_fields()[*slot % 3];
                let text_obj = match tx.get(ROOT, field)? {
                    Some((Value::Object(ObjType::Text), id)) => id,
                    _ => tx.put_object(ROOT, field, ObjType::Text)?,
                };
                let len = tx.length(&text_obj);
                // Truncation is the point: a position inside the text.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let pos = ((len as f64) * at) as usize;
                tx.splice_text(&text_obj, pos.min(len), 0, text)?;
            }
            Edit::Decide(decision) => {
                tx.put(ROOT, "decision", *decision)?;
            }
            Edit::Count(n) => {
                let counts = match tx.get(ROOT, "counts")? {
                    Some((Value::Object(ObjType::List), id)) => id,
                    _ => tx.put_object(ROOT, "counts", ObjType::List)?,
                };
                let len = tx.length(&counts);
                tx.insert(&counts, len, *n)?;
            }
            Edit::Measure { name, value } => {
                let measures = match tx.get(ROOT, "measures")? {
                    Some((Value::Object(ObjType::Map), id)) => id,
                    _ => tx.put_object(ROOT, "measures", ObjType::Map)?,
                };
                tx.put(&measures, name.as_str(), *value)?;
            }
        }
        if tx.pending_ops() == 0 {
            // Automerge drops a put of the value already there; a person re-confirming a
            // decision still leaves a trace, so count it.
            let n = match tx.get(ROOT, "reconfirmed")? {
                Some((Value::Scalar(s), _)) => s.as_i64().unwrap_or(0),
                _ => 0,
            };
            tx.put(ROOT, "reconfirmed", n + 1)?;
        }
        let (hash, _) = tx.commit();
        hash.ok_or_else(|| AutomergeError::Fail)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_worksheet_reads_as_its_kind() {
        for kind in [Kind::ImprovementPlan, Kind::PdsaCycle] {
            let doc = worksheet_of(kind, 3).unwrap();
            nic_model::schema::check::accepted(&doc, kind.doc_kind()).unwrap();
            assert_eq!(Kind::of(&doc), kind);
        }
    }

    #[test]
    fn every_edit_makes_exactly_one_change() {
        let mut doc = worksheet(1).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let before = doc.get_changes(&[]).len();
        for _ in 0..200 {
            let hash = Edit::random(&mut rng).apply(&mut doc).unwrap();
            assert_eq!(doc.get_heads(), vec![hash]);
        }
        assert_eq!(doc.get_changes(&[]).len(), before + 200);
    }
}
