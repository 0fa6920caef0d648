//! One automerge-repo WebSocket: `join` answered by `peer` once the engine has confirmed the
//! member's rights, then `request`/`sync` in as engine sync frames, the engine's frames out
//! as `sync`, `doc-unavailable` and `error`, and `ephemeral` relayed by the engine task.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::StreamExt;
use nic_model::{MemberId, PeerId, TokenId};
use nic_proto::v1;
use nic_repo_wire::{Limits, Message, PROTOCOL_VERSION, PeerMetadata};
use nic_sync::Frame;
use sha2::{Digest, Sha256};
use tonic::{Code, Status};

use super::RepoEndpoint;
use crate::driver::Command;
use crate::driver::outbound::{self, EphemeralOut, Item};
use crate::metrics::Metrics;
use crate::sync_service::StreamSlot;

/// How long a socket has to send `join`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest ephemeral message relayed (cursors and presence are small).
const MAX_EPHEMERAL_BYTES: usize = 64 * 1024;
/// Ephemeral messages a session may send: a burst of this many, refilled at
/// [`EPHEMERAL_PER_SECOND`]. One message reaches every other reader of the document, so an
/// unbounded sender would multiply its traffic by their number.
const EPHEMERAL_BURST: f64 = 50.0;
const EPHEMERAL_PER_SECOND: f64 = 20.0;

/// Close codes (4000–4999 are the application's): the token is no longer good, the member
/// lost a right, the client broke the protocol or read too slowly.
const CLOSE_UNAUTHENTICATED: u16 = 4401;
const CLOSE_PERMISSION: u16 = 4403;
const CLOSE_TOO_SLOW: u16 = 4429;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_BAD_DATA: u16 = 1007;
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_INTERNAL: u16 = 1011;

/// Runs one socket until either side ends it.
pub(super) async fn run(
    ep: Arc<RepoEndpoint>,
    socket: WebSocket,
    member: MemberId,
    token: TokenId,
    slot: StreamSlot,
) {
    Metrics::add(&ep.metrics.websockets, 1);
    let mut session = Session {
        limits: Limits {
            max_message_bytes: ep.max_message_bytes,
            ..Limits::default()
        },
        ep: ep.clone(),
        socket,
        member,
        token,
        slot,
        remote: None,
        engine_peer: None,
        conn: 0,
        ephemeral_allowance: EPHEMERAL_BURST,
        ephemeral_at: Instant::now(),
    };
    let end = session.serve().await;
    if let Some(peer) = session.engine_peer.clone() {
        let _ = ep
            .hub
            .send(Command::Disconnect {
                peer,
                conn: session.conn,
            })
            .await;
    }
    session.close(end).await;
    ep.metrics
        .websockets
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

/// Tells a socket opened with a ticket that opens nothing why, and closes it (4401).
pub(super) async fn refuse(mut socket: WebSocket, why: String) {
    let error = nic_repo_wire::encode(&Message::Error {
        message: why.clone(),
    });
    let _ = socket.send(WsMessage::Binary(error.into())).await;
    let frame = CloseFrame {
        code: CLOSE_UNAUTHENTICATED,
        reason: close_reason(&why).into(),
    };
    let _ = socket.send(WsMessage::Close(Some(frame))).await;
}

/// Why a session ends, and what the client is told.
struct End {
    code: u16,
    reason: String,
    /// Sent as an `error` message first, so automerge-repo logs it.
    error: bool,
}

impl End {
    fn quiet(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            error: false,
        }
    }

    fn error(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            error: true,
        }
    }

    /// How a status the hub ended the peer's stream with reaches the socket.
    fn from_status(status: &Status) -> Self {
        let code = match status.code() {
            Code::Unauthenticated => CLOSE_UNAUTHENTICATED,
            Code::PermissionDenied => CLOSE_PERMISSION,
            Code::ResourceExhausted => CLOSE_TOO_SLOW,
            Code::Unavailable | Code::Aborted => CLOSE_GOING_AWAY,
            Code::InvalidArgument => CLOSE_POLICY,
            _ => CLOSE_INTERNAL,
        };
        Self::error(code, status.message())
    }
}

