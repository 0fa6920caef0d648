//! Who is calling: every request's `authorization: Bearer <token>` is checked against the
//! directory before a service sees it, and the caller's member record rides along in the
//! request's extensions.
//!
//! - `gate.rs` — the check as an async step in front of each gRPC service, so the directory
//!   is read on the blocking pool and not on the async worker that carries the request;
//! - `token.rs` — issuing tokens and hashing presented ones;
//! - `bootstrap.rs` — the hub admin's first token, written to a file only its owner reads;
//! - `ticket.rs` — short-lived, single-use tickets that stand for a token in a WebSocket's
//!   URL, where a browser cannot set a header.

mod bootstrap;
mod gate;
pub mod ticket;
pub mod token;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use nic_model::{Member, TokenId, TokenState};
use nic_store::{Directory, TokenHash};
use tonic::Request;
use tonic::metadata::MetadataMap;

use crate::metrics::{AuthFailure, Metrics};
use crate::status::{ApiError, blocking};

pub use bootstrap::{ADMIN_TOKEN_FILE, BootstrapError, bootstrap_admin};
pub(crate) use gate::Gate;

/// The directory key binding an Automerge actor id to its member. Peer ids are bound in the
/// same table under `peer:`; the prefixes keep the two from ever colliding.
pub fn actor_key(actor: &[u8]) -> Vec<u8> {
    nic_runtime::actor_key(actor)
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

/// Checks presented tokens against the directory, and throttles an address that keeps
/// calling without a valid one — never refusing a valid token for its address's failures.
#[derive(Clone)]
pub struct Authenticator {
    directory: Arc<dyn Directory>,
    failures: Arc<Mutex<Failures>>,
    max_failures_per_minute: u32,
    metrics: Arc<Metrics>,
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
    /// Counts one failure of `address`; its failures in the window that holds `now_ms`.
    fn record(&mut self, address: IpAddr, now_ms: i64) -> u32 {
        if self.by_address.len() >= MAX_ADDRESSES {
            self.by_address
                .retain(|_, (start, _)| now_ms - *start < WINDOW_MS);
        }
        let entry = self.by_address.entry(address).or_insert((now_ms, 0));
        if now_ms - entry.0 >= WINDOW_MS {
            *entry = (now_ms, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Authenticator {
    /// Checks tokens against `directory`; past `max_failures_per_minute` requests without a
    /// valid token from one address, that address's bad tokens are refused as throttled
    /// until its minute is over (its valid tokens still pass).
    pub fn new(directory: Arc<dyn Directory>, max_failures_per_minute: u32) -> Self {
        Self {
            directory,
            failures: Arc::default(),
            max_failures_per_minute,
            metrics: Arc::default(),
        }
    }

    /// Counts failed sign-ins, throttling and lockouts in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// [`Authenticator::authenticate`], counting failures per address. The token is always
    /// looked up, so a school's valid users behind one NAT address keep working while
    /// someone there floods bad tokens; only the failures past the limit are refused as
    /// throttled (`RESOURCE_EXHAUSTED`), which also stops saying why a token failed.
    /// Tokens carry 256 random bits: the limit bounds noise and logs, not guessing.
    /// It reads the directory where it runs; requests go through
    /// [`Authenticator::authenticate_async`].
    pub fn authenticate_from(
        &self,
        address: Option<IpAddr>,
        metadata: &MetadataMap,
        now_ms: i64,
    ) -> Result<Caller, ApiError> {
        match self.authenticate(metadata, now_ms) {
            Err(ApiError::Unauthenticated(reason)) => Err(self.failed(address, reason, now_ms)),
            other => other,
        }
    }

    /// Counts and logs one request without a valid token; the error to answer it with.
    fn failed(&self, address: Option<IpAddr>, reason: String, now_ms: i64) -> ApiError {
        let kind = failure_kind(&reason);
        self.metrics.security.auth_failed(kind);
        let max = self.max_failures_per_minute;
        let count = address.map(|a| {
            self.failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(a, now_ms)
        });
        match (address, count) {
            (Some(address), Some(count)) if count > max => {
                Metrics::add(&self.metrics.security.auth_throttled, 1);
                if count == max.saturating_add(1) {
                    Metrics::add(&self.metrics.security.lockouts, 1);
                    tracing::warn!(
                        target: "security",
                        event = "auth_lockout",
                        %address,
                        limit = max,
                        "an address used up its requests without a valid token for this minute; its bad tokens are refused until the minute ends (valid tokens still pass)"
                    );
                }
                ApiError::ResourceExhausted(format!(
                    "too many requests without a valid token from {address}: the limit is {max} a minute; wait a minute and send a valid token"
                ))
            }
            _ => {
                tracing::info!(
                    target: "security",
                    event = "auth_failed",
                    address = ?address,
                    reason = kind.label(),
                    detail = %reason,
                    "a request without a valid token was refused"
                );
                ApiError::Unauthenticated(reason)
            }
        }
    }

    /// [`Authenticator::authenticate_from`] for a request on an async runtime: the same
    /// checks in the same order, with the directory reads on the blocking pool, never on the
    /// worker thread that carries the connection.
    pub async fn authenticate_async(
        &self,
        address: Option<IpAddr>,
        metadata: &MetadataMap,
    ) -> Result<Caller, ApiError> {
        self.authenticate_at(address, metadata, now_ms()).await
    }

    /// [`Authenticator::authenticate_async`] at `now` (tests choose the clock).
    async fn authenticate_at(
        &self,
        address: Option<IpAddr>,
        metadata: &MetadataMap,
        now: i64,
    ) -> Result<Caller, ApiError> {
        let found = match presented(metadata) {
            Ok(hash) => {
                let auth = self.clone();
                let span = tracing::Span::current();
                blocking(move || {
                    let _span = span.enter();
                    auth.lookup(&hash, now)
                })
                .await
            }
            Err(e) => Err(e),
        };
        match found {
            Err(ApiError::Unauthenticated(reason)) => Err(self.failed(address, reason, now)),
            other => other,
        }
    }

    /// The member whose valid token the metadata carries. Reads the directory: call it where
    /// blocking is allowed.
    pub fn authenticate(&self, metadata: &MetadataMap, now_ms: i64) -> Result<Caller, ApiError> {
        self.lookup(&presented(metadata)?, now_ms)
    }

    /// The member whose valid token hashes to `hash` (reads the directory).
    fn lookup(&self, hash: &TokenHash, now_ms: i64) -> Result<Caller, ApiError> {
        let unauthenticated = |m: String| ApiError::Unauthenticated(m);
        let record = self
            .directory
            .token_by_hash(hash)?
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
}

/// The hash of the token the metadata presents, or why it presents none (no I/O: this part
/// runs on the request's own thread).
fn presented(metadata: &MetadataMap) -> Result<TokenHash, ApiError> {
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
    Ok(token::hash(presented))
}

/// Which [`AuthFailure`] an `UNAUTHENTICATED` message from [`Authenticator::authenticate`]
/// says (its messages are the one place the reason is written down).
fn failure_kind(message: &str) -> AuthFailure {
    const KINDS: [(&str, AuthFailure); 6] = [
        ("needs a token", AuthFailure::Missing),
        ("must read `Bearer", AuthFailure::Malformed),
        ("not known to the hub", AuthFailure::Unknown),
        ("has expired", AuthFailure::Expired),
        ("was revoked", AuthFailure::Revoked),
        ("no longer a member", AuthFailure::Removed),
    ];
    KINDS
        .iter()
        .find(|(phrase, _)| message.contains(phrase))
        .map_or(AuthFailure::Other, |(_, kind)| *kind)
}

/// The caller the `Gate` authenticated.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, ApiError> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| ApiError::Unauthenticated("the request was not authenticated".into()))
}

#[cfg(test)]
mod tests;
