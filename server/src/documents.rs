//! `nic.v1.Documents`: create, list, get, history and archive, straight on the store; the
//! engine task is told about new and changed metadata so subscribers hear of it.

use std::sync::Arc;

use nic_model::schema;
use nic_model::{DocMeta, DocumentId};
use nic_proto::convert;
use nic_proto::v1::{self, documents_server};
use nic_store::{Batch, Binding, Directory, Durability, ListFilter, Op, Store, StoreError};
use nic_sync::automerge::Automerge;
use tonic::{Request, Response, Status};

use crate::auth::{self, Caller};
use crate::driver::{Event, HubHandle};
use crate::group_flush::GroupFlush;
use crate::loads::{DocLoads, Loaded};
use crate::status::{ApiError, blocking};

/// Most list and history entries in one page.
const MAX_PAGE: usize = 1000;
/// Entries in a page when the request says 0.
const DEFAULT_PAGE: usize = 100;

/// The Documents service.
pub struct DocumentsService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) hub: HubHandle,
    pub(crate) durability: Durability,
    /// Decodes documents within the limits and the requests' memory budget.
    pub(crate) loads: Arc<DocLoads>,
    /// Concurrent creations share flushes.
    pub(crate) flusher: Arc<GroupFlush>,
}

fn page_size(requested: u32) -> usize {
    match requested as usize {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    }
}

/// Refuses a caller who may not read the document.
fn may_read(caller: &Caller, meta: &DocMeta) -> Result<(), ApiError> {
    if caller.member.grants.may_read(meta) {
        Ok(())
    } else {
        Err(ApiError::PermissionDenied(format!(
            "you may not read document {}; ask a network lead for access",
            meta.id
        )))
    }
}

/// A Create's initial content, measured before it is decoded (refused beyond the document
/// limits) and holding its share of the requests' memory until the Create is done.
fn initial<'a>(loads: &'a DocLoads, bytes: Option<&[u8]>) -> Result<Option<Loaded<'a>>, ApiError> {
    bytes.map(|b| loads.decode("initial", b)).transpose()
}

