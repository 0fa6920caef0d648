//! Hub settings: defaults, overridden by a config file, then by environment variables and
//! flags (clap reads both; a flag wins over its variable).
//!
//! Every setting is one row of the `settings!` table below: its name, type, default, flag,
//! `NIC_HUB_*` variable and help. The flag, the variable, the config-file key (the flag with
//! `_` for `-`), the help line with its default, the `Config` field and its default all come
//! from that row (see `table.rs`); `value.rs` reads each type from text the same way for all
//! three sources.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;
use serde::Deserialize;

/// How durable a write must be before the hub acknowledges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DurabilityMode {
    /// Survives a crash of the hub process (sled's flush).
    Process,
    /// Survives a power loss too (fsync after each flush); slower.
    PowerSafe,
}

/// Where the hub keeps documents and the directory.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The embedded sled database in the data folder.
    Sled,
    /// A PostgreSQL database (its URL), which several hubs may share.
    Postgres(String),
}

impl std::fmt::Debug for StoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sled => f.write_str("Sled"),
            // The URL may carry a password: never in a log.
            Self::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

#[macro_use]
mod table;
#[cfg(test)]
mod tests;
mod value;

settings! {
    config {
        /// Address to serve gRPC on.
        listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 50051)), "listen", "NIC_HUB_LISTEN";
        /// Folder for the embedded database (created if missing).
        data_dir: PathBuf = PathBuf::from("nic-data"), "data-dir", "NIC_HUB_DATA_DIR";
        /// Where documents and the directory are kept: "sled" (the embedded database in the
        /// data folder) or a PostgreSQL URL (postgresql://user@host/db) that several hubs
        /// share. The data folder keeps the admin's token file either way.
        store: StoreChoice = StoreChoice::Sled, "store", "NIC_HUB_STORE";
        /// When a change counts as saved.
        durability: DurabilityMode = DurabilityMode::Process, "durability", "NIC_HUB_DURABILITY";
        /// Address to serve Prometheus metrics on (`/metrics`); "off" disables.
        metrics_listen: Option<SocketAddr> = Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            "metrics-listen", "NIC_HUB_METRICS_LISTEN";
        /// Most documents kept in memory; idle ones beyond this are evicted.
        max_loaded_docs: usize = 10_000, "max-loaded-docs", "NIC_HUB_MAX_LOADED_DOCS";
        /// Largest gRPC message accepted, in bytes.
        max_message_bytes: usize = 4 * 1024 * 1024,
            "max-message-bytes", "NIC_HUB_MAX_MESSAGE_BYTES";
        /// Frames queued for one client before it is disconnected as too slow. A subscription
        /// queues about two frames per document at once, so keep this above twice the largest
        /// network.
        peer_queue: usize = 16_384, "peer-queue", "NIC_HUB_PEER_QUEUE";
        /// Bytes queued for one sync stream before its client is cut off as too slow.
        max_queued_bytes_per_stream: usize = 16 * 1024 * 1024,
            "max-queued-bytes-per-stream", "NIC_HUB_MAX_QUEUED_BYTES_PER_STREAM";
        /// Bytes queued for all of one member's sync streams together before the stream that
        /// passes it is cut off.
        max_queued_bytes_per_member: usize = 64 * 1024 * 1024,
            "max-queued-bytes-per-member", "NIC_HUB_MAX_QUEUED_BYTES_PER_MEMBER";
        /// Seconds a client may read nothing while frames wait for it before it is cut off.
        slow_reader_timeout: Duration = Duration::from_secs(30),
            "slow-reader-timeout-secs", "NIC_HUB_SLOW_READER_TIMEOUT_SECS";
        /// Longest lifetime a token may be issued with, in days.
        max_token_lifetime_days: u32 = 365,
            "max-token-lifetime-days", "NIC_HUB_MAX_TOKEN_LIFETIME_DAYS";
        /// Lifetime of a token issued without an expiry, in days (at most the maximum).
        default_token_lifetime_days: u32 = 90,
            "default-token-lifetime-days", "NIC_HUB_DEFAULT_TOKEN_LIFETIME_DAYS";
        /// Most changes one sync message may carry.
        max_changes_per_message: usize = 10_000,
            "max-changes-per-message", "NIC_HUB_MAX_CHANGES_PER_MESSAGE";
        /// Most documents one subscription may cover.
        max_docs_per_subscription: usize = 10_000,
            "max-docs-per-subscription", "NIC_HUB_MAX_DOCS_PER_SUBSCRIPTION";
        /// Most sync streams one member may have open at once.
        max_streams_per_member: usize = 32,
            "max-streams-per-member", "NIC_HUB_MAX_STREAMS_PER_MEMBER";
        /// Requests without a valid token one address may make per minute before the hub
        /// refuses it everything for the rest of the minute.
        max_auth_failures_per_minute: u32 = 60,
            "max-auth-failures-per-minute", "NIC_HUB_MAX_AUTH_FAILURES_PER_MINUTE";
        /// Largest document, in bytes once decompressed: a Create's initial content, the changes
        /// of one sync message, and a document grown by accepted changes.
        max_doc_bytes: u64 = nic_sync::inspect::Limits::DEFAULT.max_bytes,
            "max-doc-bytes", "NIC_HUB_MAX_DOC_BYTES";
        /// Most Automerge operations (and most changes) one document may hold, by the same
        /// rules; reading a document's history costs about 450 bytes of memory per operation.
        max_doc_ops: u64 = nic_sync::inspect::Limits::DEFAULT.max_ops,
            "max-doc-ops", "NIC_HUB_MAX_DOC_OPS";
        /// Memory, in bytes, that Create, Get, History and Insight requests may hold at once in
        /// documents they decode (estimated from each document's size); more waits its turn.
        max_request_memory: u64 = 256 * 1024 * 1024,
            "max-request-memory", "NIC_HUB_MAX_REQUEST_MEMORY";
        /// Allow listening on a non-loopback address without TLS (tokens would cross the
        /// network in clear: only behind a TLS-terminating proxy), and serving metrics on one.
        insecure: bool = false, "insecure", "NIC_HUB_INSECURE";
        /// Most client connections open at once; at the limit, the oldest connection without a
        /// valid token yet is closed to make room. Lowered at start-up to fit the open-file
        /// limit.
        max_connections: usize = 4096, "max-connections", "NIC_HUB_MAX_CONNECTIONS";
        /// Seconds a new connection has to finish TLS and the HTTP/2 preface and send its first
        /// request.
        handshake_timeout: Duration = Duration::from_secs(10),
            "handshake-timeout", "NIC_HUB_HANDSHAKE_TIMEOUT";
        /// Seconds a connection may stay open before one of its requests carries a valid token.
        auth_timeout: Duration = Duration::from_secs(30), "auth-timeout", "NIC_HUB_AUTH_TIMEOUT";
        /// The web app's files: "embedded" (built into this binary), or a folder to serve
        /// them from instead, read on every request (for working on the app: `npm run
        /// build` in web/, then reload).
        web_dir: Option<PathBuf> = None, "web-dir", "NIC_HUB_WEB_DIR";
    }
    parts {
        /// Serve TLS with this certificate chain (PEM); needs --tls-key.
        tls_cert: PathBuf, "tls-cert", "NIC_HUB_TLS_CERT";
        /// The private key (PEM) of --tls-cert.
        tls_key: PathBuf, "tls-key", "NIC_HUB_TLS_KEY";
        /// Require client certificates signed by this CA (PEM): mutual TLS. Needs --tls-cert.
        tls_client_ca: PathBuf, "tls-client-ca", "NIC_HUB_TLS_CLIENT_CA";
    }
    derived {
        /// TLS, if served (from `tls_cert`, `tls_key` and `tls_client_ca`).
        tls: Option<TlsFiles> = None, from tls_files;
    }
}

