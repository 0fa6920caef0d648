//! Storing many documents through `Documents.Create`, a bounded number of calls in flight.

use anyhow::Context;
use nic_client::automerge::ChangeHash;
use nic_model::DocumentId;
use nic_proto::auth::AuthedChannel;
use nic_proto::v1::{self, documents_client::DocumentsClient};

/// Creates `count` documents, `in_flight` calls at a time; `request(n)` builds the `n`th
/// (it runs in the spawned call, so building content there is spread over the runtime).
/// Returns each document's id and stored heads, in the order `n`.
pub async fn create_many<F>(
    channel: AuthedChannel,
    count: usize,
    in_flight: usize,
    request: F,
) -> anyhow::Result<Vec<(DocumentId, Vec<ChangeHash>)>>
where
    F: Fn(usize) -> anyhow::Result<v1::CreateDocumentRequest> + Clone + Send + 'static,
{
    let mut out = vec![None; count];
    let mut pending = tokio::task::JoinSet::new();
    for n in 0..count {
        if pending.len() >= in_flight.max(1)
            && let Some(done) = pending.join_next().await
        {
            let (n, created) = done??;
            out[n] = Some(created);
        }
        let mut docs = DocumentsClient::new(channel.clone());
        let request = request.clone();
        pending.spawn(async move {
            let reply = docs.create(request(n)?).await?.into_inner();
            let meta = reply.meta.context("Create answered without metadata")?;
            let id: DocumentId = meta.doc_id.parse()?;
            let heads = nic_proto::convert::heads("heads", &reply.heads)?;
            anyhow::Ok((n, (id, heads)))
        });
    }
    while let Some(done) = pending.join_next().await {
        let (n, created) = done??;
        out[n] = Some(created);
    }
    out.into_iter()
        .map(|c| c.context("a create never answered"))
        .collect()
}
