//! The engine task: owns the hub's `nic-sync` engine, feeds it what the streams and storage
//! report, and carries out its effects. One task, so the engine needs no lock; document loads
//! and writes run on the blocking pool and a writer thread. Two kinds of directory read do
//! run here: a member's roles and a token's state, when a stream is welcomed and when a
//! directory event arrives (sled lookups served from memory), so that rights are read in the
//! engine's own order of events; the policy's actor binding (`rights.rs`) and the hindsight
//! audit entries (`hindsight.rs`) write from here too. Moving those off the task without
//! losing that order is left to issue 18.

mod hindsight;
pub(crate) mod outbound;
mod rights;
mod storage;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nic_model::{DocMeta, DocumentId, PeerId};
use nic_model::{Member, MemberId, TokenId, TokenState};
use nic_proto::convert;
use nic_proto::v1;
use nic_store::Directory;
use nic_store::{Durability, ListFilter, Store, StoreError};
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, Frame, LoadResult, Notification};
use rights::{PeerAuth, Rights};
use tokio::sync::{mpsc, oneshot};
use tonic::Status;

use crate::config::{Config, DurabilityMode};
use crate::metrics::Metrics;
pub(crate) use outbound::{Outbound, OutboundStream};
use storage::Write;

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
    /// Flush, acknowledge what can be, close every stream, stop.
    Shutdown(oneshot::Sender<()>),
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
    /// A document was created or its metadata changed.
    Catalogue(DocMeta),
}

/// Completions from storage work.
pub(crate) enum Internal {
    Loaded {
        doc: DocumentId,
        result: LoadResult,
    },
    SyncStateLoaded {
        peer: PeerId,
        doc: DocumentId,
        state: Option<Vec<u8>>,
    },
    Persisted {
        persisted: Vec<(DocumentId, u64)>,
        failed: Vec<(DocumentId, u64, String)>,
    },
}

/// A member's record and their token's expiry, as the directory holds them now.
struct Current {
    member: Member,
    expires_at_ms: Option<i64>,
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
    engine: Engine,
    store: Arc<dyn Store>,
    directory: Arc<dyn Directory>,
    /// Who each peer is and what their member may do: the engine's policy.
    rights: Arc<Rights>,
    /// Loaded PDSA cycles' last values, to record hindsight edits to predictions.
    hindsight: hindsight::Hindsight,
    peers: HashMap<PeerId, (u64, Outbound)>,
    writes: Option<std::sync::mpsc::Sender<Write>>,
    internal: mpsc::UnboundedSender<Internal>,
    metrics: Arc<Metrics>,
    max_loaded_docs: usize,
    /// How long a client may take nothing from its queue while frames wait.
    slow_reader_timeout: Duration,
    started: Instant,
}

