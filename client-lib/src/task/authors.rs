//! Naming the authors of changes: actor ids become members through the hub's history
//! (which records the member each actor id is bound to), cached so each actor is looked up
//! once.

use std::collections::HashMap;

use nic_model::{DocumentId, MemberId};
use nic_proto::v1::{self, documents_client::DocumentsClient};
use nic_sync::automerge::ActorId;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::ClientError;
use crate::events::{ChangeEvent, ChangeInfo};
use crate::hub::link::Link;

/// What the resolver is told.
pub(crate) enum Resolve {
    /// This actor id is this member's (our own, from the hub's Welcome).
    Known(ActorId, MemberId),
    /// Name the authors of this event, then publish it.
    Event(ChangeEvent),
    /// Name the authors of a document's changes (its history), then answer.
    Name(
        DocumentId,
        Vec<ChangeInfo>,
        oneshot::Sender<Result<Vec<ChangeInfo>, ClientError>>,
    ),
}

/// Runs until the replica stops: events go out in the order they came in.
pub(crate) async fn run(
    hub: Link,
    mut input: mpsc::UnboundedReceiver<Resolve>,
    out: broadcast::Sender<ChangeEvent>,
) {
    let mut known: HashMap<ActorId, MemberId> = HashMap::new();
    while let Some(item) = input.recv().await {
        match item {
            Resolve::Known(actor, member) => {
                known.insert(actor, member);
            }
            Resolve::Event(mut event) => {
                let missing = event.changes.iter().any(|c| !known.contains_key(&c.actor));
                if missing
                    && event.origin == crate::Origin::Remote
                    && let Err(status) = learn(&hub, event.doc, &mut known).await
                {
                    tracing::debug!(%status, doc = %event.doc, "cannot name authors now");
                }
                for change in &mut event.changes {
                    change.author = known.get(&change.actor).cloned();
                }
                let _ = out.send(event);
            }
            Resolve::Name(doc, mut changes, reply) => {
                // Asked for, so worth a call to the hub even for our own changes: the
                // member behind an actor is only known for sure once the hub has bound it.
                if changes.iter().any(|c| !known.contains_key(&c.actor))
                    && let Err(status) = learn(&hub, doc, &mut known).await
                {
                    tracing::debug!(%status, %doc, "cannot name authors now");
                }
                for change in &mut changes {
                    change.author = known.get(&change.actor).cloned();
                }
                let _ = reply.send(Ok(changes));
            }
        }
    }
}

/// Reads the document's history for the members its actors are bound to.
async fn learn(
    hub: &Link,
    doc: DocumentId,
    known: &mut HashMap<ActorId, MemberId>,
) -> Result<(), tonic::Status> {
    let mut client = DocumentsClient::with_interceptor(hub.channel.clone(), hub.bearer.clone());
    let mut page_token = String::new();
    loop {
        let page = client
            .history(v1::GetHistoryRequest {
                doc_id: doc.to_string(),
                page_size: 1000,
                page_token,
            })
            .await?
            .into_inner();
        for entry in page.entries {
            let (Some(actor), Ok(member)) = (
                crate::device::hex_bytes(&entry.actor_id).map(ActorId::from),
                MemberId::new(entry.member_id),
            ) else {
                continue;
            };
            known.insert(actor, member);
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = page.next_page_token;
    }
}
