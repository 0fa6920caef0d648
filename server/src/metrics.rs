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
    /// PDSA cycles whose last value the hub keeps to record hindsight edits (loaded ones
    /// only).
    pub hindsight_cycles: AtomicU64,
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
    /// On a shared database: notifications of other hubs' chunks heard.
    pub stored_heard: AtomicU64,
    /// On a shared database: reads of other hubs' chunks for documents held here.
    pub stored_reads: AtomicU64,
    /// On a shared database: documents read again whole (after a reconnect, a failed read,
    /// or a chunk that was stored but never told of).
    pub stored_whole_reads: AtomicU64,
    /// Bytes waiting in the sync streams' queues now (shared with every queue).
    pub queued_bytes: Arc<AtomicU64>,
    /// Sync streams authenticated and waiting for their Hello now.
    pub awaiting_hello: AtomicU64,
    /// automerge-repo WebSocket sessions open now (also counted in `peers` once joined).
    pub websockets: AtomicU64,
    /// Ephemeral messages dropped: over the size or rate a WebSocket session may send.
    pub ephemeral_dropped: AtomicU64,
    /// Connections: open, accepted, closed by deadline or to make room.
    pub conns: ConnCounters,
    /// Security events: failed sign-ins, throttling, lockouts, denials.
    pub security: SecurityCounters,
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
        let rows: [(&str, &str, &str, &AtomicU64); 24] = [
            ("nic_hub_peers", "gauge", "Sync streams open.", &self.peers),
            (
                "nic_hub_websockets",
                "gauge",
                "automerge-repo WebSocket sessions open.",
                &self.websockets,
            ),
            (
                "nic_hub_ephemeral_dropped_total",
                "counter",
                "Ephemeral messages dropped for size or rate.",
                &self.ephemeral_dropped,
            ),
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
                "nic_hub_hindsight_cycles",
                "gauge",
                "PDSA cycles whose last value is kept to record hindsight edits.",
                &self.hindsight_cycles,
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
            (
                "nic_hub_stored_heard_total",
                "counter",
                "Notifications of chunks other hubs on the shared database stored.",
                &self.stored_heard,
            ),
            (
                "nic_hub_stored_reads_total",
                "counter",
                "Reads of other hubs' chunks for documents held here.",
                &self.stored_reads,
            ),
            (
                "nic_hub_stored_whole_reads_total",
                "counter",
                "Documents read again whole from the shared database.",
                &self.stored_whole_reads,
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
        self.conns.render(&mut out);
        self.security.render(&mut out);
        out
    }
}

/// Serves `GET /metrics` until the task is dropped. Deliberately minimal: one request per
/// connection, no keep-alive — enough for a scraper.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    let mut backoff = crate::conn::Backoff::default();
    loop {
        let mut socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(_) => {
                // Out of descriptors: wait rather than retry at full speed.
                tokio::time::sleep(backoff.failed()).await;
                continue;
            }
        };
        backoff = crate::conn::Backoff::default();
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            // A scraper sends its request at once; a silent connection is not kept.
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut buf))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(0);
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

/// Counters of the hub's connections (see `conn.rs`).
#[derive(Debug, Default)]
pub struct ConnCounters {
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Connections refused because every slot held a signed-in client.
    pub refused: AtomicU64,
    /// Unauthenticated connections closed to make room for a new one.
    pub evicted: AtomicU64,
    /// Connections closed for not finishing TLS and the HTTP/2 preface in time.
    pub handshake_timeouts: AtomicU64,
    /// Connections closed for not presenting a valid token in time.
    pub idle_timeouts: AtomicU64,
    /// Failed accepts (e.g. out of file descriptors), each followed by a wait.
    pub accept_errors: AtomicU64,
}

