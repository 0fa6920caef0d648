//! A simulated disk under the [`Store`] and [`Directory`] traits: every write is visible at
//! once but survives a crash only after [`Store::flush`], like sled's. A crash keeps a
//! random prefix of the unflushed writes (a disk may have written some of them) and may
//! tear the last one kept; a torn record fails its checksum on recovery and is dropped with
//! everything after it, as a log-structured store does. A flush can be made to fail.
//!
//! Underneath, the writes are a log replayed into a [`MemStore`]: `view` holds everything
//! written, `durable` only the flushed prefix, which is what the invariants check against.

use std::sync::{Mutex, MutexGuard, PoisonError};

use nic_model::{AuditEntry, DocMeta, DocumentId, Member, MemberId, Network, NetworkId, PeerId};
use nic_model::{Site, TokenId, TokenRecord};
use nic_store::{AppendOutcome, Batch, Binding, CompactOutcome, DirOp, Directory, Durability};
use nic_store::{ListFilter, MemStore, Store, StoreError, StoredDoc, TokenHash};

/// One logged write.
#[derive(Clone, Debug)]
enum Rec {
    Meta(DocMeta),
    Append(DocumentId, Vec<u8>),
    Compact(DocumentId),
    SyncState(PeerId, DocumentId, Vec<u8>),
    Batch(Batch),
    Directory(Vec<DirOp>, Option<AuditEntry>),
    Bind(Vec<u8>, MemberId),
}

impl Rec {
    fn apply(&self, to: &MemStore) -> Result<(), StoreError> {
        match self {
            Rec::Meta(m) => to.put_meta(m),
            Rec::Append(d, c) => to.append(d, c).map(|_| ()),
            Rec::Compact(d) => to.compact(d).map(|_| ()),
            Rec::SyncState(p, d, s) => to.put_sync_state(p, d, s),
            Rec::Batch(b) => to.write_batch(b).map(|_| ()),
            Rec::Directory(ops, audit) => to.write_directory(ops, audit.as_ref()).map(|_| ()),
            Rec::Bind(a, m) => to.bind_actor(a, m).map(|_| ()),
        }
    }
}

struct Inner {
    log: Vec<Rec>,
    flushed: usize,
    view: MemStore,
    durable: MemStore,
    fail_flushes: u32,
}

/// What a crash did to the unflushed writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CrashLoss {
    /// Unflushed writes kept (the disk had written them).
    pub(crate) kept: usize,
    /// Unflushed writes lost.
    pub(crate) lost: usize,
    /// Whether the last kept write was torn (and so dropped on recovery).
    pub(crate) torn: bool,
}

/// A simulated disk.
pub(crate) struct SimDisk {
    inner: Mutex<Inner>,
}

impl SimDisk {
    pub(crate) fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                log: Vec::new(),
                flushed: 0,
                view: MemStore::new(),
                durable: MemStore::new(),
                fail_flushes: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next `n` flushes fail (and make nothing durable).
    pub(crate) fn fail_next_flushes(&self, n: u32) {
        self.lock().fail_flushes = n;
    }

    /// Whether writes wait for a flush.
    pub(crate) fn has_unflushed(&self) -> bool {
        let inner = self.lock();
        inner.log.len() > inner.flushed
    }

    /// A crash: of the unflushed writes, the first `keep` reached the disk, and the last of
    /// those is torn if `tear`. Returns what was lost.
    pub(crate) fn crash(&self, keep: usize, tear: bool) -> Result<CrashLoss, String> {
        let mut inner = self.lock();
        let unflushed = inner.log.len() - inner.flushed;
        let mut kept = keep.min(unflushed);
        let torn = tear && kept > 0;
        if torn {
            kept -= 1;
        }
        let end = inner.flushed + kept;
        inner.log.truncate(end);
        inner.flushed = end;
        let (view, durable) = (MemStore::new(), MemStore::new());
        for rec in &inner.log {
            rec.apply(&view)
                .map_err(|e| format!("replaying the log: {e}"))?;
            rec.apply(&durable)
                .map_err(|e| format!("replaying the log: {e}"))?;
        }
        inner.view = view;
        inner.durable = durable;
        Ok(CrashLoss {
            kept,
            lost: unflushed - kept,
            torn,
        })
    }

    /// How many writes wait for a flush.
    pub(crate) fn unflushed(&self) -> usize {
        let inner = self.lock();
        inner.log.len() - inner.flushed
    }

    /// A document as it would be found after a crash now.
    pub(crate) fn durable_doc(&self, doc: &DocumentId) -> Result<Option<StoredDoc>, StoreError> {
        self.lock().durable.load(doc)
    }

