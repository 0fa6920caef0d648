//! [`SledStore`]: the embedded default store, on sled.
//!
//! Trees (layouts in `records.rs`):
//! - `meta`: document id → `DocMeta` as JSON;
//! - `chunks`: document id ‖ sequence (u64 BE) → kind byte (0 incremental, 1 snapshot) ‖ bytes;
//! - `doc_stats`: document id → snapshot bytes, incremental bytes, incremental chunks (u64 BE);
//! - `sync_states`: document id ‖ peer id → encoded sync state;
//! - `dir_*`: the hub's directory (see `directory.rs`);
//! - the default tree: `id_offset` (u64 BE), in a store restored from a backup only.
//!
//! Sequences come from `Db::generate_id`, which stays monotonic across restarts, so chunk keys
//! sort in append order; a restored store adds `id_offset` (the backup's next number), as
//! its new database counts from 0 again. Multi-tree writes run in sled transactions so each
//! call is atomic, and under the write gate (see [`SledStore::writing`]) so a backup
//! (`backup.rs`) copies one moment of the whole store.

mod backup;
mod directory;
mod durable;
pub(crate) mod records;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use nic_model::{DocMeta, DocumentId, PeerId};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::snapshot::snapshot_of;
use crate::{
    AppendOutcome, Batch, CompactOutcome, CompactionPolicy, Durability, ListFilter, Op, Store,
    StoreError, StoredDoc,
};
use records::{DocStats, KIND_INCREMENTAL, KIND_SNAPSHOT};

/// How many locks the document lock table has; a power of two larger than the usual number
/// of documents written at the same moment.
const STRIPES: usize = 64;

/// Settings for [`SledStore::open_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SledConfig {
    /// When appends report compaction as due.
    pub compaction: CompactionPolicy,
    /// Upper bound of sled's page cache, in bytes: memory is bounded by configuration, not by
    /// the number of documents stored.
    pub cache_capacity_bytes: u64,
}

