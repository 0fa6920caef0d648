//! `nic status`: what the local replica holds and what waits for the hub.

use nic_client::{Connection, SyncState};
use serde_json::json;

use crate::error::CliError;
use crate::output::Out;
use crate::session::Session;

/// `nic status`
pub async fn status(out: Out) -> Result<(), CliError> {
    let session = Session::load()?;
    let client = session.replica().await?;
    // Give the connection a moment: status says what is true once it is up (or not).
    let _ = client
        .wait_up_to_date(std::time::Duration::from_secs(10))
        .await;
    let s = client.status().await?;
    let mut waiting = Vec::new();
    for meta in client.list(nic_client::ListFilter::default()).await? {
        if let Some(d) = client.doc_status(meta.id).await?
            && (d.state != SyncState::Synced || d.unsent || d.problem.is_some())
        {
            waiting.push((meta, d));
        }
    }
    client.close().await?;
    let connection = match &s.connection {
        Connection::Online => "online".to_owned(),
        Connection::Connecting => "connecting".to_owned(),
        Connection::Offline { reason, .. } => format!(
            "offline{}",
            reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
    };
    if out.json {
        out.value(
            json!({
                "hub": session.config.hub,
                "connection": connection,
                "documents": s.documents,
                "pending_documents": s.pending_documents,
                "pending_changes": s.pending_changes,
                "unsent_documents": s.unsent_documents,
                "synced": s.is_synced(),
                "waiting": waiting.iter().map(|(m, d)| json!({
                    "id": m.id.to_string(), "title": m.title,
                    "state": format!("{:?}", d.state), "unsent": d.unsent, "problem": d.problem,
                })).collect::<Vec<_>>(),
            }),
            "",
        );
        return Ok(());
    }
    crate::output::line(&format!(
        "hub {}: {connection}\n{} documents in the local replica; {}",
        session.config.hub,
        s.documents,
        if s.is_synced() {
            "everything made here is on the hub".to_owned()
        } else {
            format!(
                "{} changes in {} documents and {} new documents wait for the hub",
                s.pending_changes, s.pending_documents, s.unsent_documents
            )
        }
    ));
    for (m, d) in waiting {
        crate::output::line(&format!(
            "  {}  {}  {:?}{}{}",
            m.id,
            m.title,
            d.state,
            if d.unsent {
                ", not yet created on the hub"
            } else {
                ""
            },
            d.problem.map(|p| format!(" — {p}")).unwrap_or_default()
        ));
    }
    Ok(())
}
