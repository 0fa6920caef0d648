//! Where documents live between runs: the [`Store`] trait and its implementations,
//! [`SledStore`] (embedded, the default), [`PgStore`] (PostgreSQL, for several hubs sharing
//! one database) and [`MemStore`] (tests and simulation). Each also keeps the
//! hub's [`Directory`] (networks, sites, members, tokens, audit log).
//!
//! A document is stored as its metadata plus an ordered list of chunks: at most one compacted
//! snapshot first, then incremental change sets in the order they were appended. Loading a
//! document concatenates the chunks; any Automerge implementation can read the result.
//!
//! The trait is blocking and narrow on purpose: a runtime calls it from a blocking pool, and a
//! distributed engine could stand behind it later without the callers changing.

pub mod backup;
mod directory;
mod error;
pub mod guard;
mod mem;
mod mem_directory;
pub mod pg_cluster;
mod pg_store;
mod private;
mod shared;
mod sled_store;
mod snapshot;
mod types;

pub use directory::{Binding, DirOp, Directory, TokenHash};
pub use error::StoreError;
pub use mem::MemStore;
pub use pg_store::{PgConfig, PgStore};
pub use private::{PrivateDir, make_private_dir, tighten_tree};
pub use shared::{ChunkSeq, Listening, SharedStore, StoreEvent};
pub use sled_store::{SledConfig, SledStore};
pub use types::{
    AppendOutcome, Batch, CompactOutcome, CompactionPolicy, Durability, ListFilter, Op, StoredDoc,
};

use nic_model::{DocMeta, DocumentId, PeerId};

/// Storage for documents, their metadata and per-peer sync state.
///
/// Every method is atomic on its own; [`Store::write_batch`] makes several writes atomic
/// together. Writes are visible to reads at once but survive a crash only after
/// [`Store::flush`] returns.
pub trait Store: Send + Sync + 'static {
    /// Creates or replaces a document's metadata. Fails with [`StoreError::InvalidMeta`] if
    /// the metadata does not pass `DocMeta::validate`.
    fn put_meta(&self, meta: &DocMeta) -> Result<(), StoreError>;

    /// Reads a document's metadata, `None` if the document is unknown.
    fn meta(&self, doc: &DocumentId) -> Result<Option<DocMeta>, StoreError>;

    /// Lists the metadata of documents that match the filter, ordered by document id.
    fn list(&self, filter: &ListFilter) -> Result<Vec<DocMeta>, StoreError>;

    /// Appends an incremental chunk (Automerge change bytes) to a known document.
    /// Fails with [`StoreError::UnknownDocument`] if the document has no metadata.
    fn append(&self, doc: &DocumentId, chunk: &[u8]) -> Result<AppendOutcome, StoreError>;

    /// Loads a document's metadata and chunks, `None` if the document is unknown.
    fn load(&self, doc: &DocumentId) -> Result<Option<StoredDoc>, StoreError>;

    /// Replaces a document's chunks with one snapshot holding the same changes, atomically.
    /// Fails with [`StoreError::CorruptChunk`] (and changes nothing) if the stored chunks do
    /// not load as Automerge, and with [`StoreError::UnknownDocument`] if the document has no
    /// metadata. A document without chunks is left as it is.
    fn compact(&self, doc: &DocumentId) -> Result<CompactOutcome, StoreError>;

    /// Records the sync state (`automerge::sync::State::encode`) shared with a peer. The bytes
    /// are stored as given, and the document need not be known: a sync state is a cache the
    /// sync engine can always rebuild, so it is not worth a metadata read per write.
    fn put_sync_state(
        &self,
        peer: &PeerId,
        doc: &DocumentId,
        state: &[u8],
    ) -> Result<(), StoreError>;

    /// Reads the sync state shared with a peer for a document.
    fn sync_state(&self, peer: &PeerId, doc: &DocumentId) -> Result<Option<Vec<u8>>, StoreError>;

    /// Applies several writes atomically: after a crash either all of them are present or none.
    /// The whole batch is checked first (metadata valid, every appended document known, possibly
    /// through an earlier op of the batch); if any op fails, nothing of the batch is written.
    /// Returns one outcome per [`Op::Append`], in order.
    fn write_batch(&self, batch: &Batch) -> Result<Vec<AppendOutcome>, StoreError>;

    /// Makes every write so far durable, to the level asked for.
    fn flush(&self, durability: Durability) -> Result<(), StoreError>;

    /// Writes a copy of everything the store holds to `out` in the backup format
    /// ([`backup`]), then `files` (small files of the data folder); returns what it wrote.
    /// The copy is of one moment: every write is wholly in it or wholly not. A store that
    /// does not make backups itself refuses with [`backup::BackupError::Unsupported`]: a
    /// [`PgStore`] is backed up with PostgreSQL's own tools, a [`MemStore`] keeps nothing.
    fn backup(
        &self,
        out: &mut dyn std::io::Write,
        files: &[backup::BackupFile<'_>],
    ) -> Result<backup::BackupSummary, backup::BackupError> {
        let _ = (out, files);
        Err(backup::BackupError::Unsupported)
    }

    /// The same store as other hubs write it too, if it is one ([`PgStore`]); `None` for a
    /// store only this process writes.
    fn shared(&self) -> Option<&dyn SharedStore> {
        None
    }
}
