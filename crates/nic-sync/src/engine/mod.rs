//! The engine: state, the public API, and the bookkeeping shared by its parts.

mod apply;
mod batch;
mod caught_up;
mod incoming;
mod limits;
mod links;
mod persist;
mod relay;
mod stored;

pub use stored::Held;

use std::collections::{BTreeMap, BTreeSet};

use automerge::{Automerge, ChangeHash};
use nic_model::{DocMeta, DocumentId, NetworkId, PeerId};

use crate::doc::{DocEntry, DocState};
use crate::{
    Ctx, Effect, EngineConfig, EngineError, ErrorCode, Frame, LoadResult, Notification, Origin,
    Role, Target,
};

/// How sync with one peer about one document stands (see [`Engine::link_status`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkStatus {
    /// Our heads.
    pub our_heads: Vec<ChangeHash>,
    /// The heads the peer last reported, if it has.
    pub their_heads: Option<Vec<ChangeHash>>,
    /// The document is still loading.
    pub loading: bool,
    /// The stored sync state is still loading.
    pub awaiting_state: bool,
    /// The peer refused the link, or we refused its changes.
    pub refused: bool,
    /// We take no changes from this peer.
    pub read_only: bool,
    /// The peer takes no changes from us.
    pub peer_read_only: bool,
    /// Messages waiting for the document or sync state to load.
    pub queued: usize,
}

/// Counters of the engine's work, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Sync messages produced by a full Automerge exchange step (`generate_sync_message`).
    pub exchanges: u64,
    /// Sync messages that relayed durable changes by the fast path (see `engine/relay.rs`).
    pub fast_relays: u64,
    /// Answers from peers that needed no reply because a newer relay was still unanswered.
    pub replies_skipped: u64,
    /// Relays held back from a peer that had not answered the previous one.
    pub relays_held: u64,
    /// Held-back links brought up to date by one relay of everything since.
    pub catch_ups: u64,
    /// Sync messages carrying changes that were merged into a document (one Automerge
    /// merge each; on a replica, several that arrived together count once).
    pub merges: u64,
    /// Change chunks those merges carried.
    pub changes_merged: u64,
    /// Links that started in step because both sides stood where they last agreed, with
    /// no message exchanged.
    pub links_started_in_step: u64,
}

/// A connected peer.
#[derive(Default)]
struct PeerEntry {
    /// Documents linked with this peer.
    docs: BTreeSet<DocumentId>,
    /// Networks this peer subscribed to here.
    networks: BTreeSet<NetworkId>,
    /// Networks we subscribed to at this peer.
    local_networks: BTreeSet<NetworkId>,
    /// Its sync states are neither loaded nor saved: a peer that comes back under a new id
    /// every time (a browser tab) would otherwise leave a stored state per document behind.
    ephemeral: bool,
    /// When it last sent us anything (engine clock): a peer heard from lately is alive and
    /// working through what we sent, so relays held back from it stay held (`relay.rs`).
    last_heard_ms: u64,
}

/// The sans-IO sync engine. See the crate documentation.
pub struct Engine {
    config: EngineConfig,
    /// Metadata of every document known here, loaded or not.
    catalog: BTreeMap<DocumentId, DocMeta>,
    /// Documents by network, for network subscriptions.
    by_network: BTreeMap<NetworkId, BTreeSet<DocumentId>>,
    /// Documents in memory or loading.
    docs: BTreeMap<DocumentId, DocEntry>,
    peers: BTreeMap<PeerId, PeerEntry>,
    /// Peers subscribed to each network here.
    network_subscribers: BTreeMap<NetworkId, BTreeSet<PeerId>>,
    /// Links whose peer has not yet reported our heads: only these are visited by ticks.
    unsettled: BTreeSet<(DocumentId, PeerId)>,
    /// Documents with a failed persist to retry on the next tick.
    retry_persist: BTreeSet<DocumentId>,
    /// Subscriptions we sent and the peer has not yet answered, with when we last sent them.
    pending_subscriptions: BTreeMap<(PeerId, Target), u64>,
    /// Subscriptions we sent whose initial sync the peer has not yet said is complete
    /// (`CaughtUp`), with when we last sent them. `Subscribed` comes before the documents'
    /// first messages, so until then a link that started in step may only look settled.
    awaiting_caught_up: BTreeMap<(PeerId, Target), u64>,
    /// On a hub: answered subscriptions whose initial sync is under way, per peer.
    catching_up: BTreeMap<PeerId, Vec<caught_up::CatchUp>>,
    outbox: Vec<Effect>,
    stats: EngineStats,
}

