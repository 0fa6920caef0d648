//! nic-hub: the gRPC hub that keeps a networked improvement community's Automerge
//! documents in sync, durably.
//!
//! The binary (`src/main.rs`) is flags, tracing and a call to [`serve`]. Here:
//! - [`config`] — settings from defaults, a config file, the environment and flags;
//! - `driver` — the engine task that owns the `nic-sync` engine, and the storage writer
//!   that groups many documents' writes under one flush;
//! - [`auth`] — who is calling: tokens, the gate in front of the services, the first hub admin;
//! - `sync_service`, `documents`, `directory` — the gRPC services; `admin` — the hub's
//!   backup, for its admin; `status` maps errors to statuses; `loads` decodes documents for
//!   requests within the document limits and a memory budget;
//! - [`backup_cmd`], [`restore_cmd`] — `nic-hub backup` (a client of `admin`) and
//!   `nic-hub restore` (no hub needed);
//! - [`metrics`] — counters served for Prometheus;
//! - `conn` — accepted connections: the cap, handshake and sign-in deadlines, accept back-off;
//!   `fdlimit` — the open-file limit checked against the cap at start-up; `listen` — the
//!   one listener: TLS, then HTTP/2 and HTTP/1.1 (gRPC, gRPC-web, WebSocket) on one port;
//! - `repo_ws` — the automerge-repo WebSocket endpoint (`/automerge`), an engine peer;
//! - `web_app` — the web app's files (`web/dist`, embedded at build time), served at `/`;
//! - [`public_dashboard`] — a network's public dashboard (`/public/{network}/dashboard.json`,
//!   no sign-in, opt-in by its lead), only values that pass the privacy rules;
//! - [`frame_check`] — the frame handling without a network, for fuzzing and property tests;
//!   [`doc_check`] the same for the document loader under limits;
//! - [`testing`] — a hub in a child process, for tests and `nic-load`.

mod admin;
pub mod auth;
pub mod backup_cmd;
pub mod config;
mod conn;
mod directory;
pub mod doc_check;
mod documents;
mod driver;
mod fdlimit;
pub mod frame_check;
mod group_flush;
mod insight;
mod listen;
mod loads;
pub mod metrics;
pub mod public_dashboard;
mod repo_ws;
pub mod restore_cmd;
mod status;
mod sync_service;
pub mod testing;
mod web_app;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use nic_proto::v1::{
    admin_server::AdminServer, directory_server::DirectoryServer,
    documents_server::DocumentsServer, insight_server::InsightServer, sync_server::SyncServer,
};
use nic_store::{Directory, Durability, SledStore, Store, StoreError};
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptorLayer;

pub use config::{Config, DurabilityMode, ServeArgs, StoreChoice};
pub use metrics::Metrics;
pub use status::ApiError;

