//! `nic-client`: a NIC's documents as a local replica that works offline, syncs with a
//! nic-hub in the background, and says what changed.
//!
//! - **Offline first.** [`Client::open`] opens the replica from disk at once — it never
//!   waits for the hub — and every edit is in local storage, flushed, before the call
//!   returns. Edits made offline, or before a crash, are sent when the hub is reachable.
//! - **Background sync.** The replica keeps one `Sync.Connect` stream to the hub, resumes
//!   from the sync state it saved, and reconnects with exponential backoff and jitter.
//! - **Typed.** [`Network`] lists and creates aims, change ideas, PDSA cycles and
//!   measures; [`Client::get`] reads them as `nic-model` values and [`Client::change`]
//!   changes them in a closure that becomes one Automerge change with a message.
//! - **Status and events.** [`Client::status`] and [`Client::doc_status`] say what is
//!   synced, pending or offline; [`Client::changes`] streams every change with its author;
//!   [`Client::wait_caught_up`] waits until the hub says a subscription's initial sync is
//!   complete (every document it covered held at the hub's heads of that moment).
//!
//! ```no_run
//! # async fn demo() -> Result<(), nic_client::ClientError> {
//! use nic_client::{Client, ReplicaConfig, Storage};
//! use nic_model::NetworkId;
//!
//! let token = std::fs::read_to_string("nic-data/admin-token").unwrap_or_default();
//! let client = Client::open(
//!     ReplicaConfig::new("http://127.0.0.1:50051", token)
//!         .storage(Storage::Dir("lincoln-replica".into())),
//! )
//! .await?;
//! let network = client.network(NetworkId::new("algebra-readiness").unwrap()).await?;
//! for cycle in network.cycles().await? {
//!     println!("{}: cycle {} of {}", cycle.meta.title, cycle.value.cycle_number, cycle.value.change_idea_id);
//! }
//! # Ok(()) }
//! ```
//!
//! Offline is the normal case, not an error. This runs as written, with no hub anywhere:
//! the cycle is created, changed and read locally, and waits to be sent.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), nic_client::ClientError> {
//! use nic_client::{Client, Connection, ReplicaConfig, SyncState};
//! use nic_model::schema::{Text, pdsa::PdsaCycle};
//! use nic_model::{NetworkId, SiteId};
//!
//! // Port 9 refuses: the hub is out of reach.
//! let client = Client::open(ReplicaConfig::new("http://127.0.0.1:9", "token")).await?;
//! let network = client.network(NetworkId::new("algebra").unwrap()).await?;
//! let cycle = PdsaCycle { change_idea_id: "number-talks".into(), cycle_number: 1, ..Default::default() };
//! let id = network.create_at(SiteId::new("lincoln").unwrap(), "Number talks, cycle 1", &cycle).await?;
//!
//! client
//!     .change::<PdsaCycle>(id, "Plan: objective", |c| {
//!         c.plan.objective = Text::with_value("Will a daily number talk help?");
//!     })
//!     .await?;
//! let read = client.get::<PdsaCycle>(id).await?;
//! assert_eq!(read.value.plan.objective.as_str(), "Will a daily number talk help?");
//!
//! let status = client.status().await?;
//! assert_eq!(status.unsent_documents, 1); // sent when the hub is reachable
//! assert_ne!(status.connection, Connection::Online);
//! assert!(matches!(client.doc_status(id).await?.unwrap().state, SyncState::Offline(_)));
//! # Ok(()) }
//! ```
//!
//! Lower down, [`Client::edit`] and [`Client::read`] give the raw Automerge document for
//! content no typed API covers.
//!
//! # Other languages
//!
//! The hub speaks gRPC (`proto/nic/v1/`) and stores plain Automerge documents, so a tool in
//! any language can do what this crate does: generate stubs from the protos, keep its
//! documents with that language's Automerge, and run `Sync.Connect` (Hello, Subscribe,
//! Automerge sync messages both ways, `DocAck` once durable). `tests/js/` in the
//! repository is a complete JavaScript client in about a hundred lines.

mod config;
mod device;
mod error;
mod events;
pub mod hub;
mod json_edit;
mod json_view;
mod status;
mod task;
mod typed;

use std::time::Duration;

