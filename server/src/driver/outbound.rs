//! The response stream of one `Sync.Connect` call: frames queued by the engine task, ended
//! early with a status when the hub cuts the client off.
//!
//! The queue is bounded in bytes, per stream and per member (over all of the member's
//! streams), besides a count of frames: whatever a client asks for and fails to read, the
//! hub holds at most that much for it. Sync messages for a document still waiting in the
//! queue absorb newer ones for the same document (the changes of both, the newer one's
//! heads and requests — what the client would have made of reading both), so a client that
//! repeats a request while not reading costs one answer's worth of memory, not one per
//! request. A client that stops reading is cut off (see [`Outbound::stalled_since`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use nic_model::DocumentId;
use nic_proto::convert;
use nic_proto::v1::{self, HubFrame};
use nic_sync::Frame;
use nic_sync::automerge::sync::{ChunkList, Message, MessageFlags};
use tokio::sync::{oneshot, watch};
use tokio_stream::Stream;
use tonic::Status;

/// What one stream's queue may hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueueLimits {
    /// Frames waiting.
    pub(crate) frames: usize,
    /// Bytes waiting on this stream.
    pub(crate) stream_bytes: usize,
    /// Bytes waiting on all of the member's streams together.
    pub(crate) member_bytes: usize,
    /// The most changes a merged sync message may carry (the per-message limit).
    pub(crate) max_changes: usize,
    /// The largest merged sync message, in bytes (below the gRPC message limit).
    pub(crate) max_message_bytes: usize,
}

/// Why a frame was not queued.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The client's side is gone.
    Closed,
    /// A limit is reached; the client reads too slowly. The status to end the stream with.
    Full(Status),
}

/// Bytes waiting for one member, over all their streams; shared by those streams' queues.
pub(crate) type MemberBytes = Arc<AtomicUsize>;

/// What waits to go out on one stream.
struct Queue {
    items: VecDeque<Item>,
    bytes: usize,
    /// Where each document's last waiting sync message is, as `popped + index`.
    pending_sync: HashMap<DocumentId, u64>,
    /// Frames taken by the transport so far.
    popped: u64,
    /// Since when the transport has owed us a read: the later of the last frame taken and
    /// the moment the queue became non-empty. `None` while the queue is empty.
    owed_since: Option<Instant>,
    waker: Option<Waker>,
    member: MemberBytes,
    hub_bytes: Arc<AtomicU64>,
}

/// What waits in a queue.
pub(crate) enum Item {
    /// A frame already in wire form (the Welcome).
    Wire(Box<HubFrame>),
    /// A frame of the engine's.
    Frame(Frame),
    /// For a WebSocket peer: the document is unavailable to it (it does not exist, or the
    /// peer may not read it, or may no longer: the engine has no link for it).
    Unavailable(DocumentId),
    /// For a WebSocket peer: another peer's ephemeral message about a document it syncs.
    Ephemeral(Box<EphemeralOut>),
}

/// An ephemeral message relayed to one WebSocket peer.
#[derive(Clone, Debug)]
pub(crate) struct EphemeralOut {
    /// The document it is about.
    pub(crate) doc: DocumentId,
    /// The automerge-repo peer id of its sender, as that peer joined (never as it claimed
    /// in the message).
    pub(crate) sender: String,
    /// The sender's session and its message number there.
    pub(crate) session: String,
    pub(crate) count: u64,
    /// Its content, as sent.
    pub(crate) data: Vec<u8>,
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.member.fetch_sub(self.bytes, Ordering::Relaxed);
        self.hub_bytes
            .fetch_sub(self.bytes as u64, Ordering::Relaxed);
    }
}

/// The memory a queued item stands for (the Welcome counts for nothing: it always fits).
fn item_bytes(item: &Item) -> usize {
    match item {
        Item::Wire(_) => 0,
        Item::Frame(frame) => frame_bytes(frame),
        Item::Unavailable(_) => 64,
        Item::Ephemeral(e) => 64 + e.sender.len() + e.session.len() + e.data.len(),
    }
}

