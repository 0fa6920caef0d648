//! Accepted connections, owned by the hub rather than by tonic: a cap on how many are open,
//! deadlines for connections that have not shown a valid token, and an accept loop that
//! backs off instead of spinning when the process runs out of file descriptors.
//!
//! Without this, a thousand raw TCP connections that send nothing hold a descriptor each
//! forever (tonic's TLS handshake and hyper's HTTP/2 preface wait without a deadline), the
//! process hits its open-file limit, and tonic's accept loop retries `EMFILE` at full speed.
//!
//! A connection passes through three stages: *handshaking* until its first HTTP/2 request
//! arrives (TLS and the preface must finish within the handshake timeout), *unauthenticated*
//! until a request with a valid token (the whole connection must get there within the idle
//! timeout, counted from its accept), then *authenticated*, which no deadline ends. When the
//! cap is reached, the oldest connection not yet authenticated is closed to make room; if
//! every connection is authenticated, the new one is refused.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};
use tonic::{Request, Status};

use crate::metrics::{ConnCounters, Metrics};

/// Connection limits in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Time from accept to the first HTTP/2 request (TLS and the preface included).
    pub handshake_timeout: Duration,
    /// Time from accept to the first request with a valid token.
    pub idle_timeout: Duration,
}

const HANDSHAKING: u8 = 0;
const UNAUTHENTICATED: u8 = 1;
const AUTHENTICATED: u8 = 2;

/// What one connection's I/O and the request path share.
#[derive(Debug)]
struct ConnState {
    /// Accept order: the oldest is closed first when the cap is reached.
    seq: u64,
    stage: AtomicU8,
    /// Set to close the connection now (to make room for a new one).
    evicted: AtomicBool,
    /// The task reading the connection, woken when it is evicted.
    waker: Mutex<Option<Waker>>,
}

impl ConnState {
    fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        if let Some(w) = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            w.wake();
        }
    }
}

/// The hub's open connections: the cap, and those not yet authenticated by remote address
/// (unique among live connections), so the request path can mark them.
pub struct Connections {
    limits: ConnLimits,
    slots: Arc<Semaphore>,
    pending: Mutex<HashMap<SocketAddr, Arc<ConnState>>>,
    next_seq: AtomicU64,
    metrics: Arc<Metrics>,
}

impl Connections {
    /// Connections under `limits`, counted in `metrics`.
    pub fn new(limits: ConnLimits, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            limits,
            slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            pending: Mutex::default(),
            next_seq: AtomicU64::new(0),
            metrics,
        })
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<ConnState>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the connection from `remote` on to `stage` (never back).
    fn advance(&self, remote: Option<SocketAddr>, stage: u8) {
        let Some(remote) = remote else { return };
        let mut pending = self.pending();
        if let Some(state) = pending.get(&remote) {
            state.stage.fetch_max(stage, Ordering::AcqRel);
            if stage == AUTHENTICATED {
                pending.remove(&remote);
            }
        }
    }

    /// Closes the oldest connection that has not been authenticated; false if there is none.
    fn evict_oldest(&self) -> bool {
        let mut pending = self.pending();
        let oldest = pending
            .iter()
            .min_by_key(|(_, s)| s.seq)
            .map(|(addr, _)| *addr);
        match oldest.and_then(|addr| pending.remove(&addr)) {
            Some(state) => {
                state.evict();
                true
            }
            None => false,
        }
    }

    /// Closes every connection that has not been authenticated (at shutdown: graceful
    /// shutdown waits for connections to end, and these would wait out their deadlines).
    pub fn close_unauthenticated(&self) {
        for (_, state) in self.pending().drain() {
            state.evict();
        }
    }

    /// A slot for a new connection: a free one, else one freed by closing the oldest
    /// unauthenticated connection; `None` if every open connection is authenticated.
    async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Some(permit);
        }
        if !self.evict_oldest() {
            return None;
        }
        ConnCounters::add(&self.metrics.conns.evicted);
        // The evicted connection's task notices at once; its slot follows when it is dropped.
        tokio::time::timeout(Duration::from_secs(2), self.slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }

    fn admit(self: &Arc<Self>, stream: TcpStream, permit: OwnedSemaphorePermit) -> TrackedIo {
        let info = TcpConnectInfo {
            local_addr: stream.local_addr().ok(),
            remote_addr: stream.peer_addr().ok(),
        };
        let state = Arc::new(ConnState {
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
            stage: AtomicU8::new(HANDSHAKING),
            evicted: AtomicBool::new(false),
            waker: Mutex::default(),
        });
        if let Some(remote) = info.remote_addr {
            self.pending().insert(remote, state.clone());
        }
        self.metrics.conns.open.fetch_add(1, Ordering::Relaxed);
        ConnCounters::add(&self.metrics.conns.accepted);
        let accepted = Instant::now();
        TrackedIo {
            inner: stream,
            info,
            state,
            connections: self.clone(),
            accepted,
            timer: Box::pin(tokio::time::sleep_until(
                accepted + self.limits.handshake_timeout,
            )),
            _slot: permit,
        }
    }

    /// An interceptor for every request: its connection has finished its handshake.
    pub fn handshake_done(
        self: &Arc<Self>,
    ) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + use<> {
        let connections = self.clone();
        move |request: Request<()>| {
            connections.advance(request.remote_addr(), UNAUTHENTICATED);
            Ok(request)
        }
    }

    /// Marks the connection from `remote` authenticated (a request on it carried a valid
    /// token): from then on no deadline closes it.
    pub fn authenticated(&self, remote: Option<SocketAddr>) {
        self.advance(remote, AUTHENTICATED);
    }
}

