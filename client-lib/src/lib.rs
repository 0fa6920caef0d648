//! `nic-client`: a replica of a NIC's documents that syncs with a nic-hub.
//!
//! This first version keeps documents in memory and talks to one hub over `Sync.Connect`.
//! It is what the hub's tests and load tool use; the offline-first library (a replica on
//! disk, reconnects, a typed API) grows from it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), nic_client::ClientError> {
//! use nic_client::{Client, Target};
//! use nic_model::{DocumentId, PeerId};
//!
//! let token = std::fs::read_to_string("nic-data/admin-token").unwrap();
//! let client = Client::connect("http://127.0.0.1:50051", PeerId::new("lincoln-laptop").unwrap(), &token).await?;
//! let doc: DocumentId = "2Qdb4Ez2NwJwnMefDRVNxnMoj7r2".parse().unwrap();
//! client.subscribe(Target::Docs(vec![doc])).await?;
//! client.wait_for(doc, std::time::Duration::from_secs(5), |am| !am.get_heads().is_empty()).await?;
//! # Ok(()) }
//! ```

mod error;
mod task;

use std::time::Duration;

use nic_model::{DocumentId, PeerId};
use nic_sync::Notification;
use nic_sync::automerge::{Automerge, ChangeHash};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use error::ClientError;
pub use nic_sync::Target;
pub use nic_sync::automerge;

use task::Cmd;

/// How to check the hub's certificate, and this client's own for mutual TLS.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    /// The CA certificate(s) to trust for the hub, PEM; `None` trusts nothing extra (the
    /// connection then fails unless the hub's certificate is otherwise trusted).
    pub ca_pem: Option<Vec<u8>>,
    /// The name to check the hub's certificate against, if not the address's host.
    pub domain: Option<String>,
    /// This client's certificate chain and key, PEM, when the hub requires client
    /// certificates.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl Tls {
    /// The transport's TLS settings.
    pub fn client_config(&self) -> tonic::transport::ClientTlsConfig {
        let mut config = tonic::transport::ClientTlsConfig::new();
        if let Some(ca) = &self.ca_pem {
            config = config.ca_certificate(tonic::transport::Certificate::from_pem(ca));
        }
        if let Some(domain) = &self.domain {
            config = config.domain_name(domain.clone());
        }
        if let Some((cert, key)) = &self.identity {
            config = config.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        config
    }
}

/// A connected replica. Cheap to clone; the background task stops when the last clone drops.
#[derive(Clone)]
pub struct Client {
    cmds: mpsc::Sender<Cmd>,
    events: broadcast::Sender<Notification>,
    peer: PeerId,
}

impl Client {
    /// Connects to the hub at `addr` (e.g. `http://127.0.0.1:50051`) as replica `peer`,
    /// presenting `token` (see the hub's `Directory` service; a new hub writes its admin's
    /// token to `admin-token` in its data folder).
    pub async fn connect(addr: &str, peer: PeerId, token: &str) -> Result<Client, ClientError> {
        Self::connect_with(addr, peer, token, None).await
    }

    /// [`Client::connect`] over TLS when `tls` is given (`addr` then starts with `https://`).
    pub async fn connect_with(
        addr: &str,
        peer: PeerId,
        token: &str,
        tls: Option<&Tls>,
    ) -> Result<Client, ClientError> {
        let (events, _) = broadcast::channel(1024);
        let cmds = task::start(addr, peer.clone(), token, tls, events.clone()).await?;
        Ok(Client { cmds, events, peer })
    }

