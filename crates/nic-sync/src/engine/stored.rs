//! On a hub that shares its database with other hubs: merging the changes another hub
//! stored into a document held here, and passing them on to this hub's peers.
//!
//! Those changes are durable already (the store tells of them only then) and were checked
//! by the hub that took them, so they are applied at once, with no staging and no checks
//! of authorship or content: they come from the database, not from a peer.

use std::panic::{AssertUnwindSafe, catch_unwind};

use nic_model::DocumentId;

use super::Engine;
use super::apply::{has, mark_durable};
use crate::doc::DocState;
use crate::inspect::{self, Limits};
use crate::{Ctx, Effect, Notification, Origin};

/// Whether a document is in memory, and how far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Not in memory: a later load reads whatever is stored.
    No,
    /// Being loaded: what was stored meanwhile may be missing from what the load reads.
    Loading,
    /// Loaded.
    Ready,
}

impl Engine {
    /// Whether `doc` is in memory.
    pub fn held(&self, doc: &DocumentId) -> Held {
        match self.docs.get(doc).map(|e| &e.state) {
            None => Held::No,
            Some(DocState::Loading) => Held::Loading,
            Some(DocState::Ready(_)) => Held::Ready,
        }
    }

    /// Whether `doc` holds changes whose dependencies it lacks (queued by Automerge, not
    /// applied): after merging another hub's chunks, a sign that one of its chunks was never
    /// told of (its hub died between storing and flushing) and the whole document must be
    /// read again.
    pub fn lacks_dependencies(&self, doc: &DocumentId) -> bool {
        self.docs
            .get(doc)
            .and_then(|e| e.doc())
            .is_some_and(|am| !automerge::ReadDoc::get_missing_deps(am, &[]).is_empty())
    }

    /// Merges `chunks` that another hub stored into `doc` and brings this hub's peers of
    /// it up to date. Returns `false` (and merges nothing) while the document is still
    /// loading: call again once it is. A document not in memory needs nothing.
    pub fn merge_stored(&mut self, ctx: Ctx<'_>, doc: DocumentId, chunks: &[Vec<u8>]) -> bool {
        let measured = self.config.doc_limits.is_some();
        let Some(entry) = self.docs.get_mut(&doc) else {
            return true;
        };
        let DocState::Ready(am) = &mut entry.state else {
            return false;
        };
        let before = am.get_heads();
        for chunk in chunks {
            // Stored by a hub that checked it; a chunk that fails here leaves its changes
            // out of memory only (they stay stored, and a reload brings them).
            let _ = catch_unwind(AssertUnwindSafe(|| am.load_incremental(chunk)));
            if measured {
                // Counted again if a snapshot repeats known changes: the limits err on the
                // safe side.
                if let Ok(m) = inspect::inspect_more(entry.measure, chunk, &Limits::NONE) {
                    entry.measure = m;
                }
            }
        }
        entry.waiting.retain(|h| !has(am, h));
        let after = am.get_heads();
        if after == before {
            return true;
        }
        self.stats.merges += 1;
        mark_durable(&mut entry.persist, after.clone());
        self.outbox.push(Effect::Notify(Notification::Changed {
            doc,
            origin: Origin::Stored,
            heads: after.clone(),
        }));
        self.relay(ctx, doc, &before, &after, &[]);
        true
    }
}