/// An accepted TCP connection that closes itself when its stage's deadline passes or when
/// it is evicted, and gives its slot back when dropped.
pub struct TrackedIo {
    inner: TcpStream,
    info: TcpConnectInfo,
    state: Arc<ConnState>,
    connections: Arc<Connections>,
    accepted: Instant,
    timer: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl TrackedIo {
    /// Why the connection must close now, if it must. Registers the reading task's waker
    /// with the deadline and for eviction.
    fn must_close(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.state.evicted.load(Ordering::Acquire) {
            return Some(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "closed to make room: the hub is at its connection limit",
            ));
        }
        let stage = self.state.stage.load(Ordering::Acquire);
        let (timeout, counter) = match stage {
            HANDSHAKING => (
                self.connections.limits.handshake_timeout,
                &self.connections.metrics.conns.handshake_timeouts,
            ),
            UNAUTHENTICATED => (
                self.connections.limits.idle_timeout,
                &self.connections.metrics.conns.idle_timeouts,
            ),
            _ => return None,
        };
        *self
            .state
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        let deadline = self.accepted + timeout;
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        if self.timer.as_mut().poll(cx).is_ready() {
            ConnCounters::add(counter);
            // Debug, not info: a flood of connections must not become a flood of log lines
            // (the counters at /metrics say how many).
            tracing::debug!(
                target: "security",
                event = if stage == HANDSHAKING { "handshake_timeout" } else { "unauthenticated_idle_timeout" },
                remote = ?self.info.remote_addr,
                "closed a connection that had not {} within {:?}",
                if stage == HANDSHAKING { "finished its handshake" } else { "presented a valid token" },
                timeout
            );
            return Some(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection deadline passed",
            ));
        }
        None
    }
}

impl Drop for TrackedIo {
    fn drop(&mut self) {
        self.connections
            .metrics
            .conns
            .open
            .fetch_sub(1, Ordering::Relaxed);
        if let Some(remote) = self.info.remote_addr {
            let mut pending = self.connections.pending();
            if pending
                .get(&remote)
                .is_some_and(|s| Arc::ptr_eq(s, &self.state))
            {
                pending.remove(&remote);
            }
        }
    }
}

impl Connected for TrackedIo {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.must_close(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// How long to wait after an accept error: doubling from 5 ms to 1 s while errors repeat, so
/// running out of descriptors costs a few wake-ups a second instead of a busy core.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The wait after one more consecutive failure.
    pub fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let exp = self.failures.saturating_sub(1).min(8);
        Duration::from_millis(5u64 << exp).min(Duration::from_secs(1))
    }
}

type NextConn = Pin<Box<dyn Future<Output = TrackedIo> + Send>>;

/// The accepted connections as tonic wants them. Never yields an error (tonic would retry
/// at once): accept errors are logged and waited out here.
pub struct Incoming {
    acceptor: Arc<Acceptor>,
    next: NextConn,
}

impl Incoming {
    /// Accepts on `listener` under `connections`' cap.
    pub fn new(listener: TcpListener, connections: Arc<Connections>) -> Self {
        let acceptor = Arc::new(Acceptor {
            listener,
            connections,
        });
        Self {
            next: Box::pin(acceptor.clone().accept()),
            acceptor,
        }
    }
}

impl tokio_stream::Stream for Incoming {
    type Item = io::Result<TrackedIo>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.next.as_mut().poll(cx) {
            Poll::Ready(io) => {
                self.next = Box::pin(self.acceptor.clone().accept());
                Poll::Ready(Some(Ok(io)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

struct Acceptor {
    listener: TcpListener,
    connections: Arc<Connections>,
}

impl Acceptor {
    /// The next admitted connection (loops over refusals and errors).
    async fn accept(self: Arc<Self>) -> TrackedIo {
        let mut backoff = Backoff::default();
        loop {
            let stream = match self.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    let wait = backoff.failed();
                    ConnCounters::add(&self.connections.metrics.conns.accept_errors);
                    tracing::warn!(error = %e, wait_ms = wait.as_millis(), "cannot accept a connection (out of file descriptors?); waiting");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            let Some(permit) = self.connections.slot().await else {
                ConnCounters::add(&self.connections.metrics.conns.refused);
                tracing::debug!(
                    target: "security",
                    event = "connection_refused",
                    remote = ?stream.peer_addr().ok(),
                    max = self.connections.limits.max_connections,
                    "refused a connection: every one of the hub's connections is in use by a signed-in client"
                );
                continue;
            };
            // Without it a small sync frame can wait ~40 ms for the peer's delayed ACK.
            if let Err(e) = stream.set_nodelay(true) {
                tracing::warn!(error = %e, "cannot set TCP_NODELAY on an accepted connection");
            }
            return self.connections.admit(stream, permit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_back_off_to_a_second_and_never_busy_loop() {
        let mut b = Backoff::default();
        let waits: Vec<_> = (0..12).map(|_| b.failed().as_millis()).collect();
        assert_eq!(waits[..3], [5, 10, 20]);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]), "{waits:?}");
        assert_eq!(*waits.last().unwrap_or(&0), 1000);
        // A burst of a thousand failures costs seconds of waiting, not a spinning core.
        let total: u128 = (0..1000).map(|_| b.failed().as_millis()).sum();
        assert!(total >= 900_000, "{total}");
    }
}
