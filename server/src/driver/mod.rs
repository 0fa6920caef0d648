//! The engine task: the hub's tokio adapter around `nic_runtime::HubRuntime`, which owns
//! the sync engine, the rights in force and the write group, and carries out the engine's
//! effects. This task feeds it what the streams, the directory and storage report, and
//! carries out its outputs. One task, so the runtime needs no lock. No storage call runs
//! here: document reads run on the blocking pool, write groups on the writer thread (one
//! flush per batch of groups), and directory reads (a stream's rights before its Welcome, a
//! member or token after a directory event) on one reader thread, in the order asked, so
//! rights are applied in the engine's own order of events.

pub(crate) mod outbound;
mod shared;
mod storage;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nic_model::{DocMeta, DocumentId, PeerId};
use nic_model::{Member, MemberId, TokenId, TokenRecord};
use nic_proto::convert;
use nic_proto::v1;
use nic_runtime::storage::{Committed, ReadDone};
use nic_runtime::{Current, HubRuntime, Output, Refusal, Time};
use nic_store::Directory;
use nic_store::{Durability, ListFilter, Store, StoreError};
use nic_sync::{EngineConfig, Frame, Notification};
use storage::{DirRead, Job};
use tokio::sync::{mpsc, oneshot};
use tonic::Status;

use crate::config::{Config, DurabilityMode};
use crate::metrics::Metrics;
use crate::status;
pub(crate) use outbound::{Outbound, OutboundStream};

/// How often the engine's timers run.
const TICK: Duration = Duration::from_millis(500);

/// Requests from the gRPC services to the engine task.
pub(crate) enum Command {
    /// A stream said Hello, authenticated as `member` with `token` when the call arrived.
    /// The engine task reads both again from the directory before it welcomes the client:
    /// the directory may have changed while the stream waited for Hello.
    Connect {
        peer: PeerId,
        conn: u64,
        outbound: Outbound,
        member: MemberId,
        token: TokenId,
        /// The Welcome to send, but for the member record (filled in from the directory).
        welcome: v1::Welcome,
    },
    /// A stream ended.
    Disconnect { peer: PeerId, conn: u64 },
    /// A frame arrived on a stream; `held` is its bytes' worth of the member's inbound
    /// budget, given back once the engine has taken the frame.
    Frame {
        peer: PeerId,
        conn: u64,
        frame: Frame,
        held: tokio::sync::OwnedSemaphorePermit,
    },
    /// A frame could not be understood: tell the client, keep the stream.
    BadFrame {
        peer: PeerId,
        conn: u64,
        message: String,
    },
    /// End a stream with a status.
    Close {
        peer: PeerId,
        conn: u64,
        status: Status,
    },
    /// A WebSocket peer's ephemeral message about `doc`, to relay to the document's other
    /// WebSocket peers: only if the sender syncs the document now, and only to peers that do
    /// (a link exists only while its peer may read the document).
    Ephemeral {
        peer: PeerId,
        conn: u64,
        message: Box<outbound::EphemeralOut>,
    },
    /// Flush, acknowledge what can be, close every stream, stop.
    Shutdown(oneshot::Sender<()>),
}

impl Command {
    /// The stream a command is about, once it has said Hello (`None` for Connect and
    /// Shutdown).
    fn stream(&self) -> Option<(&PeerId, u64)> {
        match self {
            Command::Disconnect { peer, conn }
            | Command::Frame { peer, conn, .. }
            | Command::BadFrame { peer, conn, .. }
            | Command::Ephemeral { peer, conn, .. }
            | Command::Close { peer, conn, .. } => Some((peer, *conn)),
            Command::Connect { .. } | Command::Shutdown(_) => None,
        }
    }
}

/// Changes the hub's services committed, which open streams must follow. Sent on an
/// unbounded channel right after the commit (from the blocking pool, where the write ran),
/// so a caller that gives up on its request cannot keep them from the engine task.
#[derive(Debug)]
pub(crate) enum Event {
    /// A member was added, changed or removed in the directory: re-read their roles; end
    /// their streams if they are gone.
    MemberChanged(MemberId),
    /// A token was changed (revoked): re-read it; end the streams opened with it unless it
    /// is still valid.
    TokenChanged(TokenId),
    /// A document was created or its metadata changed (here, or by another hub sharing
    /// the database).
    Catalogue(DocMeta),
    /// Another hub sharing the database made these chunks of a document durable.
    Stored(DocumentId, Vec<nic_store::ChunkSeq>),
    /// What other hubs stored may have been missed: read again whatever is held, and
    /// re-check the rights of every open stream.
    Resync,
}

