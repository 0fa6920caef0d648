//! `storage::commit`: actor bindings travel with the chunk they belong to.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, AutomergeError, ROOT};
use nic_model::{DocKind, DocMeta, DocumentId, MemberId, NetworkId, Visibility};
use nic_runtime::actor_key;
use nic_runtime::storage::{Group, Write, commit};
use nic_store::{Directory, Durability, MemStore, Store};

fn doc_with_change(actor: &[u8]) -> (DocMeta, Vec<u8>) {
    let meta = DocMeta {
        id: DocumentId::from_bytes([3; 16]),
        kind: DocKind::PdsaCycle,
        network: NetworkId::new("algebra").unwrap(),
        site: None,
        visibility: Visibility::Network,
        title: "cycle".into(),
        created_at_ms: 0,
        archived: false,
    };
    let mut am = Automerge::new();
    am.set_actor(ActorId::from(actor));
    am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "k", 1).map(|_| ()))
        .unwrap();
    (meta, am.save())
}

fn chunk(doc: DocumentId, seq: u64, bytes: &[u8], member: &str, actor: &[u8]) -> Write {
    Write::Chunk {
        doc,
        seq,
        chunk: bytes.to_vec(),
        authored: Some((MemberId::new(member).unwrap(), vec![actor.to_vec()])),
    }
}

#[test]
fn a_chunk_binds_its_actor_to_the_sender_in_the_same_commit() {
    let store = MemStore::new();
    let (meta, bytes) = doc_with_change(b"ana-laptop");
    store.put_meta(&meta).unwrap();
    let group = Group {
        writes: vec![chunk(meta.id, 1, &bytes, "ana", b"ana-laptop")],
    };
    let done = commit(&store, Some(&store), group, Durability::Process);
    assert_eq!(done.persisted, vec![(meta.id, 1)]);
    assert_eq!(
        store.actor_member(&actor_key(b"ana-laptop")).unwrap(),
        Some(MemberId::new("ana").unwrap())
    );
    assert_eq!(store.load(&meta.id).unwrap().unwrap().chunks.len(), 1);
}

#[test]
fn a_chunk_under_another_members_actor_is_refused_with_what_follows_it() {
    let store = MemStore::new();
    let (meta, bytes) = doc_with_change(b"ana-laptop");
    store.put_meta(&meta).unwrap();
    store
        .bind_actor(&actor_key(b"ana-laptop"), &MemberId::new("ana").unwrap())
        .unwrap();
    let (_, bea) = doc_with_change(b"bea-phone");
    let group = Group {
        writes: vec![
            chunk(meta.id, 1, &bytes, "bea", b"ana-laptop"),
            // Later in the same document: not written either, so persists stay in order.
            chunk(meta.id, 2, &bea, "bea", b"bea-phone"),
        ],
    };
    let done = commit(&store, Some(&store), group, Durability::Process);
    assert!(done.persisted.is_empty(), "{done:?}");
    assert_eq!(done.failed.len(), 2);
    assert_eq!(
        done.taken,
        vec![(b"ana-laptop".to_vec(), MemberId::new("ana").unwrap())]
    );
    // Nothing stored, and nothing bound for the refused message.
    assert!(store.load(&meta.id).unwrap().unwrap().chunks.is_empty());
    assert_eq!(store.actor_member(&actor_key(b"bea-phone")).unwrap(), None);
}
