//! The compaction step every store shares: stored chunks in, one Automerge snapshot out.

use nic_model::DocumentId;

use crate::StoreError;

/// Loads the concatenated chunks as one Automerge document and saves it as a snapshot.
///
/// Automerge's default load refuses partial or unverifiable data, so a corrupt chunk surfaces
/// here as [`StoreError::CorruptChunk`] before the caller has changed anything.
pub(crate) fn snapshot_of(doc: &DocumentId, joined: &[u8]) -> Result<Vec<u8>, StoreError> {
    automerge::Automerge::load(joined)
        .map(|loaded| loaded.save())
        .map_err(|e| StoreError::CorruptChunk {
            doc: *doc,
            reason: e.to_string(),
        })
}