/// Completions of blocking work done for the engine task.
pub(crate) enum Internal {
    /// A storage read.
    Read(ReadDone),
    /// A write group committed.
    Committed(Committed),
    /// A stream's rights, read before it is welcomed.
    ConnectRead(Box<PendingConnect>, Result<Current, Refusal>),
    /// A member's record after a directory event.
    MemberRead(MemberId, Result<Option<Member>, String>),
    /// A token's record after a directory event.
    TokenRead(TokenId, Result<Option<TokenRecord>, String>),
}

/// A stream that said Hello, waiting for the directory reader to confirm its rights.
pub(crate) struct PendingConnect {
    peer: PeerId,
    conn: u64,
    outbound: Outbound,
    pub(crate) member: MemberId,
    pub(crate) token: TokenId,
    welcome: v1::Welcome,
}

/// A cloneable handle to the engine task.
#[derive(Clone)]
pub(crate) struct HubHandle {
    commands: mpsc::Sender<Command>,
    events: mpsc::UnboundedSender<Event>,
    next_conn: Arc<AtomicU64>,
}

impl HubHandle {
    /// A number unique to one stream, so a late message from an old stream of the same peer
    /// cannot affect its newer one.
    pub(crate) fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a command; waits when the engine is busy (backpressure on the caller).
    pub(crate) async fn send(&self, command: Command) -> Result<(), Status> {
        self.commands
            .send(command)
            .await
            .map_err(|_| Status::unavailable("the hub is shutting down; reconnect later"))
    }

    /// Tells the engine task of a committed change. Never waits, so it can be called from
    /// the blocking closure that made the commit.
    pub(crate) fn notify(&self, event: Event) {
        if self.events.send(event).is_err() {
            tracing::debug!(
                "the engine task has stopped; a directory or catalogue event is dropped"
            );
        }
    }
}

struct Driver {
    runtime: HubRuntime,
    store: Arc<dyn Store>,
    peers: HashMap<PeerId, (u64, Outbound)>,
    /// Streams waiting for the directory reader, and the frames that arrived meanwhile.
    connecting: HashMap<PeerId, (u64, Vec<Command>)>,
    writes: Option<std::sync::mpsc::Sender<Job>>,
    reads: Option<std::sync::mpsc::Sender<DirRead>>,
    internal: mpsc::UnboundedSender<Internal>,
    metrics: Arc<Metrics>,
    max_loaded_docs: usize,
    /// How long a client may take nothing from its queue while frames wait.
    slow_reader_timeout: Duration,
    started: Instant,
    /// Hears what other hubs sharing the database store (stops when dropped).
    _listening: Option<nic_store::Listening>,
}

