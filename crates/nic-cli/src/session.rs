//! A signed-in session: the hub's gRPC services for directory and insight calls, and the
//! local replica (on disk, so edits survive the hub being away) for documents.

use std::time::Duration;

use nic_client::{Client, ReplicaConfig, Storage};
use nic_proto::auth::{AuthedChannel, Bearer};
use nic_proto::v1::{
    directory_client::DirectoryClient, documents_client::DocumentsClient,
    insight_client::InsightClient,
};

use crate::config::{self, Config};
use crate::error::{CliError, Exit};

/// How long a command waits for the hub before saying what is still local.
pub const WAIT: Duration = Duration::from_secs(30);

/// The signed-in state.
pub struct Session {
    /// The saved config.
    pub config: Config,
    channel: Option<AuthedChannel>,
}

impl Session {
    /// Loads the saved sign-in.
    pub fn load() -> Result<Session, CliError> {
        Ok(Session {
            config: Config::load()?,
            channel: None,
        })
    }

    /// A session for these credentials (before they are saved).
    pub fn with(config: Config) -> Session {
        Session {
            config,
            channel: None,
        }
    }

    async fn channel(&mut self) -> Result<AuthedChannel, CliError> {
        if let Some(c) = &self.channel {
            return Ok(c.clone());
        }
        let endpoint =
            tonic::transport::Channel::from_shared(self.config.hub.clone()).map_err(|e| {
                CliError::new(
                    Exit::Config,
                    format!(
                        "{:?} is not a hub address ({e}); use e.g. http://127.0.0.1:50051",
                        self.config.hub
                    ),
                )
            })?;
        let channel = endpoint
            .connect_timeout(Duration::from_secs(10))
            .connect()
            .await
            .map_err(|e| {
                CliError::new(
                    Exit::Unreachable,
                    format!(
                        "cannot reach the hub at {} ({e}); is it running? (start one with `cargo run --release -p nic-hub -- serve`)",
                        self.config.hub
                    ),
                )
            })?;
        let bearer = Bearer::new(&self.config.token).map_err(|_| {
            CliError::new(
                Exit::Config,
                "the saved token is not valid text; sign in again with `nic login`",
            )
        })?;
        let authed = bearer.on(channel);
        self.channel = Some(authed.clone());
        Ok(authed)
    }

    /// The Directory service.
    pub async fn directory(&mut self) -> Result<DirectoryClient<AuthedChannel>, CliError> {
        Ok(DirectoryClient::new(self.channel().await?))
    }

    /// The Documents service.
    pub async fn documents(&mut self) -> Result<DocumentsClient<AuthedChannel>, CliError> {
        Ok(DocumentsClient::new(self.channel().await?))
    }

    /// The Insight service.
    pub async fn insight(&mut self) -> Result<InsightClient<AuthedChannel>, CliError> {
        Ok(InsightClient::new(self.channel().await?))
    }

    /// The local replica (created on first use).
    pub async fn replica(&self) -> Result<Client, CliError> {
        let config = ReplicaConfig::new(&self.config.hub, &self.config.token)
            .storage(Storage::Dir(config::replica_dir()));
        Ok(Client::open(config).await?)
    }
}

/// Waits until the replica's own changes are on the hub; says so if they are not yet.
pub async fn settle_writes(client: &Client) -> Result<(), CliError> {
    match client.wait_synced(WAIT).await {
        Ok(()) => Ok(()),
        Err(nic_client::ClientError::Timeout(_)) => {
            let status = client.status().await?;
            Err(CliError::new(
                Exit::NotYetSynced,
                format!(
                    "saved in the local replica, but the hub has not confirmed it yet ({:?}); run `nic status` later, or any command once the hub is back",
                    status.connection
                ),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Waits until the replica holds everything it syncs, as far as the hub can be reached:
/// offline, it reads what it has.
pub async fn settle_reads(client: &Client) {
    let _ = client.wait_up_to_date(WAIT).await;
}
