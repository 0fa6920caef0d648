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
    /// The hub refused or ended the stream.
    #[error("the hub refused: {}: {}", .0.code(), .0.message())]
    Refused(Box<tonic::Status>),
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

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        ClientError::Refused(Box::new(status))
    }
}
