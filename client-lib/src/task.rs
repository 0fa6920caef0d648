//! The client's background task: owns a replica engine and the stream to the hub.

use std::future::Future;
use std::time::{Duration, Instant};

use nic_model::{DocumentId, PeerId};
use nic_proto::auth::Bearer;
use nic_proto::convert::{self, FromHub};
use nic_proto::v1::{self, sync_client::SyncClient};
use nic_store::{MemStore, Store};
use nic_sync::automerge::{Automerge, ChangeHash};
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, LoadResult, Notification, Target};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;
use tonic::transport::{Channel, Endpoint};

use crate::ClientError;

pub(crate) type EditFn = Box<dyn FnOnce(&mut Automerge) + Send>;
pub(crate) type ReadFn = Box<dyn FnOnce(&Automerge) + Send>;

pub(crate) enum Cmd {
    Subscribe(Target, oneshot::Sender<()>),
    Edit(DocumentId, EditFn, oneshot::Sender<Result<(), ClientError>>),
    Read(DocumentId, ReadFn, oneshot::Sender<bool>),
    Acked(DocumentId, oneshot::Sender<Option<Vec<ChangeHash>>>),
    Pending(DocumentId, oneshot::Sender<Option<usize>>),
    Stats(oneshot::Sender<nic_sync::EngineStats>),
    Offline(oneshot::Sender<()>),
    Reconnect(oneshot::Sender<Result<(), ClientError>>),
}

/// Most frames handled in one go.
const MAX_BATCH: usize = 512;

/// The hub's peer id, as this replica's engine knows it.
fn hub_peer() -> PeerId {
    PeerId::new("hub").unwrap_or_else(|_| unreachable!("a valid literal id"))
}

struct Conn {
    out: mpsc::Sender<v1::ClientFrame>,
    inbound: Streaming<v1::HubFrame>,
}

struct Task {
    engine: Engine,
    store: MemStore,
    channel: Channel,
    bearer: Bearer,
    peer: PeerId,
    conn: Option<Conn>,
    subscriptions: Vec<Target>,
    events: broadcast::Sender<Notification>,
    started: Instant,
}

pub(crate) async fn start(
    addr: &str,
    peer: PeerId,
    token: &str,
    tls: Option<&crate::Tls>,
    events: broadcast::Sender<Notification>,
) -> Result<mpsc::Sender<Cmd>, ClientError> {
    let bearer = Bearer::new(token).map_err(ClientError::from)?;
    let bad_address = |reason: String| ClientError::BadAddress {
        addr: addr.to_owned(),
        reason,
    };
    let mut endpoint =
        Endpoint::from_shared(addr.to_owned()).map_err(|e| bad_address(e.to_string()))?;
    if let Some(tls) = tls {
        endpoint = endpoint
            .tls_config(tls.client_config())
            .map_err(|e| bad_address(format!("TLS settings: {e}")))?;
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|source| ClientError::Unreachable {
            addr: addr.to_owned(),
            source,
        })?;
    let mut config = EngineConfig::replica();
    config.persist_sync_state = false;
    config.resync_after_ms = 2_000;
    let mut task = Task {
        engine: Engine::new(config),
        store: MemStore::new(),
        channel,
        bearer,
        peer,
        conn: None,
        subscriptions: Vec::new(),
        events,
        started: Instant::now(),
    };
    task.open().await?;
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(task.run(rx));
    Ok(tx)
}

