//! Splitting Automerge storage bytes into their chunks without decoding them.
//!
//! A sync message's `changes` entry may hold one change or several concatenated (version 2
//! messages send them as one entry). The hub needs each change on its own — its hash and
//! dependencies, to skip changes it has and to relay exactly what it applied — and parsing a
//! chunk header is all it takes to find where one ends.

/// The four bytes every Automerge chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// What a chunk holds, from its type byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkKind {
    /// A whole document (type 0).
    Document,
    /// One change (type 1), or one compressed change (type 2).
    Change,
    /// Anything else (bundles, or types a later Automerge adds).
    Other,
}

/// Splits `bytes` into its chunks; `None` if the bytes are not a sequence of well-formed chunk
/// headers and bodies (the caller then treats them as one opaque piece).
pub(crate) fn split(bytes: &[u8]) -> Option<Vec<(ChunkKind, &[u8])>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        // magic (4) + checksum (4) + type (1), then the body length as unsigned LEB128.
        if rest.len() < 9 || rest[..4] != MAGIC {
            return None;
        }
        let kind = match rest[8] {
            0 => ChunkKind::Document,
            1 | 2 => ChunkKind::Change,
            _ => ChunkKind::Other,
        };
        let (len, len_bytes) = uleb128(&rest[9..])?;
        let total = 9usize
            .checked_add(len_bytes)?
            .checked_add(usize::try_from(len).ok()?)?;
        if total > rest.len() {
            return None;
        }
        out.push((kind, &rest[..total]));
        rest = &rest[total..];
    }
    Some(out)
}

/// Reads an unsigned LEB128 number: its value and how many bytes it took.
pub(crate) fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        let low = u64::from(byte & 0x7f);
        let shift = 7 * u32::try_from(i).ok()?;
        value |= low.checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ROOT};

    fn doc_with_changes(n: usize) -> Automerge {
        let mut doc = Automerge::new();
        for i in 0..n {
            let mut tx = doc.transaction();
            tx.put(ROOT, format!("k{i}"), i64::try_from(i).unwrap_or_default())
                .unwrap_or_else(|_| unreachable!());
            tx.commit();
        }
        doc
    }

    #[test]
    fn concatenated_changes_split_into_each_change() {
        let doc = doc_with_changes(3);
        let changes = doc.get_changes(&[]);
        let joined: Vec<u8> = changes
            .iter()
            .flat_map(|c| c.raw_bytes().to_vec())
            .collect();
        let pieces = split(&joined).unwrap_or_default();
        assert_eq!(pieces.len(), 3);
        for ((kind, piece), change) in pieces.iter().zip(&changes) {
            assert_eq!(*kind, ChunkKind::Change);
            assert_eq!(*piece, change.raw_bytes());
        }
    }

    #[test]
    fn a_saved_document_is_one_document_chunk() {
        let saved = doc_with_changes(2).save();
        let pieces = split(&saved).unwrap_or_default();
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].0, ChunkKind::Document);
    }

    #[test]
    fn truncated_or_foreign_bytes_do_not_split() {
        let doc = doc_with_changes(1);
        let bytes = doc.get_changes(&[])[0].raw_bytes().to_vec();
        assert!(split(&bytes[..bytes.len() - 1]).is_none());
        assert!(split(b"not automerge at all").is_none());
        assert_eq!(split(&[]).map(|p| p.len()), Some(0));
    }
}
