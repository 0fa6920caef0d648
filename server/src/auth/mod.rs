//! Who is calling: every request's `authorization: Bearer <token>` is checked against the
//! directory before a service sees it, and the caller's member record rides along in the
//! request's extensions.
//!
//! - `token.rs` — issuing tokens and hashing presented ones;
//! - `bootstrap.rs` — the hub admin's first token, written to a file only its owner reads.

mod bootstrap;
pub mod token;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use nic_model::{Member, TokenId, TokenState};
use nic_store::Directory;
use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use crate::status::ApiError;

pub use bootstrap::{ADMIN_TOKEN_FILE, BootstrapError, bootstrap_admin};

/// The authenticated member behind a request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Their directory record, roles included, as read when the request arrived.
    pub member: Member,
    /// The token they presented (its public id).
    pub token: TokenId,
}

/// Checks presented tokens against the directory.
#[derive(Clone)]
pub struct Authenticator {
    directory: Arc<dyn Directory>,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Authenticator {
    /// Checks tokens against `directory`.
    pub fn new(directory: Arc<dyn Directory>) -> Self {
        Self { directory }
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
            let caller = auth.authenticate(request.metadata(), now_ms())?;
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
