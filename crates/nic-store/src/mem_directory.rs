//! [`Directory`] for [`MemStore`]: the same semantics as the sled one, in memory.

use std::collections::{BTreeMap, HashMap};

use nic_model::{
    AuditEntry, Member, MemberId, Network, NetworkId, Site, SiteId, TokenId, TokenRecord,
};

use crate::directory::{Binding, DirOp, Directory, TokenHash};
use crate::{MemStore, StoreError};

/// The directory's data inside a [`MemStore`].
#[derive(Debug, Default)]
pub(crate) struct DirData {
    networks: BTreeMap<NetworkId, Network>,
    sites: BTreeMap<(NetworkId, SiteId), Site>,
    members: BTreeMap<MemberId, Member>,
    tokens: HashMap<TokenHash, TokenRecord>,
    token_ids: BTreeMap<TokenId, TokenHash>,
    actors: HashMap<Vec<u8>, MemberId>,
    audit: Vec<AuditEntry>,
}

impl Directory for MemStore {
    fn write_directory(
        &self,
        ops: &[DirOp],
        audit: Option<&AuditEntry>,
    ) -> Result<Option<u64>, StoreError> {
        let mut inner = self.lock();
        let d = &mut inner.dir;
        // Nothing here can fail, so applying in order is all or nothing.
        for op in ops {
            match op {
                DirOp::PutNetwork(n) => {
                    d.networks.insert(n.id.clone(), n.clone());
                }
                DirOp::PutSite(s) => {
                    d.sites.insert((s.network.clone(), s.id.clone()), s.clone());
                }
                DirOp::PutMember(m) => {
                    d.members.insert(m.id.clone(), m.clone());
                }
                DirOp::RemoveMember(id) => {
                    d.members.remove(id);
                }
                DirOp::PutToken { hash, record } => {
                    d.tokens.insert(*hash, record.clone());
                    d.token_ids.insert(record.id.clone(), *hash);
                }
            }
        }
        Ok(audit.map(|entry| {
            let seq = d.audit.last().map_or(1, |e| e.seq + 1);
            d.audit.push(AuditEntry {
                seq,
                ..entry.clone()
            });
            seq
        }))
    }

    fn network(&self, id: &NetworkId) -> Result<Option<Network>, StoreError> {
        Ok(self.lock().dir.networks.get(id).cloned())
    }

    fn networks(&self) -> Result<Vec<Network>, StoreError> {
        Ok(self.lock().dir.networks.values().cloned().collect())
    }

    fn sites(&self, network: &NetworkId) -> Result<Vec<Site>, StoreError> {
        Ok(self
            .lock()
            .dir
            .sites
            .values()
            .filter(|s| s.network == *network)
            .cloned()
            .collect())
    }

    fn member(&self, id: &MemberId) -> Result<Option<Member>, StoreError> {
        Ok(self.lock().dir.members.get(id).cloned())
    }

    fn members(&self) -> Result<Vec<Member>, StoreError> {
        Ok(self.lock().dir.members.values().cloned().collect())
    }

    fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.lock().dir.tokens.get(hash).cloned())
    }

    fn token(&self, id: &TokenId) -> Result<Option<(TokenHash, TokenRecord)>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .dir
            .token_ids
            .get(id)
            .and_then(|hash| Some((*hash, inner.dir.tokens.get(hash)?.clone()))))
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .dir
            .token_ids
            .values()
            .filter_map(|hash| inner.dir.tokens.get(hash).cloned())
            .collect())
    }

    fn bind_actor(&self, actor: &[u8], member: &MemberId) -> Result<Binding, StoreError> {
        let mut inner = self.lock();
        Ok(match inner.dir.actors.get(actor) {
            Some(owner) if owner == member => Binding::Same,
            Some(owner) => Binding::Other(owner.clone()),
            None => {
                inner.dir.actors.insert(actor.to_vec(), member.clone());
                Binding::Bound
            }
        })
    }

    fn actor_member(&self, actor: &[u8]) -> Result<Option<MemberId>, StoreError> {
        Ok(self.lock().dir.actors.get(actor).cloned())
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self
            .lock()
            .dir
            .audit
            .iter()
            .filter(|e| e.seq > after)
            .take(limit)
            .cloned()
            .collect())
    }
}
