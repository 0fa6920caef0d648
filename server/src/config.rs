//! Hub settings: defaults, overridden by a config file, then by environment variables and
//! flags (clap reads both; a flag wins over its variable).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
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

/// Flags of `nic-hub serve`. Every one can also come from `NIC_HUB_*` or the config file.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys as the flags, with '_' for '-').
    #[arg(long, env = "NIC_HUB_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to serve gRPC on. [default: 127.0.0.1:50051]
    #[arg(long, env = "NIC_HUB_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Folder for the embedded database (created if missing). [default: ./nic-data]
    #[arg(long, env = "NIC_HUB_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// When a change counts as saved. [default: process]
    #[arg(long, env = "NIC_HUB_DURABILITY", value_enum)]
    pub durability: Option<DurabilityMode>,
    /// Address to serve Prometheus metrics on (`/metrics`); "off" disables. [default: 127.0.0.1:9464]
    #[arg(long, env = "NIC_HUB_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Most documents kept in memory; idle ones beyond this are evicted. [default: 10000]
    #[arg(long, env = "NIC_HUB_MAX_LOADED_DOCS")]
    pub max_loaded_docs: Option<usize>,
    /// Largest gRPC message accepted, in bytes. [default: 4194304]
    #[arg(long, env = "NIC_HUB_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Frames queued for one client before it is disconnected as too slow. A subscription
    /// queues about two frames per document at once, so keep this above twice the largest
    /// network. [default: 16384]
    #[arg(long, env = "NIC_HUB_PEER_QUEUE")]
    pub peer_queue: Option<usize>,
    /// Bytes queued for one sync stream before its client is cut off as too slow.
    /// [default: 16777216]
    #[arg(long, env = "NIC_HUB_MAX_QUEUED_BYTES_PER_STREAM")]
    pub max_queued_bytes_per_stream: Option<usize>,
    /// Bytes queued for all of one member's sync streams together before the stream that
    /// passes it is cut off. [default: 67108864]
    #[arg(long, env = "NIC_HUB_MAX_QUEUED_BYTES_PER_MEMBER")]
    pub max_queued_bytes_per_member: Option<usize>,
    /// Seconds a client may read nothing while frames wait for it before it is cut off.
    /// [default: 30]
    #[arg(long, env = "NIC_HUB_SLOW_READER_TIMEOUT_SECS")]
    pub slow_reader_timeout_secs: Option<u64>,
    /// Longest lifetime a token may be issued with, in days. [default: 365]
    #[arg(long, env = "NIC_HUB_MAX_TOKEN_LIFETIME_DAYS")]
    pub max_token_lifetime_days: Option<u32>,
    /// Lifetime of a token issued without an expiry, in days (at most the maximum).
    /// [default: 90]
    #[arg(long, env = "NIC_HUB_DEFAULT_TOKEN_LIFETIME_DAYS")]
    pub default_token_lifetime_days: Option<u32>,
    /// Most changes one sync message may carry. [default: 10000]
    #[arg(long, env = "NIC_HUB_MAX_CHANGES_PER_MESSAGE")]
    pub max_changes_per_message: Option<usize>,
    /// Most documents one subscription may cover. [default: 10000]
    #[arg(long, env = "NIC_HUB_MAX_DOCS_PER_SUBSCRIPTION")]
    pub max_docs_per_subscription: Option<usize>,
    /// Most sync streams one member may have open at once. [default: 32]
    #[arg(long, env = "NIC_HUB_MAX_STREAMS_PER_MEMBER")]
    pub max_streams_per_member: Option<usize>,
    /// Requests without a valid token one address may make per minute before the hub
    /// refuses it everything for the rest of the minute. [default: 60]
    #[arg(long, env = "NIC_HUB_MAX_AUTH_FAILURES_PER_MINUTE")]
    pub max_auth_failures_per_minute: Option<u32>,
    /// Largest document, in bytes once decompressed: a Create's initial content, the changes
    /// of one sync message, and a document grown by accepted changes. [default: 16777216]
    #[arg(long, env = "NIC_HUB_MAX_DOC_BYTES")]
    pub max_doc_bytes: Option<u64>,
    /// Most Automerge operations (and most changes) one document may hold, by the same
    /// rules; reading a document's history costs about 450 bytes of memory per operation.
    /// [default: 250000]
    #[arg(long, env = "NIC_HUB_MAX_DOC_OPS")]
    pub max_doc_ops: Option<u64>,
    /// Memory, in bytes, that Create, Get, History and Insight requests may hold at once in
    /// documents they decode (estimated from each document's size); more waits its turn.
    /// [default: 268435456]
    #[arg(long, env = "NIC_HUB_MAX_REQUEST_MEMORY")]
    pub max_request_memory: Option<u64>,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "NIC_HUB_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "NIC_HUB_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM): mutual TLS. Needs --tls-cert.
    #[arg(long, env = "NIC_HUB_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Allow listening on a non-loopback address without TLS (tokens would cross the
    /// network in clear: only behind a TLS-terminating proxy), and serving metrics on one.
    #[arg(long, env = "NIC_HUB_INSECURE")]
    pub insecure: bool,
    /// Most client connections open at once; at the limit, the oldest connection without a
    /// valid token yet is closed to make room. Lowered at start-up to fit the open-file
    /// limit. [default: 4096]
    #[arg(long, env = "NIC_HUB_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Seconds a new connection has to finish TLS and the HTTP/2 preface and send its first
    /// request. [default: 10]
    #[arg(long, env = "NIC_HUB_HANDSHAKE_TIMEOUT", value_name = "SECS")]
    pub handshake_timeout: Option<u64>,
    /// Seconds a connection may stay open before one of its requests carries a valid token.
    /// [default: 30]
    #[arg(long, env = "NIC_HUB_AUTH_TIMEOUT", value_name = "SECS")]
    pub auth_timeout: Option<u64>,
}

