//! The one place where the hub's errors become gRPC statuses, with messages a person can act
//! on.

use nic_model::DocumentId;
use nic_proto::convert::ConvertError;
use nic_store::StoreError;
use nic_store::backup::BackupError;
use tonic::Status;

/// What a hub request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request field is malformed.
    #[error("invalid request: {0}")]
    Invalid(#[from] ConvertError),
    /// A request is malformed in a way that is not one field.
    #[error("invalid request: {0}")]
    BadRequest(String),
    /// Document content that does not read as its kind.
    #[error(
        "the initial content is not a readable {kind}: {invalid} (the schema of every kind: docs/SCHEMA.md)"
    )]
    Content {
        /// The kind the document was to be.
        kind: nic_model::DocKind,
        /// The field and the rule it breaks.
        invalid: nic_model::schema::check::Invalid,
    },
    /// The document does not exist.
    #[error("document {0} does not exist")]
    NotFound(DocumentId),
    /// A document with this id exists already.
    #[error("document {0} already exists; choose another id or leave doc_id empty")]
    AlreadyExists(DocumentId),
    /// Storage failed.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    /// A backup could not be taken.
    #[error("{0}")]
    Backup(#[from] BackupError),
    /// The hub is shutting down or overloaded.
    #[error("{0}")]
    Unavailable(String),
    /// Something the request names does not exist (said in the message).
    #[error("{0}")]
    NotFoundWhat(String),
    /// Something the request would create exists already (said in the message).
    #[error("{0}")]
    AlreadyExistsWhat(String),
    /// The request is valid but the hub's state forbids it now (said in the message).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A limit refuses the request (said in the message, with the limit's value).
    #[error("{0}")]
    ResourceExhausted(String),
    /// Too many requests wait to decode large documents (said in the message).
    #[error("{0}")]
    Busy(String),
    /// No valid token came with the request.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's roles do not allow the request.
    #[error("{0}")]
    PermissionDenied(String),
    /// The hub itself failed (a bug), said in the message.
    #[error("{0}")]
    Internal(String),
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Self {
        let message = e.to_string();
        match e {
            ApiError::Invalid(_) | ApiError::BadRequest(_) | ApiError::Content { .. } => {
                Status::invalid_argument(message)
            }
            ApiError::NotFound(_) => Status::not_found(message),
            ApiError::AlreadyExists(_) => Status::already_exists(message),
            ApiError::Store(StoreError::CorruptChunk { .. } | StoreError::CorruptRecord { .. }) => {
                tracing::error!(%message, "corrupt stored data");
                Status::internal(
                    "the hub's stored copy of this document is damaged; tell the hub's operator",
                )
            }
            ApiError::Store(_) => {
                tracing::error!(%message, "storage failure");
                Status::unavailable("the hub could not reach its storage; try again shortly")
            }
            ApiError::Backup(e) => backup_status(e, message),
            ApiError::Unavailable(_) => Status::unavailable(message),
            ApiError::NotFoundWhat(_) => Status::not_found(message),
            ApiError::AlreadyExistsWhat(_) => Status::already_exists(message),
            ApiError::FailedPrecondition(_) => Status::failed_precondition(message),
            ApiError::ResourceExhausted(_) | ApiError::Busy(_) => {
                Status::resource_exhausted(message)
            }
            ApiError::Unauthenticated(_) => Status::unauthenticated(message),
            ApiError::PermissionDenied(_) => {
                denied(&message);
                Status::permission_denied(message)
            }
            ApiError::Internal(_) => Status::internal(message),
        }
    }
}

/// The status of a backup that could not be taken. Only hub admins ask for backups, so the
/// message may name the data folder's files.
fn backup_status(e: BackupError, message: String) -> Status {
    match e {
        BackupError::Unsupported => Status::failed_precondition(
            "this hub keeps its data in PostgreSQL: back it up with the database's own tools (pg_dump -Fc; see the README's \"Backing up and restoring\")",
        ),
        BackupError::Store(e) => Status::from(ApiError::Store(e)),
        BackupError::Io { .. } => {
            tracing::error!(%message, "backup failed");
            Status::unavailable(message)
        }
        _ => {
            tracing::error!(%message, "backup failed");
            Status::internal(message)
        }
    }
}

/// Logs and counts a request refused for the caller's roles: a security event.
fn denied(message: &str) {
    crate::metrics::PERMISSION_DENIALS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(
        target: "security",
        event = "permission_denied",
        detail = %message,
        "a request was refused for the caller's roles"
    );
}

/// Runs blocking storage work off the async runtime, where the store guard allows it.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let work = move || nic_store::guard::may_block(f);
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        if e.is_panic() {
            // Bad input must never take the hub down; a panic here is a bug to report, not
            // a shutdown to wait out.
            tracing::error!(error = %e, "a request's storage work panicked");
            ApiError::Internal(
                "the hub failed on this request; tell the hub's operator (it is in the hub's log)"
                    .into(),
            )
        } else {
            ApiError::Unavailable("the hub is shutting down; try again later".into())
        }
    })?
}

/// The status that ends a stream whose rights are gone.
pub(crate) fn refusal(refusal: &nic_runtime::Refusal) -> Status {
    match refusal {
        nic_runtime::Refusal::Unauthenticated(m) => Status::unauthenticated(m.clone()),
        nic_runtime::Refusal::Unavailable(m) => Status::unavailable(m.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_request_is_internal_not_a_shutdown() {
        let failed = blocking(|| -> Result<(), ApiError> { panic!("a decoder bug") }).await;
        let status = Status::from(failed.expect_err("the panic was reported"));
        assert_eq!(status.code(), tonic::Code::Internal, "{status}");
        assert!(status.message().contains("operator"), "{status}");
    }
}