/// Starts the engine task and the storage writer over `store`.
pub(crate) fn start(
    store: Arc<dyn Store>,
    directory: Arc<dyn Directory>,
    config: &Config,
    metrics: Arc<Metrics>,
) -> Result<(HubHandle, tokio::task::JoinHandle<()>), StoreError> {
    let mut engine = Engine::new(EngineConfig {
        max_changes_per_message: config.max_changes_per_message,
        max_docs_per_subscription: config.max_docs_per_subscription,
        doc_limits: Some(config.doc_limits()),
        ..EngineConfig::hub()
    });
    let started = Instant::now();
    let everything = ListFilter {
        include_archived: true,
        ..ListFilter::default()
    };
    for meta in store.list(&everything)? {
        engine.catalogue(Ctx::new(0, &AllowAll), meta);
    }
    let (internal_tx, internal_rx) = mpsc::unbounded_channel();
    let (writes_tx, writes_rx) = std::sync::mpsc::channel();
    let durability = match config.durability {
        DurabilityMode::Process => Durability::Process,
        DurabilityMode::PowerSafe => Durability::PowerSafe,
    };
    let writer_store = store.clone();
    let writer_done = internal_tx.clone();
    let writer_metrics = metrics.clone();
    let writer = std::thread::Builder::new()
        .name("nic-hub-writer".into())
        .spawn(move || {
            storage::run(
                writer_store,
                writes_rx,
                writer_done,
                durability,
                writer_metrics,
            )
        })
        .map_err(|source| StoreError::Io {
            path: config.data_dir.clone(),
            source,
        })?;
    let (commands_tx, commands_rx) = mpsc::channel(4096);
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let driver = Driver {
        engine,
        store,
        rights: Arc::new(Rights::new(directory.clone())),
        hindsight: hindsight::Hindsight::default(),
        directory,
        peers: HashMap::new(),
        writes: Some(writes_tx),
        internal: internal_tx,
        metrics,
        max_loaded_docs: config.max_loaded_docs,
        slow_reader_timeout: config.slow_reader_timeout,
        started,
    };
    let task = tokio::spawn(driver.run(commands_rx, events_rx, internal_rx, writer));
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
    /// The engine's context: the time, and `rights` (a snapshot of `self.rights`, taken by
    /// the caller so the engine can be borrowed mutably beside it).
    fn ctx<'a>(&self, rights: &'a Rights) -> Ctx<'a> {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ctx::new(now, rights)
    }

    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut events: mpsc::UnboundedReceiver<Event>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
        writer: std::thread::JoinHandle<()>,
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
                            self.shutdown(&mut internal, writer).await;
                            let _ = reply.send(());
                            return;
                        }
                        Some(command) => self.on_command(command),
                        None => {
                            self.shutdown(&mut internal, writer).await;
                            return;
                        }
                    },
                    _ = tick.tick() => {
                        let rights = Arc::clone(&self.rights);
            let ctx = self.ctx(&rights);
                        self.engine.tick(ctx);
                        self.end_expired_streams();
                        self.end_stalled_streams();
                        let evicted = self.engine.evict_idle(self.max_loaded_docs);
                        Metrics::add(&self.metrics.evictions, evicted as u64);
                        if evicted > 0 {
                            self.hindsight.retain_loaded(&self.engine);
                        }
                    }
                }
            self.dispatch();
        }
    }

    /// Runs `f` on the engine with a context over the current rights. The snapshot is
    /// released when `f` returns, so changing the rights afterwards does not copy the table.
    fn with_engine<R>(&mut self, f: impl FnOnce(&mut Engine, Ctx<'_>) -> R) -> R {
        let rights = Arc::clone(&self.rights);
        let ctx = self.ctx(&rights);
        f(&mut self.engine, ctx)
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Connect {
                peer,
                conn,
                outbound,
                member,
                token,
                welcome,
            } => self.connect(peer, conn, outbound, &member, &token, welcome),
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
                    self.with_engine(|engine, ctx| engine.receive(ctx, &peer, frame));
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
            Command::Shutdown(_) => {}
        }
    }

    /// Welcomes a stream that said Hello, with the member's roles and token as the directory
    /// holds them now — not as they were when the call arrived: a lead may have removed,
    /// demoted or revoked meanwhile, and the directory event for that found no stream then.
    /// Events are sent after their commit, so whichever of the two the engine task sees
    /// first, the stream ends up with the current rights.
    fn connect(
        &mut self,
        peer: PeerId,
        conn: u64,
        mut outbound: Outbound,
        member: &MemberId,
        token: &TokenId,
        mut welcome: v1::Welcome,
    ) {
        let current = match self.read_rights(member, token) {
            Ok(current) => current,
            Err(status) => {
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
        let table = Arc::make_mut(&mut self.rights);
        table
            .members
            .insert(current.member.id.clone(), current.member.grants);
        table.peers.insert(
            peer.clone(),
            PeerAuth {
                member: current.member.id,
                token: token.clone(),
                expires_at_ms: current.expires_at_ms,
            },
        );
        self.with_engine(|engine, ctx| engine.peer_connected(ctx, peer.clone()));
        self.peers.insert(peer, (conn, outbound));
    }

    /// The member and the expiry of their token, read from the directory now; an error
    /// status when the token is no longer valid or the member is gone.
    fn read_rights(&self, member: &MemberId, token: &TokenId) -> Result<Current, Status> {
        let unavailable = |_| Status::unavailable("the hub could not check your rights; reconnect");
        let (_, record) = self
            .directory
            .token(token)
            .map_err(unavailable)?
            .ok_or_else(|| Status::unauthenticated(format!("token {token} no longer exists")))?;
        match record.state_at(crate::auth::now_ms()) {
            TokenState::Valid if record.member == *member => {}
            TokenState::Valid => {
                return Err(Status::unauthenticated(format!(
                    "token {token} does not belong to {member}"
                )));
            }
            TokenState::Expired => {
                return Err(Status::unauthenticated(format!(
                    "token {token} has expired; ask for a new one"
                )));
            }
            TokenState::Revoked => {
                return Err(Status::unauthenticated(format!(
                    "token {token} was revoked; ask for a new one"
                )));
            }
        }
        let member = self
            .directory
            .member(member)
            .map_err(unavailable)?
            .ok_or_else(|| {
                Status::unauthenticated(format!("{member} is no longer a member of this hub"))
            })?;
        Ok(Current {
            member,
            expires_at_ms: record.expires_at_ms,
        })
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::MemberChanged(member) => self.member_changed(&member),
            Event::TokenChanged(token) => self.token_changed(&token),
            Event::Catalogue(meta) => self.with_engine(|engine, ctx| engine.catalogue(ctx, meta)),
        }
    }

    /// Re-reads a token; ends the streams opened with it unless it is still valid.
    fn token_changed(&mut self, token: &TokenId) {
        let streams: Vec<(PeerId, MemberId)> = self
            .rights
            .peers
            .iter()
            .filter(|(_, a)| a.token == *token)
            .map(|(p, a)| (p.clone(), a.member.clone()))
            .collect();
        for (peer, member) in streams {
            if let Err(status) = self.read_rights(&member, token) {
                tracing::warn!(target: "security", event = "stream_ended", %peer, %member, %token, reason = %status.message(), "a stream's token stopped being valid");
                self.end_stream(&peer, status);
            }
        }
    }

    /// Ends every stream whose token has expired (checked on each tick).
    fn end_expired_streams(&mut self) {
        let now = crate::auth::now_ms();
        let expired: Vec<(PeerId, MemberId, TokenId)> = self
            .rights
            .peers
            .iter()
            .filter(|(_, a)| a.expires_at_ms.is_some_and(|at| now >= at))
            .map(|(p, a)| (p.clone(), a.member.clone(), a.token.clone()))
            .collect();
        for (peer, member, token) in expired {
            let status =
                Status::unauthenticated(format!("token {token} has expired; ask for a new one"));
            tracing::warn!(target: "security", event = "stream_ended", %peer, %member, %token, reason = %status.message(), "a stream's token expired");
            self.end_stream(&peer, status);
        }
    }

    /// Re-reads a member's roles from the directory; ends their streams if they are gone.
    /// Rights are checked on every message, so a narrower role takes effect at once.
    fn member_changed(&mut self, member: &MemberId) {
        let peers = self.rights.peers_of(member);
        if peers.is_empty() {
            return;
        }
        match self.directory.member(member) {
            Ok(Some(m)) => {
                Arc::make_mut(&mut self.rights)
                    .members
                    .insert(m.id, m.grants);
                // Links the member may no longer read are dropped on the next message to
                // them; announce now, so they are dropped (and told) at once.
                let rights = Arc::clone(&self.rights);
                let ctx = self.ctx(&rights);
                for peer in &peers {
                    self.engine.rights_changed(ctx, peer);
                }
            }
            Ok(None) => {
                for peer in peers {
                    self.end_stream(
                        &peer,
                        Status::unauthenticated(format!(
                            "{member} is no longer a member of this hub"
                        )),
                    );
                }
            }
            Err(e) => {
                // Fail closed: without the directory, the member's streams end.
                tracing::error!(error = %e, %member, "cannot re-read a member's roles");
                for peer in peers {
                    self.end_stream(
                        &peer,
                        Status::unavailable("the hub could not check your rights; reconnect"),
                    );
                }
            }
        }
    }

    /// Ends a peer's stream with `status` and forgets it.
    fn end_stream(&mut self, peer: &PeerId, status: Status) {
        self.drop_peer(peer, Some(status));
    }

    /// The one way a peer leaves: its queue closed (with `status` when the hub ends the
    /// stream; `None` when the client already went), the engine told, its rights entry
    /// dropped. Every path that ends a stream comes here, so none leaves a stale entry.
    fn drop_peer(&mut self, peer: &PeerId, status: Option<Status>) {
        if let Some((_, mut out)) = self.peers.remove(peer) {
            if let Some(status) = status {
                out.close(status);
            }
            self.with_engine(|engine, ctx| engine.peer_disconnected(ctx, peer));
        }
        Arc::make_mut(&mut self.rights).disconnect(peer);
    }

    fn is_current(&self, peer: &PeerId, conn: u64) -> bool {
        self.peers.get(peer).is_some_and(|(c, _)| *c == conn)
    }

    fn on_internal(&mut self, done: Internal) {
        let rights = Arc::clone(&self.rights);
        let ctx = self.ctx(&rights);
        match done {
            Internal::Loaded { doc, result } => self.engine.loaded(ctx, doc, result),
            Internal::SyncStateLoaded { peer, doc, state } => {
                self.engine.sync_state_loaded(ctx, &peer, doc, state)
            }
            Internal::Persisted { persisted, failed } => {
                for (doc, seq) in persisted {
                    self.engine.persisted(ctx, doc, seq);
                }
                for (doc, seq, reason) in failed {
                    self.engine.persist_failed(ctx, doc, seq, &reason);
                }
            }
        }
    }

    /// Carries out every effect the engine has produced.
    fn dispatch(&mut self) {
        loop {
            let effects = self.engine.take_effects();
            if effects.is_empty() {
                break;
            }
            for effect in effects {
                self.carry_out(effect);
            }
        }
        self.metrics
            .loaded_docs
            .store(self.engine.loaded_count() as u64, Ordering::Relaxed);
        self.metrics
            .hindsight_cycles
            .store(self.hindsight.len() as u64, Ordering::Relaxed);
        self.metrics
            .peers
            .store(self.peers.len() as u64, Ordering::Relaxed);
        let stats = self.engine.stats();
        let m = &self.metrics;
        m.sync_exchanges.store(stats.exchanges, Ordering::Relaxed);
        m.fast_relays.store(stats.fast_relays, Ordering::Relaxed);
        m.relays_held.store(stats.relays_held, Ordering::Relaxed);
        m.catch_ups.store(stats.catch_ups, Ordering::Relaxed);
    }

    fn carry_out(&mut self, effect: Effect) {
        match effect {
            Effect::Send { peer, frame } => self.send(&peer, frame),
            Effect::Load { doc } => {
                let store = self.store.clone();
                let done = self.internal.clone();
                tokio::task::spawn_blocking(move || {
                    let result = match store.load(&doc) {
                        Ok(Some(stored)) => LoadResult::Found {
                            meta: Some(stored.meta),
                            chunks: stored.chunks,
                        },
                        Ok(None) => LoadResult::NotFound,
                        Err(e) => LoadResult::Failed(e.to_string()),
                    };
                    let _ = done.send(Internal::Loaded { doc, result });
                });
            }
            Effect::LoadSyncState { peer, doc } => {
                let store = self.store.clone();
                let done = self.internal.clone();
                tokio::task::spawn_blocking(move || {
                    // A sync state that cannot be read only costs a longer first exchange.
                    let state = store.sync_state(&peer, &doc).unwrap_or_default();
                    let _ = done.send(Internal::SyncStateLoaded { peer, doc, state });
                });
            }
            Effect::PutMeta(meta) => self.write(Write::Meta(meta)),
            Effect::Persist { doc, seq, chunk } => self.write(Write::Chunk { doc, seq, chunk }),
            Effect::SaveSyncState { peer, doc, state } => {
                self.write(Write::SyncState { peer, doc, state })
            }
            Effect::Notify(Notification::DocError {
                doc,
                peer,
                code,
                message,
            }) => {
                tracing::warn!(?doc, ?peer, ?code, %message, "document error");
            }
            Effect::Notify(Notification::Ready { doc }) => self.hindsight.loaded(&self.engine, doc),
            Effect::Notify(Notification::Changed {
                doc,
                origin: nic_sync::Origin::Remote(peer),
                ..
            }) => {
                let member = self.rights.peers.get(&peer).map(|a| a.member.clone());
                self.hindsight.changed(
                    &self.engine,
                    &self.directory,
                    doc,
                    member.as_ref(),
                    crate::auth::now_ms(),
                );
            }
            Effect::Notify(n) => tracing::trace!(?n, "engine notification"),
        }
    }

    fn write(&mut self, write: Write) {
        if let Some(writes) = &self.writes
            && writes.send(write).is_err()
        {
            tracing::error!("the storage writer has stopped; changes are not being saved");
        }
    }

    /// Queues a frame for a client; a client whose queue is full is cut off so it cannot
    /// stall the hub or hold its memory (it reconnects and resumes from its sync state).
    fn send(&mut self, peer: &PeerId, frame: Frame) {
        let bytes = match &frame {
            Frame::Sync { message, .. } => message.len() as u64,
            _ => 0,
        };
        let Some((_, out)) = self.peers.get_mut(peer) else {
            return;
        };
        match out.push(frame, Instant::now()) {
            Ok(()) => {
                Metrics::add(&self.metrics.frames_out, 1);
                Metrics::add(&self.metrics.bytes_out, bytes);
            }
            Err(outbound::Refused::Full(status)) => {
                Metrics::add(&self.metrics.slow_peers_dropped, 1);
                tracing::warn!(%peer, reason = %status.message(), "a client that reads too slowly is cut off");
                self.end_stream(peer, status);
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
            self.end_stream(
                &peer,
                Status::resource_exhausted(format!(
                    "you read nothing for {} s while {bytes} bytes waited for you; reconnect to resume",
                    timeout.as_secs()
                )),
            );
        }
    }

    /// Makes everything durable and acknowledged, closes every stream, saves sync states
    /// and stops the writer.
    async fn shutdown(
        &mut self,
        internal: &mut mpsc::UnboundedReceiver<Internal>,
        writer: std::thread::JoinHandle<()>,
    ) {
        self.barrier(internal).await;
        let rights = Arc::clone(&self.rights);
        let ctx = self.ctx(&rights);
        for (peer, (_, mut out)) in std::mem::take(&mut self.peers) {
            out.close(Status::unavailable(
                "the hub is shutting down; reconnect later",
            ));
            self.engine.peer_disconnected(ctx, &peer);
        }
        self.dispatch();
        let stats = self.engine.stats();
        tracing::info!(
            exchanges = stats.exchanges,
            fast_relays = stats.fast_relays,
            relays_held = stats.relays_held,
            catch_ups = stats.catch_ups,
            replies_skipped = stats.replies_skipped,
            "sync engine totals"
        );
        self.writes = None;
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        while let Ok(done) = internal.try_recv() {
            self.on_internal(done);
        }
    }

    /// Waits until every write issued so far is durable, processing completions meanwhile.
    async fn barrier(&mut self, internal: &mut mpsc::UnboundedReceiver<Internal>) {
        let (tx, mut rx) = oneshot::channel();
        self.write(Write::Barrier(tx));
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