#[tonic::async_trait]
impl documents_server::Documents for DocumentsService {
    async fn create(
        &self,
        request: Request<v1::CreateDocumentRequest>,
    ) -> Result<Response<v1::CreateDocumentResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.into_inner();
        let id = if r.doc_id.is_empty() {
            DocumentId::random(&mut rand::rng())
        } else {
            convert::doc_id("doc_id", &r.doc_id).map_err(ApiError::from)?
        };
        let meta = DocMeta {
            id,
            kind: convert::kind("kind", r.kind).map_err(ApiError::from)?,
            network: convert::network_id("network_id", &r.network_id).map_err(ApiError::from)?,
            site: convert::site_id("site_id", &r.site_id).map_err(ApiError::from)?,
            visibility: convert::visibility("visibility", r.visibility).map_err(ApiError::from)?,
            title: r.title,
            created_at_ms: auth::now_ms(),
            archived: false,
        };
        meta.validate().map_err(|e| ApiError::Invalid(e.into()))?;
        if !caller
            .member
            .grants
            .may_create(&meta.network, meta.site.as_ref())
        {
            return Err(ApiError::PermissionDenied(match &meta.site {
                Some(site) => format!(
                    "you may not create documents for site {site} of network {}",
                    meta.network
                ),
                None => format!(
                    "only network {}'s leads may create network-level documents",
                    meta.network
                ),
            })
            .into());
        }
        let store = self.store.clone();
        let directory = self.directory.clone();
        let durability = self.durability;
        let hub = self.hub.clone();
        let loads = self.loads.clone();
        let flusher = self.flusher.clone();
        let stored = meta.clone();
        let heads = blocking(move || {
            if directory.network(&stored.network)?.is_none() {
                return Err(ApiError::NotFoundWhat(format!(
                    "network {} does not exist; a hub admin creates it (Directory.CreateNetwork)",
                    stored.network
                )));
            }
            if let Some(site) = &stored.site
                && !directory
                    .sites(&stored.network)?
                    .iter()
                    .any(|s| s.id == *site)
            {
                return Err(ApiError::NotFoundWhat(format!(
                    "site {site} does not exist in network {}",
                    stored.network
                )));
            }
            let initial = initial(&loads, r.initial.as_deref())?;
            let empty = Automerge::new();
            let doc = initial.as_ref().map_or(&empty, |l| &l.doc);
            // Content the product could not read is refused before anything is bound or
            // stored; an empty document is a document not yet written.
            schema::check::accepted(doc, stored.kind).map_err(|invalid| ApiError::Content {
                kind: stored.kind,
                invalid,
            })?;
            if store.meta(&stored.id)?.is_some() {
                // Cheap early answer; the create below is what decides.
                return Err(ApiError::AlreadyExists(stored.id));
            }
            // The initial changes' actors become the creator's (or the creation is refused).
            for change in doc.get_changes(&[]) {
                let actor = change.actor_id();
                if let Binding::Other(owner) = directory.bind_actor(&auth::actor_key(actor.to_bytes()), &caller.member.id)? {
                    return Err(ApiError::PermissionDenied(format!(
                        "initial contains changes by Automerge actor {} which belongs to {owner}; create it from your own actor id",
                        actor.to_hex_string()
                    )));
                }
            }
            // Compare-and-set on the id: of two concurrent creations of one id exactly one
            // is stored; the other is told ALREADY_EXISTS and nothing of it is written.
            let mut batch = Batch::default();
            batch.ops.push(Op::CreateMeta(stored.clone()));
            batch.ops.push(Op::Append {
                doc: stored.id,
                chunk: doc.save(),
            });
            store.write_batch(&batch).map_err(|e| match e {
                StoreError::AlreadyExists(id) => ApiError::AlreadyExists(id),
                e => e.into(),
            })?;
            flusher.flush(&*store, durability)?;
            // Told here, in the work that made the creation: a caller that gives up on the
            // request cannot keep subscribers from hearing of it.
            hub.notify(Event::Catalogue(stored.clone()));
            Ok(doc.get_heads())
        })
        .await?;
        tracing::info!(doc = %meta.id, kind = %meta.kind, network = %meta.network, "document created");
        Ok(Response::new(v1::CreateDocumentResponse {
            meta: Some(convert::meta_to_wire(&meta)),
            heads: convert::heads_to_wire(&heads),
        }))
    }

    async fn list(
        &self,
        request: Request<v1::ListDocumentsRequest>,
    ) -> Result<Response<v1::ListDocumentsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.into_inner();
        let filter = ListFilter {
            network: if r.network_id.is_empty() {
                None
            } else {
                Some(convert::network_id("network_id", &r.network_id).map_err(ApiError::from)?)
            },
            site: convert::site_id("site_id", &r.site_id).map_err(ApiError::from)?,
            kind: convert::kind_filter("kind", r.kind).map_err(ApiError::from)?,
            include_archived: r.include_archived,
        };
        let after = if r.page_token.is_empty() {
            None
        } else {
            Some(convert::doc_id("page_token", &r.page_token).map_err(ApiError::from)?)
        };
        let size = page_size(r.page_size);
        let store = self.store.clone();
        let all = blocking(move || Ok(store.list(&filter)?)).await?;
        // What the caller may not read is left out, as if it did not exist.
        let mut page: Vec<DocMeta> = all
            .into_iter()
            .filter(|m| caller.member.grants.may_read(m))
            .filter(|m| after.is_none_or(|a| m.id > a))
            .take(size + 1)
            .collect();
        let next = if page.len() > size {
            page.truncate(size);
            page.last().map(|m| m.id.to_string()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(v1::ListDocumentsResponse {
            documents: page.iter().map(convert::meta_to_wire).collect(),
            next_page_token: next,
        }))
    }

    async fn get(
        &self,
        request: Request<v1::GetDocumentRequest>,
    ) -> Result<Response<v1::GetDocumentResponse>, Status> {
        let caller = auth::caller(&request)?;
        let id = convert::doc_id("doc_id", &request.into_inner().doc_id).map_err(ApiError::from)?;
        let store = self.store.clone();
        let loads = self.loads.clone();
        let (meta, document, heads) = blocking(move || {
            let meta = store.meta(&id)?.ok_or(ApiError::NotFound(id))?;
            may_read(&caller, &meta)?;
            let (meta, loaded) = loads.load(store.as_ref(), id)?;
            // Saved while the document still holds its share of the budget.
            Ok((meta, loaded.doc.save(), loaded.doc.get_heads()))
        })
        .await?;
        Ok(Response::new(v1::GetDocumentResponse {
            meta: Some(convert::meta_to_wire(&meta)),
            document,
            heads: convert::heads_to_wire(&heads),
        }))
    }

    async fn history(
        &self,
        request: Request<v1::GetHistoryRequest>,
    ) -> Result<Response<v1::GetHistoryResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.into_inner();
        let id = convert::doc_id("doc_id", &r.doc_id).map_err(ApiError::from)?;
        let start: usize = if r.page_token.is_empty() {
            0
        } else {
            r.page_token.parse().map_err(|_| {
                ApiError::BadRequest(
                    "page_token: use the next_page_token of the previous page".into(),
                )
            })?
        };
        let size = page_size(r.page_size);
        let store = self.store.clone();
        let directory = self.directory.clone();
        let loads = self.loads.clone();
        let (entries, total) = blocking(move || {
            let meta = store.meta(&id)?.ok_or(ApiError::NotFound(id))?;
            may_read(&caller, &meta)?;
            let (_, loaded) = loads.load(store.as_ref(), id)?;
            let changes = loaded.doc.get_changes(&[]);
            let total = changes.len();
            let mut entries = Vec::new();
            for c in changes.iter().skip(start).take(size) {
                // The member the hub verified for this actor (history names people).
                let member = directory.actor_member(&auth::actor_key(c.actor_id().to_bytes()))?;
                entries.push(v1::HistoryEntry {
                    hash: c.hash().as_ref().to_vec(),
                    actor_id: c.actor_id().to_hex_string(),
                    member_id: member.map(|m| m.to_string()).unwrap_or_default(),
                    time_ms: c.timestamp(),
                    message: c.message().map(str::to_owned).unwrap_or_default(),
                    deps: convert::heads_to_wire(c.deps()),
                    seq: c.seq(),
                });
            }
            Ok((entries, total))
        })
        .await?;
        let end = start + entries.len();
        Ok(Response::new(v1::GetHistoryResponse {
            entries,
            next_page_token: if end < total {
                end.to_string()
            } else {
                String::new()
            },
        }))
    }

    async fn archive(
        &self,
        request: Request<v1::ArchiveDocumentRequest>,
    ) -> Result<Response<v1::ArchiveDocumentResponse>, Status> {
        let caller = auth::caller(&request)?;
        let id = convert::doc_id("doc_id", &request.into_inner().doc_id).map_err(ApiError::from)?;
        let store = self.store.clone();
        let durability = self.durability;
        let hub = self.hub.clone();
        let meta = blocking(move || {
            let mut meta = store.meta(&id)?.ok_or(ApiError::NotFound(id))?;
            if !caller.member.grants.may_write(&meta) {
                return Err(ApiError::PermissionDenied(format!(
                    "you may not archive document {id}: only those who may edit it can"
                )));
            }
            meta.archived = true;
            store.put_meta(&meta)?;
            store.flush(durability)?;
            hub.notify(Event::Catalogue(meta.clone()));
            Ok(meta)
        })
        .await?;
        Ok(Response::new(v1::ArchiveDocumentResponse {
            meta: Some(convert::meta_to_wire(&meta)),
        }))
    }
}