use nic_store::{MemStore, SledStore, Store};
use nic_sync::automerge::{ActorId, Automerge, ChangeHash};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

pub use config::{Backoff, ReplicaConfig, Storage, Tls};
pub use error::{ClientError, Refusal};
pub use events::{ChangeEvent, ChangeInfo, Missed, Origin};
pub use hub::Hub;
pub use json_view::document_json;
pub use nic_store::ListFilter;
pub use nic_sync::automerge;
pub use nic_sync::{EngineStats, ErrorCode, Notification, Target};

// Everything the API takes or gives, so an integrator depends on this crate alone.
pub use nic_model::schema;
pub use nic_model::{
    AuditEntry, DocKind, DocMeta, DocumentId, Grant, Grants, IdError, Member, MemberId, MetaError,
    Network as NetworkRecord, NetworkId, PeerId, Period, Site, SiteId, TokenId, TokenRecord,
    TokenState, Visibility,
};
/// The sync engine's own vocabulary (notifications' origins, known documents), for
/// programs that look below the client.
pub use nic_sync as sync;
pub use status::{Connection, DocStatus, Status, SyncState, WireStats};
pub use typed::{Document, Network, NewDocument, Typed};

use task::Cmd;

/// A replica. Cheap to clone; the background task stops (saving its sync state) when the
/// last clone drops or [`Client::close`] is called.
#[derive(Clone)]
pub struct Client {
    cmds: mpsc::Sender<Cmd>,
    events: broadcast::Sender<Notification>,
    changes: broadcast::Sender<ChangeEvent>,
    status: watch::Receiver<Status>,
    peer: PeerId,
    actor: ActorId,
    hub: Hub,
}

impl Client {
    /// Opens a replica as `config` says and starts syncing in the background. Returns as
    /// soon as the local documents are open, whether or not the hub is reachable; see
    /// [`Client::status`] for how the connection stands.
    ///
    /// Fails if the address, TLS settings or token are malformed, or the replica folder
    /// cannot be opened (e.g. another process has it open).
    pub async fn open(config: ReplicaConfig) -> Result<Client, ClientError> {
        Self::start(config, true).await
    }