impl Default for SledConfig {
    fn default() -> Self {
        Self {
            compaction: CompactionPolicy::default(),
            cache_capacity_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A [`Store`] in a sled database folder. One process at a time may open a folder.
pub struct SledStore {
    db: sled::Db,
    meta: sled::Tree,
    chunks: sled::Tree,
    stats: sled::Tree,
    sync_states: sled::Tree,
    /// The hub's directory (see `directory.rs`).
    dir: directory::DirTrees,
    policy: CompactionPolicy,
    path: PathBuf,
    /// What opening found of the folder's permissions.
    folder: crate::PrivateDir,
    /// Held while a document's chunks are appended, compacted or loaded, so compaction deletes
    /// exactly the chunks it read and a load never sees half a compaction. Striped by
    /// document id: a lock per document would grow with the number of documents.
    stripes: [Mutex<()>; STRIPES],
    /// The write gate: every write holds it shared for its transaction, a backup holds it
    /// exclusively while it copies. Reads do not take it. See [`SledStore::writing`].
    gate: RwLock<()>,
    /// Added to every number `Db::generate_id` draws: 0, or in a store restored from a
    /// backup the backup's next number (see `backup.rs`).
    id_offset: u64,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// An append ready to be written: its key and value are built before the transaction, whose
/// closure sled may run more than once.
struct PreparedAppend {
    doc: DocumentId,
    key: [u8; records::CHUNK_KEY_LEN],
    value: Vec<u8>,
    len: u64,
}

/// One op of a batch, encoded.
enum Prepared<'a> {
    /// `create`: the document, when this must be its first metadata.
    Meta {
        key: [u8; 16],
        json: Vec<u8>,
        create: Option<DocumentId>,
    },
    Append(PreparedAppend),
    Sync {
        key: Vec<u8>,
        state: &'a [u8],
    },
}

impl SledStore {
    /// Opens (or creates) the store in the folder `path` with default settings.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SledConfig::default())
    }

    /// Opens (or creates) the store in the folder `path`, readable by its owner only: a new
    /// folder is made `0700`, an existing one loses group and other access (see
    /// [`SledStore::folder`]), and the files in it become `0600`.
    pub fn open_with(path: impl AsRef<Path>, config: SledConfig) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let folder = crate::make_private_dir(&path).map_err(io)?;
        let db = sled::Config::new()
            .path(&path)
            .cache_capacity(config.cache_capacity_bytes)
            .open()?;
        crate::tighten_tree(&path).map_err(io)?;
        let id_offset = match db.get(backup::ID_OFFSET_KEY)? {
            Some(value) => backup::decode_id_offset(&value)?,
            None => 0,
        };
        Ok(Self {
            meta: db.open_tree("meta")?,
            chunks: db.open_tree("chunks")?,
            stats: db.open_tree("doc_stats")?,
            sync_states: db.open_tree("sync_states")?,
            dir: directory::DirTrees::open(&db)?,
            db,
            policy: config.compaction,
            path,
            folder,
            stripes: std::array::from_fn(|_| Mutex::new(())),
            gate: RwLock::new(()),
            id_offset,
        })
    }

    /// Holds the write gate shared, for one write. Every call that changes the database
    /// takes this around its transaction (and the sequence numbers it draws), and a backup
    /// takes the gate exclusively while it copies, so the copy sees every write wholly or not
    /// at all, across every tree: sled's iterators are not snapshots, and a transaction over
    /// several trees that committed while a backup was half-way through them would otherwise
    /// be copied in part (a chunk without its `doc_stats`, a member without its audit entry).
    ///
    /// Taken once per call, never twice by one thread (with a backup waiting in between, the
    /// second take would wait for the backup, which waits for the first: a deadlock), and
    /// after a document's stripe, never before one: a backup takes no stripe, so the order
    /// cannot cycle. Reads do not take it and go on during a backup.
    fn writing(&self) -> RwLockReadGuard<'_, ()> {
        // The lock guards no data, so a poisoned one is as good as any.
        self.gate.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next sequence number: chunk keys and audit entries. Monotonic across restarts
    /// (sled's counter) and across a restore (`id_offset`).
    fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?.saturating_add(self.id_offset))
    }

    /// What opening found of the folder's permissions: [`crate::PrivateDir::Tightened`]
    /// means others could read it until now, which its owner should hear about.
    pub fn folder(&self) -> crate::PrivateDir {
        self.folder
    }

    fn stripe_of(doc: &DocumentId) -> usize {
        let hash = doc.as_bytes().iter().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(*b))
        });
        hash % STRIPES
    }

    fn lock_stripe(&self, index: usize) -> Option<MutexGuard<'_, ()>> {
        // The mutexes guard no data, so a poisoned one is as good as any.
        self.stripes
            .get(index)
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Locks the stripes of several documents, in index order so two batches cannot deadlock.
    fn lock_docs<'s>(
        &'s self,
        docs: impl Iterator<Item = &'s DocumentId>,
    ) -> Vec<MutexGuard<'s, ()>> {
        let indices: BTreeSet<usize> = docs.map(Self::stripe_of).collect();
        indices
            .into_iter()
            .filter_map(|i| self.lock_stripe(i))
            .collect()
    }

    /// Encodes an append. The caller must hold the document's stripe: the sequence drawn here
    /// must not fall below a snapshot that a compaction writes meanwhile.
    fn prepare_append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<PreparedAppend, StoreError> {
        Ok(PreparedAppend {
            doc: *doc,
            key: records::chunk_key(doc, self.next_id()?),
            value: records::chunk_value(KIND_INCREMENTAL, chunk),
            len: chunk.len() as u64,
        })
    }

    /// Encodes one op of a batch; the caller holds the stripes of every document appended to.
    fn prepare<'a>(&self, op: &'a Op) -> Result<Prepared<'a>, StoreError> {
        Ok(match op {
            Op::PutMeta(meta) => {
                meta.validate()?;
                Prepared::Meta {
                    key: *meta.id.as_bytes(),
                    json: records::encode_meta(meta)?,
                    create: None,
                }
            }
            Op::CreateMeta(meta) => {
                meta.validate()?;
                Prepared::Meta {
                    key: *meta.id.as_bytes(),
                    json: records::encode_meta(meta)?,
                    create: Some(meta.id),
                }
            }
            Op::Append { doc, chunk } => Prepared::Append(self.prepare_append(doc, chunk)?),
            Op::PutSyncState { peer, doc, state } => Prepared::Sync {
                key: records::sync_key(peer, doc),
                state,
            },
        })
    }

    /// Writes prepared ops in one transaction. The caller holds the stripes of every document
    /// appended to.
    fn write(&self, ops: &[Prepared<'_>]) -> Result<Vec<AppendOutcome>, StoreError> {
        let trees = (&self.meta, &self.chunks, &self.stats, &self.sync_states);
        let result = trees.transaction(|(meta, chunks, stats, sync_states)| {
            let mut outcomes = Vec::new();
            for op in ops {
                match op {
                    Prepared::Meta { key, json, create } => {
                        // The check and the write are one transaction: a concurrent
                        // creation of the same id conflicts and is retried, then sees ours.
                        if let Some(doc) = create
                            && meta.get(&key[..])?.is_some()
                        {
                            return abort(StoreError::AlreadyExists(*doc));
                        }
                        meta.insert(&key[..], json.as_slice())?;
                    }
                    Prepared::Append(append) => {
                        let doc = append.doc.as_bytes();
                        // Reads inside the transaction see the batch's own earlier writes,
                        // so a document created earlier in the batch counts as known.
                        if meta.get(doc)?.is_none() {
                            return abort(StoreError::UnknownDocument(append.doc));
                        }
                        let old = stats.get(doc)?;
                        let mut doc_stats = match DocStats::decode(old.as_deref()) {
                            Ok(s) => s,
                            Err(e) => return abort(e),
                        };
                        doc_stats.incremental_bytes =
                            doc_stats.incremental_bytes.saturating_add(append.len);
                        doc_stats.incremental_chunks =
                            doc_stats.incremental_chunks.saturating_add(1);
                        chunks.insert(&append.key[..], append.value.as_slice())?;
                        stats.insert(&doc[..], &doc_stats.encode()[..])?;
                        let (snapshot, bytes, count) = doc_stats.sizes();
                        outcomes.push(AppendOutcome {
                            compaction_due: self.policy.is_due(snapshot, bytes, count),
                        });
                    }
                    Prepared::Sync { key, state } => {
                        sync_states.insert(key.as_slice(), *state)?;
                    }
                }
            }
            Ok(outcomes)
        });
        unwrap_transaction(result)
    }

    /// Reads a document's chunk records, in key order.
    fn read_chunks(&self, doc: &DocumentId) -> Result<Vec<(sled::IVec, sled::IVec)>, StoreError> {
        let mut out = Vec::new();
        for item in self.chunks.scan_prefix(doc.as_bytes()) {
            let (key, value) = item?;
            records::decode_chunk(&key, &value)?;
            out.push((key, value));
        }
        Ok(out)
    }
}