/// Starts the engine task, the storage writer and the directory reader over `store`.
pub(crate) async fn start(
    store: Arc<dyn Store>,
    directory: Arc<dyn Directory>,
    config: &Config,
    metrics: Arc<Metrics>,
) -> Result<(HubHandle, tokio::task::JoinHandle<()>), StoreError> {
    let mut runtime = HubRuntime::new(EngineConfig {
        max_changes_per_message: config.max_changes_per_message,
        max_docs_per_subscription: config.max_docs_per_subscription,
        doc_limits: Some(config.doc_limits()),
        ..EngineConfig::hub()
    });
    let started = Instant::now();
    // Heard before the catalogue is read: a document another hub creates meanwhile is in
    // one or the other (or both: the task skips what it knows).
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let listening = shared::listen(store.clone(), events_tx.clone()).await?;
    let everything = ListFilter {
        include_archived: true,
        ..ListFilter::default()
    };
    let lister = store.clone();
    let metas = tokio::task::spawn_blocking(move || {
        nic_store::guard::may_block(|| lister.list(&everything))
    })
    .await
    .map_err(|e| StoreError::Io {
        path: config.data_dir.clone(),
        source: std::io::Error::other(e.to_string()),
    })??;
    for meta in metas {
        runtime.catalogue(Time::default(), meta);
    }
    let (internal_tx, internal_rx) = mpsc::unbounded_channel();
    let (writes_tx, writes_rx) = std::sync::mpsc::channel();
    let (reads_tx, reads_rx) = std::sync::mpsc::channel();
    let durability = match config.durability {
        DurabilityMode::Process => Durability::Process,
        DurabilityMode::PowerSafe => Durability::PowerSafe,
    };
    let spawn_error = |source| StoreError::Io {
        path: config.data_dir.clone(),
        source,
    };
    let writer = {
        let (store, directory, done, metrics) = (
            store.clone(),
            directory.clone(),
            internal_tx.clone(),
            metrics.clone(),
        );
        std::thread::Builder::new()
            .name("nic-hub-writer".into())
            .spawn(move || {
                storage::write_loop(store, directory, writes_rx, done, durability, metrics)
            })
            .map_err(spawn_error)?
    };
    let reader = {
        let done = internal_tx.clone();
        std::thread::Builder::new()
            .name("nic-hub-reader".into())
            .spawn(move || storage::read_loop(directory, reads_rx, done))
            .map_err(spawn_error)?
    };
    let (commands_tx, commands_rx) = mpsc::channel(4096);
    let driver = Driver {
        runtime,
        store,
        peers: HashMap::new(),
        connecting: HashMap::new(),
        writes: Some(writes_tx),
        reads: Some(reads_tx),
        internal: internal_tx,
        metrics,
        max_loaded_docs: config.max_loaded_docs,
        slow_reader_timeout: config.slow_reader_timeout,
        started,
        _listening: listening,
    };
    let task = tokio::spawn(driver.run(commands_rx, events_rx, internal_rx, [writer, reader]));
    Ok((
        HubHandle {
            commands: commands_tx,
            events: events_tx,
            next_conn: Arc::new(AtomicU64::new(1)),
        },
        task,
    ))
}