struct Session {
    ep: Arc<RepoEndpoint>,
    socket: WebSocket,
    limits: Limits,
    member: MemberId,
    token: TokenId,
    slot: StreamSlot,
    /// The client's peer id, as it joined.
    remote: Option<String>,
    /// Its id in the engine, once it joined.
    engine_peer: Option<PeerId>,
    conn: u64,
    ephemeral_allowance: f64,
    ephemeral_at: Instant,
}

/// What the socket gave.
enum Incoming {
    Message(Message),
    /// Undecodable: the client is told, the socket stays.
    Bad(String),
    /// The client closed, or the socket failed.
    Gone,
    /// A message the endpoint cannot take (text, over the size limit).
    Refused(End),
}

impl Session {
    async fn serve(&mut self) -> End {
        let join = match tokio::time::timeout(JOIN_TIMEOUT, self.next_message()).await {
            Err(_) => return End::error(CLOSE_POLICY, "no join within 10 s; send join first"),
            Ok(Incoming::Message(join @ Message::Join { .. })) => join,
            Ok(Incoming::Message(other)) => {
                return End::error(
                    CLOSE_POLICY,
                    format!("the first message must be join, not {}", other.type_name()),
                );
            }
            Ok(Incoming::Bad(why)) => return End::error(CLOSE_BAD_DATA, why),
            Ok(Incoming::Gone) => return End::quiet(1000, ""),
            Ok(Incoming::Refused(end)) => return end,
        };
        let Message::Join {
            sender,
            supported_versions,
            ..
        } = join
        else {
            return End::error(CLOSE_INTERNAL, "join expected");
        };
        if !supported_versions.iter().any(|v| v == PROTOCOL_VERSION) {
            return End::error(
                CLOSE_POLICY,
                format!(
                    "this hub speaks protocol version {PROTOCOL_VERSION}; you offered {supported_versions:?}"
                ),
            );
        }
        let peer = engine_peer(&self.member, &sender);
        self.remote = Some(sender);
        let (out, mut frames, _alive) = outbound::channel(
            self.ep.queue,
            self.slot.bytes.clone(),
            self.ep.metrics.queued_bytes.clone(),
        );
        self.conn = self.ep.hub.next_conn();
        let connect = Command::Connect {
            peer: peer.clone(),
            conn: self.conn,
            outbound: out.for_websocket(),
            member: self.member.clone(),
            token: self.token.clone(),
            welcome: v1::Welcome::default(),
        };
        if self.ep.hub.send(connect).await.is_err() {
            return End::error(
                CLOSE_GOING_AWAY,
                "the hub is shutting down; reconnect later",
            );
        }
        self.engine_peer = Some(peer.clone());
        tracing::info!(%peer, member = %self.member, "WebSocket peer joined");
        loop {
            tokio::select! {
                item = std::future::poll_fn(|cx| frames.poll_item(cx)) => {
                    match item {
                        Some(Ok(item)) => {
                            if let Some(end) = self.send_item(item).await {
                                return end;
                            }
                        }
                        Some(Err(status)) => return End::from_status(&status),
                        None => return End::error(CLOSE_GOING_AWAY, "the hub let go of this socket; reconnect"),
                    }
                }
                incoming = self.next_message() => {
                    if let Some(end) = self.receive(&peer, incoming).await {
                        return end;
                    }
                }
            }
        }
    }