    /// The member an actor is durably bound to.
    pub(crate) fn durable_actor(&self, actor: &[u8]) -> Result<Option<MemberId>, StoreError> {
        self.lock().durable.actor_member(actor)
    }

    /// Runs a write against the view and logs it if it succeeded.
    fn write<T>(
        &self,
        rec: Rec,
        f: impl FnOnce(&MemStore) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut inner = self.lock();
        let out = f(&inner.view)?;
        inner.log.push(rec);
        Ok(out)
    }
}

impl Store for SimDisk {
    fn put_meta(&self, meta: &DocMeta) -> Result<(), StoreError> {
        self.write(Rec::Meta(meta.clone()), |s| s.put_meta(meta))
    }
    fn meta(&self, doc: &DocumentId) -> Result<Option<DocMeta>, StoreError> {
        self.lock().view.meta(doc)
    }
    fn list(&self, filter: &ListFilter) -> Result<Vec<DocMeta>, StoreError> {
        self.lock().view.list(filter)
    }
    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<AppendOutcome, StoreError> {
        self.write(Rec::Append(*doc, chunk.to_vec()), |s| s.append(doc, chunk))
    }
    fn load(&self, doc: &DocumentId) -> Result<Option<StoredDoc>, StoreError> {
        self.lock().view.load(doc)
    }
    fn compact(&self, doc: &DocumentId) -> Result<CompactOutcome, StoreError> {
        self.write(Rec::Compact(*doc), |s| s.compact(doc))
    }
    fn put_sync_state(
        &self,
        peer: &PeerId,
        doc: &DocumentId,
        state: &[u8],
    ) -> Result<(), StoreError> {
        self.write(Rec::SyncState(peer.clone(), *doc, state.to_vec()), |s| {
            s.put_sync_state(peer, doc, state)
        })
    }
    fn sync_state(&self, peer: &PeerId, doc: &DocumentId) -> Result<Option<Vec<u8>>, StoreError> {
        self.lock().view.sync_state(peer, doc)
    }
    fn write_batch(&self, batch: &Batch) -> Result<Vec<AppendOutcome>, StoreError> {
        self.write(Rec::Batch(batch.clone()), |s| s.write_batch(batch))
    }
    fn flush(&self, _: Durability) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.fail_flushes > 0 {
            inner.fail_flushes -= 1;
            return Err(StoreError::Io {
                path: "sim-disk".into(),
                source: std::io::Error::other("simulated flush failure"),
            });
        }
        let from = inner.flushed;
        let to = inner.log.len();
        for i in from..to {
            let rec = inner.log[i].clone();
            rec.apply(&inner.durable)?;
        }
        inner.flushed = to;
        Ok(())
    }
}

impl Directory for SimDisk {
    fn write_directory(
        &self,
        ops: &[DirOp],
        audit: Option<&AuditEntry>,
    ) -> Result<Option<u64>, StoreError> {
        self.write(Rec::Directory(ops.to_vec(), audit.cloned()), |s| {
            s.write_directory(ops, audit)
        })
    }
    fn network(&self, id: &NetworkId) -> Result<Option<Network>, StoreError> {
        self.lock().view.network(id)
    }
    fn networks(&self) -> Result<Vec<Network>, StoreError> {
        self.lock().view.networks()
    }
    fn sites(&self, network: &NetworkId) -> Result<Vec<Site>, StoreError> {
        self.lock().view.sites(network)
    }
    fn member(&self, id: &MemberId) -> Result<Option<Member>, StoreError> {
        self.lock().view.member(id)
    }
    fn members(&self) -> Result<Vec<Member>, StoreError> {
        self.lock().view.members()
    }
    fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.lock().view.token_by_hash(hash)
    }
    fn token(&self, id: &TokenId) -> Result<Option<(TokenHash, TokenRecord)>, StoreError> {
        self.lock().view.token(id)
    }
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.lock().view.tokens()
    }
    fn bind_actor(&self, actor: &[u8], member: &MemberId) -> Result<Binding, StoreError> {
        let mut inner = self.lock();
        let binding = inner.view.bind_actor(actor, member)?;
        if binding == Binding::Bound {
            inner.log.push(Rec::Bind(actor.to_vec(), member.clone()));
        }
        Ok(binding)
    }
    fn actor_member(&self, actor: &[u8]) -> Result<Option<MemberId>, StoreError> {
        self.lock().view.actor_member(actor)
    }
    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.lock().view.audit_log(after, limit)
    }
}