impl ConnCounters {
    /// Adds one.
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        let rows: [(&str, &str, &str, &AtomicU64); 7] = [
            (
                "nic_hub_connections",
                "gauge",
                "Connections open.",
                &self.open,
            ),
            (
                "nic_hub_connections_accepted_total",
                "counter",
                "Connections accepted.",
                &self.accepted,
            ),
            (
                "nic_hub_connections_refused_total",
                "counter",
                "Connections refused at the connection limit (all held by signed-in clients).",
                &self.refused,
            ),
            (
                "nic_hub_connections_evicted_total",
                "counter",
                "Unauthenticated connections closed to make room at the connection limit.",
                &self.evicted,
            ),
            (
                "nic_hub_connections_handshake_timeouts_total",
                "counter",
                "Connections closed for not finishing TLS and the HTTP/2 preface in time.",
                &self.handshake_timeouts,
            ),
            (
                "nic_hub_connections_idle_timeouts_total",
                "counter",
                "Connections closed for not presenting a valid token in time.",
                &self.idle_timeouts,
            ),
            (
                "nic_hub_accept_errors_total",
                "counter",
                "Failed accepts (e.g. out of file descriptors).",
                &self.accept_errors,
            ),
        ];
        for (name, kind, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
    }
}

/// Why a request carried no valid token, as the security counters label it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `authorization` metadata.
    Missing,
    /// Metadata that does not read `Bearer <token>`.
    Malformed,
    /// A token the hub does not know.
    Unknown,
    /// An expired token.
    Expired,
    /// A revoked token.
    Revoked,
    /// A token of someone no longer a member.
    Removed,
    /// Anything else (e.g. the directory could not be read).
    Other,
}

impl AuthFailure {
    /// Every reason, in the order the counters are kept.
    pub const ALL: [AuthFailure; 7] = [
        Self::Missing,
        Self::Malformed,
        Self::Unknown,
        Self::Expired,
        Self::Revoked,
        Self::Removed,
        Self::Other,
    ];

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Removed => "removed_member",
            Self::Other => "other",
        }
    }
}

/// Security events counted for alerting (each is also logged with `target: "security"`).
#[derive(Debug, Default)]
pub struct SecurityCounters {
    /// Requests without a valid token, by [`AuthFailure`] (in [`AuthFailure::ALL`] order).
    pub auth_failures: [AtomicU64; 7],
    /// Requests refused because their address had used up its failures for the minute.
    pub auth_throttled: AtomicU64,
    /// Addresses that used up their failures for a minute (one per address and minute).
    pub lockouts: AtomicU64,
}

/// Requests refused for the caller's roles, in this process (counted where errors become
/// statuses, which knows no hub instance; one hub runs per process).
pub static PERMISSION_DENIALS: AtomicU64 = AtomicU64::new(0);

impl SecurityCounters {
    /// Counts one failed sign-in.
    pub fn auth_failed(&self, reason: AuthFailure) {
        let i = AuthFailure::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(AuthFailure::ALL.len() - 1);
        if let Some(c) = self.auth_failures.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn render(&self, out: &mut String) {
        let name = "nic_hub_auth_failures_total";
        let _ = writeln!(
            out,
            "# HELP {name} Requests without a valid token, by reason.\n# TYPE {name} counter"
        );
        for (reason, value) in AuthFailure::ALL.iter().zip(&self.auth_failures) {
            let _ = writeln!(
                out,
                "{name}{{reason=\"{}\"}} {}",
                reason.label(),
                value.load(Ordering::Relaxed)
            );
        }
        let rows: [(&str, &str, &AtomicU64); 3] = [
            (
                "nic_hub_auth_throttled_total",
                "Requests with a bad token refused because their address used up its failures for the minute.",
                &self.auth_throttled,
            ),
            (
                "nic_hub_auth_lockouts_total",
                "Times an address used up its failures for a minute.",
                &self.lockouts,
            ),
            (
                "nic_hub_permission_denied_total",
                "Requests refused for the caller's roles.",
                &PERMISSION_DENIALS,
            ),
        ];
        for (name, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
    }
}
