//! Storing many documents through `Documents.Create` (the client library's
//! [`nic_client::Hub::create_document`]), a bounded number of calls in flight.

use anyhow::Context;
use nic_client::Hub;
use nic_client::automerge::ChangeHash;
use nic_model::{DocKind, DocMeta, DocumentId, NetworkId, SiteId, Visibility};

/// Creates `count` documents, `in_flight` calls at a time; `request(n)` builds the `n`th's
/// metadata and initial bytes (it runs in the spawned call, so building content there is
/// spread over the runtime). Returns each document's id and stored heads, in the order `n`.
pub async fn create_many<F>(
    hub: Hub,
    count: usize,
    in_flight: usize,
    request: F,
) -> anyhow::Result<Vec<(DocumentId, Vec<ChangeHash>)>>
where
    F: Fn(usize) -> anyhow::Result<(DocMeta, Vec<u8>)> + Clone + Send + 'static,
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
        let hub = hub.clone();
        let request = request.clone();
        pending.spawn(async move {
            let (meta, initial) = request(n)?;
            let (stored, heads) = hub.create_document(&meta, Some(&initial)).await?;
            anyhow::Ok((n, (stored.id, heads)))
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

/// The metadata of a network-visible worksheet of `kind` at `site` with a fresh random id.
pub fn worksheet_meta(
    kind: crate::workload::Kind,
    network: &str,
    site: &str,
    title: String,
) -> anyhow::Result<DocMeta> {
    let mut meta = cycle_meta(network, site, title)?;
    meta.kind = kind.doc_kind();
    Ok(meta)
}

/// The metadata of a network-visible PDSA cycle at `site` with a fresh random id.
pub fn cycle_meta(network: &str, site: &str, title: String) -> anyhow::Result<DocMeta> {
    Ok(DocMeta {
        id: DocumentId::random(&mut rand::rng()),
        kind: DocKind::PdsaCycle,
        network: NetworkId::new(network)?,
        site: Some(SiteId::new(site)?),
        visibility: Visibility::Network,
        title,
        created_at_ms: 0,
        archived: false,
    })
}
