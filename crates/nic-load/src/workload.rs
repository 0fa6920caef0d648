//! What the load tool's clients do: PDSA worksheets edited as a school team would — mostly
//! typing into the plan, do and study notes, sometimes setting a field or a measure.

use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{
    AutoCommit, Automerge, AutomergeError, ChangeHash, ObjType, ROOT, ReadDoc, Value,
};
use rand::Rng;
use rand::seq::IndexedRandom;

/// The text fields of a worksheet that edits type into.
pub const TEXT_FIELDS: [&str; 3] = ["plan_notes", "do_notes", "study_notes"];

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

/// A new worksheet: a PDSA cycle (the hub accepts only content that reads as its kind)
/// holding, beside its fields, a title, three notes texts, a decision, a measures map and
/// a list of daily counts.
pub fn worksheet(n: usize) -> Result<Automerge, AutomergeError> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", "pdsa_cycle")?;
    doc.put(ROOT, "title", format!("Warm-up routine, cycle {n}"))?;
    doc.put(ROOT, "change_idea", "Daily 5-minute number talk")?;
    for field in TEXT_FIELDS {
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
        /// Which notes field.
        field: &'static str,
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
                field: TEXT_FIELDS.choose(rng).copied().unwrap_or("do_notes"),
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
            Edit::Type { field, at, text } => {
                let text_obj = match tx.get(ROOT, *field)? {
                    Some((Value::Object(ObjType::Text), id)) => id,
                    _ => tx.put_object(ROOT, *field, ObjType::Text)?,
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
