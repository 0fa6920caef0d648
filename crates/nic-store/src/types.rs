//! Plain data passed to and from a [`crate::Store`].

use nic_model::{DocKind, DocMeta, DocumentId, NetworkId, PeerId, SiteId};

/// A document as stored: metadata plus chunks in load order (the snapshot, if any, first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDoc {
    /// The document's metadata.
    pub meta: DocMeta,
    /// Automerge bytes: concatenated, they load as the whole document.
    pub chunks: Vec<Vec<u8>>,
}

impl StoredDoc {
    /// All chunks joined, ready for `automerge::Automerge::load`.
    pub fn concatenated(&self) -> Vec<u8> {
        self.chunks.concat()
    }
}

/// Which documents [`crate::Store::list`] returns. Every field set must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only documents of this network.
    pub network: Option<NetworkId>,
    /// Only documents of this site.
    pub site: Option<SiteId>,
    /// Only documents of this kind.
    pub kind: Option<DocKind>,
    /// Archived documents are left out unless this is set.
    pub include_archived: bool,
}

impl ListFilter {
    /// Whether a document's metadata passes the filter.
    pub fn matches(&self, meta: &DocMeta) -> bool {
        self.network.as_ref().is_none_or(|n| *n == meta.network)
            && self
                .site
                .as_ref()
                .is_none_or(|s| meta.site.as_ref() == Some(s))
            && self.kind.is_none_or(|k| k == meta.kind)
            && (self.include_archived || !meta.archived)
    }
}

/// What an append tells the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The document's incremental chunks have outgrown its snapshot (or passed the count
    /// limit): the caller should call [`crate::Store::compact`] when convenient.
    pub compaction_due: bool,
}

/// What a compaction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactOutcome {
    /// How many chunks (snapshot included) the new snapshot replaced.
    pub chunks_replaced: usize,
    /// The size of the new snapshot in bytes.
    pub snapshot_bytes: usize,
}

/// When a document's chunks are due for compaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompactionPolicy {
    /// Compact once this many incremental chunks follow the snapshot.
    pub max_incremental_chunks: usize,
    /// Compact once the incremental chunks hold more bytes than the snapshot (and at least
    /// this many bytes, so tiny documents are not rewritten on every change).
    pub min_incremental_bytes: usize,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        Self {
            max_incremental_chunks: 256,
            min_incremental_bytes: 64 * 1024,
        }
    }
}

impl CompactionPolicy {
    /// Whether a document with these sizes is due for compaction.
    pub fn is_due(
        &self,
        snapshot_bytes: usize,
        incremental_bytes: usize,
        incremental_chunks: usize,
    ) -> bool {
        incremental_chunks >= self.max_incremental_chunks
            || (incremental_bytes >= self.min_incremental_bytes
                && incremental_bytes > snapshot_bytes)
    }
}

/// How durable [`crate::Store::flush`] makes writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Survives a crash of this process (the OS has the data). On Linux sled's flush uses
    /// `sync_file_range`, which is this level.
    #[default]
    Process,
    /// Survives a power loss too: the data files and their directory are fsynced.
    PowerSafe,
}

/// One write in a [`Batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Create or replace a document's metadata.
    PutMeta(DocMeta),
    /// Create a document's metadata, compare-and-set on its id: if the document already
    /// exists, the whole batch fails with [`crate::StoreError::AlreadyExists`] and nothing of
    /// it is written. Two creations of one id can never both succeed.
    CreateMeta(DocMeta),
    /// Append an incremental chunk to a document (which must have metadata, possibly from an
    /// earlier op of the same batch).
    Append {
        /// The document.
        doc: DocumentId,
        /// Automerge change bytes.
        chunk: Vec<u8>,
    },
    /// Record the sync state shared with a peer.
    PutSyncState {
        /// The peer.
        peer: PeerId,
        /// The document.
        doc: DocumentId,
        /// `automerge::sync::State::encode` bytes.
        state: Vec<u8>,
    },
}

/// Writes applied together by [`crate::Store::write_batch`]: all or nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// The writes, applied in order.
    pub ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a write.
    pub fn push(&mut self, op: Op) -> &mut Self {
        self.ops.push(op);
        self
    }

    /// Whether the batch holds no writes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nic_model::Visibility;

    #[test]
    fn compaction_is_due_by_count_or_by_outgrown_snapshot() {
        let policy = CompactionPolicy {
            max_incremental_chunks: 10,
            min_incremental_bytes: 100,
        };
        assert!(!policy.is_due(0, 0, 0));
        assert!(!policy.is_due(0, 99, 9), "below both limits");
        assert!(policy.is_due(0, 0, 10), "count limit");
        assert!(policy.is_due(0, 100, 1), "no snapshot, enough bytes");
        assert!(!policy.is_due(500, 400, 1), "snapshot still larger");
        assert!(!policy.is_due(400, 400, 1), "equal is not outgrown");
        assert!(policy.is_due(400, 401, 1));
        assert!(!policy.is_due(10, 50, 1), "outgrown but tiny");
    }

    fn meta(network: &str, site: Option<&str>, kind: DocKind, archived: bool) -> DocMeta {
        DocMeta {
            id: DocumentId::from_bytes([1; 16]),
            kind,
            network: NetworkId::new(network).unwrap(),
            site: site.map(|s| SiteId::new(s).unwrap()),
            visibility: Visibility::Network,
            title: String::new(),
            created_at_ms: 0,
            archived,
        }
    }

    #[test]
    fn list_filter_requires_every_set_field() {
        let doc = meta("n", Some("s"), DocKind::Aim, false);
        let net = |n: &str| Some(NetworkId::new(n).unwrap());
        let site = |s: &str| Some(SiteId::new(s).unwrap());
        assert!(ListFilter::default().matches(&doc));
        let exact = ListFilter {
            network: net("n"),
            site: site("s"),
            kind: Some(DocKind::Aim),
            include_archived: false,
        };
        assert!(exact.matches(&doc));
        assert!(
            !ListFilter {
                network: net("m"),
                ..exact.clone()
            }
            .matches(&doc)
        );
        assert!(
            !ListFilter {
                site: site("t"),
                ..exact.clone()
            }
            .matches(&doc)
        );
        assert!(
            !ListFilter {
                kind: Some(DocKind::PdsaCycle),
                ..exact.clone()
            }
            .matches(&doc)
        );
        // A site filter leaves out network-level documents.
        assert!(!exact.matches(&meta("n", None, DocKind::Aim, false)));

        let archived = meta("n", Some("s"), DocKind::Aim, true);
        assert!(!exact.matches(&archived));
        assert!(
            ListFilter {
                include_archived: true,
                ..exact
            }
            .matches(&archived)
        );
    }
}
