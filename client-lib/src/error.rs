//! Errors of the client library.

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
    #[error("cannot reach the hub at {addr}: {source}; is it running?")]
    Unreachable {
        /// The address.
        addr: String,
        /// The transport error.
        source: tonic::transport::Error,
    },
    /// The hub refused or ended the stream.
    #[error("the hub refused the sync stream: {0}")]
    Refused(#[from] tonic::Status),
    /// The hub broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The document is not in this replica.
    #[error("document {0} is not in this replica; subscribe to it first")]
    UnknownDocument(DocumentId),
    /// The client's background task has stopped.
    #[error("the client has stopped")]
    Stopped,
    /// A wait ran out of time.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
}
