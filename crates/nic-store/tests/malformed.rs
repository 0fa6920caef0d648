//! Malformed input never panics a store: random or damaged chunks give `CorruptChunk` (and
//! change nothing), any bytes are a valid sync state, and damaged records on disk give
//! `CorruptRecord`.
//!
//! Proptest runs from a fixed seed (override with `NIC_STORE_PROPTEST_SEED`; `PROPTEST_CASES` sets
//! the number of cases); a failure prints
//! the shrunk input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::cell::Cell;
use std::path::Path;

use common::{Writer, doc_id, meta, peer};
use nic_model::{DocKind, DocumentId};
use nic_store::{ListFilter, MemStore, SledStore, Store, StoreError};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

fn runner(cases: u32) -> TestRunner {
    let env = |name: &str| std::env::var(name).ok().and_then(|s| s.parse().ok());
    let seed = env("NIC_STORE_PROPTEST_SEED").unwrap_or(0x5eed);
    TestRunner::new(Config {
        cases: env("PROPTEST_CASES").map_or(cases, |n: u64| n as u32),
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    })
}

/// A new document id for each case, so cases can share one store.
fn next_doc(counter: &Cell<u64>) -> DocumentId {
    counter.set(counter.get() + 1);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&counter.get().to_be_bytes());
    DocumentId::from_bytes(bytes)
}

/// Chunks worth feeding to Automerge's decoder: random bytes, valid changes or documents (all
/// by the same actor, so two of them may conflict), and such chunks truncated or with bytes
/// overwritten (random bytes rarely get past the header).
fn chunk() -> impl Strategy<Value = Vec<u8>> {
    let valid = (0u8..4, any::<bool>()).prop_map(|(n, snapshot)| {
        let mut writer = Writer::new(1);
        let mut last = Vec::new();
        for i in 0..=n {
            last = writer.set(&format!("k{i}"), "value");
        }
        if snapshot { writer.doc.save() } else { last }
    });
    let damaged = (
        valid.clone(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut bytes, edits, cut)| {
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            bytes.truncate(cut.index(bytes.len() + 1).max(1));
            bytes
        });
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => valid,
        2 => damaged,
    ]
}

/// Appends the chunks, then checks that load and compact behave.
fn check_chunks(store: &dyn Store, doc: DocumentId, chunks: &[Vec<u8>]) {
    store
        .put_meta(&meta(doc, "net", None, DocKind::Aim))
        .unwrap();
    for chunk in chunks {
        store.append(&doc, chunk).unwrap();
    }
    let before = store.load(&doc).unwrap().unwrap();
    assert_eq!(&before.chunks, chunks);
    match store.compact(&doc) {
        Ok(_) => {
            let after = store.load(&doc).unwrap().unwrap();
            assert!(after.chunks.len() <= 1);
            automerge::Automerge::load(&after.concatenated()).unwrap();
        }
        Err(StoreError::CorruptChunk { doc: d, .. }) => {
            assert_eq!(d, doc);
            assert_eq!(store.load(&doc).unwrap().unwrap(), before);
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn random_chunks_load_and_compact_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let sled = SledStore::open(dir.path().join("db")).unwrap();
    let mem = MemStore::new();
    let counter = Cell::new(0);
    let chunks = prop::collection::vec(chunk(), 0..4);
    runner(128)
        .run(&chunks, |chunks| {
            check_chunks(&mem, next_doc(&counter), &chunks);
            check_chunks(&sled, next_doc(&counter), &chunks);
            Ok(())
        })
        .unwrap();
}

#[test]
fn random_sync_states_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let sled = SledStore::open(dir.path().join("db")).unwrap();
    let mem = MemStore::new();
    let input = (
        any::<[u8; 16]>(),
        "[a-z0-9._-]{1,128}",
        prop::collection::vec(any::<u8>(), 0..600),
    );
    runner(128)
        .run(&input, |(doc, name, state)| {
            let (doc, peer) = (DocumentId::from_bytes(doc), peer(&name));
            for store in [&sled as &dyn Store, &mem] {
                store.put_sync_state(&peer, &doc, &state).unwrap();
                prop_assert_eq!(store.sync_state(&peer, &doc).unwrap(), Some(state.clone()));
            }
            Ok(())
        })
        .unwrap();
}

/// Opens the database at `path` once the previous handle's lock is gone: sled releases its
/// file lock only when its background flusher has let go of the dropped handle, a moment
/// after the drop, so opening at once can fail under load ("could not acquire lock").
fn when_unlocked<T, E: std::fmt::Debug>(open: impl Fn() -> Result<T, E>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match open() {
            Ok(db) => return db,
            Err(e) if format!("{e:?}").contains("could not acquire lock") => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the database stayed locked: {e:?}"
                );
                std::thread::yield_now();
            }
            Err(e) => panic!("cannot open the database: {e:?}"),
        }
    }
}

