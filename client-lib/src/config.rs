//! How a replica is set up: where its hub is, how it proves who it is, where it keeps its
//! documents, and how patiently it reconnects.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nic_model::PeerId;

use crate::ClientError;

/// How to check the hub's certificate, and this client's own for mutual TLS.
///
/// The default trusts the system's certificate authorities, which is what a hub with a
/// public certificate needs; a hub with a certificate from a private CA adds that CA
/// ([`Tls::ca_file`]).
///
/// ```no_run
/// # fn demo() -> Result<(), nic_client::ClientError> {
/// use nic_client::{ReplicaConfig, Tls};
///
/// let tls = Tls::default().ca_file("district-ca.pem")?;
/// let config = ReplicaConfig::new("https://hub.district.example:50051", "the-token").tls(tls);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Tls {
    /// Whether to trust the certificate authorities of this machine (the system store).
    pub system_roots: bool,
    /// More CA certificates to trust for the hub, PEM (a private CA).
    pub ca_pem: Option<Vec<u8>>,
    /// The name to check the hub's certificate against, if not the address's host.
    pub domain: Option<String>,
    /// This client's certificate chain and key, PEM, when the hub requires client
    /// certificates.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl Default for Tls {
    fn default() -> Self {
        Self {
            system_roots: true,
            ca_pem: None,
            domain: None,
            identity: None,
        }
    }
}

impl Tls {
    /// Also trusts the CA certificate(s) in the PEM file at `path`. Fails if the file
    /// cannot be read or holds no certificate.
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Result<Self, ClientError> {
        let pem = read_pem(path.as_ref(), "CERTIFICATE")?;
        self.ca_pem = Some(pem);
        Ok(self)
    }

    /// Presents the certificate chain and private key in these PEM files to a hub that
    /// asks for client certificates.
    pub fn identity_files(
        mut self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, ClientError> {
        let cert = read_pem(cert.as_ref(), "CERTIFICATE")?;
        let key = read_pem(key.as_ref(), "PRIVATE KEY")?;
        self.identity = Some((cert, key));
        Ok(self)
    }

    /// Trusts only the CAs given here, not the system's (for a closed network).
    pub fn without_system_roots(mut self) -> Self {
        self.system_roots = false;
        self
    }

    /// The transport's TLS settings.
    pub(crate) fn client_config(&self) -> tonic::transport::ClientTlsConfig {
        let mut config = tonic::transport::ClientTlsConfig::new();
        if self.system_roots {
            config = config.with_native_roots();
        }
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

/// Reads a PEM file and checks it holds a block whose label ends with `label` (so a key
/// file given as a certificate is caught here, not as a vague handshake failure).
fn read_pem(path: &Path, label: &str) -> Result<Vec<u8>, ClientError> {
    let bad = |reason: String| ClientError::BadTls {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let text = String::from_utf8_lossy(&pem);
    let found = text.lines().any(|l| {
        l.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
            .is_some_and(|l| l.ends_with(label))
    });
    if !found {
        return Err(bad(format!("it holds no PEM block labelled ...{label}")));
    }
    Ok(pem)
}

/// Where a replica keeps its documents.
#[derive(Clone, Debug)]
pub enum Storage {
    /// In a folder on disk (created if missing): the documents in an embedded sled
    /// database, the device's identity and subscriptions beside it. A replica reopened on the
    /// same folder has everything it had, including edits not yet on the hub.
    Dir(PathBuf),
    /// In memory only: gone when the replica stops. For tests and short-lived jobs.
    Memory,
}

/// Waiting between reconnect attempts: exponential growth from `initial` to `max`, each
/// wait drawn at random from its upper half ("jitter"), so many replicas cut off together do
/// not all return in the same instant.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// The first wait after a connection is lost or refused.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before attempt number `failures` (1 for the first retry), given a random
    /// `unit` in [0, 1).
    pub fn delay(&self, failures: u32, unit: f64) -> Duration {
        let exp = self.initial.saturating_mul(
            1u32.checked_shl(failures.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let ceiling = exp.min(self.max);
        ceiling.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

/// Everything [`crate::Client::open`] needs.
///
/// ```
/// use nic_client::{ReplicaConfig, Storage};
///
/// let config = ReplicaConfig::new("http://127.0.0.1:50051", "the-token")
///     .storage(Storage::Dir("lincoln-replica".into()));
/// assert_eq!(config.hub, "http://127.0.0.1:50051");
/// ```
#[derive(Clone, Debug)]
pub struct ReplicaConfig {
    /// The hub's address, e.g. `http://127.0.0.1:50051` (or `https://…` with [`Tls`]).
    pub hub: String,
    /// The access token the hub issued to this member (a new hub writes its admin's to
    /// `admin-token` in its data folder).
    pub token: String,
    /// TLS settings for an `https://` hub.
    pub tls: Option<Tls>,
    /// Where documents are kept.
    pub storage: Storage,
    /// This replica's peer id. `None`: the one stored in the replica's folder, or a new
    /// random `replica-…` id (kept in the folder for next time).
    pub peer: Option<PeerId>,
    /// How long to wait between reconnect attempts.
    pub backoff: Backoff,
}

impl ReplicaConfig {
    /// A replica of the hub at `hub` signed in with `token`, kept in memory until
    /// [`ReplicaConfig::storage`] says otherwise.
    pub fn new(hub: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            hub: hub.into(),
            token: token.into().trim().to_owned(),
            tls: None,
            storage: Storage::Memory,
            peer: None,
            backoff: Backoff::default(),
        }
    }

    /// Keeps documents as `storage` says.
    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = storage;
        self
    }

    /// Connects over TLS.
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Uses this peer id.
    pub fn peer(mut self, peer: PeerId) -> Self {
        self.peer = Some(peer);
        self
    }

    /// Reconnects with these waits.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling_and_jitters_within_the_upper_half() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 1.0), Duration::from_millis(250));
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(125));
        assert!(b.delay(2, 0.5) > b.delay(1, 1.0));
        assert_eq!(b.delay(3, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(40, 0.0), Duration::from_secs(15));
        assert!(b.delay(40, 0.999_999) <= Duration::from_secs(30));
    }
}