/// Why the hub could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database could not be opened or read.
    #[error("cannot open the hub's database in {path}: {source}")]
    Store {
        /// The data folder.
        path: std::path::PathBuf,
        /// Why.
        source: StoreError,
    },
    /// The PostgreSQL database named by `--store` could not be opened.
    #[error("cannot open the hub's PostgreSQL database: {0}")]
    Postgres(StoreError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The hub admin could not be made on first start.
    #[error("{0}")]
    Bootstrap(#[from] auth::BootstrapError),
    /// The start-up work on the blocking pool did not finish (a bug, or the runtime stopping).
    #[error("the hub's start-up was interrupted: {0}")]
    Interrupted(String),
    /// A TLS file could not be read.
    #[error("cannot read TLS file {path}: {source}")]
    Tls {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A TLS file could not be used.
    #[error("cannot use TLS file {path}: {why}")]
    TlsConfig {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        why: String,
    },
    /// The gRPC server failed.
    #[error("gRPC server error: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reflection could not be set up.
    #[error("gRPC reflection setup failed: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Opens the data folder and serves until `shutdown` completes, then shuts down gracefully:
/// everything received is made durable and acknowledged, streams are closed with
/// `UNAVAILABLE`, and sync states are saved.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let opened = open_for(&config)?;
    serve_with_store(config, opened.store, listener, shutdown).await
}

/// A hub's data folder, opened: its database, and where the hub admin's token was written
/// when this start made the admin (the first start).
pub struct Opened {
    /// The database: documents and the directory.
    pub store: Arc<dyn HubStore>,
    /// The new admin's token file, on first start.
    pub new_admin_token: Option<std::path::PathBuf>,
}

/// Opens a hub's data folder the one way every hub starts — the binary, [`serve`], the
/// tests and the load tool: the database (its folder made owner-only, with a `security`
/// warning if it was not), then the hub admin on first start, so that the token file exists
/// before the hub answers anyone.
pub fn open(data_dir: &std::path::Path) -> Result<Opened, ServeError> {
    let store = SledStore::open(data_dir).map_err(|source| ServeError::Store {
        path: data_dir.to_owned(),
        source,
    })?;
    warn_if_was_readable(data_dir, store.folder());
    let new_admin_token = auth::bootstrap_admin(&store, data_dir, auth::now_ms())?;
    Ok(Opened {
        store: Arc::new(store),
        new_admin_token,
    })
}

/// Opens what `config` names: the data folder with sled in it ([`open`]), or, with
/// `--store postgresql://…`, that database (its schema brought up to date) and the data
/// folder for the admin's token file.
pub fn open_for(config: &Config) -> Result<Opened, ServeError> {
    let url = match &config.store {
        StoreChoice::Sled => return open(&config.data_dir),
        StoreChoice::Postgres(url) => url,
    };
    let data_dir = &config.data_dir;
    let folder = nic_store::make_private_dir(data_dir).map_err(|source| ServeError::Store {
        path: data_dir.to_owned(),
        source: StoreError::Io {
            path: data_dir.to_owned(),
            source,
        },
    })?;
    warn_if_was_readable(data_dir, folder);
    // On a thread of its own: the driver's calls block, and this may run on an async task.
    let (store, new_admin_token) = std::thread::scope(|s| {
        s.spawn(|| -> Result<_, ServeError> {
            let store = nic_store::PgStore::open(url).map_err(ServeError::Postgres)?;
            let new_admin_token = auth::bootstrap_admin(&store, data_dir, auth::now_ms())?;
            Ok((store, new_admin_token))
        })
        .join()
        .unwrap_or_else(|_| {
            Err(ServeError::Interrupted(
                "opening the database panicked".into(),
            ))
        })
    })?;
    Ok(Opened {
        store: Arc::new(store),
        new_admin_token,
    })
}

/// A store the hub can run on: documents and the directory in one database.
pub trait HubStore: Store + Directory {}

impl<T: Store + Directory> HubStore for T {}

/// [`serve`] over a store the caller opened (tests use this with any [`HubStore`]).
///
/// A store without a hub admin gets one first, with their token written to the data
/// folder's `admin-token` (see [`auth::bootstrap_admin`]; callers that need the token before
/// the hub answers can call it themselves first).
pub async fn serve_with_store(
    config: Config,
    store: Arc<dyn HubStore>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with_metrics(config, store, Arc::default(), listener, shutdown).await
}

/// [`serve_with_store`], counting into `metrics` (which the caller can read, as tests do,
/// without a metrics listener).
pub async fn serve_with_metrics(
    config: Config,
    store: Arc<dyn HubStore>,
    metrics: Arc<Metrics>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(
            metrics::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })?,
        ),
        None => None,
    };
    serve_bound(config, store, metrics, listener, metrics_listener, shutdown).await
}

