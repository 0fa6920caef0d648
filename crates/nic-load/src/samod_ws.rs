//! samod over a WebSocket this tool opens itself with `tokio-tungstenite` (plain `ws://` on
//! loopback): the dialing side, which can present a bearer token on the upgrade request, and
//! the accepting side of the reference samod hub (`samod-hub`). samod's own `tungstenite`
//! feature would pull OpenSSL and cannot set the `Authorization` header.

use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// What a tapped connection saw, in order: for tests that look at the hub's own messages.
#[derive(Clone, Debug)]
pub enum Seen {
    /// A binary message (one automerge-repo protocol message, CBOR).
    Message(Vec<u8>),
    /// The hub's close frame: its code and reason.
    Closed {
        /// The WebSocket close code (e.g. 4401).
        code: u16,
        /// Its reason.
        reason: String,
    },
}

/// How a [`WsDialer`] proves who it is.
#[derive(Clone)]
enum Credentials {
    None,
    /// `Authorization: Bearer <token>` on the upgrade request.
    Bearer(String),
    /// A fresh single-use ticket in the URL for each connection, asked of the hub with the
    /// bearer token (as a browser does).
    Tickets(nic_client::Hub),
}

/// A samod [`samod::Dialer`] that opens a WebSocket to `url`, with `Authorization: Bearer`
/// when given a token, or a ticket in the URL.
pub struct WsDialer {
    url: samod::Url,
    credentials: Credentials,
    tap: Option<tokio::sync::mpsc::UnboundedSender<Seen>>,
}

impl WsDialer {
    /// Dials `url` (`ws://…`), presenting `bearer` if given.
    pub fn new(url: &str, bearer: Option<String>) -> anyhow::Result<WsDialer> {
        Ok(WsDialer {
            url: samod::Url::parse(url)?,
            credentials: bearer.map_or(Credentials::None, Credentials::Bearer),
            tap: None,
        })
    }

    /// Dials the automerge-repo endpoint of `hub` with a new ticket (`?ticket=`) for each
    /// connection, issued to `hub`'s token.
    pub fn with_tickets(hub: nic_client::Hub, url: &str) -> anyhow::Result<WsDialer> {
        Ok(WsDialer {
            url: samod::Url::parse(url)?,
            credentials: Credentials::Tickets(hub),
            tap: None,
        })
    }

    /// Also sends everything each connection receives to `tap`.
    pub fn tapped(mut self, tap: tokio::sync::mpsc::UnboundedSender<Seen>) -> WsDialer {
        self.tap = Some(tap);
        self
    }
}

/// The hub refused the upgrade (e.g. 401 for a missing, bad or revoked token): retrying
/// with the same credentials cannot help.
#[derive(Debug)]
pub struct Refused {
    /// The HTTP status of the refusal.
    pub status: u16,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the hub refused the WebSocket upgrade (HTTP {})",
            self.status
        )
    }
}

impl std::error::Error for Refused {}

/// A connection that failed after the upgrade: a WebSocket error, or a text message (the
/// protocol is binary CBOR).
#[derive(Debug)]
pub struct StreamError(String);

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StreamError {}

impl samod::Dialer for WsDialer {
    type Error = Refused;

    fn url(&self) -> samod::Url {
        self.url.clone()
    }

    fn connect(&self) -> BoxFuture<'static, Result<samod::Transport, samod::DialError<Refused>>> {
        let (url, credentials, tap) = (
            self.url.to_string(),
            self.credentials.clone(),
            self.tap.clone(),
        );
        Box::pin(async move {
            let url = match &credentials {
                Credentials::Tickets(hub) => {
                    hub.socket_ticket()
                        .await
                        .map_err(samod::DialError::transient)?
                        .url
                }
                _ => url,
            };
            let mut request = url
                .as_str()
                .into_client_request()
                .map_err(samod::DialError::transient)?;
            if let Credentials::Bearer(token) = credentials {
                let value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(samod::DialError::transient)?;
                request.headers_mut().insert("authorization", value);
            }
            // TCP_NODELAY: without it a small sync message can wait ~40 ms for the hub's
            // delayed ACK.
            match tokio_tungstenite::connect_async_with_config(request, None, true).await {
                Ok((ws, _)) => Ok(transport(ws, tap)),
                Err(WsError::Http(response)) if response.status().is_client_error() => {
                    Err(samod::DialError::PermanentFailure(Refused {
                        status: response.status().as_u16(),
                    }))
                }
                Err(e) => Err(samod::DialError::transient(e)),
            }
        })
    }
}

/// Accepts a WebSocket on `io` (the server side of the handshake) as a samod transport.
pub async fn accept<S>(io: S) -> Result<samod::Transport, WsError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    Ok(transport(tokio_tungstenite::accept_async(io).await?, None))
}

/// Binary messages in and out; a close frame ends the stream, pings and pongs are
/// tungstenite's business, text is a protocol error. With a tap, a task reads the socket
/// and reports everything, so the hub's close frame is seen even after samod has stopped
/// reading (it hangs up on the `error` message the hub sends before closing).
fn transport<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    tap: Option<tokio::sync::mpsc::UnboundedSender<Seen>>,
) -> samod::Transport
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sink, mut stream) = ws.split();
    let sink = sink.with(|bytes: Vec<u8>| {
        futures_util::future::ready(Ok::<_, WsError>(Message::binary(bytes)))
    });
    let Some(tap) = tap else {
        let stream = stream.filter_map(|msg| async move { read(msg, None) });
        return samod::Transport::new(stream.boxed(), sink);
    };
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                msg = stream.next() => msg,
                // samod let go: stop reading, so the socket closes.
                () = tx.closed() => return,
            };
            let Some(msg) = msg else { return };
            if let Some(item) = read(
                msg,
                Some(&|seen| {
                    let _ = tap.send(seen);
                }),
            ) && tx.send(item).await.is_err()
            {
                return;
            }
        }
    });
    samod::Transport::new(tokio_stream::wrappers::ReceiverStream::new(rx), sink)
}

/// What samod gets of one WebSocket message; `tap`, if any, is told of binary messages and
/// close frames.
fn read(
    msg: Result<Message, WsError>,
    tap: Option<&dyn Fn(Seen)>,
) -> Option<Result<Vec<u8>, StreamError>> {
    match msg {
        Ok(Message::Binary(bytes)) => {
            let bytes = bytes.to_vec();
            if let Some(seen) = tap {
                seen(Seen::Message(bytes.clone()));
            }
            Some(Ok(bytes))
        }
        Ok(Message::Close(frame)) => {
            if let (Some(frame), Some(seen)) = (frame, tap) {
                seen(Seen::Closed {
                    code: frame.code.into(),
                    reason: frame.reason.to_string(),
                });
            }
            None
        }
        Ok(Message::Text(_)) => Some(Err(StreamError(
            "a text message on an automerge-repo socket (it speaks binary CBOR)".into(),
        ))),
        Ok(_) => None,
        Err(e) => Some(Err(StreamError(format!("WebSocket: {e}")))),
    }
}
