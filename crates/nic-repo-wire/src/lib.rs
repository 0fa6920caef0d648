//! The messages of the automerge-repo network protocol, as `@automerge/automerge-repo`'s
//! WebSocket adapter and samod exchange them: one CBOR map per WebSocket message, told apart
//! by its `type`. This crate only turns bytes into [`Message`]s and back — no sockets, no
//! state — so the hub's endpoint, its tests and a fuzzer all share one decoder.
//!
//! Followed: the wire protocol section of automerge-repo's
//! `packages/automerge-repo-network-websocket/README.md` (handshake `join`/`peer` with
//! protocol version `"1"`, `leave`, `request`, `sync`, `doc-unavailable`, `ephemeral`,
//! `error`, `remote-subscription-change`, `remote-heads-changed`) and its `messages.ts`.
//!
//! Bad input is an error, never a panic: the size is checked before decoding
//! ([`Limits::max_message_bytes`]), nesting is bounded ([`Limits::max_depth`]), and a
//! missing or mistyped field is named in [`DecodeError`].

mod decode;
mod encode;

use std::collections::BTreeMap;

use nic_model::DocumentId;

pub use decode::decode;
pub use encode::encode;

/// The only protocol version automerge-repo and samod speak today.
pub const PROTOCOL_VERSION: &str = "1";

/// A peer's id as the protocol carries it: any string the peer chose (automerge-repo draws
/// a random one per tab or process).
pub type PeerId = String;

/// What a peer says about itself in `join` and `peer`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerMetadata {
    /// The id of the peer's persistent storage, if it has one.
    pub storage_id: Option<String>,
    /// Whether the peer expects to come back with this storage id.
    pub is_ephemeral: bool,
}

/// The heads a storage id was last seen at, as `remote-heads-changed` gossips them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteHeads {
    /// The heads, each a change hash as its sender encoded it.
    pub heads: Vec<String>,
    /// When the first sender saw them, ms since the Unix epoch.
    pub timestamp: u64,
}

/// One protocol message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// The initiating peer's first message.
    Join {
        /// Who is joining.
        sender: PeerId,
        /// The protocol versions it speaks.
        supported_versions: Vec<String>,
        /// What it says about itself.
        metadata: Option<PeerMetadata>,
    },
    /// The receiving peer's answer to `join`.
    Peer {
        /// Who answers.
        sender: PeerId,
        /// The version chosen.
        selected_version: String,
        /// The joining peer.
        target: PeerId,
        /// What it says about itself.
        metadata: Option<PeerMetadata>,
    },
    /// An advisory goodbye.
    Leave {
        /// Who leaves.
        sender: PeerId,
    },
    /// Asks to sync a document, wanting `doc-unavailable` if the other side has none.
    Request {
        /// The document.
        document: DocumentId,
        /// Who asks.
        sender: PeerId,
        /// Whom.
        target: PeerId,
        /// The first Automerge sync message.
        data: Vec<u8>,
    },
    /// An Automerge sync message about a document.
    Sync {
        /// The document.
        document: DocumentId,
        /// The sender.
        sender: PeerId,
        /// The recipient.
        target: PeerId,
        /// The Automerge sync message.
        data: Vec<u8>,
    },
    /// The sender does not have the document (or, from the hub, may not show it: the two are
    /// indistinguishable on purpose).
    DocUnavailable {
        /// The document.
        document: DocumentId,
        /// The sender.
        sender: PeerId,
        /// The recipient.
        target: PeerId,
    },
    /// An application message about a document that is relayed, not stored (cursors,
    /// presence).
    Ephemeral {
        /// The document.
        document: DocumentId,
        /// The sender.
        sender: PeerId,
        /// The recipient.
        target: PeerId,
        /// Its number within the session.
        count: u64,
        /// The session it belongs to.
        session: String,
        /// Its content (arbitrary CBOR, kept as bytes).
        data: Vec<u8>,
    },
    /// A protocol error; the connection closes after it.
    Error {
        /// What went wrong.
        message: String,
    },
    /// Changes the storage ids whose heads the sender wants to hear about.
    RemoteSubscriptionChange {
        /// The sender.
        sender: PeerId,
        /// The recipient.
        target: PeerId,
        /// Storage ids to add.
        add: Vec<String>,
        /// Storage ids to remove.
        remove: Vec<String>,
    },
    /// Heads that watched storage ids have reached for a document.
    RemoteHeadsChanged {
        /// The document.
        document: DocumentId,
        /// The sender.
        sender: PeerId,
        /// The recipient.
        target: PeerId,
        /// By storage id.
        new_heads: BTreeMap<String, RemoteHeads>,
    },
}

impl Message {
    /// The `type` it has on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::Error { .. } => "error",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
        }
    }
}

/// How much a message may hold before it is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest message, in bytes, checked before any decoding.
    pub max_message_bytes: usize,
    /// The deepest nesting of CBOR maps and arrays (the messages need 4).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // As large as the hub's largest document, so a first sync of one fits.
            max_message_bytes: 64 * 1024 * 1024,
            max_depth: 16,
        }
    }
}

/// Why bytes are not a message. Each names what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The message is larger than allowed.
    #[error("message of {len} bytes is larger than the {max}-byte limit")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not CBOR (or nest too deeply).
    #[error("not a CBOR message: {0}")]
    NotCbor(String),
    /// The CBOR is not a map.
    #[error("a message must be a CBOR map")]
    NotAMap,
    /// The `type` names no message of the protocol.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A required field is absent.
    #[error("{kind} message has no {field}")]
    Missing {
        /// The message type.
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong CBOR type or an impossible value.
    #[error("{kind} message: {field} {problem}")]
    Invalid {
        /// The message type.
        kind: &'static str,
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}
