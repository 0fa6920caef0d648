//! The replica's background task: owns the sync engine, the local store and the stream to
//! the hub, and reconnects on its own.
//!
//! Every command is handled to completion before the next, so an edit is in the store and
//! flushed before its caller hears back.

mod authors;
mod commands;
mod conn;
mod defer;
mod effects;
mod run;
mod status;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Instant, SystemTime};

use nic_model::{DocMeta, DocumentId, PeerId};
use nic_proto::convert;
use nic_proto::v1::{self, documents_client::DocumentsClient};
use std::sync::Arc;

use nic_runtime::{ReplicaRuntime, Time};
use nic_store::{ListFilter, Store, StoreError};
use nic_sync::automerge::{Automerge, ChangeHash};
use nic_sync::{EngineConfig, Notification, Target};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub(crate) use crate::hub::link::Link;

use crate::device::Device;
use crate::events::{ChangeEvent, ChangeInfo};
use crate::status::{DocStatus, Status, WireStats};
use crate::{Backoff, ClientError, Refusal};
use authors::Resolve;
use conn::Conn;

pub(crate) type EditFn = Box<dyn FnOnce(&mut Automerge) -> Result<(), ClientError> + Send>;
pub(crate) type ReadFn = Box<dyn FnOnce(&Automerge) + Send>;
/// Called once for each document of a [`Cmd::ReadEach`], in order: with it if held here.
pub(crate) type ReadEachFn = Box<dyn FnMut(Option<(&DocMeta, &Automerge)>) + Send>;
type Reply<T> = oneshot::Sender<T>;

/// What a [`crate::Client`] asks of its task.
pub(crate) enum Cmd {
    Subscribe(Target, Reply<Result<(), ClientError>>),
    Create(DocMeta, Box<Automerge>, Reply<Result<(), ClientError>>),
    Edit(DocumentId, EditFn, Reply<Result<(), ClientError>>),
    Read(DocumentId, ReadFn, Reply<bool>),
    /// Reads several documents in one visit (their loads go to storage together).
    ReadEach(Vec<DocumentId>, ReadEachFn, Reply<()>),
    List(ListFilter, Reply<Result<Vec<DocMeta>, ClientError>>),
    Meta(DocumentId, Reply<Option<DocMeta>>),
    Acked(DocumentId, Reply<Option<Vec<ChangeHash>>>),
    Pending(DocumentId, Reply<Option<usize>>),
    /// Answered once every change made here to the document is durable on the hub, or
    /// the hub refused it.
    WaitSaved(DocumentId, Reply<Result<(), ClientError>>),
    DocStatus(DocumentId, Reply<Option<DocStatus>>),
    Status(Reply<Status>),
    /// Whether the hub said the subscription has caught up on this connection.
    CaughtUp(Target, Reply<bool>),
    Stats(Reply<nic_sync::EngineStats>),
    Wire(Reply<WireStats>),
    Offline(Reply<()>),
    /// Connect now (again); answered when the attempt ends.
    Connect(Reply<Result<(), ClientError>>),
    /// Save sync states and flush, then stop.
    Close(Reply<()>),
    /// Every change of a document held here, oldest first, authors named (answered by the
    /// author resolver, which may ask the hub).
    History(DocumentId, Reply<Result<Vec<ChangeInfo>, ClientError>>),
}

impl Cmd {
    /// Which held news must be merged before it is handled: `Some(Some(doc))` that
    /// document's, `Some(None)` everything's, `None` nothing.
    fn needs_news(&self) -> Option<Option<DocumentId>> {
        match self {
            // An edit does not wait for held news: made on what the replica has merged,
            // it is concurrent with them, as with news still on the wire.
            Cmd::Read(doc, ..)
            | Cmd::Meta(doc, ..)
            | Cmd::Acked(doc, ..)
            | Cmd::Pending(doc, ..)
            | Cmd::WaitSaved(doc, ..)
            | Cmd::DocStatus(doc, ..)
            | Cmd::History(doc, ..) => Some(Some(*doc)),
            Cmd::Subscribe(..)
            | Cmd::ReadEach(..)
            | Cmd::Offline(..)
            | Cmd::Connect(..)
            | Cmd::Close(..) => Some(None),
            _ => None,
        }
    }

