//! Helpers shared by the integration tests: metadata and real Automerge changes.
#![allow(dead_code)] // each test binary uses a different subset

use automerge::transaction::Transactable;
use automerge::{AutoCommit, Automerge, ReadDoc};
use nic_model::fixtures;
use nic_model::{DocKind, DocMeta, DocumentId};
use nic_store::StoredDoc;

pub use nic_model::fixtures::{doc_id, peer};

/// Network-visible metadata for a document of network `net`, optionally of a site.
pub fn meta(id: DocumentId, net: &str, site: Option<&str>, kind: DocKind) -> DocMeta {
    DocMeta {
        id,
        kind,
        site: site.map(fixtures::site),
        title: format!("doc {id}"),
        created_at_ms: 1_700_000_000_000,
        ..fixtures::meta(0, net)
    }
}

/// A document that records each change it makes, one change per call.
pub struct Writer {
    pub doc: AutoCommit,
}

impl Writer {
    /// A writer with a fixed actor, so runs are reproducible.
    pub fn new(actor: u8) -> Self {
        let doc = AutoCommit::new().with_actor(automerge::ActorId::from(vec![actor; 16]));
        Self { doc }
    }

    /// Continues a stored document with a new actor; `set` then returns only new changes.
    pub fn resume(stored: &StoredDoc, actor: u8) -> Self {
        let mut doc = AutoCommit::load(&stored.concatenated())
            .unwrap()
            .with_actor(automerge::ActorId::from(vec![actor; 16]));
        // A loaded AutoCommit has saved nothing yet: move its cursor past the stored changes.
        doc.save_incremental();
        Self { doc }
    }

    /// Sets `key` to `value` and returns the change's bytes.
    pub fn set(&mut self, key: &str, value: &str) -> Vec<u8> {
        self.doc.put(automerge::ROOT, key, value).unwrap();
        self.doc.commit();
        let bytes = self.doc.save_incremental();
        assert!(!bytes.is_empty());
        bytes
    }

    /// The writer's document as a plain `Automerge`.
    pub fn snapshot(&mut self) -> Automerge {
        Automerge::load(&self.doc.save()).unwrap()
    }
}

/// Loads a stored document with Automerge.
pub fn load(stored: &StoredDoc) -> Automerge {
    Automerge::load(&stored.concatenated()).unwrap()
}

/// Asserts two documents hold the same history and content.
pub fn assert_same(a: &Automerge, b: &Automerge) {
    let mut ha = a.get_heads();
    let mut hb = b.get_heads();
    ha.sort();
    hb.sort();
    assert_eq!(ha, hb, "heads differ");
    assert_eq!(a.hydrate(None), b.hydrate(None), "content differs");
}

/// The string value of `key` in the root map, if any.
pub fn get_str(doc: &Automerge, key: &str) -> Option<String> {
    match doc.get(automerge::ROOT, key).unwrap()? {
        (automerge::Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        _ => None,
    }
}