/// The memory a queued frame stands for, roughly: its payload plus a fixed overhead.
fn frame_bytes(frame: &Frame) -> usize {
    const OVERHEAD: usize = 64;
    OVERHEAD
        + match frame {
            Frame::Sync { message, .. } => message.len(),
            Frame::Subscribed { docs, .. } => docs.len() * 40,
            Frame::Ack { heads, .. } => heads.len() * 32,
            Frame::Announce(meta) => meta.title.len() + 128,
            Frame::Error { message, .. } => message.len(),
            Frame::Subscribe { known, .. } => known.len() * 80,
            Frame::Unsubscribe(_) | Frame::CaughtUp { .. } => 0,
        }
}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    // Every update leaves the queue consistent before anything that could panic.
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The hub's side of one client's queue. Dropping it (or closing it) also stops the task
/// reading the client's frames, so a cut-off client cannot hold its connection open.
pub(crate) struct Outbound {
    queue: Arc<Mutex<Queue>>,
    limits: QueueLimits,
    close: Option<oneshot::Sender<Status>>,
    alive: Option<watch::Sender<()>>,
    /// The client is an automerge-repo WebSocket peer, not a `Sync.Connect` stream.
    websocket: bool,
}

impl Outbound {
    /// Marks the queue as a WebSocket peer's: its sync states are not kept, and refusals to
    /// read reach it as [`Item::Unavailable`].
    pub(crate) fn for_websocket(mut self) -> Self {
        self.websocket = true;
        self
    }

    /// Whether the client is a WebSocket peer.
    pub(crate) fn is_websocket(&self) -> bool {
        self.websocket
    }

    /// Ends the client's stream with this status (once), and frees what waited for it at
    /// once: a client that does not read may never let the transport take the status.
    pub(crate) fn close(&mut self, status: Status) {
        if let Some(tx) = self.close.take() {
            let _ = tx.send(status);
        }
        self.alive = None;
        let mut q = lock(&self.queue);
        q.items.clear();
        q.pending_sync.clear();
        q.member.fetch_sub(q.bytes, Ordering::Relaxed);
        q.hub_bytes.fetch_sub(q.bytes as u64, Ordering::Relaxed);
        q.bytes = 0;
        q.owed_since = None;
    }

    /// Queues the Welcome (always the first frame, queued on a new queue; it always fits).
    pub(crate) fn welcome(&mut self, welcome: v1::Welcome) {
        let frame = HubFrame {
            frame: Some(v1::hub_frame::Frame::Welcome(welcome)),
        };
        let mut q = lock(&self.queue);
        q.items.push_back(Item::Wire(Box::new(frame)));
        if let Some(waker) = q.waker.take() {
            waker.wake();
        }
    }

    /// Queues a frame for the client, merging a sync message into one for the same document
    /// that still waits; refuses it when a limit is reached or the client is gone.
    pub(crate) fn push(&mut self, frame: Frame, now: Instant) -> Result<(), Refused> {
        if self.close.is_none() || self.alive.is_none() {
            return Err(Refused::Closed);
        }
        let limits = self.limits;
        let mut q = lock(&self.queue);
        let q = &mut *q;
        if let Frame::Sync { doc, message } = &frame
            && let Some(index) = q
                .pending_sync
                .get(doc)
                .and_then(|&at| at.checked_sub(q.popped))
                .and_then(|i| usize::try_from(i).ok())
            && let Some(Item::Frame(Frame::Sync {
                message: waiting, ..
            })) = q.items.get(index)
            && let Some(merged) = merge(waiting, message, limits)
        {
            let grown = merged.len().saturating_sub(waiting.len());
            let shrunk = waiting.len().saturating_sub(merged.len());
            check(q, limits, grown, 0)?;
            if let Some(Item::Frame(Frame::Sync {
                message: waiting, ..
            })) = q.items.get_mut(index)
            {
                *waiting = merged;
            }
            q.bytes = q.bytes + grown - shrunk;
            q.member.fetch_add(grown, Ordering::Relaxed);
            q.member.fetch_sub(shrunk, Ordering::Relaxed);
            q.hub_bytes.fetch_add(grown as u64, Ordering::Relaxed);
            q.hub_bytes.fetch_sub(shrunk as u64, Ordering::Relaxed);
            return Ok(());
        }
        let size = frame_bytes(&frame);
        check(q, limits, size, 1)?;
        if let Frame::Sync { doc, .. } = &frame {
            q.pending_sync.insert(*doc, q.popped + q.items.len() as u64);
        }
        q.items.push_back(Item::Frame(frame));
        q.bytes += size;
        q.member.fetch_add(size, Ordering::Relaxed);
        q.hub_bytes.fetch_add(size as u64, Ordering::Relaxed);
        if q.owed_since.is_none() {
            q.owed_since = Some(now);
        }
        if let Some(waker) = q.waker.take() {
            waker.wake();
        }
        Ok(())
    }