impl Engine {
    /// A new, empty engine.
    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            catalog: BTreeMap::new(),
            by_network: BTreeMap::new(),
            docs: BTreeMap::new(),
            peers: BTreeMap::new(),
            network_subscribers: BTreeMap::new(),
            unsettled: BTreeSet::new(),
            retry_persist: BTreeSet::new(),
            pending_subscriptions: BTreeMap::new(),
            awaiting_caught_up: BTreeMap::new(),
            catching_up: BTreeMap::new(),
            outbox: Vec::new(),
            stats: EngineStats::default(),
        }
    }

    /// The configuration this engine runs with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// What the engine has done so far.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Takes the effects produced so far, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.outbox)
    }

    /// A document's content, if it is in memory.
    pub fn doc(&self, doc: &DocumentId) -> Option<&Automerge> {
        self.docs.get(doc).and_then(DocEntry::doc)
    }

    /// A document's metadata, if known here.
    pub fn meta(&self, doc: &DocumentId) -> Option<&DocMeta> {
        self.catalog.get(doc)
    }

    /// The heads a peer has acknowledged as durable for a document.
    pub fn acked_heads(&self, doc: &DocumentId, peer: &PeerId) -> Option<&[ChangeHash]> {
        self.docs.get(doc)?.acked.get(peer).map(Vec::as_slice)
    }

    /// How many of this replica's own changes to a document `peer` has not yet
    /// acknowledged as durable (`None` if the document is not in memory).
    ///
    /// Changes by other actors count as saved: a hub relays only changes it has made
    /// durable, so whatever reached us from it is already there.
    ///
    /// On a replica the hub's own heads, as its last sync message gave them, count as
    /// acknowledged too: a hub applies only durable changes, so whatever its heads cover is
    /// saved there. That settles a change whose ack was lost to a disconnect or a crash.
    pub fn pending_changes(&self, doc: &DocumentId, peer: &PeerId) -> Option<usize> {
        let entry = self.docs.get(doc)?;
        let am = entry.doc()?;
        let mut confirmed: Vec<ChangeHash> = entry.acked.get(peer).cloned().unwrap_or_default();
        if self.config.role == Role::Replica
            && let Some(theirs) = entry
                .links
                .get(peer)
                .and_then(|l| l.sync.their_heads.as_ref())
        {
            confirmed.extend(
                theirs
                    .iter()
                    .filter(|h| am.get_change_meta_by_hash(h).is_some()),
            );
        }
        let actor = am.get_actor();
        // Metadata only: `get_changes` would rebuild every unconfirmed change from the op
        // set just to count them.
        Some(
            am.get_changes_meta(&confirmed)
                .iter()
                .filter(|c| *c.actor == *actor)
                .count(),
        )
    }

    /// Restores the heads a peer acknowledged before this engine started (a replica keeps
    /// them on disk), so its pending count is right while offline. Heads already acknowledged
    /// in this run win; a document not in memory is left alone.
    pub fn restore_acked(&mut self, doc: &DocumentId, peer: &PeerId, heads: Vec<ChangeHash>) {
        let Some(entry) = self.docs.get_mut(doc) else {
            return;
        };
        let Some(am) = entry.doc() else {
            return;
        };
        let known: Vec<ChangeHash> = heads
            .into_iter()
            .filter(|h| am.get_change_meta_by_hash(h).is_some())
            .collect();
        entry.acked.entry(peer.clone()).or_insert(known);
    }

    /// Brings a stored document into memory without syncing it with anyone, e.g. for a
    /// replica that reads or edits while offline. Returns whether it is ready now; if not, an
    /// [`Effect::Load`] was issued (or one is in flight) and a [`Notification::Ready`]
    /// follows the answer.
    pub fn open(&mut self, doc: DocumentId) -> bool {
        if let Some(entry) = self.docs.get(&doc) {
            return entry.doc().is_some();
        }
        self.docs.insert(doc, DocEntry::loading());
        self.outbox.push(Effect::Load { doc });
        false
    }

    /// The heads storage has confirmed durable here for a document.
    pub fn durable_heads(&self, doc: &DocumentId) -> Option<&[ChangeHash]> {
        Some(self.docs.get(doc)?.persist.durable_heads.as_slice())
    }

    /// Documents in memory (or loading).
    pub fn loaded_docs(&self) -> impl Iterator<Item = &DocumentId> {
        self.docs.keys()
    }

    /// Links that have not reached agreement with their peer yet.
    pub fn unsettled_links(&self) -> impl Iterator<Item = &(DocumentId, PeerId)> {
        self.unsettled.iter()
    }

    /// How sync with one peer about one document stands.
    pub fn link_status(&self, doc: &DocumentId, peer: &PeerId) -> Option<LinkStatus> {
        let entry = self.docs.get(doc)?;
        let link = entry.links.get(peer)?;
        Some(LinkStatus {
            our_heads: entry.doc().map(Automerge::get_heads).unwrap_or_default(),
            their_heads: link.sync.their_heads.clone(),
            loading: entry.doc().is_none(),
            awaiting_state: link.awaiting_state,
            refused: link.refused,
            read_only: link.sync.read_only,
            peer_read_only: link.sync.is_peer_read_only(),
            queued: link.inbox.len(),
        })
    }

    /// The metadata of every document this engine knows of, by id.
    pub fn catalog(&self) -> impl Iterator<Item = &DocMeta> {
        self.catalog.values()
    }

    /// How many documents this engine knows the metadata of, in memory or not.
    pub fn catalog_len(&self) -> usize {
        self.catalog.len()
    }

    /// How many documents are in memory (or loading).
    pub fn loaded_count(&self) -> usize {
        self.docs.len()
    }

    /// Unloads idle documents — no linked peer, nothing being persisted or staged — until at
    /// most `keep` remain in memory (or no idle one is left). Returns how many were
    /// unloaded. They load again from storage when next needed.
    pub fn evict_idle(&mut self, keep: usize) -> usize {
        if self.docs.len() <= keep {
            return 0;
        }
        let excess = self.docs.len() - keep;
        let idle: Vec<DocumentId> = self
            .docs
            .iter()
            .filter(|(_, e)| {
                e.links.is_empty()
                    && e.doc().is_some()
                    && e.staged_chunks.is_empty()
                    && e.persist.in_flight.is_empty()
                    && e.persist.local_in_flight.is_none()
            })
            .map(|(id, _)| *id)
            .take(excess)
            .collect();
        for doc in &idle {
            self.docs.remove(doc);
            self.retry_persist.remove(doc);
        }
        idle.len()
    }

    /// Whether every link of this engine has reached agreement with its peer, and every
    /// subscription it made has been caught up with.
    pub fn is_settled(&self) -> bool {
        self.unsettled.is_empty()
            && self.pending_subscriptions.is_empty()
            && self.awaiting_caught_up.is_empty()
    }

    /// Records a document's metadata (at start-up from storage, or when one is created or
    /// changed elsewhere). On a hub, peers subscribed to its network that may read it are
    /// sent an announcement and start syncing it; peers that may no longer read it stop.
    pub fn catalogue(&mut self, ctx: Ctx<'_>, meta: DocMeta) {
        let id = meta.id;
        let network = meta.network.clone();
        if let Some(old) = self.catalog.insert(id, meta)
            && old.network != network
            && let Some(set) = self.by_network.get_mut(&old.network)
        {
            set.remove(&id);
        }
        self.by_network
            .entry(network.clone())
            .or_default()
            .insert(id);
        if self.config.role != Role::Hub {
            return;
        }
        // Re-check every existing link: rights may depend on the metadata that changed.
        let linked: Vec<PeerId> = self
            .docs
            .get(&id)
            .map(|e| e.links.keys().cloned().collect())
            .unwrap_or_default();
        for peer in &linked {
            self.announce(ctx, id, peer);
        }
        let subscribers: Vec<PeerId> = self
            .network_subscribers
            .get(&network)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        for peer in subscribers {
            if !linked.contains(&peer) && self.may_read(ctx, &peer, &id) {
                self.link(ctx, &peer, id, false);
            }
        }
    }

    /// Creates a document here from metadata and content (which may hold changes already).
    /// It is persisted, and on a hub announced to subscribers of its network.
    pub fn create(
        &mut self,
        ctx: Ctx<'_>,
        meta: DocMeta,
        doc: Automerge,
    ) -> Result<(), EngineError> {
        meta.validate()?;
        let id = meta.id;
        if self.docs.contains_key(&id) || self.catalog.contains_key(&id) {
            return Err(EngineError::AlreadyExists(id));
        }
        let mut doc = doc;
        if let Some(actor) = &self.config.actor {
            doc.set_actor(actor.clone());
        }
        let measure = limits::measure_created(self.config.doc_limits.as_ref(), &doc);
        let mut entry = DocEntry::ready(doc);
        entry.measure = measure;
        // Nothing is durable yet: the whole document goes to storage.
        entry.persist.issued_heads.clear();
        entry.persist.durable_heads.clear();
        self.docs.insert(id, entry);
        self.outbox.push(Effect::PutMeta(meta.clone()));
        self.catalogue(ctx, meta);
        self.persist_pending(id);
        Ok(())
    }

    /// Changes a document here. `f` may make any number of transactions; afterwards the
    /// changes are persisted and sent to every linked peer that may read them.
    pub fn edit<R>(
        &mut self,
        ctx: Ctx<'_>,
        doc: &DocumentId,
        f: impl FnOnce(&mut Automerge) -> R,
    ) -> Result<R, EngineError> {
        let entry = self.docs.get_mut(doc).ok_or(EngineError::NotLoaded(*doc))?;
        let DocState::Ready(am) = &mut entry.state else {
            return Err(EngineError::NotLoaded(*doc));
        };
        let before = am.get_heads();
        let out = f(am);
        if am.get_heads() != before {
            self.on_changed(ctx, *doc, Origin::Local);
        }
        Ok(out)
    }

    /// A peer connected. A peer that was connected already is treated as having
    /// reconnected: its old links are closed first.
    pub fn peer_connected(&mut self, ctx: Ctx<'_>, peer: PeerId) {
        self.connect_peer(ctx, peer, false);
    }

    /// [`Engine::peer_connected`] for a peer whose sync states are not kept: every link
    /// starts with a full exchange and nothing about it is stored when it closes.
    pub fn ephemeral_peer_connected(&mut self, ctx: Ctx<'_>, peer: PeerId) {
        self.connect_peer(ctx, peer, true);
    }

    fn connect_peer(&mut self, ctx: Ctx<'_>, peer: PeerId, ephemeral: bool) {
        if self.peers.contains_key(&peer) {
            self.peer_disconnected(ctx, &peer);
        }
        self.peers.insert(
            peer,
            PeerEntry {
                ephemeral,
                ..PeerEntry::default()
            },
        );
    }

    /// Whether `peer` and this engine sync `doc` now. On a hub a link exists only while the
    /// peer may read the document: a refused read or a revoked right closes it.
    pub fn is_linked(&self, doc: &DocumentId, peer: &PeerId) -> bool {
        self.docs
            .get(doc)
            .is_some_and(|e| e.links.contains_key(peer))
    }

    /// The peers syncing `doc` now.
    pub fn linked_peers(&self, doc: &DocumentId) -> impl Iterator<Item = &PeerId> {
        self.docs.get(doc).into_iter().flat_map(|e| e.links.keys())
    }

    /// Whether `peer`'s sync states are stored between its connections.
    fn keeps_state(&self, peer: &PeerId) -> bool {
        self.config.persist_sync_state && !self.peers.get(peer).is_some_and(|p| p.ephemeral)
    }

    /// A peer's rights changed (per `ctx.policy`): documents it may no longer read stop
    /// syncing, and it is told; the others go on, with the read-only flag brought up to date.
    pub fn rights_changed(&mut self, ctx: Ctx<'_>, peer: &PeerId) {
        let docs: Vec<DocumentId> = self
            .peers
            .get(peer)
            .map(|p| p.docs.iter().copied().collect())
            .unwrap_or_default();
        for doc in docs {
            if self.may_read(ctx, peer, &doc) {
                self.sync_peer(ctx, doc, peer);
            } else {
                self.revoke(doc, peer);
            }
        }
    }

    /// A peer went away: its links close and their sync state is saved.
    pub fn peer_disconnected(&mut self, _ctx: Ctx<'_>, peer: &PeerId) {
        let Some(entry) = self.peers.remove(peer) else {
            return;
        };
        self.pending_subscriptions.retain(|(p, _), _| p != peer);
        self.awaiting_caught_up.retain(|(p, _), _| p != peer);
        self.catching_up.remove(peer);
        // The entry is gone already, so drop_link cannot ask it whether to keep states.
        for doc in entry.docs {
            self.drop_link(doc, peer, !entry.ephemeral);
        }
        for network in entry.networks {
            if let Some(set) = self.network_subscribers.get_mut(&network) {
                set.remove(peer);
            }
        }
    }

    /// Asks a connected peer for documents (a replica subscribing at its hub).
    pub fn subscribe(&mut self, ctx: Ctx<'_>, peer: &PeerId, target: Target) {
        self.subscribe_known(ctx, peer, target, Vec::new());
    }

    /// [`Engine::subscribe`], saying which of the target's documents this engine holds as
    /// it last agreed with the peer: those whose heads are still the same on both sides
    /// start in step, with nothing sent either way. Give only documents unchanged here
    /// since that agreement.
    pub fn subscribe_known(
        &mut self,
        ctx: Ctx<'_>,
        peer: &PeerId,
        target: Target,
        known: Vec<crate::Known>,
    ) {
        let by_doc: std::collections::HashMap<DocumentId, &crate::Known> =
            known.iter().map(|k| (k.doc, k)).collect();
        let Some(entry) = self.peers.get_mut(peer) else {
            return;
        };
        let mark = self.outbox.len();
        match &target {
            Target::Network(network) => {
                entry.local_networks.insert(network.clone());
                let docs: Vec<DocumentId> = self
                    .by_network
                    .get(network)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default();
                for doc in docs {
                    self.link_with(ctx, peer, doc, false, by_doc.get(&doc).copied());
                }
            }
            Target::Docs(docs) => {
                for doc in docs.clone() {
                    self.link_with(ctx, peer, doc, false, by_doc.get(&doc).copied());
                }
            }
        }
        self.pending_subscriptions
            .insert((peer.clone(), target.clone()), ctx.now_ms);
        self.awaiting_caught_up
            .insert((peer.clone(), target.clone()), ctx.now_ms);
        // Subscribe goes before this call's sync messages, so the peer links first.
        self.outbox.insert(
            mark,
            Effect::Send {
                peer: peer.clone(),
                frame: Frame::Subscribe { target, known },
            },
        );
    }

    /// The answer to [`Effect::Load`].
    pub fn loaded(&mut self, ctx: Ctx<'_>, doc: DocumentId, result: LoadResult) {
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        if !matches!(entry.state, DocState::Loading) {
            return;
        }
        let loaded = match result {
            LoadResult::Found { meta, chunks } => {
                if let Some(meta) = meta
                    && !self.catalog.contains_key(&doc)
                {
                    self.catalogue(ctx, meta);
                }
                let measured =
                    limits::measure_stored(self.config.doc_limits.as_ref(), doc, &chunks);
                match measured.and_then(|m| Ok((load_chunks(&chunks)?, m))) {
                    Ok((am, m)) => {
                        let waiting = waiting_changes(&am, &chunks);
                        Ok((am, m, waiting))
                    }
                    Err(limits::Unloadable::Limit(code, message)) => Err((code, message)),
                    Err(limits::Unloadable::Corrupt(reason)) => Err((
                        ErrorCode::Internal,
                        format!(
                            "document {doc} could not be loaded: stored data is corrupt ({reason})"
                        ),
                    )),
                }
            }
            LoadResult::NotFound if self.config.role == Role::Replica => {
                Ok((Automerge::new(), Default::default(), Default::default()))
            }
            LoadResult::NotFound => Err((
                ErrorCode::NotFound,
                format!("document {doc} does not exist"),
            )),
            LoadResult::Failed(reason) => Err((
                ErrorCode::Unavailable,
                format!("document {doc} could not be loaded: {reason}; try again"),
            )),
        };
        match loaded {
            Ok((mut am, measure, waiting)) => {
                if let Some(actor) = &self.config.actor {
                    am.set_actor(actor.clone());
                }
                if let Some(entry) = self.docs.get_mut(&doc) {
                    entry.set_ready(am);
                    entry.measure = measure;
                    entry.waiting = waiting;
                }
                self.outbox
                    .push(Effect::Notify(Notification::Ready { doc }));
                let peers: Vec<PeerId> = self
                    .docs
                    .get(&doc)
                    .map(|e| e.links.keys().cloned().collect())
                    .unwrap_or_default();
                for peer in peers {
                    self.start_link(ctx, doc, &peer);
                }
            }
            Err((code, message)) => self.fail_doc(doc, code, message),
        }
    }

    /// The answer to [`Effect::LoadSyncState`].
    pub fn sync_state_loaded(
        &mut self,
        ctx: Ctx<'_>,
        peer: &PeerId,
        doc: DocumentId,
        state: Option<Vec<u8>>,
    ) {
        let Some(link) = self.docs.get_mut(&doc).and_then(|e| e.links.get_mut(peer)) else {
            return;
        };
        if !link.awaiting_state {
            return;
        }
        link.awaiting_state = false;
        // A state that does not decode is only an optimisation lost: start afresh.
        if let Some(shared) = state.and_then(|s| automerge::sync::State::decode(&s).ok()) {
            link.sync.shared_heads = shared.shared_heads;
        }
        self.start_link(ctx, doc, peer);
    }

    /// Time passed: links that have been quiet without agreement start a fresh exchange,
    /// and failed persists are retried.
    pub fn tick(&mut self, ctx: Ctx<'_>) {
        for doc in std::mem::take(&mut self.retry_persist) {
            self.persist_pending(doc);
        }
        let resend: Vec<(PeerId, Target)> = self
            .pending_subscriptions
            .iter_mut()
            .filter(|(_, sent)| ctx.now_ms.saturating_sub(**sent) >= self.config.resync_after_ms)
            .map(|((peer, target), sent)| {
                *sent = ctx.now_ms;
                (peer.clone(), target.clone())
            })
            .collect();
        // A subscription answered but never caught up with, while every link with that
        // peer has settled: the `CaughtUp` was lost. Asking again brings another.
        let unsettled = &self.unsettled;
        let pending = &self.pending_subscriptions;
        let lost: Vec<(PeerId, Target)> = self
            .awaiting_caught_up
            .iter_mut()
            .filter(|(key, sent)| {
                ctx.now_ms.saturating_sub(**sent) >= self.config.resync_after_ms
                    && !pending.contains_key(key)
                    && !unsettled.iter().any(|(_, p)| *p == key.0)
            })
            .map(|(key, sent)| {
                *sent = ctx.now_ms;
                key.clone()
            })
            .collect();
        for (peer, target) in resend.into_iter().chain(lost) {
            self.send(
                &peer,
                Frame::Subscribe {
                    target,
                    known: Vec::new(),
                },
            );
        }
        let due: Vec<(DocumentId, PeerId)> = self
            .unsettled
            .iter()
            .filter(|(doc, peer)| {
                self.docs
                    .get(doc)
                    .and_then(|e| e.links.get(peer))
                    .is_some_and(|l| {
                        ctx.now_ms.saturating_sub(l.last_activity_ms) >= self.config.resync_after_ms
                            // A busy peer's answer is on its way: a fresh exchange now
                            // would only add work for both.
                            && !self.answer_on_its_way(ctx, peer, l)
                    })
            })
            .cloned()
            .collect();
        for (doc, peer) in due {
            self.resync(ctx, doc, &peer);
        }
    }

    /// Queues a frame for a connected peer.
    fn send(&mut self, peer: &PeerId, frame: Frame) {
        if self.peers.contains_key(peer) {
            self.outbox.push(Effect::Send {
                peer: peer.clone(),
                frame,
            });
        }
    }

    /// Sends a document-level error to a peer.
    fn send_error(
        &mut self,
        peer: &PeerId,
        doc: Option<DocumentId>,
        code: ErrorCode,
        message: String,
    ) {
        self.send(peer, Frame::Error { doc, code, message });
    }

    /// Whether a peer may read a document, per the policy in force now.
    fn may_read(&self, ctx: Ctx<'_>, peer: &PeerId, doc: &DocumentId) -> bool {
        let meta = self.catalog.get(doc);
        if meta.is_none() && self.config.role == Role::Hub {
            return false;
        }
        ctx.policy.can_read(peer, doc, meta)
    }

    /// Whether a peer may change a document, per the policy in force now.
    fn may_write(&self, ctx: Ctx<'_>, peer: &PeerId, doc: &DocumentId) -> bool {
        let meta = self.catalog.get(doc);
        if meta.is_none() && self.config.role == Role::Hub {
            return false;
        }
        ctx.policy.can_write(peer, doc, meta)
    }

    /// A document's content changed: persist, tell the application, and offer the change to
    /// every linked peer.
    fn on_changed(&mut self, ctx: Ctx<'_>, doc: DocumentId, origin: Origin) {
        self.persist_pending(doc);
        let Some(entry) = self.docs.get(&doc) else {
            return;
        };
        let heads = entry.doc().map(Automerge::get_heads).unwrap_or_default();
        let peers: Vec<PeerId> = entry.links.keys().cloned().collect();
        self.outbox
            .push(Effect::Notify(Notification::Changed { doc, origin, heads }));
        for peer in peers {
            self.sync_peer(ctx, doc, &peer);
        }
    }

    /// Drops a document from memory after it failed to load or was poisoned, telling every
    /// linked peer and the application.
    fn fail_doc(&mut self, doc: DocumentId, code: ErrorCode, message: String) {
        let Some(entry) = self.docs.remove(&doc) else {
            return;
        };
        for peer in entry.links.keys() {
            self.unsettled.remove(&(doc, peer.clone()));
            if let Some(p) = self.peers.get_mut(peer) {
                p.docs.remove(&doc);
            }
            self.send_error(peer, Some(doc), code, message.clone());
            // After the error: the peer learns why before it hears it is caught up.
            self.check_caught_up(doc, peer);
        }
        self.retry_persist.remove(&doc);
        self.outbox.push(Effect::Notify(Notification::DocError {
            doc: Some(doc),
            peer: None,
            code,
            message,
        }));
    }
}

