//! One simulated peer: an engine, its store, and the writes it has not yet flushed.

use automerge::ChangeHash;
use nic_model::{DocMeta, DocumentId, PeerId};
use nic_store::{MemStore, Store};
use nic_sync::{Ctx, Effect, Engine, Frame, LoadResult, Notification};

/// A write waiting for the next flush. A crash loses it.
enum Write {
    Meta(DocMeta),
    Chunk {
        doc: DocumentId,
        seq: u64,
        chunk: Vec<u8>,
    },
    SyncState {
        peer: PeerId,
        doc: DocumentId,
        state: Vec<u8>,
    },
}

/// What processing a node's effects produced for the world to act on.
#[derive(Default)]
pub(crate) struct Outputs {
    pub(crate) sends: Vec<(PeerId, Frame)>,
    pub(crate) acks: Vec<(DocumentId, Vec<ChangeHash>)>,
}

pub(crate) struct Node {
    pub(crate) peer: PeerId,
    pub(crate) engine: Engine,
    pub(crate) store: MemStore,
    pending: Vec<Write>,
}

impl Node {
    pub(crate) fn new(peer: PeerId, engine: Engine, store: MemStore) -> Self {
        Self {
            peer,
            engine,
            store,
            pending: Vec::new(),
        }
    }

    /// A crash: the engine and every unflushed write are gone; the store remains.
    pub(crate) fn crash(&mut self, engine: Engine) {
        self.engine = engine;
        self.pending.clear();
    }

    pub(crate) fn has_pending_writes(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Carries out the engine's effects until it has none left. Loads are answered at once
    /// from the store; writes wait for [`Node::flush`].
    pub(crate) fn process(&mut self, ctx: Ctx<'_>, out: &mut Outputs) -> Result<(), String> {
        loop {
            let effects = self.engine.take_effects();
            if effects.is_empty() {
                return Ok(());
            }
            for effect in effects {
                match effect {
                    Effect::Send { peer, frame } => out.sends.push((peer, frame)),
                    Effect::Load { doc } => {
                        let result = match self.store.load(&doc) {
                            Ok(Some(stored)) => LoadResult::Found {
                                meta: Some(stored.meta),
                                chunks: stored.chunks,
                            },
                            Ok(None) => LoadResult::NotFound,
                            Err(e) => LoadResult::Failed(e.to_string()),
                        };
                        self.engine.loaded(ctx, doc, result);
                    }
                    Effect::LoadSyncState { peer, doc } => {
                        let state = self
                            .store
                            .sync_state(&peer, &doc)
                            .map_err(|e| e.to_string())?;
                        self.engine.sync_state_loaded(ctx, &peer, doc, state);
                    }
                    Effect::PutMeta(meta) => self.pending.push(Write::Meta(meta)),
                    Effect::Persist { doc, seq, chunk } => {
                        self.pending.push(Write::Chunk { doc, seq, chunk })
                    }
                    Effect::SaveSyncState { peer, doc, state } => {
                        self.pending.push(Write::SyncState { peer, doc, state })
                    }
                    Effect::Notify(Notification::Acked { doc, heads, .. }) => {
                        out.acks.push((doc, heads))
                    }
                    Effect::Notify(_) => {}
                }
            }
        }
    }

    /// Applies every pending write to the store in order, then tells the engine which
    /// persists are durable.
    pub(crate) fn flush(&mut self, ctx: Ctx<'_>, out: &mut Outputs) -> Result<(), String> {
        let mut durable = Vec::new();
        for write in std::mem::take(&mut self.pending) {
            match write {
                Write::Meta(meta) => self.store.put_meta(&meta).map_err(|e| e.to_string())?,
                Write::Chunk { doc, seq, chunk } => {
                    let outcome = self
                        .store
                        .append(&doc, &chunk)
                        .map_err(|e| format!("{}: append: {e}", self.peer))?;
                    if outcome.compaction_due {
                        self.store
                            .compact(&doc)
                            .map_err(|e| format!("{}: compact: {e}", self.peer))?;
                    }
                    durable.push((doc, seq));
                }
                Write::SyncState { peer, doc, state } => self
                    .store
                    .put_sync_state(&peer, &doc, &state)
                    .map_err(|e| e.to_string())?,
            }
        }
        for (doc, seq) in durable {
            self.engine.persisted(ctx, doc, seq);
        }
        self.process(ctx, out)
    }
}
