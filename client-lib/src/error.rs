//! Errors of the client library. Each says what went wrong and what to do about it.

use std::path::PathBuf;

use nic_model::DocumentId;

/// What a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The hub address is not a valid URI.
    #[error("invalid hub address {addr:?}: {reason}; use e.g. http://127.0.0.1:50051")]
    BadAddress {
        /// The address given.
        addr: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The hub could not be reached.
    #[error("cannot reach the hub at {addr}: {reason}; is it running, and is the address right?")]
    Unreachable {
        /// The address.
        addr: String,
        /// What the transport said.
        reason: String,
    },
    /// The token cannot be sent (tokens are printable ASCII).
    #[error("the token is not printable ASCII; copy it again from the file it was issued in")]
    BadToken,
    /// A TLS file could not be used.
    #[error("cannot use {path} for TLS: {reason}")]
    BadTls {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The hub refused the call or ended the stream, saying why.
    #[error("the hub refused ({refusal}): {message}")]
    Refused {
        /// The kind of refusal, for a program to act on.
        refusal: Refusal,
        /// The hub's words, for a person.
        message: String,
    },
    /// The hub broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The document is not in this replica.
    #[error("document {0} is not in this replica; subscribe to it (or its network) first")]
    UnknownDocument(DocumentId),
    /// The replica's folder holds something this library cannot use.
    #[error(
        "the replica at {path} cannot be used: {reason}; fix or move the file, or open another folder"
    )]
    BadReplica {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Local storage failed; the change or document was not saved.
    #[error("the replica could not save locally: {0}; check the disk (space, permissions)")]
    Storage(#[from] nic_store::StoreError),
    /// The document is not of the kind asked for, or its content does not fit it.
    #[error("document {doc}: {source}")]
    Schema {
        /// The document.
        doc: DocumentId,
        /// What did not fit.
        source: Box<nic_model::schema::SchemaError>,
    },
    /// The edit was refused by the document's rules (e.g. a PDSA prediction changed after
    /// its Do phase has data); nothing was written.
    #[error("document {doc}: {reason}")]
    EditRefused {
        /// The document.
        doc: DocumentId,
        /// Which rule, and what to do instead.
        reason: String,
    },
    /// The member this replica signs in as may not do this (by the roles the hub last
    /// reported); nothing was written.
    #[error("{0}")]
    NotAllowed(String),
    /// The metadata for a new document does not hold together.
    #[error("invalid document: {0}")]
    InvalidMeta(#[from] nic_model::MetaError),
    /// The client's background task has stopped.
    #[error("the client has stopped")]
    Stopped,
    /// A wait ran out of time.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
}

/// Why the hub refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The token is unknown, expired or revoked: sign in again.
    Unauthenticated,
    /// The member's role does not allow it.
    PermissionDenied,
    /// Something named does not exist (or is not visible to the member).
    NotFound,
    /// The request is malformed or breaks a rule (bad id, content that does not read as
    /// its kind, a site member without a site, …).
    Invalid,
    /// It exists already.
    AlreadyExists,
    /// The hub is busy or out of a limit; try again later.
    Busy,
    /// The hub failed; its log says more.
    Internal,
    /// Any other answer.
    Other,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Unauthenticated => "not signed in",
            Refusal::PermissionDenied => "not allowed",
            Refusal::NotFound => "not found",
            Refusal::Invalid => "invalid",
            Refusal::AlreadyExists => "already exists",
            Refusal::Busy => "busy",
            Refusal::Internal => "hub error",
            Refusal::Other => "refused",
        })
    }
}

impl From<tonic::Code> for Refusal {
    fn from(code: tonic::Code) -> Self {
        use tonic::Code;
        match code {
            Code::Unauthenticated => Refusal::Unauthenticated,
            Code::PermissionDenied => Refusal::PermissionDenied,
            Code::NotFound => Refusal::NotFound,
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => Refusal::Invalid,
            Code::AlreadyExists => Refusal::AlreadyExists,
            Code::ResourceExhausted | Code::Aborted => Refusal::Busy,
            Code::Internal | Code::DataLoss => Refusal::Internal,
            _ => Refusal::Other,
        }
    }
}

impl ClientError {
    /// A failed call to the hub at `addr`: a transport failure (the hub is down, the
    /// address is wrong, the TLS handshake failed) is [`ClientError::Unreachable`] with the
    /// transport's reasons; any other status is the hub's [`ClientError::Refused`].
    pub(crate) fn from_status(addr: &str, status: tonic::Status) -> Self {
        // A status the hub sent never carries a source error; one made here from a
        // transport failure (refused connection, failed handshake, a TLS hub spoken to in
        // plain text, a client certificate refused after the handshake) does, under
        // Unknown, Internal or Cancelled as often as Unavailable.
        let transport = std::error::Error::source(&status).is_some();
        if status.code() == tonic::Code::Unavailable || transport {
            // The useful part (refused connection, unknown certificate issuer) is in the
            // source chain, not the message.
            let mut reason = status.message().to_owned();
            let mut source = std::error::Error::source(&status);
            while let Some(e) = source {
                let text = e.to_string();
                if !reason.contains(&text) {
                    reason = format!("{reason}: {text}");
                }
                source = e.source();
            }
            ClientError::Unreachable {
                addr: addr.to_owned(),
                reason,
            }
        } else {
            ClientError::refused(status)
        }
    }

    /// Whether the hub refused for this reason.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            ClientError::Refused { refusal, .. } => Some(*refusal),
            _ => None,
        }
    }
}

impl ClientError {
    /// The hub's answer as a refusal. Not a public `From`: tonic stays out of the API.
    pub(crate) fn refused(status: tonic::Status) -> Self {
        ClientError::Refused {
            refusal: status.code().into(),
            message: status.message().to_owned(),
        }
    }
}