    /// This replica's peer id.
    pub fn peer(&self) -> &PeerId {
        &self.peer
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Cmd,
    ) -> Result<T, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(make(tx))
            .await
            .map_err(|_| ClientError::Stopped)?;
        rx.await.map_err(|_| ClientError::Stopped)
    }

    /// Starts syncing documents (or a whole network) with the hub.
    pub async fn subscribe(&self, target: Target) -> Result<(), ClientError> {
        self.call(|reply| Cmd::Subscribe(target, reply)).await
    }

    /// Changes a document; the change is sent to the hub at once.
    pub async fn edit<R: Send + 'static>(
        &self,
        doc: DocumentId,
        f: impl FnOnce(&mut Automerge) -> R + Send + 'static,
    ) -> Result<R, ClientError> {
        let (tx, rx) = oneshot::channel();
        let apply: task::EditFn = Box::new(move |am| {
            let _ = tx.send(f(am));
        });
        self.call(|reply| Cmd::Edit(doc, apply, reply)).await??;
        rx.await.map_err(|_| ClientError::UnknownDocument(doc))
    }

    /// Reads a document; `None` if this replica does not hold it.
    pub async fn read<R: Send + 'static>(
        &self,
        doc: DocumentId,
        f: impl FnOnce(&Automerge) -> R + Send + 'static,
    ) -> Result<Option<R>, ClientError> {
        let (tx, rx) = oneshot::channel();
        let look: task::ReadFn = Box::new(move |am| {
            let _ = tx.send(f(am));
        });
        if !self.call(|reply| Cmd::Read(doc, look, reply)).await? {
            return Ok(None);
        }
        Ok(rx.await.ok())
    }

    /// The document's heads here, if held.
    pub async fn heads(&self, doc: DocumentId) -> Result<Option<Vec<ChangeHash>>, ClientError> {
        self.read(doc, Automerge::get_heads).await
    }

    /// The heads the hub last acknowledged as durable for this document.
    pub async fn acked_heads(
        &self,
        doc: DocumentId,
    ) -> Result<Option<Vec<ChangeHash>>, ClientError> {
        self.call(|reply| Cmd::Acked(doc, reply)).await
    }

    /// News as it happens: changes (local and remote), acks, errors.
    pub fn events(&self) -> broadcast::Receiver<Notification> {
        self.events.subscribe()
    }

    /// Waits until `ready` holds for the document (checked now and after every event).
    pub async fn wait_for(
        &self,
        doc: DocumentId,
        timeout: Duration,
        ready: impl Fn(&Automerge) -> bool + Send + Sync + Clone + 'static,
    ) -> Result<(), ClientError> {
        self.wait(timeout, || {
            let ready = ready.clone();
            async move { Ok(self.read(doc, move |am| ready(am)).await?.unwrap_or(false)) }
        })
        .await
    }

    /// How many of this replica's changes to the document the hub has not yet acknowledged
    /// as durable (`None` if the document is not held here).
    pub async fn pending(&self, doc: DocumentId) -> Result<Option<usize>, ClientError> {
        self.call(|reply| Cmd::Pending(doc, reply)).await
    }

    /// Counters of this replica's sync work so far: merges, changes merged, exchanges.
    pub async fn stats(&self) -> Result<nic_sync::EngineStats, ClientError> {
        self.call(Cmd::Stats).await
    }

    /// Waits until every change this replica made to the document is durable on the hub.
    pub async fn wait_saved(&self, doc: DocumentId, timeout: Duration) -> Result<(), ClientError> {
        self.wait(timeout, || async move {
            Ok(self.pending(doc).await? == Some(0))
        })
        .await
    }

    async fn wait<F, Fut>(&self, timeout: Duration, check: F) -> Result<(), ClientError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<bool, ClientError>>,
    {
        let mut events = self.events();
        let waiting = async {
            loop {
                if check().await? {
                    return Ok(());
                }
                match events.recv().await {
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return Err(ClientError::Stopped),
                }
            }
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }

    /// Drops the connection but keeps the documents: edits made now stay local until
    /// [`Client::reconnect`].
    pub async fn go_offline(&self) -> Result<(), ClientError> {
        self.call(Cmd::Offline).await
    }

    /// Connects again and re-subscribes to everything subscribed before.
    pub async fn reconnect(&self) -> Result<(), ClientError> {
        self.call(Cmd::Reconnect).await?
    }
}
