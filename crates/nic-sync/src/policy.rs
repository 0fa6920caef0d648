//! Rights, as an input to the engine.

use automerge::Automerge;
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

    /// Whether `peer` may author changes under the Automerge actor id `actor`. A hub binds
    /// each actor id to the member who first used it and refuses it to everyone else, so a
    /// document's history names its authors truthfully. This only checks: it must not
    /// write. The binding itself is the runtime's, made with the chunk the engine asks it
    /// to persist ([`crate::Effect::Persist`]'s `authored`). The default allows every actor.
    fn may_author(&self, peer: &PeerId, actor: &[u8]) -> bool {
        let _ = (peer, actor);
        true
    }

    /// Whether the engine should call [`Policy::check_content`] (a hub does; a replica
    /// takes what its hub sends). Checking costs a copy of the document per incoming
    /// message with new changes, so an engine that would accept everything skips it.
    fn checks_content(&self) -> bool {
        false
    }

    /// Whether `after` — the document as it would be with a peer's new changes (and every
    /// change of it still being stored) — is content the hub accepts. `Err` names the
    /// field and the rule it breaks; the engine then refuses the message like a change the
    /// peer may not make (nothing stored, acked or relayed). The default accepts
    /// everything.
    fn check_content(
        &self,
        doc: &DocumentId,
        meta: Option<&DocMeta>,
        after: &Automerge,
    ) -> Result<(), String> {
        let _ = (doc, meta, after);
        Ok(())
    }
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