/// The config file's shape: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    durability: Option<DurabilityMode>,
    metrics_listen: Option<String>,
    max_loaded_docs: Option<usize>,
    max_message_bytes: Option<usize>,
    peer_queue: Option<usize>,
    max_queued_bytes_per_stream: Option<usize>,
    max_queued_bytes_per_member: Option<usize>,
    slow_reader_timeout_secs: Option<u64>,
    max_token_lifetime_days: Option<u32>,
    default_token_lifetime_days: Option<u32>,
    max_changes_per_message: Option<usize>,
    max_docs_per_subscription: Option<usize>,
    max_streams_per_member: Option<usize>,
    max_auth_failures_per_minute: Option<u32>,
    max_doc_bytes: Option<u64>,
    max_doc_ops: Option<u64>,
    max_request_memory: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    insecure: Option<bool>,
    max_connections: Option<usize>,
    handshake_timeout: Option<u64>,
    auth_timeout: Option<u64>,
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

/// Settings in force.
#[derive(Clone, Debug)]
pub struct Config {
    /// gRPC address.
    pub listen: SocketAddr,
    /// Database folder.
    pub data_dir: PathBuf,
    /// When a change counts as saved.
    pub durability: DurabilityMode,
    /// Metrics address, if metrics are served.
    pub metrics_listen: Option<SocketAddr>,
    /// Most documents kept in memory.
    pub max_loaded_docs: usize,
    /// Largest gRPC message accepted.
    pub max_message_bytes: usize,
    /// Frames queued per client before it is cut off.
    pub peer_queue: usize,
    /// Bytes queued per sync stream before its client is cut off.
    pub max_queued_bytes_per_stream: usize,
    /// Bytes queued for one member's streams together before one is cut off.
    pub max_queued_bytes_per_member: usize,
    /// How long a client may read nothing while frames wait.
    pub slow_reader_timeout: Duration,
    /// Longest token lifetime, in days.
    pub max_token_lifetime_days: u32,
    /// Lifetime of a token issued without an expiry, in days.
    pub default_token_lifetime_days: u32,
    /// Most changes one sync message may carry.
    pub max_changes_per_message: usize,
    /// Most documents one subscription may cover.
    pub max_docs_per_subscription: usize,
    /// Most sync streams one member may have open.
    pub max_streams_per_member: usize,
    /// Requests without a valid token one address may make per minute.
    pub max_auth_failures_per_minute: u32,
    /// Largest document once decompressed, in bytes.
    pub max_doc_bytes: u64,
    /// Most operations (and changes) one document may hold.
    pub max_doc_ops: u64,
    /// Memory requests may hold at once in documents they decode.
    pub max_request_memory: u64,
    /// TLS, if served.
    pub tls: Option<TlsFiles>,
    /// Plain text on a non-loopback address was asked for (`--insecure`).
    pub insecure: bool,
    /// Most client connections open at once.
    pub max_connections: usize,
    /// Time from accept to a connection's first request.
    pub handshake_timeout: Duration,
    /// Time from accept to a connection's first request with a valid token.
    pub auth_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("nic-data"),
            durability: DurabilityMode::Process,
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            max_loaded_docs: 10_000,
            max_message_bytes: 4 * 1024 * 1024,
            peer_queue: 16_384,
            max_queued_bytes_per_stream: 16 * 1024 * 1024,
            max_queued_bytes_per_member: 64 * 1024 * 1024,
            slow_reader_timeout: Duration::from_secs(30),
            max_token_lifetime_days: 365,
            default_token_lifetime_days: 90,
            max_changes_per_message: 10_000,
            max_docs_per_subscription: 10_000,
            max_streams_per_member: 32,
            max_auth_failures_per_minute: 60,
            max_doc_bytes: nic_sync::inspect::Limits::DEFAULT.max_bytes,
            max_doc_ops: nic_sync::inspect::Limits::DEFAULT.max_ops,
            max_request_memory: 256 * 1024 * 1024,
            tls: None,
            insecure: false,
            max_connections: 4096,
            handshake_timeout: Duration::from_secs(10),
            auth_timeout: Duration::from_secs(30),
        }
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
            None => FileConfig::default(),
        };
        let d = Config::default();
        let metrics = args.metrics_listen.clone().or(file.metrics_listen);
        let metrics_listen = match metrics.as_deref() {
            None => d.metrics_listen,
            Some("off") => None,
            Some(addr) => Some(addr.parse().map_err(|e| ConfigError::Invalid {
                setting: "metrics-listen",
                reason: format!("{addr:?} is not an address like 127.0.0.1:9464 or \"off\" ({e})"),
            })?),
        };
        let config = Config {
            listen: args.listen.or(file.listen).unwrap_or(d.listen),
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or(d.data_dir),
            durability: args.durability.or(file.durability).unwrap_or(d.durability),
            metrics_listen,
            max_loaded_docs: args
                .max_loaded_docs
                .or(file.max_loaded_docs)
                .unwrap_or(d.max_loaded_docs),
            max_message_bytes: args
                .max_message_bytes
                .or(file.max_message_bytes)
                .unwrap_or(d.max_message_bytes),
            peer_queue: args.peer_queue.or(file.peer_queue).unwrap_or(d.peer_queue),
            max_queued_bytes_per_stream: args
                .max_queued_bytes_per_stream
                .or(file.max_queued_bytes_per_stream)
                .unwrap_or(d.max_queued_bytes_per_stream),
            max_queued_bytes_per_member: args
                .max_queued_bytes_per_member
                .or(file.max_queued_bytes_per_member)
                .unwrap_or(d.max_queued_bytes_per_member),
            slow_reader_timeout: args
                .slow_reader_timeout_secs
                .or(file.slow_reader_timeout_secs)
                .map_or(d.slow_reader_timeout, Duration::from_secs),
            max_token_lifetime_days: args
                .max_token_lifetime_days
                .or(file.max_token_lifetime_days)
                .unwrap_or(d.max_token_lifetime_days),
            default_token_lifetime_days: args
                .default_token_lifetime_days
                .or(file.default_token_lifetime_days)
                .unwrap_or(d.default_token_lifetime_days),
            max_changes_per_message: args
                .max_changes_per_message
                .or(file.max_changes_per_message)
                .unwrap_or(d.max_changes_per_message),
            max_docs_per_subscription: args
                .max_docs_per_subscription
                .or(file.max_docs_per_subscription)
                .unwrap_or(d.max_docs_per_subscription),
            max_streams_per_member: args
                .max_streams_per_member
                .or(file.max_streams_per_member)
                .unwrap_or(d.max_streams_per_member),
            max_auth_failures_per_minute: args
                .max_auth_failures_per_minute
                .or(file.max_auth_failures_per_minute)
                .unwrap_or(d.max_auth_failures_per_minute),
            max_doc_bytes: args
                .max_doc_bytes
                .or(file.max_doc_bytes)
                .unwrap_or(d.max_doc_bytes),
            max_doc_ops: args
                .max_doc_ops
                .or(file.max_doc_ops)
                .unwrap_or(d.max_doc_ops),
            max_request_memory: args
                .max_request_memory
                .or(file.max_request_memory)
                .unwrap_or(d.max_request_memory),
            tls: match (
                args.tls_cert.clone().or(file.tls_cert),
                args.tls_key.clone().or(file.tls_key),
            ) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    cert,
                    key,
                    client_ca: args.tls_client_ca.clone().or(file.tls_client_ca),
                }),
                (None, None) => None,
                _ => {
                    return Err(ConfigError::Invalid {
                        setting: "tls-cert/tls-key",
                        reason: "give both the certificate and its key".into(),
                    });
                }
            },
            insecure: args.insecure || file.insecure.unwrap_or(false),
            max_connections: args
                .max_connections
                .or(file.max_connections)
                .unwrap_or(d.max_connections),
            handshake_timeout: args
                .handshake_timeout
                .or(file.handshake_timeout)
                .map_or(d.handshake_timeout, Duration::from_secs),
            auth_timeout: args
                .auth_timeout
                .or(file.auth_timeout)
                .map_or(d.auth_timeout, Duration::from_secs),
        };
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

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.toml");
        std::fs::write(
            &path,
            "data_dir = \"/srv/nic\"\npeer_queue = 7\nlisten = \"127.0.0.1:6000\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path),
            listen: Some("127.0.0.1:7000".parse().unwrap()),
            ..ServeArgs::default()
        };
        let config = Config::resolve(&args).unwrap();
        assert_eq!(config.listen.port(), 7000);
        assert_eq!(config.data_dir, PathBuf::from("/srv/nic"));
        assert_eq!(config.peer_queue, 7);
        assert_eq!(config.durability, DurabilityMode::Process);
    }

    #[test]
    fn bad_settings_say_which() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.toml");
        std::fs::write(&path, "listen_on = 1\n").unwrap();
        let err = Config::resolve(&ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("listen_on"), "{err}");
        let err = Config::resolve(&ServeArgs {
            peer_queue: Some(0),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("peer-queue"), "{err}");
        let err = Config::resolve(&ServeArgs {
            max_doc_ops: Some(0),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("max-doc-ops"), "{err}");
    }

    #[test]
    fn a_non_loopback_address_needs_tls_or_an_explicit_insecure() {
        let open: SocketAddr = "0.0.0.0:50051".parse().unwrap();
        let err = Config::resolve(&ServeArgs {
            listen: Some(open),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("--tls-cert"), "{err}");
        let insecure = Config::resolve(&ServeArgs {
            listen: Some(open),
            insecure: true,
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(insecure.tls, None);
        let tls = Config::resolve(&ServeArgs {
            listen: Some(open),
            tls_cert: Some("hub.pem".into()),
            tls_key: Some("hub.key".into()),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(tls.tls.map(|t| t.cert), Some(PathBuf::from("hub.pem")));
        // Loopback needs neither.
        assert!(Config::resolve(&ServeArgs::default()).is_ok());
    }

    #[test]
    fn a_non_loopback_metrics_listener_needs_an_explicit_insecure() {
        for open in ["0.0.0.0:9464", "192.168.1.20:9464", "[::]:9464"] {
            let err = Config::resolve(&ServeArgs {
                metrics_listen: Some(open.into()),
                ..ServeArgs::default()
            })
            .unwrap_err();
            assert!(err.to_string().contains("metrics-listen"), "{err}");
            assert!(err.to_string().contains("--insecure"), "{err}");
            let allowed = Config::resolve(&ServeArgs {
                metrics_listen: Some(open.into()),
                insecure: true,
                ..ServeArgs::default()
            })
            .unwrap();
            assert_eq!(allowed.metrics_listen, Some(open.parse().unwrap()));
        }
        for fine in ["127.0.0.1:9464", "[::1]:9464", "off"] {
            assert!(
                Config::resolve(&ServeArgs {
                    metrics_listen: Some(fine.into()),
                    ..ServeArgs::default()
                })
                .is_ok(),
                "{fine}"
            );
        }
    }

    #[test]
    fn connection_limits_come_from_flags_and_cannot_be_zero() {
        let c = Config::resolve(&ServeArgs {
            max_connections: Some(7),
            handshake_timeout: Some(3),
            auth_timeout: Some(9),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(
            (c.max_connections, c.handshake_timeout, c.auth_timeout),
            (7, Duration::from_secs(3), Duration::from_secs(9))
        );
        for args in [
            ServeArgs {
                max_connections: Some(0),
                ..ServeArgs::default()
            },
            ServeArgs {
                auth_timeout: Some(0),
                ..ServeArgs::default()
            },
        ] {
            assert!(Config::resolve(&args).is_err());
        }
    }
}
