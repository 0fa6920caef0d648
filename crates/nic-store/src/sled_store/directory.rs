//! [`Directory`] on sled. Trees:
//! - `dir_networks`: network id → `Network` as JSON;
//! - `dir_sites`: network id ‖ 0 ‖ site id → `Site` as JSON;
//! - `dir_members`: member id → `Member` as JSON;
//! - `dir_tokens`: SHA-256 of the secret → `TokenRecord` as JSON;
//! - `dir_token_ids`: token id → SHA-256 of the secret;
//! - `dir_actors`: Automerge actor id → member id;
//! - `dir_audit`: sequence (u64 BE, from `Db::generate_id`) → `AuditEntry` as JSON.
//!
//! A directory write and its audit entry go in one transaction over all the trees.

use nic_model::{AuditEntry, Member, MemberId, Network, NetworkId, Site, TokenId, TokenRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::records::corrupt;
use super::{SledStore, unwrap_transaction};
use crate::StoreError;
use crate::directory::{Binding, DirOp, Directory, TokenHash};

/// The directory's trees, opened with the store.
#[derive(Debug)]
pub(super) struct DirTrees {
    networks: sled::Tree,
    sites: sled::Tree,
    members: sled::Tree,
    tokens: sled::Tree,
    token_ids: sled::Tree,
    actors: sled::Tree,
    audit: sled::Tree,
}

impl DirTrees {
    pub(super) fn open(db: &sled::Db) -> Result<Self, StoreError> {
        Ok(Self {
            networks: db.open_tree("dir_networks")?,
            sites: db.open_tree("dir_sites")?,
            members: db.open_tree("dir_members")?,
            tokens: db.open_tree("dir_tokens")?,
            token_ids: db.open_tree("dir_token_ids")?,
            actors: db.open_tree("dir_actors")?,
            audit: db.open_tree("dir_audit")?,
        })
    }
}

fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| corrupt(what, e.to_string()))
}

fn decode<T: DeserializeOwned>(what: &'static str, value: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(value).map_err(|e| corrupt(what, e.to_string()))
}

fn site_key(network: &NetworkId, site: &str) -> Vec<u8> {
    let mut key = network.as_str().as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(site.as_bytes());
    key
}

fn all<T: DeserializeOwned>(what: &'static str, tree: &sled::Tree) -> Result<Vec<T>, StoreError> {
    tree.iter()
        .values()
        .map(|value| decode(what, &value?))
        .collect()
}

/// An op with its key and value encoded: sled may run a transaction's closure more than once.
enum Encoded {
    Network(Vec<u8>, Vec<u8>),
    Site(Vec<u8>, Vec<u8>),
    Member(Vec<u8>, Vec<u8>),
    RemoveMember(Vec<u8>),
    Token {
        hash: TokenHash,
        id: Vec<u8>,
        record: Vec<u8>,
    },
}

fn encode_op(op: &DirOp) -> Result<Encoded, StoreError> {
    Ok(match op {
        DirOp::PutNetwork(n) => {
            Encoded::Network(n.id.as_str().as_bytes().to_vec(), encode("network", n)?)
        }
        DirOp::PutSite(s) => Encoded::Site(site_key(&s.network, s.id.as_str()), encode("site", s)?),
        DirOp::PutMember(m) => {
            Encoded::Member(m.id.as_str().as_bytes().to_vec(), encode("member", m)?)
        }
        DirOp::RemoveMember(id) => Encoded::RemoveMember(id.as_str().as_bytes().to_vec()),
        DirOp::PutToken { hash, record } => Encoded::Token {
            hash: *hash,
            id: record.id.as_str().as_bytes().to_vec(),
            record: encode("token", record)?,
        },
    })
}

