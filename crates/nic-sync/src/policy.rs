//! Rights, as an input to the engine.

use nic_model::{DocMeta, DocumentId, PeerId};

/// Answers whether a peer may read or write a document. The hub implements it over its
/// directory; the engine asks it before every outgoing message and for every incoming
/// change, so a change of rights takes effect on the next message.
pub trait Policy {
    /// Whether `peer` may receive the document's content and metadata. `meta` is `None` only
    /// on a replica that has not yet learnt the document's metadata.
    fn can_read(&self, peer: &PeerId, doc: &DocumentId, meta: Option<&DocMeta>) -> bool;

    /// Whether `peer` may change the document.
    fn can_write(&self, peer: &PeerId, doc: &DocumentId, meta: Option<&DocMeta>) -> bool;
}

/// Every peer may read and write everything: for replicas, whose only peer is their hub.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Policy for AllowAll {
    fn can_read(&self, _: &PeerId, _: &DocumentId, _: Option<&DocMeta>) -> bool {
        true
    }
    fn can_write(&self, _: &PeerId, _: &DocumentId, _: Option<&DocMeta>) -> bool {
        true
    }
}
