//! `nic-hub backup`: asks a running hub for a backup (`nic.v1.Admin/Backup`, a hub admin's
//! token) and writes it to a file, which it keeps only once the whole file has arrived and
//! its checksum matches.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nic_proto::auth::Bearer;
use nic_proto::v1::{self, admin_client::AdminClient};
use nic_store::backup::{BackupError, BackupReader, BackupSummary};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// The token file of a hub started in the default data folder.
const DEFAULT_TOKEN_FILE: &str = "nic-data/admin-token";

/// `nic-hub backup --help`, beside the flags.
pub const LONG_HELP: &str = "Takes a backup of a running hub: its documents, directory (networks, \
sites, members, token hashes, actor bindings), audit log and sync states, all of one moment, \
and the data folder's admin-token file, into one file. The hub takes it itself (sled lets no \
other process open its folder), while it goes on serving; it must keep its data in sled (the \
default): a hub on PostgreSQL is backed up with pg_dump -Fc instead.

The file holds every network's data and the hub admin's token: it is made readable by this \
user only, and should be kept as safely as the data folder. It is kept only once it has \
arrived whole and its checksum matches. Restore it with \
`nic-hub restore --from FILE --data-dir DIR`.";

/// `nic-hub backup`'s flags.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The running hub's address: http://127.0.0.1:50051, or https://… for a hub with TLS.
    #[arg(long, default_value = "http://127.0.0.1:50051", value_name = "URL")]
    pub hub: String,
    /// A file holding a hub admin's token [default: nic-data/admin-token, the token the hub
    /// made on its first start in the default data folder].
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// A hub admin's token, if no --token-file is given. Prefer --token-file or the
    /// variable: a token given here is shown by `ps` to every user of this machine, and kept
    /// in shell history.
    #[arg(long, env = "NIC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Where to write the backup. Refused if it exists: a backup never replaces a file.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// How to check an https:// hub's certificate.
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

/// How to check an https:// hub, as `nic login` takes it.
#[derive(clap::Args, Debug, Default)]
pub struct ClientTlsArgs {
    /// A CA certificate (PEM) to trust for the hub, when its certificate comes from a
    /// private CA (an https:// hub is otherwise checked against this machine's CAs).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// This machine's certificate (PEM), for a hub that asks for client certificates.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The name on the hub's certificate, if not the address's host.
    #[arg(long, value_name = "NAME")]
    pub tls_domain: Option<String>,
}

impl ClientTlsArgs {
    fn is_empty(&self) -> bool {
        self.ca_file.is_none() && self.cert.is_none() && self.tls_domain.is_none()
    }

    fn config(&self) -> Result<ClientTlsConfig, BackupCmdError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| BackupCmdError::Tls {
                path: path.to_owned(),
                why: e.to_string(),
            })
        };
        let mut config = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = &self.ca_file {
            config = config.ca_certificate(Certificate::from_pem(read(ca)?));
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
        }
        if let Some(domain) = &self.tls_domain {
            config = config.domain_name(domain.clone());
        }
        Ok(config)
    }
}

/// Why `nic-hub backup` failed; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupCmdError {
    /// The token file could not be read.
    #[error(
        "cannot read the token file {}: {source}; give a hub admin's token with --token-file FILE (the hub writes its first admin's token to admin-token in its data folder)",
        path.display()
    )]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The token cannot be sent.
    #[error("the token cannot be sent: {0}")]
    BadToken(String),
    /// A TLS file could not be read.
    #[error("cannot read TLS file {}: {why}", path.display())]
    Tls {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// `--hub` is not an address to connect to.
    #[error(
        "{hub} is not a hub address we can use: {why}; give one like http://127.0.0.1:50051 or https://hub.example.org:50051"
    )]
    Address {
        /// What was given.
        hub: String,
        /// Why.
        why: String,
    },
    /// The hub could not be reached.
    #[error("cannot reach the hub at {hub}: {why}; is it running, and is --hub its address?")]
    Connect {
        /// The address.
        hub: String,
        /// Why.
        why: String,
    },
    /// The hub refused the backup (its message, with a hint).
    #[error("the hub refused the backup: {0}")]
    Refused(String),
    /// The stream broke off before the file was complete.
    #[error("the backup broke off before it was complete ({0}); nothing was kept: try again")]
    Interrupted(String),
    /// The output file exists.
    #[error(
        "{} exists already: choose another --output (a backup never replaces a file)",
        .0.display()
    )]
    Exists(PathBuf),
    /// Writing the output failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// What arrived is not a whole, intact backup.
    #[error("the backup received does not check out, so it was not kept: {0}")]
    Check(#[source] BackupError),
}

