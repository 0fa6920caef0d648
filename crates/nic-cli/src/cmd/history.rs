//! `nic docs history`: who changed a document, what, and when — from the replica's
//! Automerge history, each change's author being the member the hub bound its actor to.

use serde_json::json;

use super::render::when;
use super::site_docs::{self, Done};
use crate::error::CliError;
use crate::output::Out;

/// `nic docs history DOC`
pub async fn history(out: Out, network: Option<&str>, doc: &str) -> Result<(), CliError> {
    let doc = doc.to_owned();
    site_docs::run(out, network, |network| async move {
        site_docs::caught_up(&network).await;
        let id = super::names::doc(&network, &doc).await?;
        let client = network.client();
        let changes = client.history(id).await?;
        let own = client.actor().clone();
        let rows: Vec<Vec<String>> = changes
            .iter()
            .map(|c| {
                let who = match &c.author {
                    Some(m) => m.to_string(),
                    // Ours, but the hub has not welcomed this replica yet.
                    None if c.actor == own => "you (not yet confirmed by the hub)".into(),
                    None => {
                        // Actor ids are any bytes a client chose: short ones too.
                        let hex = c.actor.to_hex_string();
                        format!("unknown (device {})", hex.get(..8).unwrap_or(&hex))
                    }
                };
                vec![when(c.time_ms), who, c.message.clone().unwrap_or_default()]
            })
            .collect();
        let json = json!(
            changes
                .iter()
                .map(|c| json!({
                    "hash": c.hash.to_string(),
                    "time_ms": c.time_ms,
                    "time": when(c.time_ms),
                    "author": c.author.as_ref().map(ToString::to_string),
                    "actor": c.actor.to_hex_string(),
                    "message": c.message,
                }))
                .collect::<Vec<_>>()
        );
        if out.json {
            Ok(Done {
                json,
                text: String::new(),
                wrote: false,
            })
        } else {
            out.table(&["when", "who", "what"], &rows);
            Ok(Done {
                json: serde_json::Value::Null,
                text: String::new(),
                wrote: false,
            })
        }
    })
    .await
}