/// The store at `path`, once nothing else holds it.
fn reopen(path: &Path) -> SledStore {
    when_unlocked(|| SledStore::open(path))
}

/// Writes raw records into the store's sled trees, bypassing the store.
fn write_raw(path: &Path, records: &[(&str, &[u8], &[u8])]) {
    let db = when_unlocked(|| sled::open(path));
    for (tree, key, value) in records {
        db.open_tree(tree).unwrap().insert(key, *value).unwrap();
    }
    db.flush().unwrap();
}

fn is_corrupt_record<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::CorruptRecord { .. }))
}

#[test]
fn random_meta_records_give_corrupt_record() {
    let input = (prop::collection::vec(any::<u8>(), 0..300), 0usize..40);
    runner(24)
        .run(&input, |(json, key_len)| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("db");
            let doc = doc_id(1);
            // Both garbage under a good key, and a record (valid or not) under a bad key.
            let good = serde_json::to_vec(&meta(doc_id(2), "net", None, DocKind::Aim)).unwrap();
            let bad_key = vec![2u8; key_len];
            write_raw(
                &path,
                &[("meta", doc.as_bytes(), &json), ("meta", &bad_key, &good)],
            );
            let store = reopen(&path);
            match store.meta(&doc) {
                Ok(Some(m)) => prop_assert_eq!(m.id, doc), // the rare valid JSON
                other => prop_assert!(is_corrupt_record(other)),
            }
            prop_assert!(is_corrupt_record(store.list(&ListFilter::default())));
            Ok(())
        })
        .unwrap();
}

#[test]
fn damaged_chunk_and_stats_records_give_corrupt_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let (short_key, empty, bad_kind, bad_stats) = (doc_id(1), doc_id(2), doc_id(3), doc_id(4));
    {
        let store = SledStore::open(&path).unwrap();
        for doc in [short_key, empty, bad_kind, bad_stats] {
            store
                .put_meta(&meta(doc, "net", None, DocKind::Aim))
                .unwrap();
        }
    }
    let key = |doc: DocumentId, tail: &[u8]| [doc.as_bytes().as_slice(), tail].concat();
    write_raw(
        &path,
        &[
            ("chunks", &key(short_key, &[0, 1, 2]), &[0, 1]),
            ("chunks", &key(empty, &[0; 8]), &[]),
            ("chunks", &key(bad_kind, &[0; 8]), &[7, 1, 2]),
            ("doc_stats", bad_stats.as_bytes(), &[1, 2, 3]),
        ],
    );
    let store = reopen(&path);
    for doc in [short_key, empty, bad_kind] {
        assert!(is_corrupt_record(store.load(&doc)), "load {doc}");
        assert!(is_corrupt_record(store.compact(&doc)), "compact {doc}");
    }
    assert!(is_corrupt_record(store.append(&bad_stats, b"x")));
    assert!(store.load(&bad_stats).unwrap().unwrap().chunks.is_empty());
    // The damage stays with its document.
    let fine = doc_id(9);
    store
        .put_meta(&meta(fine, "net", None, DocKind::Aim))
        .unwrap();
    store.append(&fine, &Writer::new(1).set("a", "b")).unwrap();
    assert_eq!(store.load(&fine).unwrap().unwrap().chunks.len(), 1);
}
