//! [`Directory`] on PostgreSQL: the tables at the end of `schema.sql`, records as JSON as
//! sled keeps them.

use nic_model::{AuditEntry, Member, MemberId, Network, NetworkId, Site, TokenId, TokenRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::PgStore;
use super::notify::Note;
use crate::{Binding, DirOp, Directory, StoreError, TokenHash};

fn encode(what: &'static str, value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt(what, e.to_string()))
}

fn decode<T: DeserializeOwned>(what: &'static str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt(what, e.to_string()))
}

fn corrupt(what: &'static str, reason: String) -> StoreError {
    StoreError::CorruptRecord { what, reason }
}

fn member_id(text: &str) -> Result<MemberId, StoreError> {
    MemberId::new(text).map_err(|e| corrupt("actor binding", e.to_string()))
}

fn hash_of(bytes: &[u8], id: &str) -> Result<TokenHash, StoreError> {
    bytes
        .try_into()
        .map_err(|_| corrupt("token", format!("token {id} has a malformed hash")))
}

impl PgStore {
    fn all<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &str,
    ) -> Result<Vec<T>, StoreError> {
        let rows = self.with(|c| Ok(c.query(sql, &[])?))?;
        rows.iter().map(|r| decode(what, r.get(0))).collect()
    }
}

impl Directory for PgStore {
    fn write_directory(
        &self,
        ops: &[DirOp],
        audit: Option<&AuditEntry>,
    ) -> Result<Option<u64>, StoreError> {
        let seq = self.with(|c| {
            let mut tx = c.transaction()?;
            for op in ops {
                match op {
                    DirOp::PutNetwork(n) => {
                        tx.execute(
                            "INSERT INTO nic_networks (id, record) VALUES ($1, $2) \
                             ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
                            &[&n.id.as_str(), &encode("network", n)?],
                        )?;
                    }
                    DirOp::PutSite(s) => {
                        tx.execute(
                            "INSERT INTO nic_sites (network, id, record) VALUES ($1, $2, $3) \
                             ON CONFLICT (network, id) DO UPDATE SET record = EXCLUDED.record",
                            &[&s.network.as_str(), &s.id.as_str(), &encode("site", s)?],
                        )?;
                    }
                    DirOp::PutMember(m) => {
                        tx.execute(
                            "INSERT INTO nic_members (id, record) VALUES ($1, $2) \
                             ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
                            &[&m.id.as_str(), &encode("member", m)?],
                        )?;
                    }
                    DirOp::RemoveMember(id) => {
                        tx.execute("DELETE FROM nic_members WHERE id = $1", &[&id.as_str()])?;
                    }
                    DirOp::PutToken { hash, record } => {
                        tx.execute(
                            "INSERT INTO nic_tokens (hash, id, record) VALUES ($1, $2, $3) \
                             ON CONFLICT (hash) DO UPDATE SET id = EXCLUDED.id, \
                             record = EXCLUDED.record",
                            &[&&hash[..], &record.id.as_str(), &encode("token", record)?],
                        )?;
                    }
                }
            }
            let seq = match audit {
                Some(entry) => {
                    // Sequence numbers start at 1, so "after 0" means "from the start".
                    let seq: i64 = tx.query_one("SELECT nextval('nic_audit_seq')", &[])?.get(0);
                    let entry = AuditEntry {
                        seq: u64::try_from(seq).unwrap_or(0),
                        ..entry.clone()
                    };
                    tx.execute(
                        "INSERT INTO nic_audit (seq, entry) VALUES ($1, $2)",
                        &[&seq, &encode("audit entry", &entry)?],
                    )?;
                    Some(entry.seq)
                }
                None => None,
            };
            tx.commit()?;
            Ok(seq)
        })?;
        // Rights follow members and tokens: the other hubs re-read them once durable.
        self.note(ops.iter().filter_map(|op| match op {
            DirOp::PutMember(m) => Some(Note::Member(m.id.clone())),
            DirOp::RemoveMember(id) => Some(Note::Member(id.clone())),
            DirOp::PutToken { record, .. } => Some(Note::Token(record.id.clone())),
            DirOp::PutNetwork(_) | DirOp::PutSite(_) => None,
        }));
        Ok(seq)
    }

    fn network(&self, id: &NetworkId) -> Result<Option<Network>, StoreError> {
        let row = self.with(|c| {
            Ok(c.query_opt(
                "SELECT record FROM nic_networks WHERE id = $1",
                &[&id.as_str()],
            )?)
        })?;
        row.map(|r| decode("network", r.get(0))).transpose()
    }

    fn networks(&self) -> Result<Vec<Network>, StoreError> {
        self.all("network", "SELECT record FROM nic_networks ORDER BY id")
    }

    fn sites(&self, network: &NetworkId) -> Result<Vec<Site>, StoreError> {
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT record FROM nic_sites WHERE network = $1 ORDER BY id",
                &[&network.as_str()],
            )?)
        })?;
        rows.iter().map(|r| decode("site", r.get(0))).collect()
    }

    fn member(&self, id: &MemberId) -> Result<Option<Member>, StoreError> {
        let row = self.with(|c| {
            Ok(c.query_opt(
                "SELECT record FROM nic_members WHERE id = $1",
                &[&id.as_str()],
            )?)
        })?;
        row.map(|r| decode("member", r.get(0))).transpose()
    }

    fn members(&self) -> Result<Vec<Member>, StoreError> {
        self.all("member", "SELECT record FROM nic_members ORDER BY id")
    }

    fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let row = self.with(|c| {
            Ok(c.query_opt(
                "SELECT record FROM nic_tokens WHERE hash = $1",
                &[&&hash[..]],
            )?)
        })?;
        row.map(|r| decode("token", r.get(0))).transpose()
    }

    fn token(&self, id: &TokenId) -> Result<Option<(TokenHash, TokenRecord)>, StoreError> {
        let row = self.with(|c| {
            Ok(c.query_opt(
                "SELECT hash, record FROM nic_tokens WHERE id = $1",
                &[&id.as_str()],
            )?)
        })?;
        row.map(|r| Ok((hash_of(r.get(0), id.as_str())?, decode("token", r.get(1))?)))
            .transpose()
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.all("token", "SELECT record FROM nic_tokens ORDER BY id")
    }

    fn bind_actor(&self, actor: &[u8], member: &MemberId) -> Result<Binding, StoreError> {
        self.with(|c| {
            // The insert is the compare-and-set: of two hubs binding one actor, one inserts
            // and the other finds the winner's row.
            let inserted = c.execute(
                "INSERT INTO nic_actors (actor, member) VALUES ($1, $2) \
                 ON CONFLICT (actor) DO NOTHING",
                &[&actor, &member.as_str()],
            )?;
            if inserted == 1 {
                return Ok(Binding::Bound);
            }
            let owner: String = c
                .query_one("SELECT member FROM nic_actors WHERE actor = $1", &[&actor])?
                .get(0);
            if owner == member.as_str() {
                Ok(Binding::Same)
            } else {
                Ok(Binding::Other(member_id(&owner)?))
            }
        })
    }

    fn actor_member(&self, actor: &[u8]) -> Result<Option<MemberId>, StoreError> {
        let row = self.with(|c| {
            Ok(c.query_opt("SELECT member FROM nic_actors WHERE actor = $1", &[&actor])?)
        })?;
        row.map(|r| member_id(r.get(0))).transpose()
    }

    fn audit_log(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.with(|c| {
            Ok(c.query(
                "SELECT entry FROM nic_audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &limit],
            )?)
        })?;
        rows.iter()
            .map(|r| decode("audit entry", r.get(0)))
            .collect()
    }
}