/// Where the hub's TLS identity (and, for mutual TLS, the clients' CA) are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
    /// The CA that signs client certificates; set, clients must present one.
    pub client_ca: Option<PathBuf>,
}

/// The TLS files, given all together or not at all.
fn tls_files(given: &ServeArgs) -> Result<Option<TlsFiles>, ConfigError> {
    match (&given.tls_cert, &given.tls_key, &given.tls_client_ca) {
        (Some(cert), Some(key), client_ca) => Ok(Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: client_ca.clone(),
        })),
        (None, None, None) => Ok(None),
        (None, None, Some(_)) => Err(ConfigError::Invalid {
            setting: "tls-client-ca",
            reason: "needs --tls-cert and --tls-key: mutual TLS is TLS first".into(),
        }),
        _ => Err(ConfigError::Invalid {
            setting: "tls-cert/tls-key",
            reason: "give both the certificate and its key".into(),
        }),
    }
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid.
    #[error("config file {path} is invalid: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: toml::de::Error,
    },
    /// The config file names a setting the hub does not have.
    #[error(
        "config file {path}: unknown setting {key:?} (the keys are the flags of `nic-hub serve --help`, with '_' for '-')"
    )]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
    },
    /// A config-file entry's value is not one its setting takes.
    #[error("config file {path}: {key}: {reason}")]
    Entry {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A setting has a value that cannot work.
    #[error("setting {setting}: {reason}")]
    Invalid {
        /// The setting.
        setting: &'static str,
        /// Why.
        reason: String,
    },
}