    /// Queues a WebSocket peer's [`Item::Unavailable`] or [`Item::Ephemeral`], within the
    /// same limits as frames.
    pub(crate) fn push_item(&mut self, item: Item, now: Instant) -> Result<(), Refused> {
        if self.close.is_none() || self.alive.is_none() {
            return Err(Refused::Closed);
        }
        let mut q = lock(&self.queue);
        let q = &mut *q;
        let size = item_bytes(&item);
        check(q, self.limits, size, 1)?;
        q.items.push_back(item);
        q.bytes += size;
        q.member.fetch_add(size, Ordering::Relaxed);
        q.hub_bytes.fetch_add(size as u64, Ordering::Relaxed);
        if q.owed_since.is_none() {
            q.owed_since = Some(now);
        }
        if let Some(waker) = q.waker.take() {
            waker.wake();
        }
        Ok(())
    }

    /// Since when frames have waited without the client taking any; `None` when nothing
    /// waits. A client that reads nothing for long is cut off by the engine task.
    pub(crate) fn stalled_since(&self) -> Option<Instant> {
        lock(&self.queue).owed_since
    }

    /// Bytes waiting on this stream now.
    pub(crate) fn queued_bytes(&self) -> usize {
        lock(&self.queue).bytes
    }
}

/// Refuses `bytes` more in `frames` more frames when a limit would be passed.
fn check(q: &Queue, limits: QueueLimits, bytes: usize, frames: usize) -> Result<(), Refused> {
    if q.items.len() + frames > limits.frames {
        return Err(Refused::Full(Status::resource_exhausted(format!(
            "you read too slowly: {} frames were waiting (the limit per stream); reconnect to resume",
            limits.frames
        ))));
    }
    if q.bytes + bytes > limits.stream_bytes {
        return Err(Refused::Full(Status::resource_exhausted(format!(
            "you read too slowly: {} bytes were waiting on this stream (the limit is {}); reconnect to resume",
            q.bytes, limits.stream_bytes
        ))));
    }
    let member = q.member.load(Ordering::Relaxed);
    if member + bytes > limits.member_bytes {
        return Err(Refused::Full(Status::resource_exhausted(format!(
            "you read too slowly: {member} bytes were waiting on your streams together (the limit per member is {}); reconnect to resume",
            limits.member_bytes
        ))));
    }
    Ok(())
}

/// One sync message standing for `older` then `newer` for the same document: the changes
/// of both (each once), the newer one's heads, summary and requests, and a reset either
/// asked for. `None` when they cannot be merged (undecodable, or the result would pass the
/// per-message limits); then the newer one queues on its own.
fn merge(older: &[u8], newer: &[u8], limits: QueueLimits) -> Option<Vec<u8>> {
    let old = Message::decode(older).ok()?;
    let mut new = Message::decode(newer).ok()?;
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    for chunk in old.changes.iter().chain(new.changes.iter()) {
        if seen.insert(chunk) {
            chunks.push(chunk.to_vec());
        }
    }
    if chunks.len() > limits.max_changes {
        return None;
    }
    if old
        .flags
        .is_some_and(|f| f.contains(MessageFlags::SYNC_RESET))
    {
        let mut flags = new.flags.unwrap_or_default();
        flags.set(MessageFlags::SYNC_RESET);
        new.flags = Some(flags);
    }
    drop(seen);
    new.changes = ChunkList::from(chunks);
    let merged = new.encode();
    (merged.len() <= limits.max_message_bytes).then_some(merged)
}

