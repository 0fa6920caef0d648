//! The signed-in state: which hub, which token, which network by default. Kept in a TOML
//! file readable by its owner only, because it holds a secret.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{CliError, Exit};

/// What `nic login` saves.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Config {
    /// The hub's address.
    pub hub: String,
    /// The access token.
    pub token: String,
    /// The network commands use when none is given.
    #[serde(default)]
    pub network: Option<String>,
    /// TLS settings for an `https://` hub.
    #[serde(default, skip_serializing_if = "TlsFiles::is_empty")]
    pub tls: TlsFiles,
}

/// Where the TLS files are, as `nic login` was given them (made absolute). Without any, an
/// `https://` hub is checked against the system's certificate authorities.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFiles {
    /// A CA certificate (PEM) to trust as well: the hub's private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// This device's certificate (PEM), for a hub that asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// The name on the hub's certificate, if not the address's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl TlsFiles {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == TlsFiles::default()
    }

    /// The library's TLS settings: `None` when nothing is set (an `https://` hub then uses
    /// the system's CAs).
    pub fn settings(&self) -> Result<Option<nic_client::Tls>, CliError> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut tls = nic_client::Tls::default();
        if let Some(ca) = &self.ca_file {
            tls = tls.ca_file(ca)?;
        }
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => tls = tls.identity_files(cert, key)?,
            (None, None) => {}
            _ => {
                return Err(CliError::invalid(
                    "a client certificate needs both --cert FILE and --key FILE",
                ));
            }
        }
        tls.domain = self.domain.clone();
        Ok(Some(tls))
    }
}

/// Where the config lives: `$NIC_CONFIG`, else `$XDG_CONFIG_HOME/nic/config.toml`, else
/// `~/.config/nic/config.toml`.
pub fn path() -> PathBuf {
    if let Some(p) = std::env::var_os("NIC_CONFIG") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("nic").join("config.toml")
}

/// Where the local replica lives: `$NIC_REPLICA`, else `replica/` beside the config file.
pub fn replica_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("NIC_REPLICA") {
        return PathBuf::from(p);
    }
    path()
        .parent()
        .map_or_else(|| PathBuf::from("nic-replica"), |d| d.join("replica"))
}

impl Config {
    /// The saved config; an error that says to sign in if there is none.
    pub fn load() -> Result<Config, CliError> {
        let p = path();
        let text = std::fs::read_to_string(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CliError::new(
                    Exit::Config,
                    "not signed in: run `nic login --hub http://127.0.0.1:50051 --token-file nic-data/admin-token` first",
                )
            } else {
                CliError::new(Exit::Config, format!("cannot read {}: {e}", p.display()))
            }
        })?;
        toml::from_str(&text).map_err(|e| {
            CliError::new(
                Exit::Config,
                format!(
                    "{} is damaged ({e}); sign in again with `nic login`",
                    p.display()
                ),
            )
        })
    }

    /// Saves the config, readable and writable by its owner only.
    pub fn save(&self) -> Result<PathBuf, CliError> {
        let p = path();
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = toml::to_string(self)
            .map_err(|e| CliError::new(Exit::Failure, format!("cannot write the config: {e}")))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&p)?;
        file.write_all(text.as_bytes())?;
        // A file made earlier with looser permissions is tightened too.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(p)
    }

    /// The network to use: the one given, else the default, else an error saying how to set
    /// one.
    pub fn network(&self, given: Option<&str>) -> Result<nic_model::NetworkId, CliError> {
        let name = given.map(str::to_owned).or_else(|| self.network.clone()).ok_or_else(|| {
            CliError::invalid("no network given: pass --network NETWORK, or set a default with `nic use NETWORK`")
        })?;
        Ok(nic_model::NetworkId::new(name)?)
    }
}
