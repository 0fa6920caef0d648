//! `nic.v1.Sync`: one long-lived stream per client; Hello first, then frames for the engine.

use std::time::Duration;

use nic_model::{MemberId, PeerId};
use nic_proto::convert::{self, ConvertError, FromClient};
use nic_proto::v1::{self, ClientFrame, sync_server};
use tonic::{Request, Response, Status, Streaming};

use nic_store::{Binding, Directory};

use crate::auth;
use crate::driver::outbound::{self, MemberBytes, QueueLimits};
use crate::driver::{Command, HubHandle, OutboundStream};
use crate::metrics::Metrics;
use crate::status::blocking;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Semaphore;

/// How long a client has to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// The Sync service.
pub struct SyncService {
    pub(crate) hub: HubHandle,
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) metrics: Arc<Metrics>,
    /// What each stream's queue may hold.
    pub(crate) queue: QueueLimits,
    pub(crate) limits: v1::Limits,
    /// Open streams per member, against `limits.max_streams_per_member`, and the bytes
    /// queued for them together.
    pub(crate) streams: Arc<Mutex<HashMap<MemberId, MemberStreams>>>,
}

/// A member's open streams: how many, the bytes queued for them, and the budget of bytes
/// their frames may hold while they wait for the engine task.
#[derive(Default)]
pub(crate) struct MemberStreams {
    count: usize,
    outbound: MemberBytes,
    inbound: Option<Arc<Semaphore>>,
}

/// One of a member's open streams (a `Sync.Connect` or a WebSocket: both count against
/// `max_streams_per_member`); gives its place back when dropped (the stream ended).
pub(crate) struct StreamSlot {
    streams: Arc<Mutex<HashMap<MemberId, MemberStreams>>>,
    member: MemberId,
    /// The bytes queued for all of the member's streams.
    pub(crate) bytes: MemberBytes,
    /// Permits for the bytes of the member's frames waiting for the engine task.
    pub(crate) inbound: Arc<Semaphore>,
}

