//! Prediction integrity on the hub: the typed API refuses to change a prediction once a
//! cycle's Do phase has data, but a raw Automerge edit can still do it. The hub sees every
//! change before it stores it, so it records each such hindsight edit in the audit log —
//! who, when, the question, before and after — in the same flush as the change itself: a
//! stored change never lacks its entry, and a refused one leaves none.
//!
//! To compare, it keeps each loaded cycle's last typed value and, while chunks are in
//! flight, a projection: the document with every change handed to storage applied (the
//! engine applies a peer's changes only once they are durable, so its own copy lags behind
//! the chunks in flight, and a change may depend on one of them). Only loaded cycles are kept: when the engine evicts a
//! document its entry goes too, so memory is bounded by `max_loaded_docs`.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::Automerge;
use nic_model::schema::{self, pdsa::PdsaCycle};
use nic_model::{AuditEntry, DocKind, DocumentId, MemberId};
use nic_sync::Engine;

/// The audit action of a hindsight edit.
pub const ACTION: &str = "prediction_changed_after_do";

struct Cycle {
    /// The typed value with every change handed to storage.
    value: PdsaCycle,
    /// The document with those changes, while the engine's copy lags behind it.
    projection: Option<Automerge>,
}

/// The hindsight records of the loaded PDSA cycles.
#[derive(Default)]
pub struct Hindsight {
    cycles: HashMap<DocumentId, Cycle>,
}

impl Hindsight {
    /// Forgets the cycles the engine no longer holds.
    pub fn retain_loaded(&mut self, engine: &Engine) {
        self.cycles.retain(|doc, _| engine.doc(doc).is_some());
    }

    /// How many cycles it remembers.
    pub fn len(&self) -> usize {
        self.cycles.len()
    }

    /// Whether it remembers none.
    pub fn is_empty(&self) -> bool {
        self.cycles.is_empty()
    }

    /// Remembers a cycle as the engine loaded it.
    pub fn loaded(&mut self, engine: &Engine, doc: DocumentId) {
        match typed(engine.doc(&doc), engine, doc) {
            Some(value) => {
                self.cycles.insert(
                    doc,
                    Cycle {
                        value,
                        projection: None,
                    },
                );
            }
            None => {
                self.cycles.remove(&doc);
            }
        }
    }

    /// Storage failed for `doc`: what was projected may never be stored, so start again
    /// from the engine's copy.
    pub fn reset(&mut self, engine: &Engine, doc: DocumentId) {
        if self.cycles.contains_key(&doc) {
            self.loaded(engine, doc);
        }
    }

    /// A peer's changes to `doc` (a chunk about to be stored) by `member`: the audit
    /// entries of every prediction they change after the Do phase had data.
    pub fn entries_for(
        &mut self,
        engine: &Engine,
        doc: DocumentId,
        chunk: &[u8],
        member: &MemberId,
        now_ms: i64,
    ) -> Vec<AuditEntry> {
        let Some(cycle) = self.cycles.get_mut(&doc) else {
            return Vec::new();
        };
        let projection = match &mut cycle.projection {
            Some(p) => p,
            None => match engine.doc(&doc) {
                Some(am) => cycle.projection.insert(am.clone()),
                None => return Vec::new(),
            },
        };
        // The engine checked these bytes; a panic here would only skip the comparison.
        let _ = catch_unwind(AssertUnwindSafe(|| projection.load_incremental(chunk)));
        let Ok(after) = schema::read::<PdsaCycle, _>(projection, DocKind::PdsaCycle) else {
            return Vec::new();
        };
        let network = engine.meta(&doc).map(|m| m.network.clone());
        let entries = cycle
            .value
            .hindsight_edits(&after)
            .into_iter()
            .map(|(question, was, now)| AuditEntry {
                seq: 0,
                at_ms: now_ms,
                by: member.clone(),
                action: ACTION.into(),
                target: doc.to_string(),
                network: network.clone(),
                detail: format!("question {question}: {was:?} -> {now:?}"),
            })
            .collect();
        cycle.value = after;
        entries
    }

    /// The engine applied changes to `doc`: once its copy has caught up with the
    /// projection, the projection is dropped (memory for in-flight documents only).
    pub fn changed(&mut self, engine: &Engine, doc: DocumentId) {
        let Some(cycle) = self.cycles.get_mut(&doc) else {
            return;
        };
        let Some(am) = engine.doc(&doc) else {
            return;
        };
        match &mut cycle.projection {
            Some(p) if p.get_heads() == am.get_heads() => cycle.projection = None,
            Some(_) => {}
            // Changes that never went through `entries_for` (made here): follow them.
            None => {
                if let Some(value) = typed(Some(am), engine, doc) {
                    cycle.value = value;
                }
            }
        }
    }
}

/// The document's typed PDSA value, if it is a loaded PDSA cycle that reads as one.
fn typed(am: Option<&Automerge>, engine: &Engine, doc: DocumentId) -> Option<PdsaCycle> {
    if engine.meta(&doc)?.kind != DocKind::PdsaCycle {
        return None;
    }
    schema::read(am?, DocKind::PdsaCycle).ok()
}