fn abort<T>(e: StoreError) -> Result<T, ConflictableTransactionError<StoreError>> {
    Err(ConflictableTransactionError::Abort(e))
}

fn unwrap_transaction<T>(result: Result<T, TransactionError<StoreError>>) -> Result<T, StoreError> {
    result.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Db(e),
    })
}

impl Store for SledStore {
    fn put_meta(&self, meta: &DocMeta) -> Result<(), StoreError> {
        meta.validate()?;
        let json = records::encode_meta(meta)?;
        let _writing = self.writing();
        self.meta.insert(meta.id.as_bytes(), json)?;
        Ok(())
    }

    fn meta(&self, doc: &DocumentId) -> Result<Option<DocMeta>, StoreError> {
        self.meta
            .get(doc.as_bytes())?
            .map(|value| records::decode_meta(doc.as_bytes(), &value))
            .transpose()
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<DocMeta>, StoreError> {
        let mut out = Vec::new();
        for item in self.meta.iter() {
            let (key, value) = item?;
            let meta = records::decode_meta(&key, &value)?;
            if filter.matches(&meta) {
                out.push(meta);
            }
        }
        Ok(out)
    }

    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<AppendOutcome, StoreError> {
        let _guard = self.lock_stripe(Self::stripe_of(doc));
        let _writing = self.writing();
        let op = Prepared::Append(self.prepare_append(doc, chunk)?);
        let outcomes = self.write(std::slice::from_ref(&op))?;
        // One append gives exactly one outcome.
        Ok(outcomes.first().copied().unwrap_or(AppendOutcome {
            compaction_due: false,
        }))
    }

    fn load(&self, doc: &DocumentId) -> Result<Option<StoredDoc>, StoreError> {
        let _guard = self.lock_stripe(Self::stripe_of(doc));
        let Some(meta) = self.meta(doc)? else {
            return Ok(None);
        };
        let chunks = self
            .read_chunks(doc)?
            .iter()
            .map(|(key, value)| records::decode_chunk(key, value).map(<[u8]>::to_vec))
            .collect::<Result<_, _>>()?;
        Ok(Some(StoredDoc { meta, chunks }))
    }

    fn compact(&self, doc: &DocumentId) -> Result<CompactOutcome, StoreError> {
        let _guard = self.lock_stripe(Self::stripe_of(doc));
        if self.meta.get(doc.as_bytes())?.is_none() {
            return Err(StoreError::UnknownDocument(*doc));
        }
        let read = self.read_chunks(doc)?;
        let Some((last_key, _)) = read.last() else {
            return Ok(CompactOutcome {
                chunks_replaced: 0,
                snapshot_bytes: 0,
            });
        };
        let mut joined = Vec::new();
        for (key, value) in &read {
            joined.extend_from_slice(records::decode_chunk(key, value)?);
        }
        let snapshot = snapshot_of(doc, &joined)?;
        let value = records::chunk_value(KIND_SNAPSHOT, &snapshot);
        let doc_stats = DocStats {
            snapshot_bytes: snapshot.len() as u64,
            ..DocStats::default()
        }
        .encode();
        // Delete exactly the chunks read and put the snapshot under the last one's key: later
        // appends get larger sequences, so they still load after it. The gate is taken only
        // now: the Automerge work above can be slow, and a backup waiting for it would hold
        // up every other write meanwhile.
        let _writing = self.writing();
        let result = (&self.chunks, &self.stats).transaction(|(chunks, stats)| {
            for (key, _) in &read {
                chunks.remove(key)?;
            }
            chunks.insert(last_key, value.as_slice())?;
            stats.insert(doc.as_bytes(), &doc_stats[..])?;
            Ok(())
        });
        unwrap_transaction(result)?;
        Ok(CompactOutcome {
            chunks_replaced: read.len(),
            snapshot_bytes: snapshot.len(),
        })
    }

    fn put_sync_state(
        &self,
        peer: &PeerId,
        doc: &DocumentId,
        state: &[u8],
    ) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.sync_states
            .insert(records::sync_key(peer, doc), state)?;
        Ok(())
    }

