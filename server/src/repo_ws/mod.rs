//! The automerge-repo WebSocket endpoint, `GET /automerge` on the hub's main port: what
//! `@automerge/automerge-repo`'s WebSocket adapters and samod connect to.
//!
//! - this file — the upgrade: who is asking (a ticket in the URL, or an `Authorization:
//!   Bearer` header for clients that can set one), their place among the member's streams,
//!   then the socket handed to a session;
//! - `session.rs` — one socket: the protocol's handshake, then its messages translated to
//!   and from the engine's frames. The session is an engine peer like a `Sync.Connect`
//!   stream, so rights, authorship, limits and durability are the engine's, unchanged.
//!
//! The protocol is automerge-repo's network protocol, version 1, as its
//! `automerge-repo-network-websocket` package (README "Wire protocol", `src/messages.ts`)
//! and samod speak it; `nic-repo-wire` holds the messages.

mod session;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{FromRequest, Request, State, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nic_model::{MemberId, TokenId};
use tonic::metadata::MetadataMap;
use tonic::transport::server::TcpConnectInfo;

use crate::auth::Authenticator;
use crate::auth::ticket::Tickets;
use crate::conn::Connections;
use crate::driver::HubHandle;
use crate::driver::outbound::QueueLimits;
use crate::metrics::Metrics;
use crate::sync_service::{MemberStreams, StreamSlot};

/// The path the endpoint answers on.
pub const PATH: &str = "/automerge";

/// What every WebSocket session shares.
pub(crate) struct RepoEndpoint {
    pub(crate) hub: HubHandle,
    pub(crate) auth: Authenticator,
    pub(crate) tickets: Arc<Tickets>,
    pub(crate) connections: Arc<Connections>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) queue: QueueLimits,
    pub(crate) max_streams_per_member: usize,
    /// Shared with the Sync service: a member's WebSockets and streams count together.
    pub(crate) streams: Arc<Mutex<HashMap<MemberId, MemberStreams>>>,
    /// The largest message a peer may send.
    pub(crate) max_message_bytes: usize,
    /// The hub's peer id in the protocol, drawn at start-up.
    pub(crate) hub_peer: String,
}

impl RepoEndpoint {
    /// The hub's peer id: `nic-hub-` and a random suffix, new at every start (the hub keeps
    /// no sync state for WebSocket peers, so nothing depends on it staying the same).
    pub(crate) fn new_peer_id() -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut bytes);
        format!("nic-hub-{}", hex::encode(bytes))
    }
}

/// The route's handler: authenticates, takes a stream slot, upgrades.
pub(crate) async fn upgrade(State(ep): State<Arc<RepoEndpoint>>, request: Request) -> Response {
    let remote = request
        .extensions()
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr);
    let ticket = ticket_of(request.uri().query()).map(str::to_owned);
    let headers = request.headers().clone();
    let (member, token) = match authenticate(&ep, ticket.as_deref(), headers, remote).await {
        Ok(who) => who,
        Err(Refused::Http(refused)) => return refused,
        // automerge-repo's adapters reconnect on the same URL, and its Node adapter throws
        // (ending the app's process) on an HTTP refusal: a ticket that no longer opens
        // anything is told so on an upgraded socket, closed at once with 4401.
        Err(Refused::Ticket(why)) => {
            return match WebSocketUpgrade::from_request(request, &()).await {
                Ok(ws) => ws.on_upgrade(move |socket| session::refuse(socket, why)),
                Err(rejection) => rejection.into_response(),
            };
        }
    };
    ep.connections.authenticated(remote);
    let slot = match StreamSlot::take(
        &ep.streams,
        &member,
        ep.max_streams_per_member,
        ep.queue.member_bytes,
    ) {
        Ok(slot) => slot,
        Err(status) => {
            return (StatusCode::TOO_MANY_REQUESTS, status.message().to_owned()).into_response();
        }
    };
    let ws = match WebSocketUpgrade::from_request(request, &()).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let max = ep.max_message_bytes;
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| session::run(ep, socket, member, token, slot))
}

/// Why an upgrade request was not authenticated.
enum Refused {
    /// No credentials, or a bad token: a 401 before the upgrade.
    Http(Response),
    /// A ticket that is unknown, spent or expired: said on the socket (see `upgrade`).
    Ticket(String),
}

/// Who the upgrade request stands for: the ticket in its query, else its bearer token. A
/// refusal says what to present; it never echoes what was presented.
async fn authenticate(
    ep: &RepoEndpoint,
    ticket: Option<&str>,
    headers: axum::http::HeaderMap,
    remote: Option<SocketAddr>,
) -> Result<(MemberId, TokenId), Refused> {
    let unauthorized = |why: &str| {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            format!(
                "{why}: open {PATH}?ticket=<ticket>, with a ticket from Directory.IssueSocketTicket (valid 60 s, once), or send Authorization: Bearer <token>"
            ),
        )
            .into_response()
    };
    if let Some(ticket) = ticket {
        return match ep.tickets.redeem(ticket, Instant::now()) {
            Some(holder) => Ok((holder.member, holder.token)),
            None => {
                tracing::info!(target: "security", event = "ticket_refused", remote = ?remote, "a WebSocket ticket was unknown, spent or expired");
                Err(Refused::Ticket(
                    "the ticket is unknown, spent or expired: get a fresh one from Directory.IssueSocketTicket (each opens one socket, within 60 s)".into(),
                ))
            }
        };
    }
    if headers.contains_key(header::AUTHORIZATION) {
        let metadata = MetadataMap::from_headers(headers);
        return match ep
            .auth
            .authenticate_async(remote.map(|a| a.ip()), &metadata)
            .await
        {
            Ok(caller) => Ok((caller.member.id, caller.token)),
            Err(e) => Err(Refused::Http(unauthorized(
                tonic::Status::from(e).message(),
            ))),
        };
    }
    Err(Refused::Http(unauthorized("no credentials")))
}

/// The `ticket` parameter of a query string, if any (tickets are URL-safe: no decoding).
fn ticket_of(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("ticket="))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::ticket_of;

    #[test]
    fn the_ticket_is_read_from_anywhere_in_the_query() {
        assert_eq!(ticket_of(Some("ticket=abc")), Some("abc"));
        assert_eq!(ticket_of(Some("x=1&ticket=abc&y=2")), Some("abc"));
        assert_eq!(ticket_of(Some("ticket=")), None);
        assert_eq!(ticket_of(Some("xticket=abc")), None);
        assert_eq!(ticket_of(None), None);
    }
}
