//! [`MemStore`]: the in-memory store for tests and simulation, with the same semantics as
//! [`crate::SledStore`] (validation, batches, compaction policy) but nothing on disk.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use nic_model::{DocMeta, DocumentId, PeerId};

use crate::snapshot::snapshot_of;
use crate::{
    AppendOutcome, Batch, CompactOutcome, CompactionPolicy, Durability, ListFilter, Op, Store,
    StoreError, StoredDoc,
};

/// An in-memory [`Store`].
///
/// Clones share the same data, so a simulation can drop a peer's engine and "restart" it over
/// a clone of its store: what was written before the restart is still there. Every write is
/// "durable" at once; [`Store::flush`] does nothing.
#[derive(Clone, Debug, Default)]
pub struct MemStore {
    inner: Arc<Mutex<Inner>>,
    policy: CompactionPolicy,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// Ordered by id, as [`Store::list`] returns them.
    metas: BTreeMap<DocumentId, DocMeta>,
    chunks: HashMap<DocumentId, Chunks>,
    sync_states: HashMap<(DocumentId, PeerId), Vec<u8>>,
    /// Networks, sites, members, tokens, actor bindings, audit log.
    pub(crate) dir: crate::mem_directory::DirData,
}

/// One document's chunks, kept with the sizes the compaction policy looks at.
#[derive(Debug, Default)]
struct Chunks {
    snapshot: Option<Vec<u8>>,
    incremental: Vec<Vec<u8>>,
    incremental_bytes: usize,
}

/// What compacting a document without chunks does.
const NOTHING_COMPACTED: CompactOutcome = CompactOutcome {
    chunks_replaced: 0,
    snapshot_bytes: 0,
};

impl MemStore {
    /// An empty store with the default [`CompactionPolicy`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that reports compaction as due according to `policy`.
    pub fn with_policy(policy: CompactionPolicy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every write checks everything before it changes anything, and nothing panics while
        // changing, so the data behind a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// Checks a whole batch against the current state without changing anything.
    fn validate(&self, ops: &[Op]) -> Result<(), StoreError> {
        let mut created = BTreeSet::new();
        for op in ops {
            match op {
                Op::PutMeta(meta) => {
                    meta.validate()?;
                    created.insert(meta.id);
                }
                Op::CreateMeta(meta) => {
                    meta.validate()?;
                    if self.metas.contains_key(&meta.id) || !created.insert(meta.id) {
                        return Err(StoreError::AlreadyExists(meta.id));
                    }
                }
                Op::Append { doc, .. } => {
                    if !self.metas.contains_key(doc) && !created.contains(doc) {
                        return Err(StoreError::UnknownDocument(*doc));
                    }
                }
                Op::PutSyncState { .. } => {}
            }
        }
        Ok(())
    }

    /// Applies one already validated op; returns the outcome of an append.
    fn apply(&mut self, op: &Op, policy: &CompactionPolicy) -> Option<AppendOutcome> {
        match op {
            Op::PutMeta(meta) | Op::CreateMeta(meta) => {
                self.metas.insert(meta.id, meta.clone());
                None
            }
            Op::Append { doc, chunk } => {
                let chunks = self.chunks.entry(*doc).or_default();
                chunks.incremental.push(chunk.clone());
                chunks.incremental_bytes = chunks.incremental_bytes.saturating_add(chunk.len());
                let snapshot_bytes = chunks.snapshot.as_ref().map_or(0, Vec::len);
                Some(AppendOutcome {
                    compaction_due: policy.is_due(
                        snapshot_bytes,
                        chunks.incremental_bytes,
                        chunks.incremental.len(),
                    ),
                })
            }
            Op::PutSyncState { peer, doc, state } => {
                self.sync_states.insert((*doc, peer.clone()), state.clone());
                None
            }
        }
    }

    fn write(
        &mut self,
        ops: &[Op],
        policy: &CompactionPolicy,
    ) -> Result<Vec<AppendOutcome>, StoreError> {
        self.validate(ops)?;
        Ok(ops.iter().filter_map(|op| self.apply(op, policy)).collect())
    }
}

impl Store for MemStore {
    fn put_meta(&self, meta: &DocMeta) -> Result<(), StoreError> {
        self.lock()
            .write(&[Op::PutMeta(meta.clone())], &self.policy)?;
        Ok(())
    }

    fn meta(&self, doc: &DocumentId) -> Result<Option<DocMeta>, StoreError> {
        Ok(self.lock().metas.get(doc).cloned())
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<DocMeta>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .metas
            .values()
            .filter(|m| filter.matches(m))
            .cloned()
            .collect())
    }

    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<AppendOutcome, StoreError> {
        let op = Op::Append {
            doc: *doc,
            chunk: chunk.to_vec(),
        };
        let outcomes = self.lock().write(std::slice::from_ref(&op), &self.policy)?;
        // One append op gives exactly one outcome.
        Ok(outcomes.first().copied().unwrap_or(AppendOutcome {
            compaction_due: false,
        }))
    }

    fn load(&self, doc: &DocumentId) -> Result<Option<StoredDoc>, StoreError> {
        let inner = self.lock();
        let Some(meta) = inner.metas.get(doc) else {
            return Ok(None);
        };
        let chunks = inner.chunks.get(doc).map_or_else(Vec::new, |c| {
            c.snapshot.iter().chain(&c.incremental).cloned().collect()
        });
        Ok(Some(StoredDoc {
            meta: meta.clone(),
            chunks,
        }))
    }

    fn compact(&self, doc: &DocumentId) -> Result<CompactOutcome, StoreError> {
        // The lock is held through the Automerge work so no append can slip in between reading
        // the chunks and replacing them; simulations keep documents small, so this is cheap.
        let mut inner = self.lock();
        if !inner.metas.contains_key(doc) {
            return Err(StoreError::UnknownDocument(*doc));
        }
        let Some(chunks) = inner.chunks.get_mut(doc) else {
            return Ok(NOTHING_COMPACTED);
        };
        let replaced = usize::from(chunks.snapshot.is_some()) + chunks.incremental.len();
        if replaced == 0 {
            return Ok(NOTHING_COMPACTED);
        }
        let joined: Vec<u8> = chunks
            .snapshot
            .iter()
            .chain(&chunks.incremental)
            .flatten()
            .copied()
            .collect();
        let snapshot = snapshot_of(doc, &joined)?;
        let outcome = CompactOutcome {
            chunks_replaced: replaced,
            snapshot_bytes: snapshot.len(),
        };
        *chunks = Chunks {
            snapshot: Some(snapshot),
            incremental: Vec::new(),
            incremental_bytes: 0,
        };
        Ok(outcome)
    }

    fn put_sync_state(
        &self,
        peer: &PeerId,
        doc: &DocumentId,
        state: &[u8],
    ) -> Result<(), StoreError> {
        self.lock()
            .sync_states
            .insert((*doc, peer.clone()), state.to_vec());
        Ok(())
    }

    fn sync_state(&self, peer: &PeerId, doc: &DocumentId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().sync_states.get(&(*doc, peer.clone())).cloned())
    }

    fn write_batch(&self, batch: &Batch) -> Result<Vec<AppendOutcome>, StoreError> {
        self.lock().write(&batch.ops, &self.policy)
    }

    fn flush(&self, _durability: Durability) -> Result<(), StoreError> {
        Ok(())
    }
}
