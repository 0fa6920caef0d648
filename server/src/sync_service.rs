//! `nic.v1.Sync`: one long-lived stream per client; Hello first, then frames for the engine.

use std::time::Duration;

use nic_model::{MemberId, PeerId};
use nic_proto::convert::{self, FromClient};
use nic_proto::v1::{self, ClientFrame, sync_server};
use tonic::{Request, Response, Status, Streaming};

use nic_store::{Binding, Directory};

use crate::auth;
use crate::driver::{Command, HubHandle, OutboundStream, outbound};
use crate::metrics::Metrics;
use crate::status::blocking;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// How long a client has to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// The Sync service.
pub struct SyncService {
    pub(crate) hub: HubHandle,
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) peer_queue: usize,
    pub(crate) limits: v1::Limits,
    /// Open streams per member, against `limits.max_streams_per_member`.
    pub(crate) streams: Arc<Mutex<HashMap<MemberId, usize>>>,
}

/// One of a member's open streams; gives its place back when dropped (the stream ended).
struct StreamSlot {
    streams: Arc<Mutex<HashMap<MemberId, usize>>>,
    member: MemberId,
}

impl StreamSlot {
    /// Takes a place for `member`, or says which limit refuses it.
    fn take(
        streams: &Arc<Mutex<HashMap<MemberId, usize>>>,
        member: &MemberId,
        max: usize,
    ) -> Result<Self, Status> {
        let mut open = streams.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(member.clone()).or_default();
        if *count >= max {
            return Err(Status::resource_exhausted(format!(
                "{member} already has {count} sync streams open; the limit per member is {max} (close one, or ask the hub's operator to raise max-streams-per-member)"
            )));
        }
        *count += 1;
        Ok(Self {
            streams: streams.clone(),
            member: member.clone(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.member) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.member);
            }
        }
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
        let first = match tokio::time::timeout(HELLO_TIMEOUT, inbound.message()).await {
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
        )?;
        tracing::info!(%peer, member = %caller.member.id, client = %hello.client_name, version = %hello.client_version, "client connected");
        let welcome = v1::HubFrame {
            frame: Some(v1::hub_frame::Frame::Welcome(v1::Welcome {
                member: Some(convert::member_to_wire(&caller.member)),
                hub_version: env!("CARGO_PKG_VERSION").to_owned(),
                peer_id: peer.to_string(),
                limits: Some(self.limits),
            })),
        };
        let (out, stream, alive) = outbound::channel(self.peer_queue, welcome);
        let conn = self.hub.next_conn();
        self.hub
            .send(Command::Connect {
                peer: peer.clone(),
                conn,
                outbound: out,
                member: caller.member.clone(),
                token: caller.token.clone(),
            })
            .await?;
        let hub = self.hub.clone();
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let _slot = slot;
            // Stop reading once the hub lets go of this client (cut off, replaced, or the
            // hub is shutting down): dropping the request stream frees the connection.
            tokio::select! {
                () = read_frames(hub, metrics, peer, conn, inbound) => {}
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
) {
    loop {
        let command = match inbound.message().await {
            Ok(Some(frame)) => {
                Metrics::add(&metrics.frames_in, 1);
                match convert::from_client(frame) {
                    Ok(FromClient::Frame(frame)) => {
                        if let nic_sync::Frame::Sync { message, .. } = &frame {
                            Metrics::add(&metrics.bytes_in, message.len() as u64);
                        }
                        Command::Frame {
                            peer: peer.clone(),
                            conn,
                            frame,
                        }
                    }
                    Ok(FromClient::Hello(_)) => Command::BadFrame {
                        peer: peer.clone(),
                        conn,
                        message: "Hello may be sent only once, as the first frame; ignored".into(),
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
