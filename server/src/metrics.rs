//! Counters for scraping, in the Prometheus text format at `/metrics`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The hub's counters. Cheap to update from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sync streams open now.
    pub peers: AtomicU64,
    /// Documents in memory now.
    pub loaded_docs: AtomicU64,
    /// Frames received from clients.
    pub frames_in: AtomicU64,
    /// Frames sent to clients.
    pub frames_out: AtomicU64,
    /// Sync message bytes received.
    pub bytes_in: AtomicU64,
    /// Sync message bytes sent.
    pub bytes_out: AtomicU64,
    /// Flushes made.
    pub flushes: AtomicU64,
    /// Total time spent flushing, in microseconds.
    pub flush_micros: AtomicU64,
    /// Longest flush, in microseconds.
    pub flush_micros_max: AtomicU64,
    /// Chunks written.
    pub chunks_written: AtomicU64,
    /// Clients cut off because they read too slowly.
    pub slow_peers_dropped: AtomicU64,
    /// Documents evicted from memory.
    pub evictions: AtomicU64,
    /// Sync messages made by a full Automerge exchange step.
    pub sync_exchanges: AtomicU64,
    /// Sync messages that relayed durable changes by the fast path.
    pub fast_relays: AtomicU64,
    /// Relays held back from a client that had not answered the previous one.
    pub relays_held: AtomicU64,
    /// Held-back clients brought up to date by one relay of everything since.
    pub catch_ups: AtomicU64,
    /// Bytes waiting in the sync streams' queues now (shared with every queue).
    pub queued_bytes: Arc<AtomicU64>,
    /// Sync streams authenticated and waiting for their Hello now.
    pub awaiting_hello: AtomicU64,
}

impl Metrics {
    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Records one flush.
    pub fn flushed(&self, micros: u64) {
        Self::add(&self.flushes, 1);
        Self::add(&self.flush_micros, micros);
        self.flush_micros_max.fetch_max(micros, Ordering::Relaxed);
    }

    /// The counters in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 18] = [
            ("nic_hub_peers", "gauge", "Sync streams open.", &self.peers),
            (
                "nic_hub_streams_awaiting_hello",
                "gauge",
                "Sync streams authenticated and waiting for their Hello.",
                &self.awaiting_hello,
            ),
            (
                "nic_hub_queued_bytes",
                "gauge",
                "Bytes waiting in the sync streams' queues.",
                &self.queued_bytes,
            ),
            (
                "nic_hub_loaded_documents",
                "gauge",
                "Documents in memory.",
                &self.loaded_docs,
            ),
            (
                "nic_hub_frames_received_total",
                "counter",
                "Frames received from clients.",
                &self.frames_in,
            ),
            (
                "nic_hub_frames_sent_total",
                "counter",
                "Frames sent to clients.",
                &self.frames_out,
            ),
            (
                "nic_hub_sync_bytes_received_total",
                "counter",
                "Sync message bytes received.",
                &self.bytes_in,
            ),
            (
                "nic_hub_sync_bytes_sent_total",
                "counter",
                "Sync message bytes sent.",
                &self.bytes_out,
            ),
            (
                "nic_hub_flushes_total",
                "counter",
                "Storage flushes.",
                &self.flushes,
            ),
            (
                "nic_hub_flush_microseconds_total",
                "counter",
                "Time spent flushing.",
                &self.flush_micros,
            ),
            (
                "nic_hub_flush_microseconds_max",
                "gauge",
                "Longest flush.",
                &self.flush_micros_max,
            ),
            (
                "nic_hub_chunks_written_total",
                "counter",
                "Change chunks written.",
                &self.chunks_written,
            ),
            (
                "nic_hub_slow_peers_dropped_total",
                "counter",
                "Clients cut off for reading too slowly.",
                &self.slow_peers_dropped,
            ),
            (
                "nic_hub_evictions_total",
                "counter",
                "Documents evicted from memory.",
                &self.evictions,
            ),
            (
                "nic_hub_sync_exchanges_total",
                "counter",
                "Sync messages made by a full Automerge exchange step.",
                &self.sync_exchanges,
            ),
            (
                "nic_hub_fast_relays_total",
                "counter",
                "Sync messages relaying durable changes without a fresh exchange.",
                &self.fast_relays,
            ),
            (
                "nic_hub_relays_held_total",
                "counter",
                "Relays held back from a client that had not answered the previous one.",
                &self.relays_held,
            ),
            (
                "nic_hub_catch_ups_total",
                "counter",
                "Held-back clients caught up by one relay of everything since.",
                &self.catch_ups,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// Serves `GET /metrics` until the task is dropped. Deliberately minimal: one request per
/// connection, no keep-alive — enough for a scraper.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let (status, body) = if request.starts_with("GET /metrics") {
                ("200 OK", metrics.render())
            } else {
                ("404 Not Found", "try GET /metrics\n".to_owned())
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}

/// Binds the metrics listener.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
