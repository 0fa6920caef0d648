//! Where a replica stands with its hub: overall and per document.

use std::time::{Instant, SystemTime};

use crate::Refusal;

/// The replica's connection to its hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Connected: changes flow both ways.
    Online,
    /// A connection attempt is under way.
    Connecting,
    /// Not connected; edits are kept locally and sent on reconnect.
    Offline {
        /// Why, as a person can act on it (the last connection error), if known.
        reason: Option<String>,
        /// When the next attempt starts, if one is scheduled (none after
        /// [`crate::Client::go_offline`]).
        next_attempt: Option<Instant>,
    },
}

/// How one document stands with the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// Every change made here is durable on the hub.
    Synced,
    /// Online, and this many changes made here are not yet acknowledged as durable.
    Pending(usize),
    /// Offline; this many changes made here wait to be sent (0: nothing waits).
    Offline(usize),
}

/// One document's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocStatus {
    /// Synced, pending or offline.
    pub state: SyncState,
    /// Created here and not yet accepted by the hub.
    pub unsent: bool,
    /// When the hub last acknowledged changes of this document made here (kept across
    /// restarts).
    pub last_ack: Option<SystemTime>,
    /// The last problem the hub reported with this document (e.g. a change or a
    /// creation it refused), until it next acknowledges it.
    pub problem: Option<String>,
    /// The hub's reason for that problem, for a program to act on.
    pub refusal: Option<Refusal>,
    /// Online, and in step with the hub: the hub's last word on this document named
    /// exactly the heads held here, every change made here is durable there, and nothing
    /// is on its way in either direction. (`Synced` alone says only that this replica's
    /// own changes are saved; a document can be synced and still behind the hub.)
    pub in_step: bool,
}

/// The whole replica's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The connection.
    pub connection: Connection,
    /// Documents held here.
    pub documents: usize,
    /// Documents with changes made here that the hub has not acknowledged.
    pub pending_documents: usize,
    /// Changes made here that the hub has not acknowledged, over all documents.
    pub pending_changes: usize,
    /// Documents created here that the hub has not accepted yet.
    pub unsent_documents: usize,
    /// The last acknowledgement from the hub, for any document.
    pub last_ack: Option<SystemTime>,
    /// Online, and every document syncing here agrees with the hub: nothing is on its way
    /// in either direction.
    pub up_to_date: bool,
}

impl Status {
    /// Whether everything made here is durable on the hub.
    pub fn is_synced(&self) -> bool {
        self.pending_changes == 0 && self.unsent_documents == 0
    }
}

/// What went over the wire, for judging how much a reconnect costs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct WireStats {
    /// Frames sent to the hub (Hello included).
    pub frames_sent: u64,
    /// Their encoded size, bytes.
    pub bytes_sent: u64,
    /// Frames received from the hub (Welcome included).
    pub frames_received: u64,
    /// Their encoded size, bytes.
    pub bytes_received: u64,
    /// Connections made.
    pub connects: u64,
}
