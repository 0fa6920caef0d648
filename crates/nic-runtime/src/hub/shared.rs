//! A hub sharing its database with other hubs: what they stored reaches the documents this
//! hub holds, its catalogue and its peers (see `nic_store::SharedStore`).
//!
//! Another hub's chunks are read only for documents held here; one that is not held reads
//! them with everything else when it is loaded. A document still loading may have been read
//! before they were stored, so what arrives for it waits ("parked") until the load is done.

use std::collections::{BTreeSet, HashMap};

use nic_model::DocumentId;
use nic_store::ChunkSeq;
use nic_sync::{Ctx, Held};

use super::HubRuntime;
use crate::storage::Read;
use crate::{Output, Time};

/// Another hub's chunks on their way into this hub's documents.
#[derive(Default)]
pub(super) struct Incoming {
    /// Chunks waiting for their document to finish loading.
    parked: HashMap<DocumentId, Vec<Vec<u8>>>,
    /// Documents whose chunks could not be read: read whole on the tick.
    stale: BTreeSet<DocumentId>,
    /// Documents being read whole (one such read at a time is enough).
    reading_whole: BTreeSet<DocumentId>,
}

impl HubRuntime {
    /// Another hub made chunks `seqs` of `doc` durable: read them if `doc` is held here.
    pub fn stored_elsewhere(&mut self, doc: DocumentId, seqs: Vec<ChunkSeq>) {
        if self.engine.held(&doc) != Held::No && !seqs.is_empty() {
            self.out.push(Output::Read(Read::Stored(doc, Some(seqs))));
        }
    }

    /// What other hubs stored may have been missed (the store lost, then regained, the
    /// connection that hears of it): every document held is read again, whole.
    pub fn resync_stored(&mut self) {
        let held: Vec<DocumentId> = self.engine.loaded_docs().copied().collect();
        for doc in held {
            self.read_whole(doc);
        }
    }

    /// Reads everything stored of `doc`, unless such a read is on its way already.
    fn read_whole(&mut self, doc: DocumentId) {
        if self.shared.reading_whole.insert(doc) {
            self.out.push(Output::Read(Read::Stored(doc, None)));
        }
    }

    /// The answer to a [`Read::Stored`].
    pub(super) fn stored_read(
        &mut self,
        t: Time,
        doc: DocumentId,
        whole: bool,
        result: Result<Vec<Vec<u8>>, String>,
    ) {
        if whole {
            self.shared.reading_whole.remove(&doc);
        }
        let chunks = match result {
            Ok(chunks) => chunks,
            Err(e) => {
                // Read whole on the next tick; until then this hub's copy lags, no more.
                tracing::warn!(%doc, error = %e, "cannot read what another hub stored; retrying");
                self.shared.stale.insert(doc);
                return;
            }
        };
        let ctx = Ctx::new(t.engine_ms, &self.rights);
        if !self.engine.merge_stored(ctx, doc, &chunks) {
            self.shared.parked.entry(doc).or_default().extend(chunks);
        } else if !whole && self.engine.lacks_dependencies(&doc) {
            // A chunk these build on was stored but never told of (its hub died before
            // flushing): everything stored is read, once.
            self.read_whole(doc);
        }
    }

    /// A document finished loading: what was parked for it is merged now.
    pub(super) fn unpark(&mut self, t: Time, doc: DocumentId) {
        if let Some(chunks) = self.shared.parked.remove(&doc) {
            let ctx = Ctx::new(t.engine_ms, &self.rights);
            if self.engine.merge_stored(ctx, doc, &chunks) && self.engine.lacks_dependencies(&doc) {
                self.read_whole(doc);
            }
        }
    }

    /// On the tick: documents whose stored chunks could not be read are read again, whole.
    pub(super) fn retry_stale(&mut self) {
        for doc in std::mem::take(&mut self.shared.stale) {
            if self.engine.held(&doc) != Held::No {
                self.read_whole(doc);
            }
        }
    }

    /// After evictions: nothing is kept for documents no longer held.
    pub(super) fn forget_unheld(&mut self) {
        let engine = &self.engine;
        self.shared.parked.retain(|d, _| engine.held(d) != Held::No);
        self.shared.stale.retain(|d| engine.held(d) != Held::No);
    }
}