impl Config {
    /// Resolves the settings from defaults, the config file and the flags/environment.
    pub fn resolve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => ServeArgs::default(),
        };
        // Flags over variables is clap's doing; both over the file, the file over defaults.
        let config = Config::from_layer(args.clone().over(file))?;
        config.check_exposure()?;
        config.check_connections()?;
        let insecure = config.insecure;
        if config.tls.is_none() && !config.listen.ip().is_loopback() && !insecure {
            return Err(ConfigError::Invalid {
                setting: "listen",
                reason: format!(
                    "{} is reachable from other machines, and without TLS every token would cross the network in clear; give --tls-cert and --tls-key (or --insecure behind a TLS proxy)",
                    config.listen
                ),
            });
        }
        if config.peer_queue == 0 {
            return Err(ConfigError::Invalid {
                setting: "peer-queue",
                reason: "must be at least 1".into(),
            });
        }
        for (setting, value) in [
            ("max-changes-per-message", config.max_changes_per_message),
            (
                "max-docs-per-subscription",
                config.max_docs_per_subscription,
            ),
            ("max-streams-per-member", config.max_streams_per_member),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    setting,
                    reason: "must be at least 1".into(),
                });
            }
        }
        for (setting, value, least) in [
            ("max-doc-bytes", config.max_doc_bytes, 1024),
            ("max-doc-ops", config.max_doc_ops, 1),
            ("max-request-memory", config.max_request_memory, 1024 * 1024),
        ] {
            if value < least {
                return Err(ConfigError::Invalid {
                    setting,
                    reason: format!("must be at least {least}"),
                });
            }
        }
        check_queues_and_tokens(&config)?;
        if config.max_message_bytes < 1024 {
            return Err(ConfigError::Invalid {
                setting: "max-message-bytes",
                reason: "must be at least 1024".into(),
            });
        }
        Ok(config)
    }
}

/// The queue and token settings must be able to work together.
fn check_queues_and_tokens(config: &Config) -> Result<(), ConfigError> {
    let invalid = |setting, reason: String| Err(ConfigError::Invalid { setting, reason });
    if config.max_queued_bytes_per_stream < 2 * config.max_message_bytes {
        return invalid(
            "max-queued-bytes-per-stream",
            format!(
                "must be at least twice max-message-bytes ({}), or one large message would cut a client off",
                config.max_message_bytes
            ),
        );
    }
    if config.max_queued_bytes_per_member < config.max_queued_bytes_per_stream {
        return invalid(
            "max-queued-bytes-per-member",
            "must be at least max-queued-bytes-per-stream".into(),
        );
    }
    if config.slow_reader_timeout < Duration::from_secs(1) {
        return invalid("slow-reader-timeout-secs", "must be at least 1".into());
    }
    if config.max_token_lifetime_days == 0 || config.default_token_lifetime_days == 0 {
        return invalid(
            "max-token-lifetime-days/default-token-lifetime-days",
            "must be at least 1 (tokens always expire)".into(),
        );
    }
    if config.default_token_lifetime_days > config.max_token_lifetime_days {
        return invalid(
            "default-token-lifetime-days",
            format!(
                "must not exceed max-token-lifetime-days ({})",
                config.max_token_lifetime_days
            ),
        );
    }
    Ok(())
}

impl Config {
    /// Refuses a metrics listener other machines can reach unless `--insecure`: it answers
    /// anyone, without TLS or a token.
    fn check_exposure(&self) -> Result<(), ConfigError> {
        if let Some(addr) = self.metrics_listen
            && !addr.ip().is_loopback()
            && !self.insecure
        {
            return Err(ConfigError::Invalid {
                setting: "metrics-listen",
                reason: format!(
                    "{addr} is reachable from other machines, and /metrics answers anyone without TLS or a token; listen on 127.0.0.1 and scrape through a proxy, or give --insecure"
                ),
            });
        }
        Ok(())
    }

    fn check_connections(&self) -> Result<(), ConfigError> {
        if self.max_connections == 0 {
            return Err(ConfigError::Invalid {
                setting: "max-connections",
                reason: "must be at least 1".into(),
            });
        }
        for (setting, value) in [
            ("handshake-timeout", self.handshake_timeout),
            ("auth-timeout", self.auth_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::Invalid {
                    setting,
                    reason: "must be at least 1 second".into(),
                });
            }
        }
        Ok(())
    }

    /// Whether gRPC traffic (tokens included) crosses the network unencrypted: no TLS on an
    /// address other machines can reach.
    pub fn serves_plain_text_to_the_network(&self) -> bool {
        self.tls.is_none() && !self.listen.ip().is_loopback()
    }

    /// The document limits in force (changes are bounded like operations: a change without
    /// operations is rare, and each costs memory too).
    pub fn doc_limits(&self) -> nic_sync::inspect::Limits {
        nic_sync::inspect::Limits {
            max_bytes: self.max_doc_bytes,
            max_ops: self.max_doc_ops,
            max_changes: self.max_doc_ops,
        }
    }
}

fn read_file(path: &Path) -> Result<ServeArgs, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let table = toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source,
    })?;
    ServeArgs::from_table(path, table)
}