impl Task {
    fn ctx(&self) -> Ctx<'static> {
        Ctx::new(
            u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            &AllowAll,
        )
    }

    /// Opens the stream: Hello, Welcome, then re-subscribes.
    async fn open(&mut self) -> Result<(), ClientError> {
        let (out, rx) = mpsc::channel(1024);
        let hello = v1::ClientFrame {
            frame: Some(v1::client_frame::Frame::Hello(v1::Hello {
                peer_id: self.peer.to_string(),
                client_name: "nic-client".into(),
                client_version: env!("CARGO_PKG_VERSION").into(),
                protocol_version: nic_proto::PROTOCOL_VERSION,
            })),
        };
        let _ = out.send(hello).await;
        let mut inbound = SyncClient::with_interceptor(self.channel.clone(), self.bearer.clone())
            .max_decoding_message_size(64 * 1024 * 1024)
            .connect(ReceiverStream::new(rx))
            .await?
            .into_inner();
        match inbound.message().await?.map(convert::from_hub) {
            Some(Ok(FromHub::Welcome(_))) => {}
            other => {
                return Err(ClientError::Protocol(format!(
                    "expected Welcome, got {other:?}"
                )));
            }
        }
        self.conn = Some(Conn { out, inbound });
        let ctx = self.ctx();
        self.engine.peer_connected(ctx, hub_peer());
        for target in self.subscriptions.clone() {
            self.engine.subscribe(ctx, &hub_peer(), target);
        }
        self.dispatch().await;
        Ok(())
    }

    fn offline(&mut self) {
        self.conn = None;
        let ctx = self.ctx();
        self.engine.peer_disconnected(ctx, &hub_peer());
    }

    async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            let frame = async {
                match self.conn.as_mut() {
                    Some(conn) => conn.inbound.message().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    Some(cmd) => self.on_cmd(cmd).await,
                    None => return,
                },
                frame = frame => {
                    // Whatever else has already arrived is handled with it: the engine
                    // merges a document's messages, which applies faster and answers once.
                    let (frames, end) = match frame {
                        Ok(Some(first)) => self.ready_frames(first),
                        Ok(None) => (Vec::new(), Some(Ok(()))),
                        Err(status) => (Vec::new(), Some(Err(status))),
                    };
                    let frames: Vec<_> = frames
                        .into_iter()
                        .filter_map(|frame| match convert::from_hub(frame) {
                            Ok(FromHub::Frame(frame)) => Some(frame),
                            Ok(FromHub::Welcome(_)) => {
                                tracing::warn!("unexpected second Welcome");
                                None
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "malformed frame from the hub");
                                None
                            }
                        })
                        .collect();
                    let ctx = self.ctx();
                    self.engine.receive_all(ctx, &hub_peer(), frames);
                    match end {
                        Some(Ok(())) => {
                            tracing::info!("the hub ended the stream");
                            self.offline();
                        }
                        Some(Err(status)) => {
                            tracing::warn!(%status, "the hub stream failed");
                            self.offline();
                        }
                        None => {}
                    }
                }
                _ = tick.tick() => {
                    let ctx = self.ctx();
                    self.engine.tick(ctx);
                }
            }
            self.dispatch().await;
        }
    }

    /// `first` and every frame already waiting behind it (at most [`MAX_BATCH`]), without
    /// waiting for more; and, if the stream ended meanwhile, how (cleanly or with a status).
    fn ready_frames(
        &mut self,
        first: v1::HubFrame,
    ) -> (Vec<v1::HubFrame>, Option<Result<(), tonic::Status>>) {
        let mut frames = vec![first];
        let Some(conn) = self.conn.as_mut() else {
            return (frames, None);
        };
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        while frames.len() < MAX_BATCH {
            let next = std::pin::pin!(conn.inbound.message());
            match next.poll(&mut cx) {
                std::task::Poll::Ready(Ok(Some(frame))) => frames.push(frame),
                std::task::Poll::Ready(end) => return (frames, Some(end.map(|_| ()))),
                std::task::Poll::Pending => break,
            }
        }
        (frames, None)
    }

    async fn on_cmd(&mut self, cmd: Cmd) {
        let ctx = self.ctx();
        match cmd {
            Cmd::Subscribe(target, reply) => {
                self.subscriptions.push(target.clone());
                if self.conn.is_some() {
                    self.engine.subscribe(ctx, &hub_peer(), target);
                }
                let _ = reply.send(());
            }
            Cmd::Edit(doc, f, reply) => {
                let result = self
                    .engine
                    .edit(ctx, &doc, f)
                    .map_err(|_| ClientError::UnknownDocument(doc));
                let _ = reply.send(result);
            }
            Cmd::Read(doc, f, reply) => match self.engine.doc(&doc) {
                Some(am) => {
                    f(am);
                    let _ = reply.send(true);
                }
                None => {
                    let _ = reply.send(false);
                }
            },
            Cmd::Acked(doc, reply) => {
                let _ = reply.send(
                    self.engine
                        .acked_heads(&doc, &hub_peer())
                        .map(<[ChangeHash]>::to_vec),
                );
            }
            Cmd::Pending(doc, reply) => {
                let _ = reply.send(self.engine.pending_changes(&doc, &hub_peer()));
            }
            Cmd::Stats(reply) => {
                let _ = reply.send(self.engine.stats());
            }
            Cmd::Offline(reply) => {
                self.offline();
                let _ = reply.send(());
            }
            Cmd::Reconnect(reply) => {
                self.offline();
                let result = self.open().await;
                let _ = reply.send(result);
            }
        }
    }

    /// Carries out the engine's effects; storage is in memory, so it is durable at once.
    async fn dispatch(&mut self) {
        loop {
            let effects = self.engine.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                let ctx = self.ctx();
                match effect {
                    Effect::Send { frame, .. } => {
                        if let (Some(conn), Some(wire)) = (&self.conn, convert::to_hub(frame))
                            && conn.out.send(wire).await.is_err()
                        {
                            self.offline();
                        }
                    }
                    Effect::Load { doc } => {
                        let result = match self.store.load(&doc) {
                            Ok(Some(s)) => LoadResult::Found {
                                meta: Some(s.meta),
                                chunks: s.chunks,
                            },
                            Ok(None) => LoadResult::NotFound,
                            Err(e) => LoadResult::Failed(e.to_string()),
                        };
                        self.engine.loaded(ctx, doc, result);
                    }
                    Effect::LoadSyncState { peer, doc } => {
                        self.engine.sync_state_loaded(ctx, &peer, doc, None)
                    }
                    Effect::PutMeta(meta) => {
                        if let Err(e) = self.store.put_meta(&meta) {
                            tracing::warn!(error = %e, "storing metadata failed");
                        }
                    }
                    Effect::Persist { doc, seq, chunk } => match self.store.append(&doc, &chunk) {
                        Ok(_) => self.engine.persisted(ctx, doc, seq),
                        Err(e) => self.engine.persist_failed(ctx, doc, seq, &e.to_string()),
                    },
                    Effect::SaveSyncState { .. } => {}
                    Effect::Notify(n) => {
                        let _ = self.events.send(n);
                    }
                }
            }
        }
    }
}
