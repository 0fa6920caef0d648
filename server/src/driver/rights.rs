//! The engine's [`Policy`] on the hub: each connected peer's member and the roles that member
//! holds now. The engine asks it before every outgoing message and for every incoming
//! change, so a change in the directory takes effect on the next message.

use std::collections::HashMap;
use std::sync::Arc;

use nic_model::{DocMeta, DocumentId, Grants, MemberId, PeerId, TokenId};
use nic_store::{Binding, Directory};
use nic_sync::Policy;

/// Who each connected peer is.
#[derive(Clone, Debug)]
pub(crate) struct PeerAuth {
    /// The member the stream authenticated as.
    pub(crate) member: MemberId,
    /// The token it authenticated with.
    pub(crate) token: TokenId,
    /// When that token expires, if ever: the stream ends then.
    pub(crate) expires_at_ms: Option<i64>,
}

/// Connected peers and their members' roles. Cloned on change (changes are rare: connects,
/// directory edits), shared by reference with every engine call.
#[derive(Clone)]
pub(crate) struct Rights {
    pub(crate) peers: HashMap<PeerId, PeerAuth>,
    pub(crate) members: HashMap<MemberId, Grants>,
    /// Where actor ids are bound to members.
    directory: Arc<dyn Directory>,
}

impl Rights {
    /// No peers yet; actor bindings in `directory`.
    pub(crate) fn new(directory: Arc<dyn Directory>) -> Self {
        Self {
            peers: HashMap::new(),
            members: HashMap::new(),
            directory,
        }
    }

    fn grants(&self, peer: &PeerId) -> Option<&Grants> {
        self.members.get(&self.peers.get(peer)?.member)
    }

    /// The peers connected as `member`.
    pub(crate) fn peers_of(&self, member: &MemberId) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, a)| a.member == *member)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Forgets a peer, and its member's roles once no peer of theirs is left.
    pub(crate) fn disconnect(&mut self, peer: &PeerId) {
        if let Some(auth) = self.peers.remove(peer)
            && !self.peers.values().any(|a| a.member == auth.member)
        {
            self.members.remove(&auth.member);
        }
    }
}

impl Policy for Rights {
    fn can_read(&self, peer: &PeerId, _: &DocumentId, meta: Option<&DocMeta>) -> bool {
        // A hub always knows a document's metadata; without it, nothing is sent.
        meta.zip(self.grants(peer))
            .is_some_and(|(meta, grants)| grants.may_read(meta))
    }

    fn can_write(&self, peer: &PeerId, _: &DocumentId, meta: Option<&DocMeta>) -> bool {
        meta.zip(self.grants(peer))
            .is_some_and(|(meta, grants)| grants.may_write(meta))
    }

    /// Binds a new actor id to the peer's member; refuses one bound to another member. The
    /// binding is written now and made durable by the flush that makes the change durable.
    fn may_author(&self, peer: &PeerId, actor: &[u8]) -> bool {
        let Some(auth) = self.peers.get(peer) else {
            return false;
        };
        match self
            .directory
            .bind_actor(&crate::auth::actor_key(actor), &auth.member)
        {
            Ok(Binding::Bound | Binding::Same) => true,
            Ok(Binding::Other(owner)) => {
                tracing::warn!(%peer, member = %auth.member, %owner, "change under another member's actor id refused");
                false
            }
            Err(e) => {
                // Fail closed: an authorship that cannot be checked is not accepted.
                tracing::error!(error = %e, "cannot check an actor binding");
                false
            }
        }
    }
}
