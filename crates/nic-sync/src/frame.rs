//! The frames engines exchange: the domain form of `nic.v1` `ClientFrame`/`HubFrame`
//! (the connection-level Hello/Welcome are the runtime's business).

use automerge::ChangeHash;
use nic_model::{DocMeta, DocumentId, NetworkId};

/// What a subscription covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// Every document of a network the subscriber may read, now and later.
    Network(NetworkId),
    /// These documents.
    Docs(Vec<DocumentId>),
}

/// Why a peer refused something about a document; mirrors the gRPC codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The frame or message was malformed.
    InvalidArgument,
    /// The document does not exist.
    NotFound,
    /// The peer lacks the right to read or write it.
    PermissionDenied,
    /// A limit was exceeded.
    ResourceExhausted,
    /// The document could not be loaded or saved; try again later.
    Unavailable,
    /// A bug or corrupt stored data.
    Internal,
}

/// A document the subscriber already holds, as it last agreed with the peer: if the peer
/// stands at the same heads with the same metadata, neither side says anything about it
/// until something changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// The document.
    pub doc: DocumentId,
    /// The heads both sides held when they last agreed (the subscriber has made no change
    /// since).
    pub heads: Vec<ChangeHash>,
    /// [`DocMeta::fingerprint`] of the metadata the subscriber holds.
    pub meta_digest: u64,
}

/// One message between engines.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// Start syncing what the target covers.
    Subscribe {
        /// What to sync.
        target: Target,
        /// Documents of the target the subscriber already holds and agreed on with the
        /// peer; may be empty (then every document opens with a full exchange).
        known: Vec<Known>,
    },
    /// Stop syncing what the target covers.
    Unsubscribe(Target),
    /// The answer to a [`Frame::Subscribe`]: the documents it covers that the subscriber
    /// may read (never the others). Until it arrives the subscriber repeats its request, so
    /// a lost subscription cannot leave it without documents.
    Subscribed {
        /// The target as subscribed.
        target: Target,
        /// The documents now syncing under it.
        docs: Vec<DocumentId>,
    },
    /// The initial sync of a subscription is complete: the recipient holds every document
    /// the [`Frame::Subscribed`] for it listed, at least at the heads the sender held when
    /// it answered (a document that left the subscription meanwhile, with an error or
    /// a refusal, counts too). Sent once per `Subscribed`, after it; later changes and
    /// documents created later are not waited for.
    CaughtUp {
        /// The target as subscribed.
        target: Target,
    },
    /// An Automerge sync message for one document.
    Sync {
        /// The document.
        doc: DocumentId,
        /// `automerge::sync::Message::encode` bytes.
        message: Vec<u8>,
    },
    /// Every change up to these heads — the recipient's own heads from its sync message —
    /// is durable on the sender.
    Ack {
        /// The document.
        doc: DocumentId,
        /// The acknowledged heads.
        heads: Vec<ChangeHash>,
    },
    /// A document the recipient may read exists, or its metadata changed.
    Announce(DocMeta),
    /// Something about a document (or the stream, when `doc` is `None`) was refused.
    Error {
        /// The document concerned.
        doc: Option<DocumentId>,
        /// Why.
        code: ErrorCode,
        /// A message a person can act on.
        message: String,
    },
}