    /// Whether handling it can change what [`crate::Status`] says (reads cannot).
    fn may_change_status(&self) -> bool {
        matches!(
            self,
            Cmd::Subscribe(..)
                | Cmd::Create(..)
                | Cmd::Edit(..)
                | Cmd::Offline(..)
                | Cmd::Connect(..)
                | Cmd::Close(..)
        )
    }
}

/// What spawned work reports back.
enum Internal {
    Connected(u64, Result<Box<Conn>, ClientError>),
    Created(DocumentId, Result<Vec<ChangeHash>, tonic::Status>),
}

/// Most frames handled in one go.
const MAX_BATCH: usize = 512;

/// The hub's peer id, as this replica's engine knows it.
fn hub_peer() -> PeerId {
    PeerId::new("hub").unwrap_or_else(|_| unreachable!("a valid literal id"))
}

pub(crate) struct Task {
    /// The engine and what it asked for (`nic_runtime`): the replica's one effect loop.
    rt: ReplicaRuntime,
    /// Only ever called on the blocking pool (`effects.rs`), never on an async worker —
    /// unless it is in memory, where a call never blocks and a trip to the pool would cost
    /// more than the call.
    store: Arc<dyn Store>,
    in_memory: bool,
    device: Device,
    hub: Link,
    backoff: Backoff,
    conn: Option<Conn>,
    /// The last problem the hub reported per document (a refused change, say), with its
    /// reason, until it next acknowledges the document.
    problems: BTreeMap<DocumentId, (Refusal, String)>,
    /// How many of this replica's changes the hub has not confirmed, per document with
    /// changes waiting: kept up to date as acks and edits come (`status.rs`), so the
    /// overall status is a sum, not a walk of every such document's changes.
    pending: HashMap<DocumentId, usize>,
    /// `Client::wait_saved` callers, per document.
    saved_waiters: HashMap<DocumentId, Vec<Reply<Result<(), ClientError>>>>,
    /// The application took the replica offline: no reconnecting until it asks.
    paused: bool,
    /// Number of the current connection attempt, if one runs; older results are stale.
    attempt: Option<u64>,
    attempts: u64,
    failures: u32,
    next_attempt: Option<Instant>,
    last_error: Option<String>,
    connect_waiters: Vec<Reply<Result<(), ClientError>>>,
    /// Documents being created on the hub right now.
    creating: BTreeSet<DocumentId>,
    /// Subscriptions the hub said have caught up on the current connection.
    caught_up: BTreeSet<Target>,
    last_heads: HashMap<DocumentId, Vec<ChangeHash>>,
    last_ack: BTreeMap<DocumentId, SystemTime>,
    save_error: Option<StoreError>,
    wire: WireStats,
    events: broadcast::Sender<Notification>,
    /// The change stream's sender, to see whether anyone listens (working out a change's
    /// authors and messages costs a walk of the new changes).
    changes: broadcast::Sender<ChangeEvent>,
    status_tx: watch::Sender<Status>,
    /// Something happened that may change the published status.
    status_stale: bool,
    /// Whether every link agreed with the hub when the status was last published.
    settled: bool,
    /// Sync messages held back while the replica is behind (`defer.rs`).
    deferred: defer::Deferred,
    resolver: mpsc::UnboundedSender<Resolve>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: mpsc::UnboundedReceiver<Internal>,
    started: Instant,
}

/// Everything [`start`] needs.
pub(crate) struct Setup {
    pub(crate) store: Arc<dyn Store>,
    /// The store is in memory: its calls never block, so they run inline.
    pub(crate) in_memory: bool,
    pub(crate) device: Device,
    pub(crate) hub: Link,
    pub(crate) backoff: Backoff,
    pub(crate) events: broadcast::Sender<Notification>,
    pub(crate) changes: broadcast::Sender<ChangeEvent>,
    pub(crate) status: watch::Sender<Status>,
    /// Connect at once (else the first attempt waits for [`Cmd::Connect`]).
    pub(crate) connect: bool,
}