/// What `nic-hub backup` wrote.
#[derive(Clone, Debug)]
pub struct BackupReport {
    /// The file.
    pub path: PathBuf,
    /// What it holds, as checked after it arrived.
    pub summary: BackupSummary,
}

/// An error and its causes, on one line: tonic's transport errors say little on their own.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl BackupArgs {
    /// The token: from --token-file, else --token (or `NIC_TOKEN`), else the default file.
    /// A file named on the command line wins over a variable set in the environment.
    fn token(&self) -> Result<String, BackupCmdError> {
        let path = match (&self.token_file, &self.token) {
            (Some(path), _) => path.clone(),
            (None, Some(token)) => return Ok(token.trim().to_owned()),
            (None, None) => PathBuf::from(DEFAULT_TOKEN_FILE),
        };
        std::fs::read_to_string(&path)
            .map(|t| t.trim().to_owned())
            .map_err(|source| BackupCmdError::TokenFile { path, source })
    }

    async fn channel(&self) -> Result<Channel, BackupCmdError> {
        let address = |why: String| BackupCmdError::Address {
            hub: self.hub.clone(),
            why,
        };
        let mut endpoint = Endpoint::from_shared(self.hub.clone())
            .map_err(|e| address(chain(&e)))?
            .connect_timeout(Duration::from_secs(10));
        if self.hub.starts_with("https://") {
            endpoint = endpoint
                .tls_config(self.tls.config()?)
                .map_err(|e| address(chain(&e)))?;
        } else if !self.tls.is_empty() {
            return Err(address(
                "TLS options were given for an address without https://".into(),
            ));
        }
        endpoint
            .connect()
            .await
            .map_err(|e| BackupCmdError::Connect {
                hub: self.hub.clone(),
                why: chain(&e),
            })
    }
}

/// The file a backup is written to until it is whole and checked.
fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Creates `path` readable by its owner only: a backup holds every network's data and the
/// hub admin's token.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The hub's refusal, with what to do about it.
fn refused(status: &tonic::Status) -> BackupCmdError {
    let hint = match status.code() {
        tonic::Code::Unauthenticated => {
            "; check the token (--token-file): it must be a hub admin's, valid and not revoked"
        }
        tonic::Code::PermissionDenied => "; a backup needs a hub admin's token",
        tonic::Code::Unimplemented => {
            "; this hub is older than backups: upgrade it, or stop it and copy its data folder"
        }
        _ => "",
    };
    BackupCmdError::Refused(format!("{}{hint}", status.message()))
}

/// Takes the backup: see the module's documentation.
pub async fn run(args: &BackupArgs) -> Result<BackupReport, BackupCmdError> {
    let output = args.output.clone();
    if output.exists() {
        return Err(BackupCmdError::Exists(output));
    }
    let token = args.token()?;
    let bearer = Bearer::new(&token).map_err(|s| BackupCmdError::BadToken(s.message().into()))?;
    let channel = args.channel().await?;
    let mut stream = AdminClient::new(bearer.on(channel))
        .backup(v1::BackupRequest {})
        .await
        .map_err(|s| refused(&s))?
        .into_inner();
    let partial = partial_path(&output);
    // Left over from an interrupted run of ours: it was never a complete backup.
    let _ = std::fs::remove_file(&partial);
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupCmdError::Write { path, source }
    };
    let received = async {
        let mut file = create_private(&partial).map_err(write_error(&partial))?;
        loop {
            match stream.message().await {
                Ok(Some(piece)) => file.write_all(&piece.data).map_err(write_error(&partial))?,
                Ok(None) => break,
                Err(status) => return Err(BackupCmdError::Interrupted(status.message().into())),
            }
        }
        file.sync_all().map_err(write_error(&partial))?;
        let file = File::open(&partial).map_err(write_error(&partial))?;
        let (_, summary) = BackupReader::new(BufReader::with_capacity(1 << 20, file))
            .and_then(BackupReader::verify)
            .map_err(BackupCmdError::Check)?;
        // A link, not a rename: it fails if the output appeared meanwhile, where a rename
        // would replace it. A file system without links gets the rename, checked first.
        match std::fs::hard_link(&partial, &output) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(BackupCmdError::Exists(output.clone()));
            }
            Err(_) if !output.exists() => {
                std::fs::rename(&partial, &output).map_err(write_error(&output))?;
            }
            Err(_) => return Err(BackupCmdError::Exists(output.clone())),
        }
        Ok(summary)
    }
    .await;
    let _ = std::fs::remove_file(&partial);
    let summary = received?;
    sync_parent(&output);
    Ok(BackupReport {
        path: output,
        summary,
    })
}

/// Makes the new file's name durable (best effort: not every platform can sync a folder).
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}
