//! Opening the sync stream: Hello, then the hub's Welcome.

use nic_model::{Member, PeerId};
use nic_proto::convert::{self, FromHub};
use nic_proto::v1::{self, sync_client::SyncClient};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;

use crate::ClientError;
use crate::hub::link::{ATTEMPT_TIMEOUT, Link};

/// An open sync stream.
pub(crate) struct Conn {
    pub(crate) out: mpsc::Sender<v1::ClientFrame>,
    pub(crate) inbound: Streaming<v1::HubFrame>,
    /// Who the hub says we are, with the roles it holds now.
    pub(crate) member: Option<Member>,
    /// Encoded size of Hello and Welcome.
    pub(crate) handshake_bytes: (u64, u64),
}

/// Opens the stream and waits for the hub's Welcome.
pub(crate) async fn open(hub: Link, peer: PeerId) -> Result<Conn, ClientError> {
    match tokio::time::timeout(ATTEMPT_TIMEOUT, open_inner(hub.clone(), peer)).await {
        Ok(result) => result,
        Err(_) => Err(ClientError::Unreachable {
            addr: hub.addr.clone(),
            reason: format!("no answer within {ATTEMPT_TIMEOUT:?}"),
        }),
    }
}

async fn open_inner(hub: Link, peer: PeerId) -> Result<Conn, ClientError> {
    let (out, rx) = mpsc::channel(1024);
    let hello = v1::ClientFrame {
        frame: Some(v1::client_frame::Frame::Hello(v1::Hello {
            peer_id: peer.to_string(),
            client_name: "nic-client".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
            protocol_version: nic_proto::PROTOCOL_VERSION,
        })),
    };
    let sent = hello.encoded_len() as u64;
    let _ = out.send(hello).await;
    let mut inbound = SyncClient::with_interceptor(hub.channel.clone(), hub.bearer.clone())
        .max_decoding_message_size(64 * 1024 * 1024)
        .connect(ReceiverStream::new(rx))
        .await
        .map_err(|status| hub.failed(status))?
        .into_inner();
    let first = inbound
        .message()
        .await
        .map_err(|status| hub.failed(status))?;
    let received = first.as_ref().map_or(0, |f| f.encoded_len() as u64);
    match first.map(convert::from_hub) {
        Some(Ok(FromHub::Welcome(welcome))) => Ok(Conn {
            out,
            inbound,
            member: welcome.member.and_then(|m| convert::member(&m, 0).ok()),
            handshake_bytes: (sent, received),
        }),
        other => Err(ClientError::Protocol(format!(
            "expected Welcome, got {other:?}"
        ))),
    }
}
