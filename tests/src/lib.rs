//! Helpers for end-to-end tests: a real hub on a loopback port chosen by the OS, with its
//! data in a temporary folder, and the clients that talk to it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support fails loudly by design

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nic_hub::Config;
use nic_model::DocumentId;
use nic_proto::auth::{AuthedChannel, Bearer};
use nic_proto::v1::{self, directory_client::DirectoryClient, documents_client::DocumentsClient};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, AutomergeError, ObjType, ROOT};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub mod certs;
mod proxy;
pub use proxy::Proxy;

/// A hub running in this process.
pub struct TestHub {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The data folder (kept for restarts).
    pub data_dir: PathBuf,
    /// The hub admin's token (made on the folder's first start).
    pub token: String,
    /// The hub's counters, as `/metrics` would show them.
    pub metrics: Arc<nic_hub::Metrics>,
}

/// The hub admin's token for a data folder a hub has started on.
pub fn admin_token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join(nic_hub::auth::ADMIN_TOKEN_FILE))
        .unwrap()
        .trim()
        .to_owned()
}

impl TestHub {
    /// Starts a hub over a data folder.
    pub async fn start(data_dir: &Path) -> TestHub {
        Self::start_with(data_dir, |_| {}).await
    }

    /// Starts a hub over a data folder, with settings adjusted by `tune`.
    pub async fn start_with(data_dir: &Path, tune: impl FnOnce(&mut Config)) -> TestHub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut config = Config {
            data_dir: data_dir.to_owned(),
            metrics_listen: None,
            ..Config::default()
        };
        tune(&mut config);
        // Opened (and the admin made) here, so the token is known before the hub answers.
        let store = nic_hub::open_for(&config).unwrap().store;
        // On a database another hub made, the admin exists and this folder has no token.
        let token = std::fs::read_to_string(data_dir.join(nic_hub::auth::ADMIN_TOKEN_FILE))
            .map(|t| t.trim().to_owned())
            .unwrap_or_default();
        let (stop, stopped) = oneshot::channel::<()>();
        let metrics = Arc::new(nic_hub::Metrics::default());
        let counting = metrics.clone();
        let task = tokio::spawn(async move {
            nic_hub::serve_with_metrics(config, store, counting, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestHub {
            url,
            stop: Some(stop),
            task: Some(task),
            data_dir: data_dir.to_owned(),
            token,
            metrics,
        }
    }

    /// Shuts the hub down gracefully and waits until it has stopped (its database closed).
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// A gRPC channel to the hub.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// A gRPC channel to the hub whose calls carry the admin's token.
    pub async fn authed(&self) -> AuthedChannel {
        self.authed_as(&self.token).await
    }

    /// A gRPC channel to the hub whose calls carry `token`.
    pub async fn authed_as(&self, token: &str) -> AuthedChannel {
        Bearer::new(token).unwrap().on(self.channel().await)
    }

    /// A Documents client, as the hub admin.
    pub async fn documents(&self) -> DocumentsClient<AuthedChannel> {
        self.documents_as(&self.token).await
    }

    /// A Documents client, as the holder of `token`.
    pub async fn documents_as(&self, token: &str) -> DocumentsClient<AuthedChannel> {
        DocumentsClient::new(self.authed_as(token).await)
    }

    /// A Directory client, as the holder of `token`.
    pub async fn directory_as(&self, token: &str) -> DirectoryClient<AuthedChannel> {
        DirectoryClient::new(self.authed_as(token).await)
    }

    /// Sends one change — `key` set on the hub's copy of `doc`, under `actor` — over a raw
    /// stream opened with `token`, as a client that does not wait for the exchange would;
    /// returns the stream to read the answer from.
    pub async fn force_change(
        &self,
        token: &str,
        peer: &str,
        doc: DocumentId,
        actor: &nic_sync::automerge::ActorId,
        key: &str,
    ) -> RawStream {
        let raw = RawStream::open_as(self, token, hello(peer)).await.unwrap();
        let mut change = self.saved(doc).await.with_actor(actor.clone());
        let before = change.get_heads();
        put(&mut change, key, 1);
        raw.subscribe(&[doc]).await;
        raw.send_sync(doc, changes_message(&change, &before)).await;
        raw
    }

    /// A client-library replica of everything `token` may read, in memory, not yet
    /// subscribed to anything.
    pub async fn client(&self, token: &str) -> nic_client::Client {
        nic_client::Client::open(nic_client::ReplicaConfig::new(&self.url, token))
            .await
            .unwrap()
    }

    /// A client-library replica `peer`, connected with `token`, holding `doc` (a worksheet:
    /// it waits for its `notes`).
    pub async fn replica(&self, peer: &str, token: &str, doc: DocumentId) -> nic_client::Client {
        let c =
            nic_client::Client::connect(&self.url, nic_model::PeerId::new(peer).unwrap(), token)
                .await
                .unwrap();
        c.subscribe(nic_client::Target::Docs(vec![doc]))
            .await
            .unwrap();
        c.wait_for(doc, std::time::Duration::from_secs(20), |am| {
            nic_sync::automerge::ReadDoc::get(am, ROOT, "notes")
                .ok()
                .flatten()
                .is_some()
        })
        .await
        .unwrap();
        c
    }

    /// A Directory client, as the hub admin.
    pub async fn directory(&self) -> DirectoryClient<AuthedChannel> {
        self.directory_as(&self.token).await
    }

    /// Adds a member to `network` with `role` (at `site`, or "" for none) and returns a
    /// token for them.
    pub async fn member(&self, id: &str, role: v1::Role, network: &str, site: &str) -> String {
        let mut admin = self.directory().await;
        admin
            .add_member(v1::AddMemberRequest {
                member: Some(v1::Member {
                    member_id: id.into(),
                    display_name: id.into(),
                    role: role as i32,
                    network_ids: vec![network.into()],
                    site_id: site.into(),
                }),
            })
            .await
            .unwrap();
        admin
            .issue_token(v1::IssueTokenRequest {
                member_id: id.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .secret
    }

    /// Creates a network (as the hub admin) unless it exists, and sites in it.
    pub async fn ensure_network(&self, network: &str, sites: &[&str]) {
        let mut directory = self.directory().await;
        let made = directory
            .create_network(v1::CreateNetworkRequest {
                network_id: network.into(),
                name: network.into(),
                ..Default::default()
            })
            .await;
        if let Err(status) = made {
            assert_eq!(status.code(), tonic::Code::AlreadyExists, "{status}");
        }
        for site in sites {
            let made = directory
                .create_site(v1::CreateSiteRequest {
                    network_id: network.into(),
                    site_id: (*site).into(),
                    name: (*site).into(),
                })
                .await;
            if let Err(status) = made {
                assert_eq!(status.code(), tonic::Code::AlreadyExists, "{status}");
            }
        }
    }

    /// Creates a PDSA-like document (a title, a list and a text) in a network (made if need
    /// be) and returns its id.
    pub async fn create_worksheet(&self, network: &str) -> DocumentId {
        self.ensure_network(network, &[]).await;
        self.create_doc(network, "", v1::Visibility::Network, &worksheet())
            .await
    }

    /// Creates a PDSA-kind document as the hub admin in `network` at `site` ("" for a
    /// network-level one) with `visibility` and `initial` content; returns its id.
    pub async fn create_doc(
        &self,
        network: &str,
        site: &str,
        visibility: v1::Visibility,
        initial: &Automerge,
    ) -> DocumentId {
        let reply = self
            .documents()
            .await
            .create(v1::CreateDocumentRequest {
                kind: v1::DocKind::PdsaCycle as i32,
                network_id: network.into(),
                site_id: site.into(),
                visibility: visibility as i32,
                title: format!("{network} {site} cycle"),
                initial: Some(initial.save()),
                doc_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        reply.meta.unwrap().doc_id.parse().unwrap()
    }

    /// Waits until `condition` holds of the hub's counters, failing with `what` after
    /// `within`.
    pub async fn until_metrics(
        &self,
        within: std::time::Duration,
        what: &str,
        condition: impl Fn(&nic_hub::Metrics) -> bool,
    ) {
        let waiting = async {
            while !condition(&self.metrics) {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        };
        if tokio::time::timeout(within, waiting).await.is_err() {
            panic!("{what} (waited {within:?})");
        }
    }

    /// One plain HTTP/1.1 GET on the hub's port (no credentials unless `extra_headers`, each
    /// line ending in `\r\n`, carries them): the status line and headers, lowercased, and
    /// the body.
    pub async fn http_get(&self, path: &str, extra_headers: &str) -> (String, Vec<u8>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.url.trim_start_matches("http://").to_owned();
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nhost: {addr}\r\n{extra_headers}connection: close\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(20),
            tcp.read_to_end(&mut response),
        )
        .await
        .unwrap()
        .unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete response");
        let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
        (head, response[split + 4..].to_vec())
    }

    /// The hub's saved copy of a document.
    pub async fn saved(&self, doc: DocumentId) -> Automerge {
        saved_at(&self.url, &self.token, doc).await
    }
}

/// The saved copy of a document on the hub at `url`, read with `token`.
pub async fn saved_at(url: &str, token: &str, doc: DocumentId) -> Automerge {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let reply = DocumentsClient::new(Bearer::new(token).unwrap().on(channel))
        .get(v1::GetDocumentRequest {
            doc_id: doc.to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    Automerge::load(&reply.document).unwrap()
}

/// A worksheet's initial content: a PDSA cycle (the hub accepts only content that reads as
/// its kind) with a title, a list of numbers and a notes text beside its fields.
pub fn worksheet() -> Automerge {
    let mut doc = Automerge::new();
    doc.transact::<_, _, AutomergeError>(|tx| {
        tx.put(ROOT, "kind", "pdsa_cycle")?;
        tx.put(ROOT, "title", "Warm-up problems")?;
        tx.put_object(ROOT, "numbers", ObjType::List)?;
        tx.put_object(ROOT, "notes", ObjType::Text)?;
        Ok(())
    })
    .unwrap();
    doc
}

/// Sets a map key in one transaction.
pub fn put(am: &mut Automerge, key: &str, value: i64) {
    am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, key, value).map(|_| ()))
        .unwrap();
}

/// A sync message carrying `am`'s changes since `since`, as a client that does not wait for
/// the exchange would send them (to force changes on the hub).
pub fn changes_message(am: &Automerge, since: &[nic_sync::automerge::ChangeHash]) -> Vec<u8> {
    let changes: Vec<Vec<u8>> = am
        .get_changes(since)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    nic_sync::automerge::sync::Message {
        heads: am.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: nic_sync::automerge::sync::ChunkList::from(changes),
        flags: None,
        version: nic_sync::automerge::sync::MessageVersion::V1,
    }
    .encode()
}

/// A raw `Sync.Connect` stream, for tests that speak the wire protocol directly.
pub struct RawStream {
    /// Frames to send.
    pub tx: tokio::sync::mpsc::Sender<v1::ClientFrame>,
    /// Frames received.
    pub rx: tonic::Streaming<v1::HubFrame>,
}

/// A stream the hub has authenticated, whose client has not said Hello yet.
pub struct HeldStream {
    tx: tokio::sync::mpsc::Sender<v1::ClientFrame>,
    call: JoinHandle<Result<tonic::Streaming<v1::HubFrame>, tonic::Status>>,
}

impl HeldStream {
    /// Says Hello as `peer` at last; the stream as the hub answered it.
    pub async fn hello(self, peer: &str) -> Result<RawStream, tonic::Status> {
        self.tx.send(hello(peer)).await.unwrap();
        let rx = self.call.await.unwrap()?;
        Ok(RawStream { tx: self.tx, rx })
    }
}

/// A Hello frame for `peer`.
pub fn hello(peer: &str) -> v1::ClientFrame {
    v1::ClientFrame {
        frame: Some(v1::client_frame::Frame::Hello(v1::Hello {
            peer_id: peer.into(),
            client_name: "e2e".into(),
            client_version: "0".into(),
            protocol_version: nic_proto::PROTOCOL_VERSION,
        })),
    }
}

impl RawStream {
    /// Opens a stream as the hub admin whose first frame is `first`; the hub's answer.
    pub async fn open(hub: &TestHub, first: v1::ClientFrame) -> Result<RawStream, tonic::Status> {
        Self::open_as(hub, &hub.token, first).await
    }

    /// Opens a stream with `token` whose first frame is `first`; the hub's answer.
    pub async fn open_as(
        hub: &TestHub,
        token: &str,
        first: v1::ClientFrame,
    ) -> Result<RawStream, tonic::Status> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tx.send(first).await.unwrap();
        let rx = v1::sync_client::SyncClient::new(hub.authed_as(token).await)
            .connect(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await?
            .into_inner();
        Ok(RawStream { tx, rx })
    }

    /// Opens a stream with `token` and sends nothing: returns once the hub has
    /// authenticated the call and waits for the Hello, which [`HeldStream::hello`] sends.
    pub async fn held(hub: &TestHub, token: &str) -> HeldStream {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let mut client = v1::sync_client::SyncClient::new(hub.authed_as(token).await);
        let waiting_before = hub
            .metrics
            .awaiting_hello
            .load(std::sync::atomic::Ordering::Relaxed);
        let call = tokio::spawn(async move {
            client
                .connect(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
                .map(tonic::Response::into_inner)
        });
        // A condition, not a guess: the hub counts streams waiting for their Hello.
        let authenticated = async {
            while hub
                .metrics
                .awaiting_hello
                .load(std::sync::atomic::Ordering::Relaxed)
                <= waiting_before
            {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), authenticated)
            .await
            .expect("the hub never started waiting for the stream's Hello");
        HeldStream { tx, call }
    }

    /// Subscribes to documents.
    pub async fn subscribe(&self, docs: &[DocumentId]) {
        self.send(v1::client_frame::Frame::Subscribe(v1::Subscribe {
            target: Some(v1::subscribe::Target::Docs(v1::DocIds {
                doc_ids: docs.iter().map(ToString::to_string).collect(),
            })),
            known: Vec::new(),
        }))
        .await;
    }

    /// Sends a sync message for a document.
    pub async fn send_sync(&self, doc: DocumentId, message: Vec<u8>) {
        self.send(v1::client_frame::Frame::DocSync(v1::DocSync {
            doc_id: doc.to_string(),
            message,
        }))
        .await;
    }

    /// Sends a frame.
    pub async fn send(&self, frame: v1::client_frame::Frame) {
        self.tx
            .send(v1::ClientFrame { frame: Some(frame) })
            .await
            .unwrap();
    }

    /// Reads on until the hub ends the stream; the status it ended with (a deadline status
    /// if it was still open after a few seconds).
    pub async fn ended(&mut self) -> tonic::Status {
        match self.until(|_| None::<()>).await {
            Err(status) => status,
            Ok(()) => unreachable!("nothing is picked"),
        }
    }

    /// Reads frames until `pick` returns something, failing after a few seconds.
    pub async fn until<T>(
        &mut self,
        mut pick: impl FnMut(&v1::hub_frame::Frame) -> Option<T>,
    ) -> Result<T, tonic::Status> {
        let reading = async {
            loop {
                match self.rx.message().await? {
                    Some(v1::HubFrame { frame: Some(frame) }) => {
                        if let Some(found) = pick(&frame) {
                            return Ok(found);
                        }
                    }
                    Some(_) => {}
                    None => return Err(tonic::Status::cancelled("stream ended")),
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), reading)
            .await
            .unwrap_or_else(|_| {
                Err(tonic::Status::deadline_exceeded(
                    "no such frame within 10 s",
                ))
            })
    }
}
