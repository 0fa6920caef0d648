//! Helpers for end-to-end tests: a real hub on a loopback port chosen by the OS, with its
//! data in a temporary folder, and the clients that talk to it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support fails loudly by design

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nic_hub::Config;
use nic_model::DocumentId;
use nic_proto::v1::{self, documents_client::DocumentsClient};
use nic_store::SledStore;
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, AutomergeError, ObjType, ROOT};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// A hub running in this process.
pub struct TestHub {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The data folder (kept for restarts).
    pub data_dir: PathBuf,
}

impl TestHub {
    /// Starts a hub over a data folder.
    pub async fn start(data_dir: &Path) -> TestHub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let config = Config {
            data_dir: data_dir.to_owned(),
            metrics_listen: None,
            ..Config::default()
        };
        let store = Arc::new(SledStore::open(data_dir).unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            nic_hub::serve_with_store(config, store, listener, async {
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

    /// A Documents client.
    pub async fn documents(&self) -> DocumentsClient<Channel> {
        DocumentsClient::new(self.channel().await)
    }

    /// Creates a PDSA-like document (a title, a list and a text) and returns its id.
    pub async fn create_worksheet(&self, network: &str) -> DocumentId {
        let reply = self
            .documents()
            .await
            .create(v1::CreateDocumentRequest {
                kind: v1::DocKind::PdsaCycle as i32,
                network_id: network.into(),
                site_id: String::new(),
                visibility: v1::Visibility::Network as i32,
                title: "Warm-up problems, cycle 1".into(),
                initial: Some(worksheet().save()),
                doc_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        reply.meta.unwrap().doc_id.parse().unwrap()
    }

    /// The hub's saved copy of a document.
    pub async fn saved(&self, doc: DocumentId) -> Automerge {
        let reply = self
            .documents()
            .await
            .get(v1::GetDocumentRequest {
                doc_id: doc.to_string(),
            })
            .await
            .unwrap()
            .into_inner();
        Automerge::load(&reply.document).unwrap()
    }
}

/// A worksheet's initial content: a title, a list of numbers and a notes text.
pub fn worksheet() -> Automerge {
    let mut doc = Automerge::new();
    doc.transact::<_, _, AutomergeError>(|tx| {
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