impl Driver {
    /// The time now, on the engine's clock and the wall clock.
    fn now(&self) -> Time {
        Time {
            engine_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            wall_ms: crate::auth::now_ms(),
        }
    }

    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut events: mpsc::UnboundedReceiver<Event>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
        threads: [std::thread::JoinHandle<()>; 2],
    ) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                Some(done) = internal.recv() => self.on_internal(done),
                Some(event) = events.recv() => self.on_event(event),
                command = commands.recv() => match command {
                    Some(Command::Shutdown(reply)) => {
                        self.shutdown(&mut internal, threads).await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.on_command(command),
                    None => {
                        self.shutdown(&mut internal, threads).await;
                        return;
                    }
                },
                _ = tick.tick() => {
                    let t = self.now();
                    self.runtime.tick(t);
                    self.end_stalled_streams();
                    let evicted = self.runtime.evict_idle(self.max_loaded_docs);
                    Metrics::add(&self.metrics.evictions, evicted as u64);
                }
            }
            self.dispatch();
        }
    }

    fn on_command(&mut self, command: Command) {
        // Whatever arrives for a stream whose rights are being read waits with it, in order
        // (a Close carries the status the client must see).
        if let Some((peer, conn)) = command.stream()
            && self.is_connecting(peer, conn)
        {
            let peer = peer.clone();
            self.hold(&peer, command);
            return;
        }
        match command {
            Command::Connect {
                peer,
                conn,
                outbound,
                member,
                token,
                welcome,
            } => {
                self.connecting.insert(peer.clone(), (conn, Vec::new()));
                self.read_directory(DirRead::Connect(Box::new(PendingConnect {
                    peer,
                    conn,
                    outbound,
                    member,
                    token,
                    welcome,
                })));
            }
            Command::Disconnect { peer, conn } => {
                if self.is_current(&peer, conn) {
                    self.drop_peer(&peer, None);
                }
            }
            Command::Frame {
                peer,
                conn,
                frame,
                held: _held,
            } => {
                if self.is_current(&peer, conn) {
                    let t = self.now();
                    self.runtime.receive(t, &peer, frame);
                }
            }
            Command::BadFrame {
                peer,
                conn,
                message,
            } => {
                if self.is_current(&peer, conn) {
                    let frame = Frame::Error {
                        doc: None,
                        code: nic_sync::ErrorCode::InvalidArgument,
                        message,
                    };
                    self.send(&peer, frame);
                }
            }
            Command::Close { peer, conn, status } => {
                if self.is_current(&peer, conn) {
                    self.drop_peer(&peer, Some(status));
                }
            }
            Command::Ephemeral {
                peer,
                conn,
                message,
            } => {
                if self.is_current(&peer, conn) {
                    self.relay_ephemeral(&peer, *message);
                }
            }
            Command::Shutdown(_) => {}
        }
    }

    fn read_directory(&mut self, read: DirRead) {
        if let Some(reads) = &self.reads
            && reads.send(read).is_err()
        {
            tracing::error!("the directory reader has stopped; rights cannot be checked");
        }
    }

    fn is_connecting(&self, peer: &PeerId, conn: u64) -> bool {
        self.connecting.get(peer).is_some_and(|(c, _)| *c == conn)
    }

    fn hold(&mut self, peer: &PeerId, command: Command) {
        if let Some((_, held)) = self.connecting.get_mut(peer) {
            held.push(command);
        }
    }

    /// Welcomes a stream whose rights the directory reader has just read — as the directory
    /// holds them after every event the task had seen when it asked, not as they were when
    /// the call arrived: a lead may have removed, demoted or revoked meanwhile. Reads are
    /// answered in the order asked, so an event that arrives later is applied after this.
    fn connected(&mut self, pending: PendingConnect, current: Result<Current, Refusal>) {
        let PendingConnect {
            peer,
            conn,
            mut outbound,
            member,
            token,
            mut welcome,
        } = pending;
        let Some((_, held)) = self
            .connecting
            .remove_entry(&peer)
            .filter(|(_, (c, _))| *c == conn)
            .map(|(_, v)| v)
        else {
            return; // the stream went (or was replaced) while its rights were read
        };
        let current = match current {
            Ok(current) => current,
            Err(refusal) => {
                let status = status::refusal(&refusal);
                tracing::warn!(target: "security", event = "stream_refused", %peer, %member, %token, reason = %status.message(), "a stream's rights were gone by the time it said Hello");
                outbound.close(status);
                return;
            }
        };
        if self.peers.contains_key(&peer) {
            // The old stream's sync states describe what its connection had: the new one
            // starts afresh, as after any disconnect.
            self.drop_peer(
                &peer,
                Some(Status::aborted(format!(
                    "replaced by a newer stream with peer id {peer}"
                ))),
            );
        }
        welcome.member = Some(convert::member_to_wire(&current.member));
        outbound.welcome(welcome);
        let websocket = outbound.is_websocket();
        self.peers.insert(peer.clone(), (conn, outbound));
        let t = self.now();
        if websocket {
            self.runtime.connect_ephemeral(t, peer, token, current);
        } else {
            self.runtime.connect(t, peer, token, current);
        }
        for command in held {
            self.on_command(command);
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::MemberChanged(member) => self.read_directory(DirRead::Member(member)),
            Event::TokenChanged(token) => self.read_directory(DirRead::Token(token)),
            Event::Catalogue(meta) => {
                // After a resync the whole catalogue comes again: only news is told.
                if self.runtime.engine().meta(&meta.id) != Some(&meta) {
                    let t = self.now();
                    self.runtime.catalogue(t, meta);
                }
            }
            Event::Stored(doc, seqs) => {
                Metrics::add(&self.metrics.stored_heard, 1);
                self.runtime.stored_elsewhere(doc, seqs);
            }
            Event::Resync => {
                tracing::info!(
                    "reconnected to the shared database: re-reading what this hub holds"
                );
                self.runtime.resync_stored();
                let peers = self.runtime.rights().peers();
                let (members, tokens): (BTreeSet<MemberId>, BTreeSet<TokenId>) = peers
                    .map(|(_, a)| (a.member.clone(), a.token.clone()))
                    .unzip();
                for member in members {
                    self.read_directory(DirRead::Member(member));
                }
                for token in tokens {
                    self.read_directory(DirRead::Token(token));
                }
            }
        }
    }

    /// The one way a peer leaves: its queue closed (with `status` when the hub ends the
    /// stream; `None` when the client already went), the runtime told. Every path that ends
    /// a stream comes here, so none leaves a stale entry.
    fn drop_peer(&mut self, peer: &PeerId, status: Option<Status>) {
        if let Some((_, mut out)) = self.peers.remove(peer)
            && let Some(status) = status
        {
            out.close(status);
        }
        let t = self.now();
        self.runtime.disconnect(t, peer);
    }

    fn is_current(&self, peer: &PeerId, conn: u64) -> bool {
        self.peers.get(peer).is_some_and(|(c, _)| *c == conn)
    }

    fn on_internal(&mut self, done: Internal) {
        let t = self.now();
        match done {
            Internal::Read(done) => self.runtime.read_done(t, done),
            Internal::Committed(committed) => self.runtime.committed(t, committed),
            Internal::ConnectRead(pending, current) => self.connected(*pending, current),
            Internal::MemberRead(member, read) => self.runtime.member_updated(t, &member, read),
            Internal::TokenRead(token, read) => self.runtime.token_updated(t, &token, read),
        }
    }

    /// Carries out what the runtime asked for: frames to queue, streams to end, reads to
    /// start, and its write group to hand to the writer.
    fn dispatch(&mut self) {
        loop {
            let outputs = self.runtime.take_outputs();
            if outputs.is_empty() {
                break;
            }
            for output in outputs {
                match output {
                    Output::Send { peer, frame } => self.send(&peer, frame),
                    Output::Read(read) => {
                        if let nic_runtime::storage::Read::Stored(_, seqs) = &read {
                            let m = &self.metrics;
                            Metrics::add(&m.stored_reads, 1);
                            if seqs.is_none() {
                                Metrics::add(&m.stored_whole_reads, 1);
                            }
                        }
                        storage::spawn_read(self.store.clone(), read, self.internal.clone())
                    }
                    Output::End { peer, refusal } => {
                        if let Some((_, mut out)) = self.peers.remove(&peer) {
                            out.close(status::refusal(&refusal));
                        }
                    }
                    Output::Notify(Notification::DocError {
                        doc,
                        peer,
                        code,
                        message,
                    }) => {
                        tracing::warn!(?doc, ?peer, ?code, %message, "document error");
                    }
                    Output::Notify(n) => tracing::trace!(?n, "engine notification"),
                }
            }
        }
        if let Some(group) = self.runtime.take_group() {
            self.write(Job::Group(group));
        }
        let engine = self.runtime.engine();
        self.metrics
            .loaded_docs
            .store(engine.loaded_count() as u64, Ordering::Relaxed);
        let stats = engine.stats();
        self.metrics
            .hindsight_cycles
            .store(self.runtime.hindsight_len() as u64, Ordering::Relaxed);
        self.metrics
            .peers
            .store(self.peers.len() as u64, Ordering::Relaxed);
        let m = &self.metrics;
        m.sync_exchanges.store(stats.exchanges, Ordering::Relaxed);
        m.fast_relays.store(stats.fast_relays, Ordering::Relaxed);
        m.relays_held.store(stats.relays_held, Ordering::Relaxed);
        m.catch_ups.store(stats.catch_ups, Ordering::Relaxed);
    }

    fn write(&mut self, job: Job) {
        if let Some(writes) = &self.writes
            && writes.send(job).is_err()
        {
            tracing::error!("the storage writer has stopped; changes are not being saved");
        }
    }

    /// Relays a WebSocket peer's ephemeral message to the document's other WebSocket peers.
    /// Best effort, as the protocol has it: a peer whose queue is full misses it.
    fn relay_ephemeral(&mut self, sender: &PeerId, message: outbound::EphemeralOut) {
        let engine = self.runtime.engine();
        if !engine.is_linked(&message.doc, sender) {
            return;
        }
        let to: Vec<PeerId> = engine
            .linked_peers(&message.doc)
            .filter(|p| *p != sender)
            .cloned()
            .collect();
        let now = Instant::now();
        for peer in to {
            if let Some((_, out)) = self.peers.get_mut(&peer)
                && out.is_websocket()
                && out
                    .push_item(outbound::Item::Ephemeral(Box::new(message.clone())), now)
                    .is_ok()
            {
                Metrics::add(&self.metrics.frames_out, 1);
            }
        }
    }

    /// Queues a frame for a client; a client whose queue is full is cut off so it cannot
    /// stall the hub or hold its memory (it reconnects and resumes from its sync state).
    fn send(&mut self, peer: &PeerId, frame: Frame) {
        let bytes = match &frame {
            Frame::Sync { message, .. } => message.len() as u64,
            _ => 0,
        };
        let unlinked = |doc: &DocumentId| !self.runtime.engine().is_linked(doc, peer);
        // A WebSocket peer hears one answer for a document it cannot sync, whether it does
        // not exist, may not be read or may no longer be: automerge-repo's doc-unavailable.
        let unavailable = match &frame {
            Frame::Error {
                doc: Some(doc),
                code: nic_sync::ErrorCode::NotFound | nic_sync::ErrorCode::PermissionDenied,
                ..
            } if unlinked(doc) => Some(*doc),
            _ => None,
        };
        let Some((_, out)) = self.peers.get_mut(peer) else {
            return;
        };
        let pushed = match unavailable {
            Some(doc) if out.is_websocket() => {
                out.push_item(outbound::Item::Unavailable(doc), Instant::now())
            }
            _ => out.push(frame, Instant::now()),
        };
        match pushed {
            Ok(()) => {
                Metrics::add(&self.metrics.frames_out, 1);
                Metrics::add(&self.metrics.bytes_out, bytes);
            }
            Err(outbound::Refused::Full(status)) => {
                Metrics::add(&self.metrics.slow_peers_dropped, 1);
                tracing::warn!(%peer, reason = %status.message(), "a client that reads too slowly is cut off");
                self.drop_peer(peer, Some(status));
            }
            Err(outbound::Refused::Closed) => self.drop_peer(peer, None),
        }
    }

    /// Cuts off clients that have taken nothing from their queue for `slow_reader_timeout`
    /// while frames waited (a paused connection would otherwise hold them forever).
    fn end_stalled_streams(&mut self) {
        let now = Instant::now();
        let timeout = self.slow_reader_timeout;
        let stalled: Vec<(PeerId, usize)> = self
            .peers
            .iter()
            .filter(|(_, (_, out))| {
                out.stalled_since()
                    .is_some_and(|since| now.saturating_duration_since(since) >= timeout)
            })
            .map(|(peer, (_, out))| (peer.clone(), out.queued_bytes()))
            .collect();
        for (peer, bytes) in stalled {
            Metrics::add(&self.metrics.slow_peers_dropped, 1);
            tracing::warn!(%peer, bytes, "a client that stopped reading is cut off");
            self.drop_peer(
                &peer,
                Some(Status::resource_exhausted(format!(
                    "you read nothing for {} s while {bytes} bytes waited for you; reconnect to resume",
                    timeout.as_secs()
                ))),
            );
        }
    }

    /// Makes everything durable and acknowledged, closes every stream, saves sync states
    /// and stops the writer and the reader (which hold the database open).
    async fn shutdown(
        &mut self,
        internal: &mut mpsc::UnboundedReceiver<Internal>,
        threads: [std::thread::JoinHandle<()>; 2],
    ) {
        self.barrier(internal).await;
        for (_, (_, mut out)) in std::mem::take(&mut self.peers) {
            out.close(Status::unavailable(
                "the hub is shutting down; reconnect later",
            ));
        }
        let t = self.now();
        self.runtime.disconnect_all(t);
        self.dispatch();
        let stats = self.runtime.engine().stats();
        tracing::info!(
            exchanges = stats.exchanges,
            fast_relays = stats.fast_relays,
            relays_held = stats.relays_held,
            catch_ups = stats.catch_ups,
            replies_skipped = stats.replies_skipped,
            "sync engine totals"
        );
        self.writes = None;
        self.reads = None;
        let _ =
            tokio::task::spawn_blocking(move || threads.map(std::thread::JoinHandle::join)).await;
        while let Ok(done) = internal.try_recv() {
            self.on_internal(done);
        }
    }

    /// Waits until every write issued so far is durable, processing completions meanwhile.
    async fn barrier(&mut self, internal: &mut mpsc::UnboundedReceiver<Internal>) {
        let (tx, mut rx) = oneshot::channel();
        self.write(Job::Barrier(tx));
        loop {
            tokio::select! {
                _ = &mut rx => break,
                Some(done) = internal.recv() => {
                    self.on_internal(done);
                    self.dispatch();
                }
            }
        }
        while let Ok(done) = internal.try_recv() {
            self.on_internal(done);
        }
        self.dispatch();
    }
}
