//! Who is calling: every request's `authorization: Bearer <token>` is checked against the
//! directory before a service sees it, and the caller's member record rides along in the
//! request's extensions.
//!
//! - `token.rs` — issuing tokens and hashing presented ones;
//! - `bootstrap.rs` — the hub admin's first token, written to a file only its owner reads.

mod bootstrap;
pub mod token;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use nic_model::{Member, TokenId, TokenState};
use nic_store::Directory;
use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use crate::status::ApiError;

pub use bootstrap::{ADMIN_TOKEN_FILE, BootstrapError, bootstrap_admin};

/// The directory key binding an Automerge actor id to its member. Peer ids are bound in the
/// same table under `peer:`; the prefixes keep the two from ever colliding.
pub fn actor_key(actor: &[u8]) -> Vec<u8> {
    let mut key = b"actor:".to_vec();
    key.extend_from_slice(actor);
    key
}

/// The directory key binding a sync peer id to its member.
pub fn peer_key(peer: &nic_model::PeerId) -> Vec<u8> {
    let mut key = b"peer:".to_vec();
    key.extend_from_slice(peer.as_str().as_bytes());
    key
}

/// The directory key that claims a member id for good, in the same table as the actor and
/// peer bindings: an id once given is never given again, so a new member cannot inherit a
/// removed one's history, actor ids or peer ids.
pub fn member_id_key(member: &nic_model::MemberId) -> Vec<u8> {
    let mut key = b"member-id:".to_vec();
    key.extend_from_slice(member.as_str().as_bytes());
    key
}

/// The authenticated member behind a request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Their directory record, roles included, as read when the request arrived.
    pub member: Member,
    /// The token they presented (its public id).
    pub token: TokenId,
}

/// Checks presented tokens against the directory, and cuts off an address that keeps
/// calling without a valid one.
#[derive(Clone)]
pub struct Authenticator {
    directory: Arc<dyn Directory>,
    failures: Arc<Mutex<Failures>>,
    max_failures_per_minute: u32,
}

/// Requests without a valid token, per address, in the current minute.
#[derive(Default)]
struct Failures {
    by_address: HashMap<IpAddr, (i64, u32)>,
}

/// The window the failure limit counts in.
const WINDOW_MS: i64 = 60_000;
/// Addresses remembered at most; older windows are forgotten first.
const MAX_ADDRESSES: usize = 100_000;

impl Failures {
    /// Whether `address` has used up its failures in the window that holds `now_ms`.
    fn cut_off(&self, address: IpAddr, now_ms: i64, max: u32) -> bool {
        self.by_address
            .get(&address)
            .is_some_and(|(start, count)| now_ms - start < WINDOW_MS && *count >= max)
    }

    fn record(&mut self, address: IpAddr, now_ms: i64) {
        if self.by_address.len() >= MAX_ADDRESSES {
            self.by_address
                .retain(|_, (start, _)| now_ms - *start < WINDOW_MS);
        }
        let entry = self.by_address.entry(address).or_insert((now_ms, 0));
        if now_ms - entry.0 >= WINDOW_MS {
            *entry = (now_ms, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Authenticator {
    /// Checks tokens against `directory`; an address with more than
    /// `max_failures_per_minute` requests without a valid token is refused everything until
    /// its minute is over.
    pub fn new(directory: Arc<dyn Directory>, max_failures_per_minute: u32) -> Self {
        Self {
            directory,
            failures: Arc::default(),
            max_failures_per_minute,
        }
    }

    /// [`Authenticator::authenticate`], counting failures per address and refusing an
    /// address over the limit without looking at its token.
    pub fn authenticate_from(
        &self,
        address: Option<IpAddr>,
        metadata: &MetadataMap,
        now_ms: i64,
    ) -> Result<Caller, ApiError> {
        let max = self.max_failures_per_minute;
        if let Some(address) = address {
            let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            if failures.cut_off(address, now_ms, max) {
                return Err(ApiError::ResourceExhausted(format!(
                    "too many requests without a valid token from {address}: the limit is {max} a minute; wait a minute and send a valid token"
                )));
            }
        }
        let result = self.authenticate(metadata, now_ms);
        if let (Err(ApiError::Unauthenticated(_)), Some(address)) = (&result, address) {
            self.failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(address, now_ms);
        }
        result
    }

    /// The member whose valid token the metadata carries.
    pub fn authenticate(&self, metadata: &MetadataMap, now_ms: i64) -> Result<Caller, ApiError> {
        let unauthenticated = |m: String| ApiError::Unauthenticated(m);
        let header = metadata.get("authorization").ok_or_else(|| {
            unauthenticated(
                "this hub needs a token: send `authorization: Bearer <token>` metadata (the hub \
                 admin's is in the admin-token file of the hub's data folder; members get theirs \
                 from a network lead)"
                    .into(),
            )
        })?;
        let presented = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                unauthenticated("the authorization metadata must read `Bearer <token>`".into())
            })?;
        let record = self
            .directory
            .token_by_hash(&token::hash(presented))?
            .ok_or_else(|| unauthenticated("this token is not known to the hub".into()))?;
        match record.state_at(now_ms) {
            TokenState::Valid => {}
            TokenState::Expired => {
                return Err(unauthenticated(format!(
                    "token {} has expired; ask for a new one",
                    record.id
                )));
            }
            TokenState::Revoked => {
                return Err(unauthenticated(format!(
                    "token {} was revoked; ask for a new one",
                    record.id
                )));
            }
        }
        let member = self.directory.member(&record.member)?.ok_or_else(|| {
            unauthenticated(format!(
                "token {} belongs to {}, who is no longer a member of this hub",
                record.id, record.member
            ))
        })?;
        Ok(Caller {
            member,
            token: record.id,
        })
    }

    /// A tonic interceptor: refuses requests without a valid token, and puts the [`Caller`]
    /// in the extensions of those with one.
    pub fn interceptor(
        &self,
    ) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + use<> {
        let auth = self.clone();
        move |mut request: Request<()>| {
            let address = request.remote_addr().map(|a| a.ip());
            let caller = auth.authenticate_from(address, request.metadata(), now_ms())?;
            request.extensions_mut().insert(caller);
            Ok(request)
        }
    }
}

/// The caller the interceptor authenticated.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, ApiError> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| ApiError::Unauthenticated("the request was not authenticated".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nic_store::MemStore;

    #[test]
    fn an_address_without_valid_tokens_is_cut_off_for_the_rest_of_its_minute() {
        let auth = Authenticator::new(Arc::new(MemStore::new()), 3);
        let flooder: IpAddr = [10, 0, 0, 9].into();
        let other: IpAddr = [10, 0, 0, 10].into();
        let mut bad = MetadataMap::new();
        bad.insert(
            "authorization",
            "Bearer nic_wrong"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        for _ in 0..3 {
            let e = auth.authenticate_from(Some(flooder), &bad, 1_000).err();
            assert!(matches!(e, Some(ApiError::Unauthenticated(_))), "{e:?}");
        }
        let e = auth.authenticate_from(Some(flooder), &bad, 2_000).err();
        match e {
            Some(ApiError::ResourceExhausted(m)) => assert!(m.contains("the limit is 3"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Other addresses are unaffected; the flooder's minute ends.
        assert!(matches!(
            auth.authenticate_from(Some(other), &bad, 2_000).err(),
            Some(ApiError::Unauthenticated(_))
        ));
        assert!(matches!(
            auth.authenticate_from(Some(flooder), &bad, 61_001).err(),
            Some(ApiError::Unauthenticated(_))
        ));
    }
}