/// [`serve_with_metrics`] with the metrics listener already bound (or `None`: no metrics),
/// so a caller can bind every listener before it says the hub is listening.
pub async fn serve_bound(
    config: Config,
    store: Arc<dyn HubStore>,
    metrics: Arc<Metrics>,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (bootstrap_store, data_dir) = (store.clone(), config.data_dir.clone());
    let made = tokio::task::spawn_blocking(move || {
        nic_store::guard::may_block(|| {
            auth::bootstrap_admin(bootstrap_store.as_ref(), &data_dir, auth::now_ms())
        })
    })
    .await
    .map_err(|e| ServeError::Interrupted(e.to_string()))?;
    match made {
        Ok(Some(path)) => tracing::info!(
            file = %path.display(),
            "first start: made the hub admin; their token is in this file (readable by this user only)"
        ),
        Ok(None) => {}
        Err(e) => return Err(ServeError::Bootstrap(e)),
    }
    warn_if_insecure(&config);
    // Everything, the engine task included, goes through the guard, which in debug builds
    // panics on a store call made on an async worker (see `nic_store::guard`).
    let store: Arc<dyn HubStore> = Arc::new(nic_store::guard::Guarded::new(store, on_async_thread));
    let authenticator =
        auth::Authenticator::new(store.clone(), config.max_auth_failures_per_minute)
            .with_metrics(metrics.clone());
    let connections = connections(&config, metrics.clone());
    let directory_store = store.clone();
    let store: Arc<dyn Store> = store;
    let (hub, engine_task) = driver::start(
        store.clone(),
        directory_store.clone(),
        &config,
        metrics.clone(),
    )
    .await
    .map_err(|source| ServeError::Store {
        path: config.data_dir.clone(),
        source,
    })?;
    let metrics_task = match metrics_listener {
        Some(listener) => {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "metrics at /metrics");
            }
            Some(tokio::spawn(metrics::serve(listener, metrics.clone())))
        }
        None => None,
    };
    let durability = match config.durability {
        DurabilityMode::Process => Durability::Process,
        DurabilityMode::PowerSafe => Durability::PowerSafe,
    };
    let limits = nic_proto::v1::Limits {
        max_message_bytes: u32::try_from(config.max_message_bytes).unwrap_or(u32::MAX),
        max_docs_per_subscription: u32::try_from(config.max_docs_per_subscription)
            .unwrap_or(u32::MAX),
        max_changes_per_sync_message: u32::try_from(config.max_changes_per_message)
            .unwrap_or(u32::MAX),
        max_streams_per_member: u32::try_from(config.max_streams_per_member).unwrap_or(u32::MAX),
        max_document_bytes: config.max_doc_bytes,
        max_document_ops: config.max_doc_ops,
    };
    let loads = Arc::new(loads::DocLoads::new(
        config.doc_limits(),
        config.max_request_memory,
    ));
    let sync = sync_service::SyncService {
        hub: hub.clone(),
        directory: directory_store.clone(),
        metrics: metrics.clone(),
        queue: driver::outbound::QueueLimits {
            frames: config.peer_queue,
            stream_bytes: config.max_queued_bytes_per_stream,
            member_bytes: config.max_queued_bytes_per_member,
            max_changes: config.max_changes_per_message,
            max_message_bytes: config.max_message_bytes,
        },
        limits,
        streams: Arc::default(),
    };
    let public = Arc::new(public_dashboard::Dashboards::new(
        store.clone(),
        directory_store.clone(),
        loads.clone(),
    ));
    let insight = insight::InsightService {
        store: store.clone(),
        directory: directory_store.clone(),
        loads: loads.clone(),
    };
    let documents = documents::DocumentsService {
        store,
        loads,
        directory: directory_store.clone(),
        hub: hub.clone(),
        durability,
        flusher: Arc::default(),
    };
    let tickets = Arc::new(auth::ticket::Tickets::default());
    let repo = Arc::new(repo_ws::RepoEndpoint {
        hub: hub.clone(),
        auth: authenticator.clone(),
        tickets: tickets.clone(),
        connections: connections.clone(),
        metrics: metrics.clone(),
        queue: sync.queue,
        max_streams_per_member: config.max_streams_per_member,
        streams: sync.streams.clone(),
        max_message_bytes: config.max_message_bytes,
        hub_peer: repo_ws::RepoEndpoint::new_peer_id(),
    });
    let admin =
        admin::AdminService::new(directory_store.clone(), config.data_dir.clone(), durability);
    let directory = directory::DirectoryService {
        store: directory_store,
        hub: hub.clone(),
        durability,
        max_token_lifetime_days: config.max_token_lifetime_days,
        default_token_lifetime_days: config.default_token_lifetime_days,
        tickets,
        public: public.clone(),
    };
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<SyncServer<sync_service::SyncService>>()
        .await;
    health_reporter
        .set_serving::<DocumentsServer<documents::DocumentsService>>()
        .await;
    health_reporter
        .set_serving::<DirectoryServer<directory::DirectoryService>>()
        .await;
    health_reporter
        .set_serving::<InsightServer<insight::InsightService>>()
        .await;
    health_reporter
        .set_serving::<AdminServer<admin::AdminService>>()
        .await;
    // Reflection in both versions: grpcurl asks for v1, while Python's grpcio-reflection
    // and older tools ask for v1alpha only. Each lists every service, both reflections too.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(nic_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
            .include_reflection_service(false)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let max = config.max_message_bytes;
    let shutdown_hub = hub.clone();
    let closing = connections.clone();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down: flushing, acknowledging and closing streams");
        closing.close_unauthenticated();
        let (tx, rx) = tokio::sync::oneshot::channel();
        if shutdown_hub
            .send(driver::Command::Shutdown(tx))
            .await
            .is_ok()
        {
            let _ = rx.await;
        }
    };
    let tls = config.tls.as_ref().map(listen::tls_acceptor).transpose()?;
    let gate = auth::Gate::new(authenticator, connections.clone());
    tracing::info!(
        addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        data = %config.data_dir.display(),
        tls = config.tls.is_some(),
        mutual_tls = config.tls.as_ref().is_some_and(|t| t.client_ca.is_some()),
        websocket = repo_ws::PATH,
        "nic-hub serving"
    );
    let mut grpc = tonic::service::Routes::builder();
    grpc.add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            gate.guard(
                SyncServer::new(sync)
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            ),
        )
        .add_service(gate.guard(DirectoryServer::new(directory)))
        .add_service(
            gate.guard(
                DocumentsServer::new(documents)
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            ),
        )
        .add_service(gate.guard(InsightServer::new(insight).max_encoding_message_size(max)))
        .add_service(gate.guard(AdminServer::new(admin)));
    let grpc = grpc
        .routes()
        .into_axum_router()
        // gRPC-web (unary calls from a browser) beside gRPC on the same paths.
        .layer(tonic_web::GrpcWebLayer::new());
    let app = axum::Router::new()
        .route(repo_ws::PATH, axum::routing::get(repo_ws::upgrade))
        .with_state(repo)
        .merge(web_app::router(config.web_dir.clone()))
        .merge(public_dashboard::router(public))
        .merge(grpc)
        .layer(InterceptorLayer::new(connections.handshake_done()));
    listen::serve(
        conn::Incoming::new(listener, connections),
        tls,
        app,
        graceful,
    )
    .await;
    drop(hub);
    let _ = engine_task.await;
    if let Some(task) = metrics_task {
        task.abort();
    }
    tracing::info!("nic-hub stopped");
    Ok(())
}

