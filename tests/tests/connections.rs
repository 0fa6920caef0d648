//! Connections as an attacker holds them: idle raw TCP beyond the cap, handshakes that never
//! finish, HTTP/2 connections that never show a valid token. Real clients still get in, and
//! idle connections are closed by the deadlines; a signed-in connection is never closed by
//! them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nic_e2e::{RawStream, TestHub, hello};
use nic_proto::v1;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tonic::Code;

/// The HTTP/2 client preface and an empty SETTINGS frame: a handshake begun, no request.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Generous bound for anything that should happen at once or at a short deadline.
const WAIT: Duration = Duration::from_secs(15);

fn addr(hub: &TestHub) -> SocketAddr {
    hub.url.trim_start_matches("http://").parse().unwrap()
}

/// Reads until the hub closes the connection (EOF or reset); when that was.
async fn until_closed(mut s: TcpStream) -> Option<Instant> {
    let mut buf = [0u8; 1024];
    let closed = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(WAIT, closed)
        .await
        .ok()
        .map(|()| Instant::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_beyond_the_cap_do_not_keep_a_real_client_out() {
    const CAP: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    // Deadlines far beyond the test: only the cap can make room.
    let hub = TestHub::start_with(dir.path(), |c| {
        c.max_connections = CAP;
        c.handshake_timeout = Duration::from_secs(600);
        c.auth_timeout = Duration::from_secs(600);
    })
    .await;
    let doc = hub.create_worksheet("algebra").await;
    // A signed-in sync stream, open before the flood.
    let mut signed_in = RawStream::open(&hub, hello("steady")).await.unwrap();

    let mut idle = Vec::new();
    for _ in 0..3 * CAP {
        idle.push(TcpStream::connect(addr(&hub)).await.unwrap());
    }
    // A real client connects and works while the idle connections are open.
    let listed = hub
        .documents()
        .await
        .list(v1::ListDocumentsRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.into_inner().documents.len(), 1);

    // The oldest idle connections were closed to make room; the newest may still be open.
    let oldest: Vec<_> = idle.drain(..2 * CAP).collect();
    let closed = futures_join(oldest.into_iter().map(until_closed)).await;
    assert!(
        closed.iter().all(Option::is_some),
        "idle connections left open beyond the cap: {closed:?}"
    );
    // The signed-in stream was not evicted: it still syncs.
    signed_in.subscribe(&[doc]).await;
    signed_in
        .until(|f| matches!(f, v1::hub_frame::Frame::DocSync(_)).then_some(()))
        .await
        .unwrap();
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_its_handshake_is_closed_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let handshake = Duration::from_millis(300);
    let hub = TestHub::start_with(dir.path(), |c| {
        c.handshake_timeout = handshake;
        c.auth_timeout = Duration::from_secs(600);
    })
    .await;
    // One sends nothing; one sends the HTTP/2 preface and then nothing (no request).
    let opened = Instant::now();
    let silent = TcpStream::connect(addr(&hub)).await.unwrap();
    let mut preface = TcpStream::connect(addr(&hub)).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut preface, PREFACE)
        .await
        .unwrap();
    for s in [silent, preface] {
        let closed = until_closed(s).await.expect("closed within the bound");
        let lived = closed.duration_since(opened);
        assert!(lived + Duration::from_millis(50) >= handshake, "{lived:?}");
    }
    // The hub still serves.
    hub.documents()
        .await
        .list(v1::ListDocumentsRequest::default())
        .await
        .unwrap();
    hub.stop().await;
}

/// An HTTP/2 connection to the hub speaking gRPC by hand, so the test sees when the hub
/// closes it (a tonic channel would reconnect silently).
struct H2 {
    send: h2::client::SendRequest<Bytes>,
    closed: tokio::task::JoinHandle<Instant>,
}

impl H2 {
    async fn connect(hub: &TestHub) -> H2 {
        let tcp = TcpStream::connect(addr(hub)).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        let closed = tokio::spawn(async move {
            let _ = conn.await;
            Instant::now()
        });
        H2 { send, closed }
    }

    /// Calls `path` with an empty message, with `token` if given; the grpc-status.
    async fn call(&mut self, path: &str, token: Option<&str>) -> Code {
        self.try_call(path, token)
            .await
            .expect("the call completed")
    }

    /// [`H2::call`], `None` if the connection failed under it.
    async fn try_call(&mut self, path: &str, token: Option<&str>) -> Option<Code> {
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("http://localhost{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let mut send = self.send.clone().ready().await.ok()?;
        let (response, mut body) = send.send_request(request.body(()).ok()?, false).ok()?;
        body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true)
            .ok()?;
        let response = response.await.ok()?;
        let status_of = |headers: &http::HeaderMap| {
            headers
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i32>().ok())
                .map(Code::from_i32)
        };
        if let Some(code) = status_of(response.headers()) {
            return Some(code);
        }
        let mut body = response.into_body();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.ok()?;
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        let trailers = body.trailers().await.ok()?.unwrap_or_default();
        status_of(&trailers)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_mix_of_idle_attackers_never_keeps_real_clients_out() {
    use rand::{Rng, SeedableRng};
    const CAP: usize = 6;
    let seed = std::env::var("NIC_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| {
        c.max_connections = CAP;
        c.handshake_timeout = Duration::from_millis(400);
        c.auth_timeout = Duration::from_millis(900);
    })
    .await;
    let mut raw = Vec::new();
    let mut guests = Vec::new();
    for round in 0..rng.random_range(2..5) {
        for _ in 0..rng.random_range(0..3 * CAP) {
            match rng.random_range(0..3) {
                // Silent, or the HTTP/2 preface and nothing more.
                0 | 1 => {
                    let mut s = TcpStream::connect(addr(&hub)).await.unwrap();
                    if rng.random_bool(0.5) {
                        let _ = tokio::io::AsyncWriteExt::write_all(&mut s, PREFACE).await;
                    }
                    raw.push(s);
                }
                // A bad token (which may find its connection already closed to make room).
                _ => {
                    let mut guest = H2::connect(&hub).await;
                    let _ = guest
                        .try_call("/nic.v1.Directory/WhoAmI", Some("nic_guess"))
                        .await;
                    guests.push(guest);
                }
            }
        }
        // A real client gets in and works every time.
        let listed = hub
            .documents()
            .await
            .list(v1::ListDocumentsRequest::default())
            .await;
        assert!(
            listed.is_ok(),
            "seed {seed} (rerun with NIC_SEED={seed}), round {round}: {listed:?}"
        );
    }
    // And no attacker's connection outlives the deadlines.
    for closed in futures_join(raw.into_iter().map(until_closed)).await {
        assert!(
            closed.is_some(),
            "seed {seed}: a raw connection stayed open"
        );
    }
    for guest in guests {
        let closed = tokio::time::timeout(WAIT, guest.closed).await;
        assert!(
            closed.is_ok(),
            "seed {seed}: a guest connection stayed open"
        );
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_a_valid_token_is_closed_and_a_signed_in_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    // Long enough for two calls on a loaded CI machine, short enough to wait out.
    let auth = Duration::from_millis(1500);
    let hub = TestHub::start_with(dir.path(), |c| {
        c.handshake_timeout = Duration::from_secs(600);
        c.auth_timeout = auth;
    })
    .await;
    let who = "/nic.v1.Directory/WhoAmI";

    // Health checks need no token, and a bad token gets its answer, but neither signs the
    // connection in: it is closed at the deadline, counted from its accept.
    let mut guest = H2::connect(&hub).await;
    let opened = Instant::now();
    assert_eq!(
        guest.call("/grpc.health.v1.Health/Check", None).await,
        Code::Ok
    );
    assert_eq!(
        guest.call(who, Some("nic_guess")).await,
        Code::Unauthenticated
    );
    let closed_at = tokio::time::timeout(WAIT, &mut guest.closed)
        .await
        .expect("closed within the bound")
        .unwrap();
    assert!(closed_at.duration_since(opened) + Duration::from_millis(50) >= auth);

    // A connection whose request carried a valid token outlives the deadline several times.
    let mut member = H2::connect(&hub).await;
    assert_eq!(member.call(who, Some(&hub.token)).await, Code::Ok);
    let still_open = tokio::time::timeout(2 * auth, &mut member.closed).await;
    assert!(still_open.is_err(), "a signed-in connection was closed");
    assert_eq!(member.call(who, Some(&hub.token)).await, Code::Ok);
    hub.stop().await;
}

/// Awaits all futures concurrently, in order.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
