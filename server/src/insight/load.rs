//! Reading a network's documents from the store as typed values, for insight. Only durable
//! state is read (a hub's store holds exactly what it has acknowledged).

use std::cell::RefCell;
use std::collections::BTreeMap;

use autosurgeon::Hydrate;
use nic_model::schema::{self, aim::Aim, driver::ChangeIdea, measure};
use nic_model::schema::{pdsa::PdsaCycle, site_work::RootCauseAnalysis};
use nic_model::{DocKind, DocMeta, DocumentId, NetworkId};
use nic_store::{ListFilter, Store};

use crate::loads::DocLoads;
use crate::status::ApiError;

/// Where documents are read from: the store, decoded within the limits and the requests'
/// memory budget.
#[derive(Clone, Copy)]
pub(crate) struct Src<'a> {
    pub(crate) store: &'a dyn Store,
    pub(crate) loads: &'a DocLoads,
    /// Where documents that could not be used are noted, for the response to list.
    pub(crate) unusable: &'a Unusable,
}

/// The documents one request could not use, by id: their metadata and why. Noted whether
/// or not the caller may read them; the response lists only those it may.
pub(crate) type Unusable = RefCell<BTreeMap<DocumentId, (DocMeta, String)>>;

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

/// A document's content as a `T`; `None` (logged, and noted in `src.unusable`) if it does
/// not read as one — a document mid-edit, from a newer schema or beyond the document
/// limits must not take an overview down. Only a hub too busy to decode it now is an error.
pub(crate) fn typed<T: Hydrate>(src: Src<'_>, meta: &DocMeta) -> Result<Option<T>, ApiError> {
    let loaded = match src.loads.load(src.store, meta.id) {
        Ok((_, loaded)) => loaded,
        Err(e @ ApiError::Busy(_)) => return Err(e),
        Err(e) => {
            tracing::warn!(doc = %meta.id, error = %e, "skipping a document that cannot be opened");
            note(src, meta, format!("it could not be opened: {e}"));
            return Ok(None);
        }
    };
    match schema::read::<T, _>(&loaded.doc, meta.kind) {
        Ok(value) => Ok(Some(value)),
        Err(e) => {
            // The content check names the field; the typed read's own error does not.
            let why = schema::check::check(&loaded.doc, meta.kind)
                .err()
                .map_or_else(|| e.to_string(), |invalid| invalid.to_string());
            tracing::warn!(doc = %meta.id, error = %why, "skipping a document that does not read as its kind");
            note(
                src,
                meta,
                format!("it does not read as a {}: {why}", meta.kind.as_str()),
            );
            Ok(None)
        }
    }
}

/// Notes a document the request could not use (the first reason found stays).
fn note(src: Src<'_>, meta: &DocMeta, reason: String) {
    src.unusable
        .borrow_mut()
        .entry(meta.id)
        .or_insert_with(|| (meta.clone(), reason));
}

/// Every readable document of `kind` in the network that passes `keep`.
pub(crate) fn all<T: Hydrate>(
    src: Src<'_>,
    network: &NetworkId,
    kind: DocKind,
    keep: impl Fn(&DocMeta) -> bool,
) -> Result<Vec<Typed<T>>, ApiError> {
    let mut out = Vec::new();
    for m in metas(src.store, network, kind)?
        .into_iter()
        .filter(|m| keep(m))
    {
        if let Some(v) = typed::<T>(src, &m)? {
            out.push((m, v));
        }
    }
    Ok(out)
}

/// One document, which must exist and be of `kind`.
pub(crate) fn one<T: Hydrate>(
    src: Src<'_>,
    doc: DocumentId,
    kind: DocKind,
) -> Result<Typed<T>, ApiError> {
    let meta = src.store.meta(&doc)?.ok_or(ApiError::NotFound(doc))?;
    if meta.kind != kind {
        return Err(ApiError::BadRequest(format!(
            "document {doc} is a {}, not a {}",
            meta.kind.as_str(),
            kind.as_str()
        )));
    }
    let value = typed::<T>(src, &meta)?.ok_or_else(|| {
        ApiError::FailedPrecondition(format!(
            "document {doc} does not read as a {}; fix its content first",
            kind.as_str()
        ))
    })?;
    Ok((meta, value))
}

/// The measure data documents that belong to a measure definition.
pub(crate) fn measure_data(
    src: Src<'_>,
    network: &NetworkId,
    measure: DocumentId,
) -> Result<Vec<Typed<measure::MeasureData>>, ApiError> {
    let id = measure.to_string();
    Ok(
        all::<measure::MeasureData>(src, network, DocKind::MeasureData, |_| true)?
            .into_iter()
            .filter(|(_, d)| d.measure_id == id)
            .collect(),
    )
}

/// Equity lens codes used by the network's aims, change ideas, PDSA cycles and root-cause
/// analyses that `keep` admits.
pub(crate) fn equity_codes(
    src: Src<'_>,
    network: &NetworkId,
    keep: &impl Fn(&DocMeta) -> bool,
) -> Result<Vec<String>, ApiError> {
    let mut codes = Vec::new();
    for (_, a) in all::<Aim>(src, network, DocKind::Aim, keep)? {
        codes.extend(a.equity_codes);
    }
    for (_, c) in all::<ChangeIdea>(src, network, DocKind::ChangeIdea, keep)? {
        codes.extend(c.equity_codes);
    }
    for (_, c) in all::<PdsaCycle>(src, network, DocKind::PdsaCycle, keep)? {
        codes.extend(c.equity_codes);
    }
    for (_, r) in all::<RootCauseAnalysis>(src, network, DocKind::RootCauseAnalysis, keep)? {
        codes.extend(r.equity_codes);
    }
    Ok(codes)
}

/// The network's cycles `keep` admits.
pub(crate) fn cycles(
    src: Src<'_>,
    network: &NetworkId,
    keep: impl Fn(&DocMeta) -> bool,
) -> Result<Vec<Typed<PdsaCycle>>, ApiError> {
    all(src, network, DocKind::PdsaCycle, keep)
}

/// A measure's data documents as the series builder takes them: each under its site's
/// name (`network` for the network's own), marked network-level when it has no site.
pub(crate) fn site_data<'a>(
    data: impl IntoIterator<Item = &'a Typed<measure::MeasureData>>,
) -> Vec<nic_insight::series::SiteData<'a>> {
    data.into_iter()
        .map(|(m, d)| nic_insight::series::SiteData {
            site: m
                .site
                .as_ref()
                .map_or_else(|| "network".to_owned(), ToString::to_string),
            network_level: m.site.is_none(),
            data: d,
        })
        .collect()
}