/// Opens the replica from its store (without waiting for the hub) and starts its task.
pub(crate) async fn start(setup: Setup) -> Result<mpsc::Sender<Cmd>, ClientError> {
    let mut config = EngineConfig::replica();
    config.persist_sync_state = true;
    config.resync_after_ms = 2_000;
    config.actor = Some(setup.device.actor.clone());
    let mut rt = ReplicaRuntime::new(config, hub_peer());
    let started = Instant::now();
    let filter = ListFilter {
        include_archived: true,
        ..ListFilter::default()
    };
    let store = setup.store.clone();
    let metas = tokio::task::spawn_blocking(move || store.list(&filter))
        .await
        .map_err(|e| ClientError::Protocol(format!("opening the replica failed: {e}")))??;
    rt.with_engine(Time::default(), |engine, ctx| {
        for meta in metas {
            engine.catalogue(ctx, meta);
        }
    });
    let (resolver, resolver_rx) = mpsc::unbounded_channel();
    let changes = setup.changes.clone();
    // Our own actor's member is known from the last Welcome, so our changes are named
    // before (or without) a connection.
    if let Some((member, _)) = &setup.device.member {
        let _ = resolver.send(Resolve::Known(setup.device.actor.clone(), member.clone()));
    }
    tokio::spawn(authors::run(setup.hub.clone(), resolver_rx, setup.changes));
    let (internal_tx, internal_rx) = mpsc::unbounded_channel();
    let mut task = Task {
        rt,
        store: setup.store,
        in_memory: setup.in_memory,
        device: setup.device,
        hub: setup.hub,
        backoff: setup.backoff,
        conn: None,
        problems: BTreeMap::new(),
        pending: HashMap::new(),
        saved_waiters: HashMap::new(),
        paused: !setup.connect,
        attempt: None,
        attempts: 0,
        failures: 0,
        next_attempt: None,
        last_error: None,
        connect_waiters: Vec::new(),
        creating: BTreeSet::new(),
        caught_up: BTreeSet::new(),
        last_heads: HashMap::new(),
        last_ack: BTreeMap::new(),
        save_error: None,
        wire: WireStats::default(),
        events: setup.events,
        changes,
        status_tx: setup.status,
        status_stale: true,
        settled: false,
        deferred: defer::Deferred::default(),
        resolver,
        internal_tx,
        internal_rx,
        started,
    };
    // What waits to be sent is counted from the start, so load it now.
    let waiting: Vec<DocumentId> = task
        .device
        .dirty
        .iter()
        .chain(task.device.unsent.iter())
        .copied()
        .collect();
    task.rt.with_engine(Time::default(), |engine, _| {
        for doc in waiting {
            engine.open(doc);
        }
    });
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        task.settle().await;
        if !task.paused {
            task.start_attempt();
        }
        task.publish_status();
        task.run(rx).await;
    });
    Ok(tx)
}

impl Task {
    /// The time now, on the engine's clock and the wall clock.
    fn now(&self) -> Time {
        let wall_ms = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Time {
            engine_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            wall_ms,
        }
    }