    /// The next message from the socket, decoded.
    async fn next_message(&mut self) -> Incoming {
        loop {
            return match self.socket.next().await {
                Some(Err(e)) => match e.into_inner().downcast::<tungstenite::Error>() {
                    Ok(e) if matches!(*e, tungstenite::Error::Capacity(_)) => {
                        Incoming::Refused(End::error(
                            1009,
                            format!(
                                "a message over the hub's {}-byte limit; send smaller sync messages",
                                self.limits.max_message_bytes
                            ),
                        ))
                    }
                    _ => Incoming::Gone,
                },
                None | Some(Ok(WsMessage::Close(_))) => Incoming::Gone,
                Some(Ok(WsMessage::Binary(bytes))) => {
                    Metrics::add(&self.ep.metrics.frames_in, 1);
                    match nic_repo_wire::decode(&bytes, &self.limits) {
                        Ok(message) => Incoming::Message(message),
                        Err(e) => Incoming::Bad(format!("message ignored: {e}")),
                    }
                }
                Some(Ok(WsMessage::Text(_))) => Incoming::Refused(End::error(
                    1003,
                    "text messages are not part of the protocol; send binary CBOR messages",
                )),
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
            };
        }
    }

    /// Acts on what the client sent; `Some` ends the session.
    async fn receive(&mut self, peer: &PeerId, incoming: Incoming) -> Option<End> {
        let message = match incoming {
            Incoming::Message(m) => m,
            Incoming::Bad(why) => {
                self.send(&Message::Error { message: why }).await;
                return None;
            }
            Incoming::Gone => return Some(End::quiet(1000, "")),
            Incoming::Refused(end) => return Some(end),
        };
        match message {
            Message::Request { document, data, .. } | Message::Sync { document, data, .. } => {
                Metrics::add(&self.ep.metrics.bytes_in, data.len() as u64);
                // As for gRPC frames: a message waits for the engine task holding its bytes'
                // worth of the member's budget, so a fast sender is slowed, not buffered.
                let budget = self.ep.queue.member_bytes.max(1);
                let size = u32::try_from(data.len().clamp(1, budget)).unwrap_or(u32::MAX);
                let Ok(held) = self.slot.inbound.clone().acquire_many_owned(size).await else {
                    return Some(End::error(
                        CLOSE_INTERNAL,
                        "the hub's inbound budget closed",
                    ));
                };
                let command = Command::Frame {
                    peer: peer.clone(),
                    conn: self.conn,
                    frame: Frame::Sync {
                        doc: document,
                        message: data,
                    },
                    held,
                };
                if self.ep.hub.send(command).await.is_err() {
                    return Some(End::error(CLOSE_GOING_AWAY, "the hub is shutting down"));
                }
            }
            Message::Ephemeral {
                document,
                count,
                session,
                data,
                ..
            } => {
                if !self.may_relay(data.len() + session.len()) {
                    Metrics::add(&self.ep.metrics.ephemeral_dropped, 1);
                    return None;
                }
                let message = Box::new(EphemeralOut {
                    doc: document,
                    sender: self.remote.clone().unwrap_or_default(),
                    session,
                    count,
                    data,
                });
                let command = Command::Ephemeral {
                    peer: peer.clone(),
                    conn: self.conn,
                    message,
                };
                if self.ep.hub.send(command).await.is_err() {
                    return Some(End::error(CLOSE_GOING_AWAY, "the hub is shutting down"));
                }
            }
            Message::Leave { .. } => return Some(End::quiet(1000, "")),
            Message::Join { .. } => {
                return Some(End::error(
                    CLOSE_POLICY,
                    "join may be sent only once, as the first message",
                ));
            }
            // Nothing for the hub to do: it keeps no per-storage-id gossip, and a client's
            // doc-unavailable or error needs no answer.
            Message::Peer { .. }
            | Message::DocUnavailable { .. }
            | Message::Error { .. }
            | Message::RemoteSubscriptionChange { .. }
            | Message::RemoteHeadsChanged { .. } => {}
        }
        None
    }

    /// Whether an ephemeral message of `bytes` fits the session's allowance (and spends it).
    fn may_relay(&mut self, bytes: usize) -> bool {
        if bytes > MAX_EPHEMERAL_BYTES {
            return false;
        }
        let now = Instant::now();
        let refill = now.duration_since(self.ephemeral_at).as_secs_f64() * EPHEMERAL_PER_SECOND;
        self.ephemeral_at = now;
        self.ephemeral_allowance = (self.ephemeral_allowance + refill).min(EPHEMERAL_BURST);
        if self.ephemeral_allowance < 1.0 {
            return false;
        }
        self.ephemeral_allowance -= 1.0;
        true
    }

