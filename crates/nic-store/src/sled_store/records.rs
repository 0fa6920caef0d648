//! How SledStore's keys and values are laid out, and decoding them without trusting them:
//! stored bytes that do not decode give [`StoreError::CorruptRecord`], never a panic.

use nic_model::{DocMeta, DocumentId, PeerId};

use crate::StoreError;

/// Length of a `chunks` key: document id (16 bytes) then sequence number (u64 big-endian, so
/// byte order is append order).
pub(super) const CHUNK_KEY_LEN: usize = 16 + 8;

/// First byte of a `chunks` value: incremental change bytes follow.
pub(super) const KIND_INCREMENTAL: u8 = 0;
/// First byte of a `chunks` value: a compacted snapshot follows.
pub(super) const KIND_SNAPSHOT: u8 = 1;

pub(super) fn chunk_key(doc: &DocumentId, seq: u64) -> [u8; CHUNK_KEY_LEN] {
    let mut key = [0u8; CHUNK_KEY_LEN];
    key[..16].copy_from_slice(doc.as_bytes());
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}

pub(super) fn chunk_value(kind: u8, bytes: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(1 + bytes.len());
    value.push(kind);
    value.extend_from_slice(bytes);
    value
}

/// Checks a `chunks` record and returns its Automerge bytes.
pub(super) fn decode_chunk<'a>(key: &[u8], value: &'a [u8]) -> Result<&'a [u8], StoreError> {
    if key.len() != CHUNK_KEY_LEN {
        return Err(corrupt(
            "chunk",
            format!("key has {} bytes, expected {CHUNK_KEY_LEN}", key.len()),
        ));
    }
    match value.split_first() {
        Some((&(KIND_INCREMENTAL | KIND_SNAPSHOT), bytes)) => Ok(bytes),
        Some((kind, _)) => Err(corrupt("chunk", format!("unknown chunk kind {kind}"))),
        None => Err(corrupt("chunk", "empty value".to_owned())),
    }
}

/// `sync_states` key: the fixed-length document id first makes the split unambiguous.
pub(super) fn sync_key(peer: &PeerId, doc: &DocumentId) -> Vec<u8> {
    let mut key = Vec::with_capacity(16 + peer.as_str().len());
    key.extend_from_slice(doc.as_bytes());
    key.extend_from_slice(peer.as_str().as_bytes());
    key
}

pub(super) fn encode_meta(meta: &DocMeta) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(meta).map_err(|e| corrupt("metadata", e.to_string()))
}

/// Decodes a `meta` record and checks that it is stored under its own id.
pub(crate) fn decode_meta(key: &[u8], value: &[u8]) -> Result<DocMeta, StoreError> {
    let meta: DocMeta =
        serde_json::from_slice(value).map_err(|e| corrupt("metadata", e.to_string()))?;
    if key != meta.id.as_bytes() {
        return Err(corrupt(
            "metadata",
            format!(
                "record for document {} is stored under another key",
                meta.id
            ),
        ));
    }
    Ok(meta)
}

/// What the compaction policy needs to know about a document, kept beside its chunks so an
/// append need not scan them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct DocStats {
    pub(super) snapshot_bytes: u64,
    pub(super) incremental_bytes: u64,
    pub(super) incremental_chunks: u64,
}

impl DocStats {
    pub(super) fn encode(&self) -> [u8; 24] {
        let mut out = [0u8; 24];
        out[..8].copy_from_slice(&self.snapshot_bytes.to_be_bytes());
        out[8..16].copy_from_slice(&self.incremental_bytes.to_be_bytes());
        out[16..].copy_from_slice(&self.incremental_chunks.to_be_bytes());
        out
    }

    /// Decodes a `doc_stats` record; a document without one has no chunks yet.
    pub(super) fn decode(value: Option<&[u8]>) -> Result<Self, StoreError> {
        let Some(value) = value else {
            return Ok(Self::default());
        };
        let field = |i: usize| {
            value
                .get(i * 8..i * 8 + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
        };
        match (value.len(), field(0), field(1), field(2)) {
            (24, Some(snapshot_bytes), Some(incremental_bytes), Some(incremental_chunks)) => {
                Ok(Self {
                    snapshot_bytes,
                    incremental_bytes,
                    incremental_chunks,
                })
            }
            (len, ..) => Err(corrupt("doc_stats", format!("{len} bytes, expected 24"))),
        }
    }

    /// Sizes as the policy takes them; saturating, as a u64 may not fit a 32-bit usize.
    pub(super) fn sizes(&self) -> (usize, usize, usize) {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        (
            size(self.snapshot_bytes),
            size(self.incremental_bytes),
            size(self.incremental_chunks),
        )
    }
}

pub(super) fn corrupt(what: &'static str, reason: String) -> StoreError {
    StoreError::CorruptRecord { what, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_round_trip_and_reject_bad_lengths() {
        let stats = DocStats {
            snapshot_bytes: 1,
            incremental_bytes: 2,
            incremental_chunks: 3,
        };
        assert_eq!(DocStats::decode(Some(&stats.encode())).unwrap(), stats);
        assert_eq!(DocStats::decode(None).unwrap(), DocStats::default());
        assert!(matches!(
            DocStats::decode(Some(&[0u8; 23])),
            Err(StoreError::CorruptRecord { .. })
        ));
        assert!(DocStats::decode(Some(&[0u8; 25])).is_err());
    }

    #[test]
    fn chunk_keys_sort_by_sequence() {
        let doc = DocumentId::from_bytes([7; 16]);
        assert!(chunk_key(&doc, 255) < chunk_key(&doc, 256));
        assert!(decode_chunk(&chunk_key(&doc, 1)[..20], &[0]).is_err());
        assert!(decode_chunk(&chunk_key(&doc, 1), &[]).is_err());
        assert!(decode_chunk(&chunk_key(&doc, 1), &[9, 1]).is_err());
        assert_eq!(decode_chunk(&chunk_key(&doc, 1), &[1, 5]).unwrap(), &[5]);
    }
}
