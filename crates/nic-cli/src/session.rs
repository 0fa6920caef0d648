//! A signed-in session: the hub's typed services (through the client library) for
//! directory, document and insight calls, and the local replica (on disk, so edits survive
//! the hub being away) for documents.

use std::time::Duration;

use nic_client::{Client, Connection, Hub, ReplicaConfig, Storage};

use crate::config::{self, Config};
use crate::error::{CliError, Exit};

/// How long a command waits for the hub before saying what is still local.
pub const WAIT: Duration = Duration::from_secs(30);

/// The signed-in state.
pub struct Session {
    /// The saved config.
    pub config: Config,
    hub: Option<Hub>,
}

impl Session {
    /// Loads the saved sign-in.
    pub fn load() -> Result<Session, CliError> {
        Ok(Session {
            config: Config::load()?,
            hub: None,
        })
    }

    /// A session for these credentials (before they are saved).
    pub fn with(config: Config) -> Session {
        Session { config, hub: None }
    }

    /// The hub's Directory, Documents and Insight services. Connects on the first call.
    pub fn hub(&mut self) -> Result<Hub, CliError> {
        if let Some(hub) = &self.hub {
            return Ok(hub.clone());
        }
        let tls = self.config.tls.settings()?;
        let hub = Hub::new(&self.config.hub, &self.config.token, tls.as_ref())?;
        self.hub = Some(hub.clone());
        Ok(hub)
    }

    /// The local replica (created on first use).
    pub async fn replica(&self) -> Result<Client, CliError> {
        let mut config = ReplicaConfig::new(&self.config.hub, &self.config.token)
            .storage(Storage::Dir(config::replica_dir()));
        config.tls = self.config.tls.settings()?;
        Ok(Client::open(config).await?)
    }
}

/// Waits until the replica's own changes are on the hub; says so if they are not yet. A
/// failed connection attempt ends the wait at once: the hub is away, the edit is safe in the
/// replica, and a person should not sit through the whole timeout to hear it.
pub async fn settle_writes(client: &Client) -> Result<(), CliError> {
    let mut status = client.watch_status();
    let failed_attempt = async {
        loop {
            if let Connection::Offline {
                reason: Some(reason),
                ..
            } = &status.borrow_and_update().connection
            {
                return reason.clone();
            }
            if status.changed().await.is_err() {
                // The replica stopped: let the sync wait say so.
                std::future::pending::<()>().await;
            }
        }
    };
    let not_yet = |why: String| {
        CliError::new(
            Exit::NotYetSynced,
            format!(
                "saved in the local replica, but the hub has not confirmed it yet ({why}); run `nic status` later, or any command once the hub is back"
            ),
        )
    };
    tokio::select! {
        synced = client.wait_synced(WAIT) => match synced {
            Ok(()) => Ok(()),
            Err(nic_client::ClientError::Timeout(_)) => {
                let status = client.status().await?;
                Err(not_yet(format!("{:?}", status.connection)))
            }
            Err(e) => Err(e.into()),
        },
        reason = failed_attempt => Err(not_yet(reason)),
    }
}

/// Waits until the replica holds everything it syncs, as far as the hub can be reached:
/// offline, it reads what it has.
pub async fn settle_reads(client: &Client) {
    let _ = client.wait_up_to_date(WAIT).await;
}
