//! How an engine behaves, and the context every call carries.

use automerge::ActorId;

use crate::Policy;
use crate::inspect::Limits;

/// Which side of the protocol an engine plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The hub: its catalogue is authoritative (a document it does not know is `NOT_FOUND`),
    /// it acknowledges durable changes to their authors and announces documents.
    Hub,
    /// A replica (a client's local copy): accepts documents the hub offers and keeps them
    /// even before their metadata arrives.
    Replica,
}

/// Tunables of an [`crate::Engine`].
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Which side this engine plays.
    pub role: Role,
    /// A link that has not reached agreement (the peer's heads differ from ours) and has
    /// been quiet this long starts a fresh exchange: lost or reordered messages cannot stall
    /// sync forever.
    pub resync_after_ms: u64,
    /// Load and save the per-peer sync state, so a reconnecting peer resumes with a small
    /// exchange instead of a full one.
    pub persist_sync_state: bool,
    /// Most changes one incoming sync message may carry; more is refused.
    pub max_changes_per_message: usize,
    /// Most documents one subscription may cover (the documents named, or the documents of
    /// a network the peer may read); a larger subscription is refused whole.
    pub max_docs_per_subscription: usize,
    /// Most sync messages kept for a link while its document loads; older ones are dropped
    /// (the resync timer recovers them).
    pub max_queued_messages: usize,
    /// How large a document may be once decompressed, in operations and in changes: a
    /// stored document beyond them is not loaded, and a sync message whose changes exceed
    /// them, alone or added to the document, is refused whole (see [`crate::inspect`]).
    /// `None` (a replica's default) trusts every document.
    pub doc_limits: Option<Limits>,
    /// The actor id this engine's own edits carry (a stable id per device, so history can
    /// be attributed). `None` lets Automerge pick a random one per document.
    pub actor: Option<ActorId>,
}

impl EngineConfig {
    /// Defaults for a hub.
    pub fn hub() -> Self {
        Self {
            role: Role::Hub,
            resync_after_ms: 5_000,
            persist_sync_state: true,
            max_changes_per_message: 10_000,
            max_docs_per_subscription: 10_000,
            max_queued_messages: 64,
            doc_limits: Some(Limits::DEFAULT),
            actor: None,
        }
    }

    /// Defaults for a replica.
    pub fn replica() -> Self {
        Self {
            role: Role::Replica,
            doc_limits: None,
            ..Self::hub()
        }
    }
}

/// What every engine call is given: the time and the rights in force at that moment.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// Milliseconds on a clock the runtime chooses (monotonic is best); only differences matter.
    pub now_ms: u64,
    /// Who may read and write what, right now.
    pub policy: &'a dyn Policy,
}

impl<'a> Ctx<'a> {
    /// Builds a context.
    pub fn new(now_ms: u64, policy: &'a dyn Policy) -> Self {
        Self { now_ms, policy }
    }
}
