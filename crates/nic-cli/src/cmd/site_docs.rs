//! What the site team's commands (`nic interview`, `rca`, `audit`, `plan`) and `nic docs
//! history` share: open the replica and the network, catch up with the hub, create a
//! document at a site, name and edit one, and wait for the hub before saying "done".

use std::future::Future;

use nic_client::{Connection, Network, Target};
use serde_json::Value;

use crate::error::CliError;
use crate::output::Out;
use crate::session::{Session, WAIT, settle_writes};

/// What a command did: the JSON for scripts, the sentence for people, and whether it wrote
/// (then the command waits for the hub to confirm).
pub struct Done {
    /// For `--json`.
    pub json: Value,
    /// For people.
    pub text: String,
    /// Whether anything was written.
    pub wrote: bool,
}

/// Runs `f` on the network's handle, then (if it wrote) waits for the hub, closes the
/// replica and prints what it did.
pub async fn run<F, Fut>(out: Out, network: Option<&str>, f: F) -> Result<(), CliError>
where
    F: FnOnce(Network) -> Fut,
    Fut: Future<Output = Result<Done, CliError>>,
{
    let session = Session::load()?;
    let network = session.config.network(network)?;
    let client = session.replica().await?;
    let handle = client.network(network).await?;
    let result = f(handle).await;
    let synced = match &result {
        Ok(done) if done.wrote => settle_writes(&client).await,
        _ => Ok(()),
    };
    client.close().await?;
    let done = result?;
    // A command that printed for itself (a `show`) returns nothing to print.
    if !done.json.is_null() {
        out.value(done.json, &done.text);
    }
    synced
}

/// Waits until the replica holds what the hub had of the network when it answered, so a
/// fresh replica can name and read its documents; offline, it goes on with what it has.
pub async fn caught_up(network: &Network) {
    let client = network.client();
    let mut status = client.watch_status();
    let offline = async {
        loop {
            if matches!(
                status.borrow_and_update().connection,
                Connection::Offline { .. }
            ) {
                return;
            }
            if status.changed().await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = client.wait_caught_up(Target::Network(network.id().clone()), WAIT) => {}
        () = offline => {}
    }
}
