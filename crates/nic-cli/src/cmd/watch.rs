//! `nic watch`: a second client that prints each change as it arrives from the hub.

use tokio_stream::StreamExt;

use crate::error::CliError;
use crate::output::{Out, line};
use crate::session::Session;

/// `nic watch`
pub async fn watch(out: Out, network: Option<&str>, count: Option<usize>) -> Result<(), CliError> {
    let session = Session::load()?;
    let network = session.config.network(network)?;
    let client = session.replica().await?;
    client.network(network.clone()).await?;
    // What is already there is not news: report only what arrives from now on.
    client.wait_up_to_date(crate::session::WAIT).await?;
    let mut changes = Box::pin(client.changes());
    line(&format!("watching {network} for changes (Ctrl-C to stop)"));
    let mut seen = 0;
    while count.is_none_or(|n| seen < n) {
        let Some(event) = changes.next().await else {
            break;
        };
        let Ok(event) = event else { continue };
        if event.origin != nic_client::Origin::Remote {
            continue;
        }
        let title = client
            .meta(event.doc)
            .await
            .map(|m| m.title)
            .unwrap_or_default();
        let authors: Vec<String> = event.authors().iter().map(ToString::to_string).collect();
        let messages: Vec<String> = event
            .changes
            .iter()
            .filter_map(|c| c.message.clone())
            .collect();
        out.value(
            serde_json::json!({"doc": event.doc.to_string(), "title": title, "authors": authors, "messages": messages}),
            &format!(
                "{title} ({}) changed by {}: {}",
                event.doc,
                if authors.is_empty() { "someone".to_owned() } else { authors.join(", ") },
                if messages.is_empty() { "(no message)".to_owned() } else { messages.join("; ") }
            ),
        );
        seen += 1;
    }
    client.close().await?;
    Ok(())
}
