//! Stores that several hubs write at once ([`SharedStore`]): each hub hears what the others
//! made durable, so the documents it has loaded, its catalogue and the rights of its open
//! streams follow changes that arrived through another hub.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nic_model::{DocumentId, MemberId, TokenId};

use crate::StoreError;

/// Where a chunk sits in a shared store's order of chunks (database-wide, increasing as
/// chunks are written; a compaction's snapshot takes the highest number it replaced).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChunkSeq(pub i64);

/// What another hub made durable in a shared store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreEvent {
    /// Chunks of a document's changes (read them with [`SharedStore::stored_chunks`]).
    Chunks {
        /// The document.
        doc: DocumentId,
        /// The chunks, in the order they were written.
        seqs: Vec<ChunkSeq>,
    },
    /// A document was created or its metadata changed.
    Meta(DocumentId),
    /// A member was added, changed or removed.
    Member(MemberId),
    /// A token was issued or changed (revoked).
    Token(TokenId),
    /// Events may have been missed (the connection that hears them was lost and is back):
    /// whatever the hub holds in memory must be read again.
    Resync,
}

/// A store that other hubs write too (see the module's documentation). Events are told only
/// once durable, so a hub never passes on a change that a crash could still take back.
pub trait SharedStore: Send + Sync {
    /// Starts hearing what other hubs store, on a thread of its own, and tells `on_event`
    /// each time (never this store's own writes), until the [`Listening`] is stopped or
    /// dropped, or `on_event` returns `false`. A lost connection is reconnected, then
    /// [`StoreEvent::Resync`] is told.
    fn listen(
        &self,
        on_event: Box<dyn FnMut(StoreEvent) -> bool + Send>,
    ) -> Result<Listening, StoreError>;

    /// The chunks of `doc` stored under `seqs`, in order; where some were compacted away
    /// meanwhile, the snapshot that holds them instead.
    fn stored_chunks(
        &self,
        doc: &DocumentId,
        seqs: &[ChunkSeq],
    ) -> Result<Vec<Vec<u8>>, StoreError>;
}

/// A listener started by [`SharedStore::listen`]; it stops when this is dropped (within a
/// fraction of a second) or at once with [`Listening::stop`].
#[derive(Debug)]
pub struct Listening {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listening {
    /// Wraps a listener thread that watches `stop`.
    pub fn new(stop: Arc<AtomicBool>, thread: std::thread::JoinHandle<()>) -> Self {
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the listener and waits until its thread has ended (blocks briefly).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