    fn sync_state(&self, peer: &PeerId, doc: &DocumentId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .sync_states
            .get(records::sync_key(peer, doc))?
            .map(|v| v.to_vec()))
    }

    fn write_batch(&self, batch: &Batch) -> Result<Vec<AppendOutcome>, StoreError> {
        // Creations hold their stripe too, so a compare-and-set never races a creation
        // elsewhere in this process (the transaction alone would also catch it).
        let appended = batch.ops.iter().filter_map(|op| match op {
            Op::Append { doc, .. } => Some(doc),
            Op::CreateMeta(meta) => Some(&meta.id),
            _ => None,
        });
        let _guards = self.lock_docs(appended);
        let _writing = self.writing();
        let prepared = batch
            .ops
            .iter()
            .map(|op| self.prepare(op))
            .collect::<Result<Vec<_>, _>>()?;
        self.write(&prepared)
    }

    fn flush(&self, durability: Durability) -> Result<(), StoreError> {
        self.db.flush()?;
        if durability == Durability::PowerSafe {
            durable::sync_dir_tree(&self.path)?;
        }
        Ok(())
    }

    fn backup(
        &self,
        out: &mut dyn std::io::Write,
        files: &[crate::backup::BackupFile<'_>],
    ) -> Result<crate::backup::BackupSummary, crate::backup::BackupError> {
        self.write_backup(out, files)
    }
}