    /// Sends what the engine task queued; `Some` ends the session.
    async fn send_item(&mut self, item: Item) -> Option<End> {
        let hub = self.ep.hub_peer.clone();
        let target = self.remote.clone().unwrap_or_default();
        let message = match item {
            // The Welcome: the directory confirmed the member's rights.
            Item::Wire(_) => Message::Peer {
                sender: hub,
                selected_version: PROTOCOL_VERSION.to_owned(),
                target,
                metadata: Some(PeerMetadata {
                    storage_id: None,
                    is_ephemeral: false,
                }),
            },
            Item::Frame(Frame::Sync { doc, message }) => {
                Metrics::add(&self.ep.metrics.bytes_out, message.len() as u64);
                Message::Sync {
                    document: doc,
                    sender: hub,
                    target,
                    data: message,
                }
            }
            Item::Frame(Frame::Error { doc, message, .. }) => Message::Error {
                message: match doc {
                    Some(doc) if !message.contains(&doc.to_string()) => {
                        format!("document {doc}: {message}")
                    }
                    _ => message,
                },
            },
            Item::Unavailable(doc) => Message::DocUnavailable {
                document: doc,
                sender: hub,
                target,
            },
            Item::Ephemeral(e) => Message::Ephemeral {
                document: e.doc,
                sender: e.sender,
                target,
                count: e.count,
                session: e.session,
                data: e.data,
            },
            // Acks, announcements and subscription answers have no automerge-repo message.
            Item::Frame(_) => return None,
        };
        if self.send(&message).await {
            None
        } else {
            Some(End::quiet(1000, ""))
        }
    }

    /// Sends one message; false when the socket is gone.
    async fn send(&mut self, message: &Message) -> bool {
        let bytes = nic_repo_wire::encode(message);
        self.socket
            .send(WsMessage::Binary(bytes.into()))
            .await
            .is_ok()
    }

    /// Tells the client why (an `error` message, then the close frame's reason) and closes.
    async fn close(&mut self, end: End) {
        if end.error && !end.reason.is_empty() {
            self.send(&Message::Error {
                message: end.reason.clone(),
            })
            .await;
        }
        let frame = CloseFrame {
            code: end.code,
            reason: close_reason(&end.reason).into(),
        };
        let _ = self.socket.send(WsMessage::Close(Some(frame))).await;
    }
}

/// The engine's id for a WebSocket peer: derived from the member and the id the client
/// chose, so no client can take over another member's peer (whatever id it claims), and a
/// client reconnecting under its own id replaces its old socket.
fn engine_peer(member: &MemberId, remote: &str) -> PeerId {
    let mut hash = Sha256::new();
    hash.update(member.as_str().as_bytes());
    hash.update([0]);
    hash.update(remote.as_bytes());
    let digest = hex::encode(&hash.finalize()[..16]);
    // 3 + 32 characters of [a-z0-9-]: always a valid peer id.
    PeerId::new(format!("ws-{digest}")).expect("ws- and 32 hex digits form a valid peer id")
}

/// A close frame's reason is at most 123 bytes; cut at a character boundary.
fn close_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_peers_differ_by_member_and_stay_valid() {
        let ana = MemberId::new("ana").expect("id");
        let ben = MemberId::new("ben").expect("id");
        let weird = "peer with spaces / and ünïcode and a very long tail ".repeat(8);
        let a = engine_peer(&ana, &weird);
        assert_eq!(a, engine_peer(&ana, &weird));
        assert_ne!(a, engine_peer(&ben, &weird));
        assert_eq!(a.as_str().len(), 35);
    }

    #[test]
    fn close_reasons_fit_the_frame() {
        let long = "é".repeat(100);
        let cut = close_reason(&long);
        assert!(cut.len() <= 123);
        assert!(long.starts_with(&cut));
    }
}
