//! The hub's directory: networks, their sites, members with their roles, access tokens, and
//! the audit log of administrative actions. Plain records; the rules are in
//! [`crate::Grants`], storage in `nic-store`.

use serde::{Deserialize, Serialize};

use crate::{Grants, MemberId, NetworkId, SiteId, TokenId};

/// A networked improvement community.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Its id, e.g. `algebra-readiness`.
    pub id: NetworkId,
    /// Its name for people.
    pub name: String,
    /// What it works on; may be empty.
    pub description: String,
    /// The privacy threshold: a student-group value based on fewer students is suppressed
    /// outside its site (5 to 30; 10 by default; common state values are 10, 20 and 30).
    pub min_cell_size: u32,
    /// When it was created, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Whether its lead has published its public family and community dashboard (off
    /// unless turned on; records written before it existed read as off).
    #[serde(default)]
    pub public_dashboard: bool,
}

/// A site (school) in a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// The network it belongs to.
    pub network: NetworkId,
    /// Its id, unique within the network.
    pub id: SiteId,
    /// Its name for people.
    pub name: String,
    /// When it was added, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// A person or service account known to the hub, with the roles they hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Their id.
    pub id: MemberId,
    /// Their name for people.
    pub name: String,
    /// Their roles.
    pub grants: Grants,
    /// When they were added, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// An access token as the hub keeps it: everything but the secret, which is stored only as
/// its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The token's public id, for listing and revoking.
    pub id: TokenId,
    /// Whose token it is.
    pub member: MemberId,
    /// What it is for, in the issuer's words ("Lincoln laptop", "district warehouse job").
    pub label: String,
    /// When it was issued, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// When it stops working, if ever.
    pub expires_at_ms: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at_ms: Option<i64>,
}

/// Why a token is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenState {
    /// It may be used.
    Valid,
    /// Its expiry has passed.
    Expired,
    /// It was revoked.
    Revoked,
}

impl TokenRecord {
    /// Whether the token may be used at `now_ms`.
    pub fn state_at(&self, now_ms: i64) -> TokenState {
        if self.revoked_at_ms.is_some() {
            TokenState::Revoked
        } else if self.expires_at_ms.is_some_and(|at| now_ms >= at) {
            TokenState::Expired
        } else {
            TokenState::Valid
        }
    }
}

/// One administrative action, as the audit log keeps it: who, what, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the log, given by the store (0 until stored).
    pub seq: u64,
    /// When, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who did it.
    pub by: MemberId,
    /// What was done, e.g. `add_member`, `revoke_token`.
    pub action: String,
    /// What it was done to, e.g. a member or token id.
    pub target: String,
    /// The network it concerns, if one (so a lead can read their network's log).
    pub network: Option<NetworkId>,
    /// Anything else worth knowing, e.g. the roles given.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires: Option<i64>, revoked: Option<i64>) -> TokenRecord {
        TokenRecord {
            id: TokenId::new("tok-1").unwrap_or_else(|_| unreachable!()),
            member: MemberId::new("ana").unwrap_or_else(|_| unreachable!()),
            label: "laptop".into(),
            created_at_ms: 0,
            expires_at_ms: expires,
            revoked_at_ms: revoked,
        }
    }

    #[test]
    fn token_states() {
        assert_eq!(token(None, None).state_at(10), TokenState::Valid);
        assert_eq!(token(Some(11), None).state_at(10), TokenState::Valid);
        assert_eq!(token(Some(10), None).state_at(10), TokenState::Expired);
        assert_eq!(token(Some(11), Some(5)).state_at(10), TokenState::Revoked);
    }
}