impl StreamSlot {
    /// Takes a place for `member`, or says which limit refuses it.
    pub(crate) fn take(
        streams: &Arc<Mutex<HashMap<MemberId, MemberStreams>>>,
        member: &MemberId,
        max: usize,
        inbound_bytes: usize,
    ) -> Result<Self, Status> {
        let mut open = streams.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = open.entry(member.clone()).or_default();
        let inbound = entry
            .inbound
            .get_or_insert_with(|| Arc::new(Semaphore::new(inbound_bytes)))
            .clone();
        let (count, bytes) = (&mut entry.count, &entry.outbound);
        if *count >= max {
            return Err(Status::resource_exhausted(format!(
                "{member} already has {count} sync streams open; the limit per member is {max} (close one, or ask the hub's operator to raise max-streams-per-member)"
            )));
        }
        *count += 1;
        Ok(Self {
            streams: streams.clone(),
            member: member.clone(),
            bytes: bytes.clone(),
            inbound,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = open.get_mut(&self.member) {
            entry.count = entry.count.saturating_sub(1);
            if entry.count == 0 {
                open.remove(&self.member);
            }
        }
    }
}

/// Counts a stream in `awaiting_hello` while it lives.
struct AwaitingHello<'a>(&'a Metrics);

impl<'a> AwaitingHello<'a> {
    fn new(metrics: &'a Metrics) -> Self {
        Metrics::add(&metrics.awaiting_hello, 1);
        Self(metrics)
    }
}

impl Drop for AwaitingHello<'_> {
    fn drop(&mut self) {
        self.0
            .awaiting_hello
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[tonic::async_trait]
impl sync_server::Sync for SyncService {
    type ConnectStream = OutboundStream;

    async fn connect(
        &self,
        request: Request<Streaming<ClientFrame>>,
    ) -> Result<Response<Self::ConnectStream>, Status> {
        let caller = auth::caller(&request)?;
        let mut inbound = request.into_inner();
        let waiting = AwaitingHello::new(&self.metrics);
        let first = tokio::time::timeout(HELLO_TIMEOUT, inbound.message()).await;
        drop(waiting);
        let first = match first {
            Err(_) => {
                return Err(Status::deadline_exceeded(
                    "no Hello within 10 s; send Hello first",
                ));
            }
            Ok(Err(status)) => return Err(status),
            Ok(Ok(None)) => return Err(Status::invalid_argument("the stream ended before Hello")),
            Ok(Ok(Some(frame))) => frame,
        };
        let hello = match convert::from_client(first) {
            Ok(FromClient::Hello(hello)) => hello,
            Ok(FromClient::Frame(_)) => {
                return Err(Status::invalid_argument("the first frame must be Hello"));
            }
            Err(e) => return Err(Status::invalid_argument(format!("bad first frame: {e}"))),
        };
        if hello.protocol_version != nic_proto::PROTOCOL_VERSION {
            return Err(Status::failed_precondition(format!(
                "protocol version {} is not supported; this hub speaks {}",
                hello.protocol_version,
                nic_proto::PROTOCOL_VERSION
            )));
        }
        let peer = PeerId::new(hello.peer_id.clone())
            .map_err(|e| Status::invalid_argument(format!("hello.peer_id: {e}")))?;
        // A peer id belongs to the member who first used it: another member cannot take over
        // its stream or its stored sync state.
        let key = auth::peer_key(&peer);
        let directory = self.directory.clone();
        let member_id = caller.member.id.clone();
        let binding = blocking(move || Ok(directory.bind_actor(&key, &member_id)?)).await?;
        if let Binding::Other(owner) = binding {
            return Err(Status::permission_denied(format!(
                "peer id {peer} belongs to member {owner}; choose another peer id for this device"
            )));
        }
        let slot = StreamSlot::take(
            &self.streams,
            &caller.member.id,
            self.limits.max_streams_per_member as usize,
            self.queue.member_bytes,
        )?;
        tracing::info!(%peer, member = %caller.member.id, client = %hello.client_name, version = %hello.client_version, "client connected");
        // The engine task fills in the member as the directory holds it when it welcomes the
        // stream: what the auth gate read may be stale by now (the Hello can come late).
        let welcome = v1::Welcome {
            member: None,
            hub_version: env!("CARGO_PKG_VERSION").to_owned(),
            peer_id: peer.to_string(),
            limits: Some(self.limits),
        };
        let (out, stream, alive) = outbound::channel(
            self.queue,
            slot.bytes.clone(),
            self.metrics.queued_bytes.clone(),
        );
        let conn = self.hub.next_conn();
        self.hub
            .send(Command::Connect {
                peer: peer.clone(),
                conn,
                outbound: out,
                member: caller.member.id.clone(),
                token: caller.token.clone(),
                welcome,
            })
            .await?;
        let hub = self.hub.clone();
        let metrics = self.metrics.clone();
        let budget = slot.inbound.clone();
        tokio::spawn(async move {
            let _slot = slot;
            // Stop reading once the hub lets go of this client (cut off, replaced, or the
            // hub is shutting down): dropping the request stream frees the connection.
            tokio::select! {
                () = read_frames(hub, metrics, peer, conn, inbound, budget) => {}
                () = outbound::released(alive) => {}
            }
        });
        Ok(Response::new(stream))
    }
}

/// Forwards a client's frames to the engine until the stream ends.
async fn read_frames(
    hub: HubHandle,
    metrics: Arc<Metrics>,
    peer: PeerId,
    conn: u64,
    mut inbound: Streaming<ClientFrame>,
    budget: Arc<Semaphore>,
) {
    loop {
        let command = match inbound.message().await {
            Ok(Some(frame)) => {
                Metrics::add(&metrics.frames_in, 1);
                // Frames wait for the engine task holding their bytes' worth of the member's
                // budget: a member that sends faster than the hub handles is slowed down (its
                // reads stop, HTTP/2 pushes back), instead of the hub's memory growing.
                let size = u32::try_from(prost::Message::encoded_len(&frame)).unwrap_or(u32::MAX);
                let Ok(permit) = budget.clone().acquire_many_owned(size.max(1)).await else {
                    break;
                };
                match convert::from_client(frame) {
                    Ok(FromClient::Frame(frame)) => {
                        if let nic_sync::Frame::Sync { message, .. } = &frame {
                            Metrics::add(&metrics.bytes_in, message.len() as u64);
                        }
                        Command::Frame {
                            peer: peer.clone(),
                            conn,
                            frame,
                            held: permit,
                        }
                    }
                    // The protocol ends the stream for a second Hello or an empty frame.
                    Ok(FromClient::Hello(_)) => Command::Close {
                        peer: peer.clone(),
                        conn,
                        status: Status::invalid_argument(
                            "Hello may be sent only once, as the first frame",
                        ),
                    },
                    Err(ConvertError::Missing("frame")) => Command::Close {
                        peer: peer.clone(),
                        conn,
                        status: Status::invalid_argument(
                            "an empty frame: set exactly one of hello, subscribe, unsubscribe, doc_sync",
                        ),
                    },
                    Err(e) => Command::BadFrame {
                        peer: peer.clone(),
                        conn,
                        message: format!("frame ignored: {e}"),
                    },
                }
            }
            Ok(None) => break,
            Err(status) => {
                tracing::info!(%peer, %status, "client stream failed");
                // Tell the client why (e.g. a frame over the size limit) as the stream ends.
                let _ = hub
                    .send(Command::Close {
                        peer: peer.clone(),
                        conn,
                        status,
                    })
                    .await;
                break;
            }
        };
        if hub.send(command).await.is_err() {
            return;
        }
    }
    tracing::info!(%peer, "client disconnected");
    let _ = hub.send(Command::Disconnect { peer, conn }).await;
}
