//! Prediction integrity on the hub: the typed API refuses to change a prediction once a
//! cycle's Do phase has data, but a raw Automerge edit can still do it. The hub sees every
//! change, so it keeps each loaded PDSA cycle's last typed value and writes every such
//! hindsight edit to the audit log — who, when, the question, before and after — where the
//! network's leads read it with the cycle's id (`Directory.ListAuditLog`).

use std::collections::HashMap;
use std::sync::Arc;

use nic_model::schema::{self, pdsa::PdsaCycle};
use nic_model::{AuditEntry, DocKind, DocumentId, MemberId};
use nic_store::Directory;
use nic_sync::Engine;

/// The audit action of a hindsight edit.
pub(crate) const ACTION: &str = "prediction_changed_after_do";

/// The last typed value of each loaded PDSA cycle — loaded ones only: when the engine
/// evicts a document its entry goes too (it is read again when the cycle loads), so this
/// is bounded by `max_loaded_docs` like the documents themselves.
#[derive(Default)]
pub(crate) struct Hindsight {
    cycles: HashMap<DocumentId, PdsaCycle>,
}

impl Hindsight {
    /// Forgets the cycles the engine no longer holds.
    pub(crate) fn retain_loaded(&mut self, engine: &Engine) {
        self.cycles.retain(|doc, _| engine.doc(doc).is_some());
    }

    /// How many cycles it remembers.
    pub(crate) fn len(&self) -> usize {
        self.cycles.len()
    }

    /// Remembers a cycle's value as loaded (nothing to compare yet).
    pub(crate) fn loaded(&mut self, engine: &Engine, doc: DocumentId) {
        if let Some(value) = cycle(engine, doc) {
            self.cycles.insert(doc, value);
        }
    }

    /// After `member`'s changes to `doc`: records every prediction they changed after the
    /// Do phase had data.
    pub(crate) fn changed(
        &mut self,
        engine: &Engine,
        directory: &Arc<dyn Directory>,
        doc: DocumentId,
        member: Option<&MemberId>,
        now_ms: i64,
    ) {
        let Some(after) = cycle(engine, doc) else {
            return;
        };
        if let Some(before) = self.cycles.get(&doc) {
            for (question, was, now) in before.hindsight_edits(&after) {
                let entry = AuditEntry {
                    seq: 0,
                    at_ms: now_ms,
                    by: member.cloned().unwrap_or_else(|| {
                        MemberId::new("unknown").unwrap_or_else(|_| unreachable!("a valid literal"))
                    }),
                    action: ACTION.into(),
                    target: doc.to_string(),
                    network: engine.meta(&doc).map(|m| m.network.clone()),
                    detail: format!("question {question}: {was:?} -> {now:?}"),
                };
                if let Err(e) = directory.write_directory(&[], Some(&entry)) {
                    tracing::error!(error = %e, %doc, "cannot record a hindsight edit to a prediction");
                }
            }
        }
        self.cycles.insert(doc, after);
    }
}

/// The document's typed PDSA value, if it is a loaded PDSA cycle that reads as one.
fn cycle(engine: &Engine, doc: DocumentId) -> Option<PdsaCycle> {
    if engine.meta(&doc)?.kind != DocKind::PdsaCycle {
        return None;
    }
    schema::read(engine.doc(&doc)?, DocKind::PdsaCycle).ok()
}
