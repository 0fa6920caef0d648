//! What changed, for tools that refresh what they show.

use nic_model::{DocumentId, MemberId};
use nic_sync::automerge::{ActorId, ChangeHash};

/// Where a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Made through this replica.
    Local,
    /// Received from the hub (made on another replica).
    Remote,
}

/// One Automerge change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeInfo {
    /// The change's hash.
    pub hash: ChangeHash,
    /// The actor id that made it.
    pub actor: ActorId,
    /// The member the hub bound that actor id to, when known (the hub verifies it when it
    /// first receives a change from the actor).
    pub author: Option<MemberId>,
    /// The commit message, if the author gave one.
    pub message: Option<String>,
    /// The time the author's device recorded, ms since the Unix epoch (0 if none).
    pub time_ms: i64,
}

/// A document changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeEvent {
    /// The document.
    pub doc: DocumentId,
    /// Local or remote.
    pub origin: Origin,
    /// The changes that arrived, in causal order.
    pub changes: Vec<ChangeInfo>,
    /// The document's heads afterwards.
    pub heads: Vec<ChangeHash>,
}

impl ChangeEvent {
    /// The distinct authors of the changes, where known.
    pub fn authors(&self) -> Vec<MemberId> {
        let mut out: Vec<MemberId> = Vec::new();
        for a in self.changes.iter().filter_map(|c| c.author.clone()) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

/// The change stream fell behind: this many events were dropped. Re-read what you show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the change stream fell behind and missed {0} events; re-read the documents shown")]
pub struct Missed(pub u64);