/// Whether this thread runs an async runtime's tasks (or blocking work inside one: the
/// store guard tells those apart by `nic_store::guard::may_block`).
fn on_async_thread() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// The connection cap and deadlines, the cap fitted under the open-file limit.
fn connections(config: &Config, metrics: Arc<Metrics>) -> Arc<conn::Connections> {
    let limits = conn::ConnLimits {
        max_connections: fdlimit::fit_connections(config.max_connections),
        handshake_timeout: config.handshake_timeout,
        idle_timeout: config.auth_timeout,
    };
    conn::Connections::new(limits, metrics)
}

/// Says loudly, at start-up, what `--insecure` exposes.
pub fn warn_if_insecure(config: &Config) {
    if config.serves_plain_text_to_the_network() {
        tracing::warn!(
            target: "security",
            event = "insecure",
            addr = %config.listen,
            "INSECURE: serving without TLS on an address other machines can reach; every token and document crosses the network unencrypted. Only do this behind a TLS-terminating proxy on the same machine."
        );
    }
    if let Some(addr) = config.metrics_listen
        && !addr.ip().is_loopback()
    {
        tracing::warn!(
            target: "security",
            event = "insecure",
            %addr,
            "INSECURE: /metrics answers anyone who can reach this address, without TLS or a token"
        );
    }
}

/// Tells the operator when the data folder had been readable by others (it is not now).
pub fn warn_if_was_readable(data_dir: &std::path::Path, folder: nic_store::PrivateDir) {
    if let nic_store::PrivateDir::Tightened(mode) = folder {
        tracing::warn!(
            target: "security",
            event = "data_folder_tightened",
            folder = %data_dir.display(),
            was = format!("{mode:o}"),
            "the data folder was readable by other users; it is owner-only (0700) now, its files 0600"
        );
    }
}
