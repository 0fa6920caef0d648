//! Errors from storage.

use nic_model::{DocumentId, MetaError};

/// What went wrong in a [`crate::Store`] call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A write named a document that has no metadata.
    #[error("document {0} is unknown to the store; create it (put its metadata) first")]
    UnknownDocument(DocumentId),
    /// A batch's [`crate::Op::CreateMeta`] named a document that already exists; nothing of
    /// the batch was written.
    #[error("document {0} already exists")]
    AlreadyExists(DocumentId),
    /// Metadata given to a write is inconsistent (see `DocMeta::validate`); nothing was written.
    #[error("invalid document metadata: {0}")]
    InvalidMeta(#[from] MetaError),
    /// Stored bytes for a document do not load as Automerge.
    #[error("document {doc} has a corrupt stored chunk: {reason}")]
    CorruptChunk {
        /// The document.
        doc: DocumentId,
        /// What the decoder said.
        reason: String,
    },
    /// Stored metadata or a key did not decode.
    #[error("corrupt {what} record in the store: {reason}")]
    CorruptRecord {
        /// Which kind of record.
        what: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// The database itself failed.
    #[error("database error: {0}")]
    Db(#[from] sled::Error),
    /// PostgreSQL refused or failed a call (or the connection to it failed).
    #[error("PostgreSQL error: {0}")]
    Pg(#[from] postgres::Error),
    /// The database cannot be used as it is (no connection, or a schema this build does
    /// not know).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A file operation (power-safe flush, opening the folder) failed.
    #[error("storage I/O error at {path}: {source}")]
    Io {
        /// The file or folder.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}