/// Completes when the hub has let go of the client (closed or dropped its [`Outbound`]).
pub(crate) async fn released(mut alive: watch::Receiver<()>) {
    while alive.changed().await.is_ok() {}
}

/// The client's side: what tonic sends as the response stream.
pub struct OutboundStream {
    queue: Arc<Mutex<Queue>>,
    /// `None` once the hub side dropped its handle without closing.
    close: Option<oneshot::Receiver<Status>>,
    /// Whether the hub side still holds the queue.
    alive: watch::Receiver<()>,
    done: bool,
}

/// A queue within `limits`, counting its bytes into the member's and the hub's totals, with
/// its closing handle, and a receiver that completes (see [`released`]) once the hub lets
/// go of the client.
pub(crate) fn channel(
    limits: QueueLimits,
    member: MemberBytes,
    hub_bytes: Arc<AtomicU64>,
) -> (Outbound, OutboundStream, watch::Receiver<()>) {
    let queue = Arc::new(Mutex::new(Queue {
        items: VecDeque::new(),
        bytes: 0,
        pending_sync: HashMap::new(),
        popped: 0,
        owed_since: None,
        waker: None,
        member,
        hub_bytes,
    }));
    let (close_tx, close_rx) = oneshot::channel();
    let (alive_tx, alive_rx) = watch::channel(());
    (
        Outbound {
            queue: queue.clone(),
            limits,
            close: Some(close_tx),
            alive: Some(alive_tx),
            websocket: false,
        },
        OutboundStream {
            queue,
            close: Some(close_rx),
            alive: alive_rx.clone(),
            done: false,
        },
        alive_rx,
    )
}

impl Stream for OutboundStream {
    type Item = Result<HubFrame, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return match self.poll_item(cx) {
                Poll::Ready(Some(Ok(Item::Wire(frame)))) => Poll::Ready(Some(Ok(*frame))),
                Poll::Ready(Some(Ok(Item::Frame(frame)))) => match convert::to_client(frame) {
                    Some(wire) => Poll::Ready(Some(Ok(wire))),
                    None => continue,
                },
                // Never queued for a gRPC stream.
                Poll::Ready(Some(Ok(Item::Unavailable(_) | Item::Ephemeral(_)))) => continue,
                Poll::Ready(Some(Err(status))) => Poll::Ready(Some(Err(status))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

impl OutboundStream {
    /// The next item as queued: what a WebSocket session translates itself. `Err` once,
    /// when the hub ends the stream with a status; `None` after the hub let go of it.
    pub(crate) fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Item, Status>>> {
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
        let next = {
            let mut q = lock(&self.queue);
            let q = &mut *q;
            match q.items.pop_front() {
                Some(item) => {
                    let size = item_bytes(&item);
                    if let Item::Frame(Frame::Sync { doc, .. }) = &item
                        && q.pending_sync.get(doc) == Some(&q.popped)
                    {
                        q.pending_sync.remove(doc);
                    }
                    q.popped += 1;
                    q.bytes = q.bytes.saturating_sub(size);
                    q.member.fetch_sub(size, Ordering::Relaxed);
                    q.hub_bytes.fetch_sub(size as u64, Ordering::Relaxed);
                    q.owed_since = (!q.items.is_empty()).then(Instant::now);
                    Some(item)
                }
                None => {
                    q.waker = Some(cx.waker().clone());
                    None
                }
            }
        };
        match next {
            Some(item) => Poll::Ready(Some(Ok(item))),
            // Nothing waits: the stream ends once the hub has let go of it.
            None if self.close.is_none() && self.alive.has_changed().is_err() => {
                self.done = true;
                Poll::Ready(None)
            }
            None => Poll::Pending,
        }
    }
}
