//! The hub's [`Policy`]: each connected peer's member, the roles that member holds now, and
//! the actor ids known to be bound to members. The engine asks it before every outgoing
//! message and for every incoming change, so a change in the directory takes effect on the
//! next message. It never touches storage: the environment reads the directory where
//! blocking is allowed and hands the runtime what it found.

use std::collections::HashMap;

use nic_model::{DocMeta, DocumentId, Grants, Member, MemberId, PeerId, TokenId};
use nic_model::{TokenRecord, TokenState};
use nic_sync::Policy;

/// Who a connected peer is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerAuth {
    /// The member the stream authenticated as.
    pub member: MemberId,
    /// The token it authenticated with.
    pub token: TokenId,
    /// When that token expires, if ever: the stream ends then.
    pub expires_at_ms: Option<i64>,
}

/// Most actor bindings remembered; past it the memory starts over (it is a cache: the
/// directory's binding, checked when a chunk is stored, is what decides).
const MAX_ACTORS: usize = 100_000;

/// Connected peers, their members' roles, and known actor bindings.
#[derive(Clone, Debug, Default)]
pub struct Rights {
    peers: HashMap<PeerId, PeerAuth>,
    members: HashMap<MemberId, Grants>,
    /// Actor id → member, as the directory bound them (or this hub is binding them now).
    actors: HashMap<Vec<u8>, MemberId>,
}

impl Rights {
    /// Who a peer is, if connected.
    pub fn peer(&self, peer: &PeerId) -> Option<&PeerAuth> {
        self.peers.get(peer)
    }

    /// Every connected peer.
    pub fn peers(&self) -> impl Iterator<Item = (&PeerId, &PeerAuth)> {
        self.peers.iter()
    }

    /// The peers connected as `member`.
    pub fn peers_of(&self, member: &MemberId) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, a)| a.member == *member)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Records a peer's identity and its member's roles.
    pub fn connect(&mut self, peer: PeerId, member: &Member, auth: PeerAuth) {
        self.members
            .insert(member.id.clone(), member.grants.clone());
        self.peers.insert(peer, auth);
    }

    /// Replaces a member's roles (the directory changed them).
    pub fn set_grants(&mut self, member: &Member) {
        self.members
            .insert(member.id.clone(), member.grants.clone());
    }

    /// Forgets a peer, and its member's roles once no peer of theirs is left.
    pub fn disconnect(&mut self, peer: &PeerId) {
        if let Some(auth) = self.peers.remove(peer)
            && !self.peers.values().any(|a| a.member == auth.member)
        {
            self.members.remove(&auth.member);
        }
    }

    /// Remembers that `actor` belongs to `member`.
    pub fn learn_actor(&mut self, actor: Vec<u8>, member: MemberId) {
        if self.actors.len() >= MAX_ACTORS && !self.actors.contains_key(&actor) {
            self.actors.clear();
        }
        self.actors.insert(actor, member);
    }

    /// How many actor bindings are remembered.
    pub fn known_actors(&self) -> usize {
        self.actors.len()
    }

    fn grants(&self, peer: &PeerId) -> Option<&Grants> {
        self.members.get(&self.peers.get(peer)?.member)
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

    /// Refuses an actor known to be another member's. An actor not known here is allowed
    /// through to storage, where the chunk is stored only if binding it to this member
    /// succeeds (`storage::commit`): nothing is bound for a message refused here.
    fn may_author(&self, peer: &PeerId, actor: &[u8]) -> bool {
        let Some(auth) = self.peers.get(peer) else {
            return false;
        };
        match self.actors.get(actor) {
            Some(owner) if *owner != auth.member => {
                tracing::warn!(target: "security", event = "actor_refused", %peer, member = %auth.member, %owner, "change under another member's actor id refused");
                false
            }
            _ => true,
        }
    }

    fn checks_content(&self) -> bool {
        true
    }

    /// The document must read as its kind (`nic_model::schema::check`) once it holds any
    /// content: what the hub stores, every tool can read.
    fn check_content(
        &self,
        _: &DocumentId,
        meta: Option<&DocMeta>,
        after: &nic_sync::automerge::Automerge,
    ) -> Result<(), String> {
        let Some(meta) = meta else {
            return Ok(());
        };
        nic_model::schema::check::accepted(after, meta.kind)
            .map_err(|invalid| format!("as a {}, {invalid}", meta.kind))
    }
}

/// Why a stream may not go on, as the directory now has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The credentials are no longer good (gone, revoked, expired, someone else's).
    Unauthenticated(String),
    /// The directory could not be read: fail closed.
    Unavailable(String),
}

impl Refusal {
    /// What to tell the client.
    pub fn message(&self) -> &str {
        match self {
            Self::Unauthenticated(m) | Self::Unavailable(m) => m,
        }
    }
}

/// The directory's answer for a stream: its member now and its token's expiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Current {
    /// The member's record now.
    pub member: Member,
    /// When the token expires, if ever.
    pub expires_at_ms: Option<i64>,
}

/// Checks a token record (as read from the directory) for a stream of `member`, at `now_ms`
/// (wall clock): the token's expiry if it is still good.
pub fn check_token(
    token: &TokenId,
    record: Option<&TokenRecord>,
    member: &MemberId,
    now_ms: i64,
) -> Result<Option<i64>, Refusal> {
    let record = record
        .ok_or_else(|| Refusal::Unauthenticated(format!("token {token} no longer exists")))?;
    match record.state_at(now_ms) {
        TokenState::Valid if record.member == *member => Ok(record.expires_at_ms),
        TokenState::Valid => Err(Refusal::Unauthenticated(format!(
            "token {token} does not belong to {member}"
        ))),
        TokenState::Expired => Err(Refusal::Unauthenticated(format!(
            "token {token} has expired; ask for a new one"
        ))),
        TokenState::Revoked => Err(Refusal::Unauthenticated(format!(
            "token {token} was revoked; ask for a new one"
        ))),
    }
}

/// Reads a stream's rights from the directory: blocking, so call it where blocking is
/// allowed, in the order of the directory events the engine has seen (one reader thread).
pub fn read_current(
    directory: &dyn nic_store::Directory,
    member: &MemberId,
    token: &TokenId,
    now_ms: i64,
) -> Result<Current, Refusal> {
    let unavailable =
        |_| Refusal::Unavailable("the hub could not check your rights; reconnect".to_owned());
    let record = directory.token(token).map_err(unavailable)?;
    let expires_at_ms = check_token(token, record.as_ref().map(|(_, r)| r), member, now_ms)?;
    let member = directory
        .member(member)
        .map_err(unavailable)?
        .ok_or_else(|| {
            Refusal::Unauthenticated(format!("{member} is no longer a member of this hub"))
        })?;
    Ok(Current {
        member,
        expires_at_ms,
    })
}
