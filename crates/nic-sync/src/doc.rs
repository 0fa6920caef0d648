//! Per-document and per-link state held by the engine.

use std::collections::{BTreeMap, HashSet, VecDeque};

use automerge::{Automerge, ChangeHash, sync};
use nic_model::PeerId;

use crate::inspect::Measure;

/// A document the engine is working on.
pub(crate) struct DocEntry {
    /// The content, once loaded.
    pub(crate) state: DocState,
    /// The peers this document syncs with.
    pub(crate) links: BTreeMap<PeerId, Link>,
    /// Persistence bookkeeping.
    pub(crate) persist: PersistState,
    /// Acks other engines sent us for this document (their durable copy of our heads).
    pub(crate) acked: BTreeMap<PeerId, Vec<ChangeHash>>,
    /// On a hub: received changes being made durable, applied once they are (even if the
    /// peer that sent them has gone by then).
    pub(crate) staged_chunks: VecDeque<StagedChunk>,
    /// On a hub: recent relays, kept while a link held back from them still needs them
    /// (see `engine/relay.rs`).
    pub(crate) relay_log: VecDeque<LoggedRelay>,
    /// What the document holds, stored and staged (measured only under
    /// [`crate::EngineConfig::doc_limits`]): the base its next changes must fit on.
    pub(crate) measure: Measure,
    /// On a hub: changes stored but not applied, because a dependency never arrived (its
    /// author sent it, then lost it in a crash). Automerge keeps them queued, where its
    /// history does not show them; a peer that got one and offers it back is not offering
    /// anything new, and must not be refused as an impostor for it.
    pub(crate) waiting: HashSet<ChangeHash>,
}

/// Durable changes a hub relayed: exactly what took the document from `before` to `after`.
pub(crate) struct LoggedRelay {
    pub(crate) before: Vec<ChangeHash>,
    pub(crate) after: Vec<ChangeHash>,
    /// The changes' hashes.
    pub(crate) hashes: Vec<ChangeHash>,
    /// The changes' bytes as they arrived, concatenated.
    pub(crate) bytes: Vec<u8>,
}

/// A change's hash and the hashes it depends on.
pub(crate) type ChangeDeps = (ChangeHash, Vec<ChangeHash>);

/// On a hub: one message's new changes, persisted and waiting to be durable.
pub(crate) struct StagedChunk {
    /// The persist that carries them.
    pub(crate) seq: u64,
    /// Who sent them.
    pub(crate) sender: PeerId,
    /// Their bytes, as stored.
    pub(crate) bytes: Vec<u8>,
    /// Each change's hash and dependencies, when every piece of `bytes` is a single change
    /// (`None` for a whole document or anything else opaque): what lets the hub relay
    /// exactly these changes without asking Automerge to rebuild them.
    pub(crate) changes: Option<Vec<ChangeDeps>>,
}

impl DocEntry {
    pub(crate) fn loading() -> Self {
        Self {
            state: DocState::Loading,
            links: BTreeMap::new(),
            persist: PersistState::default(),
            acked: BTreeMap::new(),
            staged_chunks: VecDeque::new(),
            relay_log: VecDeque::new(),
            measure: Measure::default(),
            waiting: HashSet::new(),
        }
    }

    pub(crate) fn ready(doc: Automerge) -> Self {
        let mut entry = Self::loading();
        entry.set_ready(doc);
        entry
    }

    /// Installs loaded content; everything it holds counts as durable.
    pub(crate) fn set_ready(&mut self, doc: Automerge) {
        let heads = doc.get_heads();
        self.persist.issued_heads.clone_from(&heads);
        self.persist.durable_heads = heads;
        self.state = DocState::Ready(Box::new(doc));
    }

    pub(crate) fn doc(&self) -> Option<&Automerge> {
        match &self.state {
            DocState::Ready(doc) => Some(doc),
            DocState::Loading => None,
        }
    }
}

/// Whether a document's content is in memory yet.
pub(crate) enum DocState {
    /// An [`crate::Effect::Load`] is outstanding.
    Loading,
    /// In memory.
    Ready(Box<Automerge>),
}

/// What has been handed to storage and what storage has confirmed.
#[derive(Default)]
pub(crate) struct PersistState {
    /// Heads covered by every persist issued so far (the next chunk starts after these).
    pub(crate) issued_heads: Vec<ChangeHash>,
    /// Heads covered by what storage has confirmed durable.
    pub(crate) durable_heads: Vec<ChangeHash>,
    /// The seq of the last persist issued.
    pub(crate) issued_seq: u64,
    /// The highest seq storage has confirmed.
    pub(crate) durable_seq: u64,
    /// Issued but unconfirmed persists: seq and the heads they bring us to.
    pub(crate) in_flight: VecDeque<(u64, Vec<ChangeHash>)>,
    /// On a hub: the persist of this engine's own edits that must be durable before the
    /// document is offered to peers again.
    pub(crate) local_in_flight: Option<u64>,
}

