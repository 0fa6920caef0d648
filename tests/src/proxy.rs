//! A TCP proxy between replicas and a hub that a test can pause (hold what the hub sends)
//! or cut (drop every connection), and that counts the bytes it carries: real bytes on the
//! wire, HTTP/2 and TLS framing included.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running proxy; stops when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, to give replicas instead of the hub's address.
    pub url: String,
    paused: watch::Sender<bool>,
    cut: watch::Sender<u64>,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut.send_modify(|n| *n += 1);
    }
}

impl Proxy {
    /// Proxies to the hub at `upstream` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: &str) -> Proxy {
        Self::start_over(&[upstream]).await
    }

    /// Proxies each new connection to the first of `upstreams` that accepts it, as a TCP
    /// load balancer in front of several hubs on one database does once one is down.
    pub async fn start_over(upstreams: &[&str]) -> Proxy {
        let targets: Vec<String> = upstreams
            .iter()
            .map(|u| {
                u.trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .to_owned()
            })
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (paused, paused_rx) = watch::channel(false);
        let (cut, cut_rx) = watch::channel(0u64);
        let up = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicU64::new(0));
        let (u, d) = (up.clone(), down.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut reached = None;
                for target in &targets {
                    if let Ok(hub) = TcpStream::connect(target).await {
                        reached = Some(hub);
                        break;
                    }
                }
                let Some(hub) = reached else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = hub.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (hr, hw) = hub.into_split();
                let generation = *cut_rx.borrow();
                tokio::spawn(pipe(cr, hw, None, cut_rx.clone(), generation, u.clone()));
                tokio::spawn(pipe(
                    hr,
                    cw,
                    Some(paused_rx.clone()),
                    cut_rx.clone(),
                    generation,
                    d.clone(),
                ));
            }
        });
        Proxy {
            url,
            paused,
            cut,
            up,
            down,
            task,
        }
    }

    /// Holds everything the hub sends until [`Proxy::resume`].
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Lets the hub's bytes through again.
    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// Drops every open connection (new ones are accepted).
    pub fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }

    /// Bytes carried so far: (replica to hub, hub to replica).
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::SeqCst),
            self.down.load(Ordering::SeqCst),
        )
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut paused: Option<watch::Receiver<bool>>,
    mut cut: watch::Receiver<u64>,
    generation: u64,
    count: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = cut.wait_for(|g| *g != generation) => return,
        };
        if let Some(p) = paused.as_mut() {
            tokio::select! {
                r = p.wait_for(|held| !*held) => if r.is_err() { return },
                _ = cut.wait_for(|g| *g != generation) => return,
            }
        }
        count.fetch_add(n as u64, Ordering::SeqCst);
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