/// Loads stored chunks as one document, turning a panic inside Automerge into an error so
/// corrupt storage cannot take the process down.
/// The stored single changes a loaded document left waiting for a dependency.
fn waiting_changes(am: &Automerge, chunks: &[Vec<u8>]) -> std::collections::HashSet<ChangeHash> {
    let mut waiting = std::collections::HashSet::new();
    if automerge::ReadDoc::get_missing_deps(am, &[]).is_empty() {
        return waiting; // nothing is queued
    }
    for chunk in chunks {
        for (kind, piece) in crate::chunks::split(chunk).unwrap_or_default() {
            if kind == crate::chunks::ChunkKind::Change
                && let Ok(Ok(change)) =
                    std::panic::catch_unwind(|| automerge::Change::try_from(piece))
                && am.get_change_meta_by_hash(&change.hash()).is_none()
            {
                waiting.insert(change.hash());
            }
        }
    }
    waiting
}

fn load_chunks(chunks: &[Vec<u8>]) -> Result<Automerge, limits::Unloadable> {
    let bytes = chunks.concat();
    match std::panic::catch_unwind(|| Automerge::load(&bytes)) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err(limits::Unloadable::Corrupt(e.to_string())),
        Err(_) => Err(limits::Unloadable::Corrupt(
            "the decoder panicked".to_owned(),
        )),
    }
}
