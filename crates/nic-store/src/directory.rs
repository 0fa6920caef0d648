//! The [`Directory`] trait: where the hub keeps networks, sites, members, token hashes,
//! actor bindings and the audit log. Every store implements it beside [`crate::Store`], in the
//! same database, so one flush makes both durable.

use nic_model::{AuditEntry, Member, MemberId, Network, NetworkId, Site, TokenId, TokenRecord};

use crate::StoreError;

/// The SHA-256 of a token's secret: the only form in which a secret is stored.
pub type TokenHash = [u8; 32];

/// One change to the directory. Several go into one atomic [`Directory::write_directory`]
/// together with the audit entry that records them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirOp {
    /// Creates or replaces a network.
    PutNetwork(Network),
    /// Creates or replaces a site of a network.
    PutSite(Site),
    /// Creates or replaces a member (their roles included).
    PutMember(Member),
    /// Removes a member; their tokens are left for the caller to revoke.
    RemoveMember(MemberId),
    /// Stores a new token, or replaces its record (to revoke it), under its secret's hash.
    PutToken {
        /// SHA-256 of the secret.
        hash: TokenHash,
        /// Everything else.
        record: TokenRecord,
    },
}

/// What binding an Automerge actor id to a member found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// The actor was new: it now belongs to the member.
    Bound,
    /// The actor already belonged to the member.
    Same,
    /// The actor belongs to another member.
    Other(MemberId),
}

/// Storage for the hub's directory. Reads see every write at once; writes survive a crash
/// after [`crate::Store::flush`].
pub trait Directory: Send + Sync + 'static {
    /// Applies `ops` and appends `audit` (giving it the next sequence number), all or
    /// nothing; returns the entry's sequence number.
    fn write_directory(
        &self,
        ops: &[DirOp],
        audit: Option<&AuditEntry>,
    ) -> Result<Option<u64>, StoreError>;

    /// A network, if it exists.
    fn network(&self, id: &NetworkId) -> Result<Option<Network>, StoreError>;

    /// Every network, by id.
    fn networks(&self) -> Result<Vec<Network>, StoreError>;

    /// The sites of a network, by id.
    fn sites(&self, network: &NetworkId) -> Result<Vec<Site>, StoreError>;

    /// A member, if known.
    fn member(&self, id: &MemberId) -> Result<Option<Member>, StoreError>;

    /// Every member, by id.
    fn members(&self) -> Result<Vec<Member>, StoreError>;

    /// The token whose secret hashes to `hash`, if any (revoked and expired ones included).
    fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;

    /// A token by its public id, with its hash (to replace its record).
    fn token(&self, id: &TokenId) -> Result<Option<(TokenHash, TokenRecord)>, StoreError>;

    /// Every token's record, by id; never a secret.
    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// Binds an Automerge actor id to a member if it is not bound yet, atomically: two
    /// members racing for one actor id cannot both win.
    fn bind_actor(&self, actor: &[u8], member: &MemberId) -> Result<Binding, StoreError>;

    /// The member an actor id is bound to, if any.
    fn actor_member(&self, actor: &[u8]) -> Result<Option<MemberId>, StoreError>;

    /// Audit entries after sequence number `after`, oldest first, at most `limit`.
    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
}
