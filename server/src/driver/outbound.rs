//! The response stream of one `Sync.Connect` call: frames queued by the engine task, ended
//! early with a status when the hub cuts the client off.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use nic_proto::v1::HubFrame;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::Stream;
use tonic::Status;

/// The hub's side of one client's queue. Dropping it (or closing it) also stops the task
/// reading the client's frames, so a cut-off client cannot hold its connection open.
pub(crate) struct Outbound {
    pub(crate) frames: mpsc::Sender<HubFrame>,
    pub(crate) close: Option<oneshot::Sender<Status>>,
    alive: Option<watch::Sender<()>>,
}

impl Outbound {
    /// Ends the client's stream with this status (once).
    pub(crate) fn close(&mut self, status: Status) {
        if let Some(tx) = self.close.take() {
            let _ = tx.send(status);
        }
        self.alive = None;
    }
}

/// Completes when the hub has let go of the client (closed or dropped its [`Outbound`]).
pub(crate) async fn released(mut alive: watch::Receiver<()>) {
    while alive.changed().await.is_ok() {}
}

/// The client's side: what tonic sends as the response stream.
pub struct OutboundStream {
    frames: mpsc::Receiver<HubFrame>,
    /// `None` once the hub side dropped its handle without closing.
    close: Option<oneshot::Receiver<Status>>,
    done: bool,
}

/// A bounded queue of `capacity` frames with its closing handle, and a receiver that
/// completes (see [`released`]) once the hub lets go of the client.
pub(crate) fn channel(
    capacity: usize,
    first: HubFrame,
) -> (Outbound, OutboundStream, watch::Receiver<()>) {
    let (tx, rx) = mpsc::channel(capacity);
    // The first frame (Welcome) always fits: the queue is new.
    let _ = tx.try_send(first);
    let (close_tx, close_rx) = oneshot::channel();
    let (alive_tx, alive_rx) = watch::channel(());
    (
        Outbound {
            frames: tx,
            close: Some(close_tx),
            alive: Some(alive_tx),
        },
        OutboundStream {
            frames: rx,
            close: Some(close_rx),
            done: false,
        },
        alive_rx,
    )
}

impl Stream for OutboundStream {
    type Item = Result<HubFrame, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        // A close wins over queued frames: a cut-off client gets its status at once.
        if let Some(close) = self.close.as_mut() {
            match Pin::new(close).poll(cx) {
                Poll::Ready(Ok(status)) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(status)));
                }
                Poll::Ready(Err(_)) => self.close = None,
                Poll::Pending => {}
            }
        }
        match self.frames.poll_recv(cx) {
            Poll::Ready(Some(frame)) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
