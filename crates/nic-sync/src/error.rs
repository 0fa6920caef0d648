//! Errors from calls the application makes on an engine.

use nic_model::DocumentId;

/// Why a local operation on an [`crate::Engine`] failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The document is not in memory (unknown, or still loading).
    #[error("document {0} is not loaded; subscribe to it or wait for it to load")]
    NotLoaded(DocumentId),
    /// A document with this id already exists.
    #[error("document {0} already exists")]
    AlreadyExists(DocumentId),
    /// The document's metadata is inconsistent.
    #[error(transparent)]
    Meta(#[from] nic_model::MetaError),
}