    /// Starts a connection attempt in the background.
    fn start_attempt(&mut self) {
        self.attempts += 1;
        let n = self.attempts;
        self.attempt = Some(n);
        self.next_attempt = None;
        let hub = self.hub.clone();
        let peer = self.device.peer.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let result = conn::open(hub, peer).await;
            let _ = tx.send(Internal::Connected(n, result.map(Box::new)));
        });
    }

    /// The stream is up: link the subscriptions, send what waits.
    async fn connected(&mut self, conn: Conn) {
        self.wire.connects += 1;
        self.wire.frames_sent += 1;
        self.wire.frames_received += 1;
        self.wire.bytes_sent += conn.handshake_bytes.0;
        self.wire.bytes_received += conn.handshake_bytes.1;
        if let Some(member) = &conn.member {
            let _ = self
                .resolver
                .send(Resolve::Known(self.device.actor.clone(), member.id.clone()));
            let now = Some((member.id.clone(), member.grants.clone()));
            if self.device.member != now {
                self.device.member = now;
                if let Err(e) = self.device.save() {
                    tracing::warn!(error = %e, "cannot record the member's roles");
                }
            }
        }
        self.conn = Some(conn);
        // Each connection subscribes afresh: its catch-up is told anew.
        self.caught_up.clear();
        self.failures = 0;
        self.last_error = None;
        let mut subscriptions = Vec::new();
        for target in self.device.subscriptions.clone() {
            let known = self.known_for(&target).await;
            subscriptions.push((target, known));
        }
        let t = self.now();
        self.rt.with_engine(t, |engine, ctx| {
            engine.peer_connected(ctx, hub_peer());
            for (target, known) in subscriptions {
                engine.subscribe_known(ctx, &hub_peer(), target, known);
            }
        });
        self.settle().await;
        self.push_unsent().await;
        for waiter in self.connect_waiters.drain(..) {
            let _ = waiter.send(Ok(()));
        }
    }

    /// The documents of `target` held here unchanged since they last agreed with the hub,
    /// at the heads of that agreement (from the saved sync state): the hub and this replica
    /// say nothing about those that have not changed on the hub either.
    async fn known_for(&self, target: &Target) -> Vec<nic_sync::Known> {
        let candidates: Vec<DocumentId> = match target {
            Target::Docs(docs) => docs.clone(),
            Target::Network(network) => self
                .rt
                .engine()
                .catalog()
                .filter(|m| m.network == *network)
                .map(|m| m.id)
                .collect(),
        };
        let docs: Vec<DocumentId> = candidates
            .into_iter()
            .filter(|d| !self.device.dirty.contains(d) && !self.device.unsent.contains(d))
            .collect();
        // The saved sync states, read on the blocking pool.
        let store = self.store.clone();
        let states = tokio::task::spawn_blocking(move || {
            docs.into_iter()
                .filter_map(|doc| Some((doc, store.sync_state(&hub_peer(), &doc).ok().flatten()?)))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        states
            .into_iter()
            .filter_map(|(doc, state)| {
                let meta = self.rt.engine().meta(&doc)?;
                let heads = nic_sync::automerge::sync::State::decode(&state)
                    .ok()?
                    .shared_heads;
                (!heads.is_empty()).then(|| nic_sync::Known {
                    doc,
                    heads,
                    meta_digest: meta.fingerprint(),
                })
            })
            .collect()
    }

    /// An attempt failed or the stream broke: wait, then try again (unless paused).
    fn lost(&mut self, reason: String) {
        // What was held is merged while the link still stands.
        self.merge_held(None);
        self.status_stale = true;
        if self.conn.is_some() {
            self.conn = None;
            self.caught_up.clear();
            let t = self.now();
            // Saves every link's sync state, so the next connection resumes.
            self.rt
                .with_engine(t, |engine, ctx| engine.peer_disconnected(ctx, &hub_peer()));
        }
        self.attempt = None;
        self.failures = self.failures.saturating_add(1);
        self.last_error = Some(reason);
        if !self.paused {
            let delay = self.backoff.delay(self.failures, rand::random::<f64>());
            tracing::info!(?delay, reason = ?self.last_error, "offline; reconnecting later");
            self.next_attempt = Some(Instant::now() + delay);
        }
    }

    /// Brings a known document into memory; whether it is there now.
    async fn ensure_loaded(&mut self, doc: DocumentId) -> bool {
        let t = self.now();
        if !self.rt.with_engine(t, |engine, _| engine.open(doc)) {
            self.settle().await;
        }
        self.rt.engine().doc(&doc).is_some()
    }

    /// Brings the known documents among `docs` into memory, their loads issued together.
    async fn ensure_all_loaded(&mut self, docs: &[DocumentId]) {
        let t = self.now();
        let mut loading = false;
        for doc in docs {
            if self.knows(doc) && !self.rt.with_engine(t, |engine, _| engine.open(*doc)) {
                loading = true;
            }
        }
        if loading {
            self.settle().await;
        }
    }

    /// Offers the hub every document created here that it has not accepted yet.
    async fn push_unsent(&mut self) {
        if self.conn.is_none() {
            return;
        }
        for doc in self.device.unsent.clone() {
            if self.creating.contains(&doc) {
                continue;
            }
            let Some(meta) = self.rt.engine().meta(&doc).cloned() else {
                // Recorded as unsent, then a crash before it was stored: nothing to offer.
                self.device.unsent.retain(|d| *d != doc);
                self.device.dirty.remove(&doc);
                if let Err(e) = self.device.save() {
                    tracing::warn!(error = %e, "cannot update the replica record");
                }
                continue;
            };
            if !self.ensure_loaded(doc).await {
                continue;
            }
            let Some(bytes) = self.rt.engine().doc(&doc).map(Automerge::save) else {
                continue;
            };
            self.creating.insert(doc);
            let wire = convert::meta_to_wire(&meta);
            let request = v1::CreateDocumentRequest {
                kind: wire.kind,
                network_id: wire.network_id,
                site_id: wire.site_id,
                visibility: wire.visibility,
                title: wire.title,
                initial: Some(bytes),
                doc_id: wire.doc_id,
            };
            let hub = self.hub.clone();
            let tx = self.internal_tx.clone();
            tokio::spawn(async move {
                let mut client = DocumentsClient::with_interceptor(hub.channel, hub.bearer);
                let result = match client.create(request).await {
                    // What the hub stored is durable there: as good as an ack.
                    Ok(reply) => {
                        Ok(convert::heads("heads", &reply.into_inner().heads).unwrap_or_default())
                    }
                    // Created before a crash or a lost answer: it is there, and sync will
                    // show which changes it holds.
                    Err(s) if s.code() == tonic::Code::AlreadyExists => Ok(Vec::new()),
                    Err(s) => Err(s),
                };
                let _ = tx.send(Internal::Created(doc, result));
            });
        }
    }

    async fn on_internal(&mut self, msg: Internal) {
        match msg {
            Internal::Connected(n, result) => {
                if self.attempt != Some(n) {
                    return; // the application went offline meanwhile
                }
                self.attempt = None;
                match result {
                    Ok(conn) => self.connected(*conn).await,
                    Err(e) => {
                        let reason = e.to_string();
                        // The first waiter gets the error itself, typed; others its text.
                        let mut first = Some(e);
                        for waiter in self.connect_waiters.drain(..) {
                            let err = first
                                .take()
                                .unwrap_or_else(|| ClientError::Protocol(reason.clone()));
                            let _ = waiter.send(Err(err));
                        }
                        self.lost(reason);
                    }
                }
            }
            Internal::Created(doc, result) => {
                self.creating.remove(&doc);
                match result {
                    Ok(heads) => {
                        self.device.unsent.retain(|d| *d != doc);
                        if !heads.is_empty() {
                            let t = self.now();
                            self.rt.with_engine(t, |engine, ctx| {
                                engine.receive(
                                    ctx,
                                    &hub_peer(),
                                    nic_sync::Frame::Ack { doc, heads },
                                )
                            });
                        }
                        let covered = self.rt.engine().meta(&doc).is_some_and(|m| {
                            self.device
                                .subscriptions
                                .contains(&Target::Network(m.network.clone()))
                        });
                        if !covered {
                            self.device.subscriptions.push(Target::Docs(vec![doc]));
                            if self.conn.is_some() {
                                let t = self.now();
                                self.rt.with_engine(t, |engine, ctx| {
                                    engine.subscribe(ctx, &hub_peer(), Target::Docs(vec![doc]))
                                });
                            }
                        }
                        if let Err(e) = self.device.save() {
                            tracing::warn!(error = %e, "cannot record a created document");
                        }
                        self.refresh_pending(doc);
                    }
                    Err(status) => {
                        tracing::warn!(%doc, %status, "the hub refused a document created here");
                        let message = format!(
                            "the hub did not accept document {doc} created here: {}; it stays in this replica and is offered again on the next connection",
                            status.message()
                        );
                        let refusal = Refusal::from(status.code());
                        self.problems.insert(doc, (refusal, message.clone()));
                        self.refuse_saved(doc, refusal, &message);
                        let _ = self.events.send(Notification::DocError {
                            doc: Some(doc),
                            peer: Some(hub_peer()),
                            code: error_code(status.code()),
                            message,
                        });
                    }
                }
            }
        }
    }
}

/// The sync protocol's code for a refused call, so a refused creation reads like any other
/// refusal on the change events.
fn error_code(code: tonic::Code) -> nic_sync::ErrorCode {
    use nic_sync::ErrorCode;
    match code {
        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => ErrorCode::PermissionDenied,
        tonic::Code::NotFound => ErrorCode::NotFound,
        tonic::Code::InvalidArgument
        | tonic::Code::FailedPrecondition
        | tonic::Code::OutOfRange
        | tonic::Code::AlreadyExists => ErrorCode::InvalidArgument,
        tonic::Code::ResourceExhausted => ErrorCode::ResourceExhausted,
        tonic::Code::Unavailable | tonic::Code::Aborted | tonic::Code::DeadlineExceeded => {
            ErrorCode::Unavailable
        }
        _ => ErrorCode::Internal,
    }
}

/// How a program should read a sync-protocol refusal.
pub(crate) fn refusal_of(code: nic_sync::ErrorCode) -> Refusal {
    use nic_sync::ErrorCode;
    match code {
        ErrorCode::InvalidArgument => Refusal::Invalid,
        ErrorCode::NotFound => Refusal::NotFound,
        ErrorCode::PermissionDenied => Refusal::PermissionDenied,
        ErrorCode::ResourceExhausted | ErrorCode::Unavailable => Refusal::Busy,
        ErrorCode::Internal => Refusal::Internal,
    }
}
