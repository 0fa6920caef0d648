//! Reading a network's documents from the store as typed values, for insight. Only durable
//! state is read (a hub's store holds exactly what it has acknowledged).

use autosurgeon::Hydrate;
use nic_model::schema::{self, aim::Aim, driver::ChangeIdea, measure};
use nic_model::schema::{pdsa::PdsaCycle, site_work::RootCauseAnalysis};
use nic_model::{DocKind, DocMeta, DocumentId, NetworkId};
use nic_store::{ListFilter, Store};
use nic_sync::automerge::Automerge;

use crate::status::ApiError;

/// A typed document with its metadata.
pub(crate) type Typed<T> = (DocMeta, T);

/// The metadata of a network's live documents of one kind.
pub(crate) fn metas(
    store: &dyn Store,
    network: &NetworkId,
    kind: DocKind,
) -> Result<Vec<DocMeta>, ApiError> {
    Ok(store.list(&ListFilter {
        network: Some(network.clone()),
        kind: Some(kind),
        ..ListFilter::default()
    })?)
}

/// A document's content as a `T`; `None` (logged) if it does not read as one — a document
/// mid-edit or from a newer schema must not take an overview down.
pub(crate) fn typed<T: Hydrate>(store: &dyn Store, meta: &DocMeta) -> Option<T> {
    let stored = store.load(&meta.id).ok().flatten()?;
    let am = Automerge::load(&stored.concatenated()).ok()?;
    match schema::read::<T, _>(&am, meta.kind) {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::warn!(doc = %meta.id, error = %e, "skipping a document that does not read as its kind");
            None
        }
    }
}

/// Every readable document of `kind` in the network that passes `keep`.
pub(crate) fn all<T: Hydrate>(
    store: &dyn Store,
    network: &NetworkId,
    kind: DocKind,
    keep: impl Fn(&DocMeta) -> bool,
) -> Result<Vec<Typed<T>>, ApiError> {
    Ok(metas(store, network, kind)?
        .into_iter()
        .filter(|m| keep(m))
        .filter_map(|m| typed::<T>(store, &m).map(|v| (m, v)))
        .collect())
}

/// One document, which must exist and be of `kind`.
pub(crate) fn one<T: Hydrate>(
    store: &dyn Store,
    doc: DocumentId,
    kind: DocKind,
) -> Result<Typed<T>, ApiError> {
    let meta = store.meta(&doc)?.ok_or(ApiError::NotFound(doc))?;
    if meta.kind != kind {
        return Err(ApiError::BadRequest(format!(
            "document {doc} is a {}, not a {}",
            meta.kind.as_str(),
            kind.as_str()
        )));
    }
    let value = typed::<T>(store, &meta).ok_or_else(|| {
        ApiError::FailedPrecondition(format!(
            "document {doc} does not read as a {}; fix its content first",
            kind.as_str()
        ))
    })?;
    Ok((meta, value))
}

/// The measure data documents that belong to a measure definition.
pub(crate) fn measure_data(
    store: &dyn Store,
    network: &NetworkId,
    measure: DocumentId,
) -> Result<Vec<Typed<measure::MeasureData>>, ApiError> {
    let id = measure.to_string();
    Ok(
        all::<measure::MeasureData>(store, network, DocKind::MeasureData, |_| true)?
            .into_iter()
            .filter(|(_, d)| d.measure_id == id)
            .collect(),
    )
}

/// Equity lens codes used by the network's aims, change ideas and root-cause analyses that
/// `keep` admits.
pub(crate) fn equity_codes(
    store: &dyn Store,
    network: &NetworkId,
    keep: &impl Fn(&DocMeta) -> bool,
) -> Result<Vec<String>, ApiError> {
    let mut codes = Vec::new();
    for (_, a) in all::<Aim>(store, network, DocKind::Aim, keep)? {
        codes.extend(a.equity_codes);
    }
    for (_, c) in all::<ChangeIdea>(store, network, DocKind::ChangeIdea, keep)? {
        codes.extend(c.equity_codes);
    }
    for (_, r) in all::<RootCauseAnalysis>(store, network, DocKind::RootCauseAnalysis, keep)? {
        codes.extend(r.equity_codes);
    }
    Ok(codes)
}

/// The network's cycles `keep` admits.
pub(crate) fn cycles(
    store: &dyn Store,
    network: &NetworkId,
    keep: impl Fn(&DocMeta) -> bool,
) -> Result<Vec<Typed<PdsaCycle>>, ApiError> {
    all(store, network, DocKind::PdsaCycle, keep)
}
