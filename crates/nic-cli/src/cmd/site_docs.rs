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
    let actor = client.actor().to_hex_string();
    entry_id(prefix, actor.get(..4).unwrap_or(&actor), taken)
}

/// [`next_id`] for the replica tagged `tag`.
fn entry_id<'a>(prefix: &str, tag: &str, taken: impl IntoIterator<Item = &'a str>) -> String {
    let taken: Vec<&str> = taken.into_iter().collect();
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

#[cfg(test)]
mod tests {
    use super::entry_id;

    /// Two replicas, each adding entries to its own copy of a shared list (seeded, so a
    /// failure reproduces), then merging: no id is ever given twice.
    #[test]
    fn ids_made_apart_never_collide_and_none_is_reused() {
        let mut state = 0x1d5_u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 33
        };
        for round in 0..200 {
            let mut shared: Vec<String> = Vec::new();
            for _ in 0..next() % 5 {
                let id = entry_id("c", "0a0a", shared.iter().map(String::as_str));
                shared.push(id);
            }
            let (mut a, mut b) = (shared.clone(), shared.clone());
            for _ in 0..next() % 6 {
                let id = entry_id("c", "1a2b", a.iter().map(String::as_str));
                assert!(!a.contains(&id), "round {round}: {id} reused");
                a.push(id);
            }
            for _ in 0..next() % 6 {
                let id = entry_id("c", "3c4d", b.iter().map(String::as_str));
                assert!(!b.contains(&id), "round {round}: {id} reused");
                b.push(id);
            }
            let mut merged = a.clone();
            merged.extend(b[shared.len()..].iter().cloned());
            let mut unique = merged.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), merged.len(), "round {round}: {merged:?}");
        }
    }
}
