//! Documents calls: the hub's copy of documents, their history with verified authors, and
//! creating and archiving them without a replica.

use nic_model::{DocKind, DocMeta, DocumentId, MemberId, NetworkId, SiteId};
use nic_proto::convert;
use nic_proto::v1::{self, documents_client::DocumentsClient};
use nic_sync::automerge::{ActorId, Automerge, ChangeHash};
use serde::Serialize;

use super::{Hub, bad_answer, missing};
use crate::ClientError;

/// A document as the hub holds it now.
#[derive(Debug)]
pub struct HubDocument {
    /// Its metadata.
    pub meta: DocMeta,
    /// Its content.
    pub doc: Automerge,
    /// Its heads as the hub stored them.
    pub heads: Vec<ChangeHash>,
}

/// One change of a document, with the member the hub verified as its author.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// The change's hash.
    #[serde(serialize_with = "hex")]
    pub hash: ChangeHash,
    /// The device (Automerge actor) that made it.
    #[serde(serialize_with = "hex")]
    pub actor: ActorId,
    /// The member the hub bound that device to; `None` if unknown (changes made before
    /// the binding, e.g. imported).
    pub member: Option<MemberId>,
    /// When the author's device says it made the change, ms since the Unix epoch (the
    /// author's claim; `None` if it recorded none).
    pub time_ms: Option<i64>,
    /// The message the author gave the change.
    pub message: String,
    /// Its number among its device's changes, from 1.
    pub seq: u64,
}

fn hex<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Pages of a list or history are asked for in this size.
const PAGE: u32 = 1000;

impl Hub {
    fn documents(&self) -> DocumentsClient<nic_proto::auth::AuthedChannel> {
        DocumentsClient::new(self.link.authed()).max_decoding_message_size(64 * 1024 * 1024)
    }

    /// The documents of a network this member may read (optionally one site's, one kind's;
    /// archived ones only if asked).
    pub async fn list_documents(
        &self,
        network: &NetworkId,
        site: Option<&SiteId>,
        kind: Option<DocKind>,
        include_archived: bool,
    ) -> Result<Vec<DocMeta>, ClientError> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .documents()
                .list(v1::ListDocumentsRequest {
                    network_id: network.to_string(),
                    site_id: site.map(ToString::to_string).unwrap_or_default(),
                    kind: kind.map_or(0, |k| convert::kind_to_wire(k) as i32),
                    include_archived,
                    page_size: PAGE,
                    page_token,
                })
                .await
                .map_err(|s| self.link.failed(s))?
                .into_inner();
            for m in &page.documents {
                all.push(convert::meta(m).map_err(bad_answer)?);
            }
            if page.next_page_token.is_empty() {
                return Ok(all);
            }
            page_token = page.next_page_token;
        }
    }

    /// A document as the hub holds it now.
    pub async fn get_document(&self, id: DocumentId) -> Result<HubDocument, ClientError> {
        let r = self
            .documents()
            .get(v1::GetDocumentRequest {
                doc_id: id.to_string(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        let meta =
            convert::meta(r.meta.as_ref().ok_or_else(|| missing("meta"))?).map_err(bad_answer)?;
        let doc = Automerge::load(&r.document).map_err(|e| {
            ClientError::Protocol(format!(
                "the hub sent document {id} that does not load: {e}"
            ))
        })?;
        let heads = convert::heads("heads", &r.heads).map_err(bad_answer)?;
        Ok(HubDocument { meta, doc, heads })
    }

    /// Every change of a document, oldest first, each with the member the hub verified
    /// as its author.
    pub async fn history(&self, id: DocumentId) -> Result<Vec<HistoryEntry>, ClientError> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .documents()
                .history(v1::GetHistoryRequest {
                    doc_id: id.to_string(),
                    page_size: PAGE,
                    page_token,
                })
                .await
                .map_err(|s| self.link.failed(s))?
                .into_inner();
            for e in &page.entries {
                all.push(history_entry(e)?);
            }
            if page.next_page_token.is_empty() {
                return Ok(all);
            }
            page_token = page.next_page_token;
        }
    }

    /// Creates a document on the hub directly (no replica), with `initial` content if
    /// given (Automerge's save format, e.g. `doc.save()`); `meta.id` is kept, so a document
    /// made offline keeps its id. The hub refuses content that does not read as the
    /// document's kind. Returns the stored metadata and heads.
    pub async fn create_document(
        &self,
        meta: &DocMeta,
        initial: Option<&[u8]>,
    ) -> Result<(DocMeta, Vec<ChangeHash>), ClientError> {
        meta.validate()?;
        let r = self
            .documents()
            .create(v1::CreateDocumentRequest {
                kind: convert::kind_to_wire(meta.kind) as i32,
                network_id: meta.network.to_string(),
                site_id: meta
                    .site
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                visibility: convert::visibility_to_wire(meta.visibility) as i32,
                title: meta.title.clone(),
                initial: initial.map(<[u8]>::to_vec),
                doc_id: meta.id.to_string(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        let stored =
            convert::meta(r.meta.as_ref().ok_or_else(|| missing("meta"))?).map_err(bad_answer)?;
        let heads = convert::heads("heads", &r.heads).map_err(bad_answer)?;
        Ok((stored, heads))
    }

    /// Archives a document: it leaves listings (unless asked for) and stays readable.
    pub async fn archive_document(&self, id: DocumentId) -> Result<DocMeta, ClientError> {
        let r = self
            .documents()
            .archive(v1::ArchiveDocumentRequest {
                doc_id: id.to_string(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        convert::meta(r.meta.as_ref().ok_or_else(|| missing("meta"))?).map_err(bad_answer)
    }
}

fn history_entry(e: &v1::HistoryEntry) -> Result<HistoryEntry, ClientError> {
    let hash = convert::heads("entry.hash", std::slice::from_ref(&e.hash))
        .map_err(bad_answer)?
        .pop()
        .ok_or_else(|| missing("entry.hash"))?;
    let actor = e
        .actor_id
        .parse::<ActorId>()
        .map_err(|_| ClientError::Protocol(format!("the hub sent actor id {:?}", e.actor_id)))?;
    let member = if e.member_id.is_empty() {
        None
    } else {
        Some(MemberId::new(e.member_id.as_str()).map_err(|source| {
            bad_answer(convert::ConvertError::Id {
                field: "entry.member_id",
                source,
            })
        })?)
    };
    Ok(HistoryEntry {
        hash,
        actor,
        member,
        time_ms: (e.time_ms != 0).then_some(e.time_ms),
        message: e.message.clone(),
        seq: e.seq,
    })
}