    /// Connects an in-memory replica to the hub at `addr` (e.g. `http://127.0.0.1:50051`)
    /// as `peer`, presenting `token`; unlike [`Client::open`] this waits for the first
    /// connection and fails if the hub cannot be reached or refuses the token. Later
    /// disconnects are retried in the background.
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
        let mut config = ReplicaConfig::new(addr, token).peer(peer);
        config.tls = tls.cloned();
        let client = Self::start(config, false).await?;
        client.reconnect().await?;
        Ok(client)
    }

    async fn start(config: ReplicaConfig, connect: bool) -> Result<Client, ClientError> {
        let hub = task::Link::new(&config.hub, &config.token, config.tls.as_ref())?;
        // Opening sled (and reading the device file) blocks: not on an async worker.
        let (storage, peer) = (config.storage.clone(), config.peer.clone());
        let (store, device) = tokio::task::spawn_blocking(move || open_storage(&storage, peer))
            .await
            .map_err(|e| ClientError::Protocol(format!("opening the replica failed: {e}")))??;
        let (events, _) = broadcast::channel(1024);
        let (changes, _) = broadcast::channel(1024);
        let (status_tx, status) = watch::channel(Status {
            connection: Connection::Connecting,
            documents: 0,
            pending_documents: 0,
            pending_changes: 0,
            unsent_documents: 0,
            last_ack: None,
            up_to_date: false,
        });
        let peer = device.peer.clone();
        let actor = device.actor.clone();
        let hub_api = Hub::from_link(hub.clone());
        let in_memory = matches!(config.storage, config::Storage::Memory);
        let cmds = task::start(task::Setup {
            store,
            in_memory,
            device,
            hub,
            backoff: config.backoff,
            events: events.clone(),
            changes: changes.clone(),
            status: status_tx,
            connect,
        })
        .await?;
        Ok(Client {
            cmds,
            events,
            changes,
            status,
            peer,
            actor,
            hub: hub_api,
        })
    }

    /// The hub's Directory, Documents and Insight services, signed in as this replica
    /// (same address, TLS settings and token; the same connection as the sync stream).
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// This replica's peer id.
    pub fn peer(&self) -> &PeerId {
        &self.peer
    }

    /// The Automerge actor id this replica's edits carry: one per device, kept with the
    /// replica, bound by the hub to the member who first syncs with it.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    pub(crate) async fn call<T>(
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

    /// Starts syncing documents (or a whole network) with the hub, now and after every
    /// reconnect and restart: subscriptions are kept with the replica.
    pub async fn subscribe(&self, target: Target) -> Result<(), ClientError> {
        self.call(|reply| Cmd::Subscribe(target, reply)).await?
    }

    /// Creates a document in this replica from its metadata and content; it is saved
    /// locally before this returns and offered to the hub now, or on reconnect if offline.
    /// The hub checks the caller may create it there.
    pub async fn create_raw(&self, meta: DocMeta, doc: Automerge) -> Result<(), ClientError> {
        self.call(|reply| Cmd::Create(meta, Box::new(doc), reply))
            .await?
    }

    /// Changes a document with `f`, which may make any number of Automerge transactions
    /// (give each a commit message). Returns once the changes are flushed to local storage;
    /// they are sent to the hub at once if online.
    pub async fn edit<R: Send + 'static>(
        &self,
        doc: DocumentId,
        f: impl FnOnce(&mut Automerge) -> R + Send + 'static,
    ) -> Result<R, ClientError> {
        let (tx, rx) = oneshot::channel();
        let apply: task::EditFn = Box::new(move |am| {
            let _ = tx.send(f(am));
            Ok(())
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

    /// Reads many documents: `f` sees each one held here with its metadata, in the order
    /// given; a document not held here gives `None`. Faster than one [`Client::read`] each:
    /// the documents are read in batches, each batch loaded from storage in one trip, and
    /// between batches the replica goes on syncing.
    pub async fn read_each<R: Send + 'static>(
        &self,
        docs: &[DocumentId],
        f: impl Fn(&DocMeta, &Automerge) -> R + Clone + Send + 'static,
    ) -> Result<Vec<Option<R>>, ClientError> {
        /// Documents per visit to the task: large enough that a visit's fixed cost is
        /// small, small enough that sync is not held up for long (about 30 ms).
        const BATCH: usize = 64;
        let mut out = Vec::with_capacity(docs.len());
        for batch in docs.chunks(BATCH) {
            let found = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(BATCH)));
            let sink = found.clone();
            let f = f.clone();
            let look: task::ReadEachFn = Box::new(move |held| {
                let value = held.map(|(meta, am)| f(meta, am));
                if let Ok(mut found) = sink.lock() {
                    found.push(value);
                }
            });
            self.call(|reply| Cmd::ReadEach(batch.to_vec(), look, reply))
                .await?;
            let found = std::mem::take(&mut *found.lock().map_err(|_| ClientError::Stopped)?);
            if found.len() != batch.len() {
                return Err(ClientError::Stopped);
            }
            out.extend(found);
        }
        Ok(out)
    }

    /// The metadata of the documents held here that pass `filter`, by document id.
    pub async fn list(&self, filter: ListFilter) -> Result<Vec<DocMeta>, ClientError> {
        self.call(|reply| Cmd::List(filter, reply)).await?
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

    /// How many of this replica's changes to the document the hub has not yet acknowledged
    /// as durable (`None` if the document is not held here).
    pub async fn pending(&self, doc: DocumentId) -> Result<Option<usize>, ClientError> {
        self.call(|reply| Cmd::Pending(doc, reply)).await
    }

    /// How one document stands with the hub (`None` if it is not held here).
    pub async fn doc_status(&self, doc: DocumentId) -> Result<Option<DocStatus>, ClientError> {
        self.call(|reply| Cmd::DocStatus(doc, reply)).await
    }

    /// How the whole replica stands with the hub.
    pub async fn status(&self) -> Result<Status, ClientError> {
        self.call(Cmd::Status).await
    }

    /// The replica's status as it changes — connection up or down, changes pending, new
    /// documents sent — for a tool's status indicator: `changed().await` wakes on each
    /// change.
    pub fn watch_status(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    /// Counters of this replica's sync work so far: merges, changes merged, exchanges.
    pub async fn stats(&self) -> Result<EngineStats, ClientError> {
        self.call(Cmd::Stats).await
    }

    /// Frames and bytes exchanged with the hub so far.
    pub async fn wire_stats(&self) -> Result<WireStats, ClientError> {
        self.call(Cmd::Wire).await
    }

    /// Low-level news as the sync engine reports it: changes, acks, readiness, errors.
    pub fn events(&self) -> broadcast::Receiver<Notification> {
        self.events.subscribe()
    }

    /// Every change from now on — which document, local or remote, the changes with their
    /// authors — for tools that refresh what they show. A consumer that falls more than
    /// 1,024 events behind gets a [`Missed`] and should re-read what it shows.
    ///
    /// What it costs: while at least one such stream is open, every merge and edit also
    /// lists the new changes' hashes, actors, times and messages (Automerge rebuilds each
    /// new change from its op set to give them), and an actor the replica cannot name yet
    /// is looked up once, through the hub's `Documents.History` of that document. With no
    /// stream open none of this happens. A tool that only needs to know *which* document
    /// changed should read [`Client::events`] ([`Notification::Changed`]) instead: it costs
    /// nothing beyond the merge.
    ///
    /// ```no_run
    /// # async fn demo(client: nic_client::Client) {
    /// use tokio_stream::StreamExt;
    ///
    /// let mut changes = Box::pin(client.changes());
    /// while let Some(event) = changes.next().await {
    ///     match event {
    ///         Ok(e) => println!("{} changed ({:?}) by {:?}", e.doc, e.origin, e.authors()),
    ///         Err(missed) => eprintln!("{missed}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn changes(&self) -> impl Stream<Item = Result<ChangeEvent, Missed>> + Send + 'static {
        use tokio_stream::StreamExt;
        BroadcastStream::new(self.changes.subscribe())
            .map(|item| item.map_err(|BroadcastStreamRecvError::Lagged(n)| Missed(n)))
    }

    /// Who changed what and when: every change of a document held here, oldest first (in
    /// a causal order), each with its time, commit message and author. The author is the
    /// member the hub bound the change's actor id to; this asks the hub's history for the
    /// actors it does not know yet (once each), so offline or for changes the hub has not
    /// seen, `author` may be `None` — except this replica's own changes, named from the
    /// member the hub last welcomed it as. Fails with [`ClientError::UnknownDocument`] if
    /// the document is not held here.
    ///
    /// Times are what each author's device recorded, not checked by anyone.
    pub async fn history(&self, doc: DocumentId) -> Result<Vec<ChangeInfo>, ClientError> {
        self.call(|reply| Cmd::History(doc, reply)).await?
    }

    /// Waits until `ready` holds for the document: checked now, then each time the
    /// document changes or loads (other documents' news does not wake the waiter).
    pub async fn wait_for(
        &self,
        doc: DocumentId,
        timeout: Duration,
        ready: impl Fn(&Automerge) -> bool + Send + Sync + Clone + 'static,
    ) -> Result<(), ClientError> {
        self.wait_event(
            timeout,
            || {
                let check = ready.clone();
                async move { Ok(self.read(doc, move |am| check(am)).await?.unwrap_or(false)) }
            },
            |n| {
                matches!(n, Notification::Changed { doc: d, .. } | Notification::Ready { doc: d }
                    if *d == doc)
            },
        )
        .await
    }

    /// Waits until every change this replica made to the document is durable on the hub
    /// (for a document created here: until the hub has accepted it too). The replica
    /// answers the moment the acknowledgement arrives; nothing polls. Fails at once with
    /// [`ClientError::Refused`] if the hub refuses the document or a change to it (the
    /// reason is also the document's [`DocStatus::problem`]), and with
    /// [`ClientError::UnknownDocument`] if it is not held here.
    pub async fn wait_saved(&self, doc: DocumentId, timeout: Duration) -> Result<(), ClientError> {
        tokio::time::timeout(timeout, self.call(|reply| Cmd::WaitSaved(doc, reply)))
            .await
            .map_err(|_| ClientError::Timeout(timeout))??
    }

    /// Waits until everything made here — changes and new documents — is durable on the hub.
    pub async fn wait_synced(&self, timeout: Duration) -> Result<(), ClientError> {
        self.wait_status(timeout, |s| {
            s.is_synced() && s.connection == Connection::Online
        })
        .await
    }

    /// Waits until the replica is online and agrees with the hub on every document it
    /// syncs: what a read-only job waits for before it reports.
    pub async fn wait_up_to_date(&self, timeout: Duration) -> Result<(), ClientError> {
        self.wait_status(timeout, |s| s.up_to_date).await
    }

    /// Waits until the hub says the initial sync of a subscription made with
    /// [`Client::subscribe`] is complete on the current connection: this replica then
    /// holds every document the subscription covered when the hub answered it, at least
    /// at the hub's heads of that moment (`CaughtUp` in `sync.proto`). Changes made since
    /// keep arriving as usual. After a reconnect the subscription is made again and this
    /// waits for the new answer; offline, it waits until the timeout. The same news
    /// comes as a [`Notification::CaughtUp`] on [`Client::events`].
    pub async fn wait_caught_up(
        &self,
        target: Target,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        self.wait_event(
            timeout,
            || {
                let asked = target.clone();
                async move { self.call(|reply| Cmd::CaughtUp(asked, reply)).await }
            },
            |n| matches!(n, Notification::CaughtUp { target: t, .. } if *t == target),
        )
        .await
    }

    /// Waits until `check` holds: checked now, then again after each event `wakes` picks
    /// (or after missing events, one of which may have been it).
    async fn wait_event<F, Fut>(
        &self,
        timeout: Duration,
        check: F,
        wakes: impl Fn(&Notification) -> bool,
    ) -> Result<(), ClientError>
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
                loop {
                    match events.recv().await {
                        Ok(n) if wakes(&n) => break,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => {
                            return Err(ClientError::Stopped);
                        }
                    }
                }
            }
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }

    /// Waits until the published status satisfies `done` (the task publishes it whenever
    /// it changes, so this wakes only then).
    async fn wait_status(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&Status) -> bool,
    ) -> Result<(), ClientError> {
        let mut status = self.watch_status();
        let waiting = async {
            // The task answers in order, after publishing what the caller's earlier
            // commands changed: an edit just made is in the status from here on (the
            // published one could still be from before it).
            if done(&self.status().await?) {
                return Ok(());
            }
            status
                .wait_for(done)
                .await
                .map(|_| ())
                .map_err(|_| ClientError::Stopped)
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }

    /// Drops the connection but keeps the documents: edits made now stay local until
    /// [`Client::reconnect`]. No reconnect is attempted meanwhile.
    pub async fn go_offline(&self) -> Result<(), ClientError> {
        self.call(Cmd::Offline).await
    }

    /// Connects now (ending a [`Client::go_offline`]) and waits for the hub's welcome;
    /// subscriptions resume. If this attempt fails, background attempts go on.
    pub async fn reconnect(&self) -> Result<(), ClientError> {
        self.call(Cmd::Connect).await?
    }

    /// Stops the replica: sync states are saved (so the next open resumes with a small
    /// exchange) and everything is flushed. Other clones stop working too.
    pub async fn close(self) -> Result<(), ClientError> {
        self.call(Cmd::Close).await
    }
}

/// Opens (or creates) the replica's store and device record. Blocking.
fn open_storage(
    storage: &config::Storage,
    peer: Option<nic_model::PeerId>,
) -> Result<(std::sync::Arc<dyn Store>, device::Device), ClientError> {
    match storage {
        config::Storage::Memory => Ok((
            std::sync::Arc::new(MemStore::new()),
            device::Device::ephemeral(peer),
        )),
        config::Storage::Dir(dir) => {
            // Owner-only: the replica holds the network's documents.
            nic_store::make_private_dir(dir).map_err(|e| ClientError::BadReplica {
                path: dir.clone(),
                reason: format!("cannot create the folder: {e}"),
            })?;
            let db = dir.join("store");
            let store = SledStore::open(&db).map_err(|e| ClientError::BadReplica {
                path: db.clone(),
                reason: format!("{e} (is another program using this replica?)"),
            })?;
            let device = device::Device::load_or_create(dir, peer)?;
            Ok((std::sync::Arc::new(store), device))
        }
    }
}
