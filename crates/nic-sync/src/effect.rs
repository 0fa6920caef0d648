//! What an engine asks its runtime to do.

use automerge::ChangeHash;
use nic_model::{DocMeta, DocumentId, PeerId};

use crate::{ErrorCode, Frame};

/// An action for the runtime. Storage effects of one engine must be carried out in the
/// order they were emitted.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send a frame to a connected peer.
    Send {
        /// The recipient.
        peer: PeerId,
        /// The frame.
        frame: Frame,
    },
    /// Load a document from storage and answer with [`crate::Engine::loaded`].
    Load {
        /// The document.
        doc: DocumentId,
    },
    /// Load the sync state kept for a peer and document and answer with
    /// [`crate::Engine::sync_state_loaded`].
    LoadSyncState {
        /// The peer.
        peer: PeerId,
        /// The document.
        doc: DocumentId,
    },
    /// Store a document's metadata (a replica learnt it, or a document was created here).
    PutMeta(DocMeta),
    /// Append a chunk of changes to a document's storage; once it is durable, call
    /// [`crate::Engine::persisted`] with the same `seq` (or [`crate::Engine::persist_failed`]).
    Persist {
        /// The document.
        doc: DocumentId,
        /// Increases by one per persist of this document in this engine's lifetime.
        seq: u64,
        /// Automerge bytes: a whole snapshot (`Automerge::save`) for the first persist of a
        /// document in this engine, then the changes since the last one (`save_after`).
        chunk: Vec<u8>,
        /// On a hub, for a peer's changes: who sent them and under which actor ids. The
        /// policy only *checked* those actors ([`crate::Policy::may_author`]); the runtime
        /// binds them to the sender's member in the same flush that stores the chunk, so a
        /// refused message binds nothing and a stored change's actor is always bound.
        authored: Option<Authored>,
    },
    /// Store the sync state shared with a peer, for the next connection.
    SaveSyncState {
        /// The peer.
        peer: PeerId,
        /// The document.
        doc: DocumentId,
        /// `automerge::sync::State::encode` bytes.
        state: Vec<u8>,
    },
    /// Tell the application something.
    Notify(Notification),
}

/// The sender of a peer's changes and the Automerge actor ids they were made under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authored {
    /// The peer that sent them.
    pub peer: PeerId,
    /// Each actor id of the changes, once.
    pub actors: Vec<Vec<u8>>,
}

/// Where a change came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Made through [`crate::Engine::edit`].
    Local,
    /// Received from this peer.
    Remote(PeerId),
    /// Stored by another hub that shares this hub's database ([`crate::Engine::merge_stored`]).
    Stored,
}

/// News for the application.
#[derive(Clone, Debug, PartialEq)]
pub enum Notification {
    /// A document's content changed.
    Changed {
        /// The document.
        doc: DocumentId,
        /// Who changed it.
        origin: Origin,
        /// Its heads afterwards.
        heads: Vec<ChangeHash>,
    },
    /// A peer reported these heads of ours durable.
    Acked {
        /// The document.
        doc: DocumentId,
        /// Who stored them.
        peer: PeerId,
        /// The heads now durable there.
        heads: Vec<ChangeHash>,
    },
    /// A peer says the initial sync of our subscription to `target` is complete
    /// ([`Frame::CaughtUp`]): we hold every document it covered as of the subscription.
    CaughtUp {
        /// The peer (the hub).
        peer: PeerId,
        /// The subscription's target.
        target: crate::Target,
    },
    /// A document became ready in memory.
    Ready {
        /// The document.
        doc: DocumentId,
    },
    /// Something went wrong with a document: a peer refused it, or it could not be loaded.
    DocError {
        /// The document, if the error concerns one.
        doc: Option<DocumentId>,
        /// The peer that reported it, or `None` when it arose here.
        peer: Option<PeerId>,
        /// Why.
        code: ErrorCode,
        /// What to do about it.
        message: String,
    },
}

/// The answer to [`Effect::Load`].
#[derive(Clone, Debug, PartialEq)]
pub enum LoadResult {
    /// The document was found.
    Found {
        /// Its metadata, if the store has it (a replica may not yet).
        meta: Option<DocMeta>,
        /// Its stored chunks, in order.
        chunks: Vec<Vec<u8>>,
    },
    /// The store does not have it.
    NotFound,
    /// The store failed; the engine reports the document unavailable and forgets the attempt.
    Failed(String),
}
