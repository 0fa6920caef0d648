//! What the site team's commands (`nic interview`, `rca`, `audit`, `plan`) and `nic docs
//! history` share: open the replica and the network, catch up with the hub, create a
//! document at a site, name and edit one, and wait for the hub before saying "done".

use std::future::Future;

use nic_client::{Client, Connection, Network, NewDocument, Target, Typed};
use nic_model::{DocKind, DocumentId, SiteId, Visibility};
use serde_json::Value;

use crate::error::{CliError, Exit};
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

/// The document `text` names (full id or unique prefix), which must be of `kind`.
pub async fn named(network: &Network, text: &str, kind: DocKind) -> Result<DocumentId, CliError> {
    caught_up(network).await;
    let id = super::names::doc(network, text).await?;
    let meta = network.client().meta(id).await.map_err(|_| {
        CliError::new(
            Exit::NotFound,
            format!("this replica does not hold {id}; is the network right, and has it synced? (`nic status`)"),
        )
    })?;
    if meta.kind != kind {
        return Err(CliError::invalid(format!(
            "{id} ({}) is a {}, not a {}",
            meta.title,
            meta.kind.as_str(),
            kind.as_str()
        )));
    }
    Ok(id)
}

/// Creates a `T` at `site` in the network, readable as `visibility` says.
pub async fn create_at<T: Typed>(
    network: &Network,
    site: &str,
    visibility: Visibility,
    title: String,
    value: &T,
) -> Result<DocumentId, CliError> {
    let new = NewDocument {
        network: network.id().clone(),
        site: Some(SiteId::new(site)?),
        visibility,
        title,
    };
    Ok(network.client().create(new, value).await?)
}

/// Changes a `T` with `f` as one change carrying `message`.
pub async fn change<T: Typed>(
    client: &Client,
    id: DocumentId,
    message: &str,
    f: impl FnOnce(&mut T) + Send + 'static,
) -> Result<(), CliError> {
    client.change::<T>(id, message.to_owned(), f).await?;
    Ok(())
}

/// Prints a document as `nic docs show` does.
pub async fn show(out: Out, network: &Network, id: DocumentId) -> Result<Done, CliError> {
    let client = network.client();
    let meta = client.meta(id).await?;
    let am = client
        .read(id, |am| am.clone())
        .await?
        .ok_or(nic_client::ClientError::UnknownDocument(id))?;
    super::render::show(out, &meta, &am)?;
    Ok(Done {
        json: Value::Null,
        text: String::new(),
        wrote: false,
    })
}

/// Checks a `YYYY-MM-DD` date.
pub fn date(what: &str, text: Option<String>) -> Result<Option<String>, CliError> {
    if let Some(d) = &text {
        nic_model::Period::parse(d)
            .map_err(|e| CliError::invalid(format!("{what} {d:?} is not a date: {e}")))?;
    }
    Ok(text)
}

/// A short id for a new entry of a list: `prefix`, the entry's number (one more than the
/// entries there), and four hex digits of this replica's actor id. Two replicas adding an entry while apart
/// see the same list and pick the same number; the actor part keeps their ids apart, so
/// both entries survive the merge and each can still be named (`c3-1a2b`).
pub fn next_id<'a>(
    client: &Client,
    prefix: &str,
    taken: impl IntoIterator<Item = &'a str>,
) -> String {
    let taken: Vec<&str> = taken.into_iter().collect();
    let actor = client.actor().to_hex_string();
    let tag = actor.get(..4).unwrap_or(&actor);
    (taken.len() + 1..)
        .map(|n| format!("{prefix}{n}-{tag}"))
        .find(|id| !taken.contains(&id.as_str()))
        .unwrap_or_else(|| prefix.to_owned())
}

/// Refuses empty text.
pub fn not_empty(what: &str, text: &str) -> Result<(), CliError> {
    if text.trim().is_empty() {
        return Err(CliError::invalid(format!("{what} is empty: write it out")));
    }
    Ok(())
}