impl PersistState {
    /// The next persist's number: the one place they are issued, so they rise by one per
    /// persist of this document, as `Effect::Persist` promises.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.issued_seq += 1;
        self.issued_seq
    }

    /// Issues a persist that brings storage to `heads`: its number, recorded in flight.
    pub(crate) fn issue(&mut self, heads: Vec<ChangeHash>) -> u64 {
        let seq = self.next_seq();
        self.issued_heads.clone_from(&heads);
        self.in_flight.push_back((seq, heads));
        seq
    }
}

/// A sync message waiting, on a hub, for persist `seq` (0: none) to be durable.
pub(crate) struct Staged {
    pub(crate) message: sync::Message,
    pub(crate) seq: u64,
}

/// Sync with one peer about one document.
pub(crate) struct Link {
    pub(crate) sync: sync::State,
    /// Waiting for the stored sync state before the first message.
    pub(crate) awaiting_state: bool,
    /// Messages that arrived before the document or sync state was ready.
    pub(crate) inbox: VecDeque<sync::Message>,
    /// Messages whose changes are being made durable before they are applied (hub only).
    pub(crate) staged: VecDeque<Staged>,
    /// When we last sent or received on this link.
    pub(crate) last_activity_ms: u64,
    /// The peer sent changes we have not yet acknowledged.
    pub(crate) ack_owed: bool,
    /// The heads we last acknowledged to the peer.
    pub(crate) last_acked: Option<Vec<ChangeHash>>,
    /// The peer refused this link (or we refused its changes); do not keep resyncing.
    pub(crate) refused: bool,
    /// Our last attempt to generate a message found nothing to send (and nothing in flight).
    pub(crate) nothing_to_send: bool,
    /// Relayed messages (see `engine/relay.rs`) the peer has not yet answered. While it owes
    /// an answer to a newer message, an older answer that brings nothing needs no reply.
    pub(crate) relays_unanswered: u32,
    /// When we last relayed on this link: an answer owed for longer than the resync
    /// interval counts as lost.
    pub(crate) last_relay_ms: u64,
    /// Relays were held back from this link while an earlier one was unanswered; the
    /// answer brings it up to date in one message.
    pub(crate) behind: bool,
    /// The heads the peer said both sides agreed on when it subscribed (see
    /// [`crate::Known`]): if ours are the same when the link starts, it starts in step,
    /// with nothing sent.
    pub(crate) known: Option<Vec<ChangeHash>>,
}

impl Link {
    pub(crate) fn new(now_ms: u64, awaiting_state: bool) -> Self {
        Self {
            sync: sync::State::new(),
            awaiting_state,
            inbox: VecDeque::new(),
            staged: VecDeque::new(),
            last_activity_ms: now_ms,
            ack_owed: false,
            last_acked: None,
            refused: false,
            nothing_to_send: false,
            relays_unanswered: 0,
            last_relay_ms: 0,
            behind: false,
            known: None,
        }
    }

    /// Takes the link as having just completed an exchange at `heads`: both sides hold
    /// exactly them and each knows it. What changes later is sent as after any exchange.
    pub(crate) fn assume_in_step(&mut self, heads: Vec<ChangeHash>) {
        // `sync::State` fields edited by hand: `automerge` is pinned exactly in the workspace
        // Cargo.toml for this reason.
        self.sync.shared_heads.clone_from(&heads);
        self.sync.last_sent_heads.clone_from(&heads);
        self.sync.their_heads = Some(heads.clone());
        self.sync.their_need = Some(Vec::new());
        self.sync.their_have = Some(vec![sync::Have {
            last_sync: heads,
            bloom: sync::BloomFilter::default(),
        }]);
        self.sync.have_responded = true;
        self.sync.in_flight = false;
    }

    /// Starts a fresh exchange from nothing. Forgetting the shared heads too makes our
    /// summary start from the empty set, which the peer cannot mistake for agreement: it
    /// answers even if it believed the link settled (see `receive_sync`).
    pub(crate) fn reset(&mut self) {
        let read_only = self.sync.read_only;
        self.sync = sync::State::new();
        self.sync.read_only = read_only;
        self.relays_unanswered = 0;
        self.behind = false;
    }
}