impl Directory for SledStore {
    fn write_directory(
        &self,
        ops: &[DirOp],
        audit: Option<&AuditEntry>,
    ) -> Result<Option<u64>, StoreError> {
        let encoded: Vec<Encoded> = ops.iter().map(encode_op).collect::<Result<_, _>>()?;
        // Before the sequence number is drawn: a backup's next number must exceed it.
        let _writing = self.writing();
        let audit = match audit {
            Some(entry) => {
                // Sequence numbers start at 1, so "after 0" means "from the start".
                let seq = self.next_id()?.saturating_add(1);
                let value = encode(
                    "audit entry",
                    &AuditEntry {
                        seq,
                        ..entry.clone()
                    },
                )?;
                Some((seq, value))
            }
            None => None,
        };
        let d = &self.dir;
        let result = (
            &d.networks,
            &d.sites,
            &d.members,
            &d.tokens,
            &d.token_ids,
            &d.audit,
        )
            .transaction(|(networks, sites, members, tokens, token_ids, log)| {
                for op in &encoded {
                    match op {
                        Encoded::Network(k, v) => {
                            networks.insert(k.as_slice(), v.as_slice())?;
                        }
                        Encoded::Site(k, v) => {
                            sites.insert(k.as_slice(), v.as_slice())?;
                        }
                        Encoded::Member(k, v) => {
                            members.insert(k.as_slice(), v.as_slice())?;
                        }
                        Encoded::RemoveMember(k) => {
                            members.remove(k.as_slice())?;
                        }
                        Encoded::Token { hash, id, record } => {
                            tokens.insert(&hash[..], record.as_slice())?;
                            token_ids.insert(id.as_slice(), &hash[..])?;
                        }
                    }
                }
                if let Some((seq, value)) = &audit {
                    log.insert(&seq.to_be_bytes()[..], value.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            });
        unwrap_transaction(result)?;
        Ok(audit.map(|(seq, _)| seq))
    }

    fn network(&self, id: &NetworkId) -> Result<Option<Network>, StoreError> {
        self.dir
            .networks
            .get(id.as_str().as_bytes())?
            .map(|v| decode("network", &v))
            .transpose()
    }

    fn networks(&self) -> Result<Vec<Network>, StoreError> {
        all("network", &self.dir.networks)
    }

    fn sites(&self, network: &NetworkId) -> Result<Vec<Site>, StoreError> {
        self.dir
            .sites
            .scan_prefix(site_key(network, ""))
            .values()
            .map(|value| decode("site", &value?))
            .collect()
    }

    fn member(&self, id: &MemberId) -> Result<Option<Member>, StoreError> {
        self.dir
            .members
            .get(id.as_str().as_bytes())?
            .map(|v| decode("member", &v))
            .transpose()
    }

    fn members(&self) -> Result<Vec<Member>, StoreError> {
        all("member", &self.dir.members)
    }

    fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.dir
            .tokens
            .get(hash)?
            .map(|v| decode("token", &v))
            .transpose()
    }

    fn token(&self, id: &TokenId) -> Result<Option<(TokenHash, TokenRecord)>, StoreError> {
        let Some(hash) = self.dir.token_ids.get(id.as_str().as_bytes())? else {
            return Ok(None);
        };
        let hash: TokenHash = hash
            .as_ref()
            .try_into()
            .map_err(|_| corrupt("token id", format!("token {id} has a malformed hash")))?;
        Ok(self.token_by_hash(&hash)?.map(|record| (hash, record)))
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let mut out = Vec::new();
        for hash in self.dir.token_ids.iter().values() {
            if let Some(record) = self.dir.tokens.get(hash?)? {
                out.push(decode("token", &record)?);
            }
        }
        Ok(out)
    }

    fn bind_actor(&self, actor: &[u8], member: &MemberId) -> Result<Binding, StoreError> {
        let id = member.as_str().as_bytes();
        let _writing = self.writing();
        match self
            .dir
            .actors
            .compare_and_swap(actor, None as Option<&[u8]>, Some(id))?
        {
            Ok(()) => Ok(Binding::Bound),
            Err(e) => {
                let owner = e.current.unwrap_or_default();
                if owner.as_ref() == id {
                    Ok(Binding::Same)
                } else {
                    let owner = String::from_utf8(owner.to_vec())
                        .ok()
                        .and_then(|s| MemberId::new(s).ok())
                        .ok_or_else(|| corrupt("actor binding", "not a member id".into()))?;
                    Ok(Binding::Other(owner))
                }
            }
        }
    }

    fn actor_member(&self, actor: &[u8]) -> Result<Option<MemberId>, StoreError> {
        self.dir
            .actors
            .get(actor)?
            .map(|v| {
                String::from_utf8(v.to_vec())
                    .ok()
                    .and_then(|s| MemberId::new(s).ok())
                    .ok_or_else(|| corrupt("actor binding", "not a member id".into()))
            })
            .transpose()
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
        self.dir
            .audit
            .range(start..)
            .values()
            .take(limit)
            .map(|value| decode("audit entry", &value?))
            .collect()
    }
}
