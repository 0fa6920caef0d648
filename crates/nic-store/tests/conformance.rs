//! One behaviour, three stores: every check here runs against `MemStore`, `SledStore` and
//! `PgStore` (on a throwaway PostgreSQL server, a database per check), so the simulation (on
//! MemStore) tests the semantics the hub has on either of its stores.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use common::{Writer, assert_same, doc_id, load, meta, peer};
use nic_model::{DocKind, SiteId, Visibility};
use nic_store::pg_cluster::PgCluster;
use nic_store::{
    Batch, CompactionPolicy, Durability, ListFilter, MemStore, Op, PgConfig, PgStore, SledConfig,
    SledStore, Store, StoreError,
};
use tempfile::TempDir;

/// A store under test, and the folder that must outlive it (for SledStore).
type Made = (Box<dyn Store>, Option<TempDir>);
/// Makes a fresh, empty store with the given policy.
type Make = fn(CompactionPolicy) -> Made;

fn mem(policy: CompactionPolicy) -> Made {
    (Box::new(MemStore::with_policy(policy)), None)
}

fn sled(policy: CompactionPolicy) -> Made {
    let dir = tempfile::tempdir().unwrap();
    let config = SledConfig {
        compaction: policy,
        cache_capacity_bytes: 8 * 1024 * 1024,
    };
    let store = SledStore::open_with(dir.path().join("db"), config).unwrap();
    (Box::new(store), Some(dir))
}

fn pg(policy: CompactionPolicy) -> Made {
    let cluster =
        PgCluster::shared().expect("a throwaway PostgreSQL server (scripts/postgres installs it)");
    let url = cluster.new_database().unwrap();
    let config = PgConfig {
        compaction: policy,
        connections: 4,
    };
    (Box::new(PgStore::open_with(&url, config).unwrap()), None)
}

/// Instantiates every check for one store.
macro_rules! conformance {
    ($module:ident, $make:ident) => {
        mod $module {
            conformance!(@each $make;
                meta_round_trips_and_is_replaced,
                invalid_meta_is_refused,
                list_applies_every_filter_field,
                appends_load_in_order,
                unknown_documents_load_as_none_and_refuse_writes,
                compaction_keeps_the_document,
                compaction_due_follows_the_policy,
                corrupt_chunk_fails_compaction_and_changes_nothing,
                compacting_a_document_without_chunks_does_nothing,
                sync_states_round_trip_and_overwrite,
                batch_applies_every_op,
                failed_batch_leaves_nothing,
                concurrent_appends_and_compactions_lose_nothing,
                racing_creations_of_one_id_have_exactly_one_winner,
            );
        }
    };
    (@each $make:ident; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                super::checks::$check(super::$make as super::Make);
            }
        )*
    };
}

conformance!(mem_store, mem);
conformance!(sled_store, sled);
conformance!(pg_store, pg);

mod checks {
    use super::*;

    pub fn meta_round_trips_and_is_replaced(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let mut m = meta(doc_id(1), "net", Some("site"), DocKind::PdsaCycle);
        store.put_meta(&m).unwrap();
        assert_eq!(store.meta(&m.id).unwrap(), Some(m.clone()));
        m.title = "renamed".into();
        m.archived = true;
        store.put_meta(&m).unwrap();
        assert_eq!(store.meta(&m.id).unwrap(), Some(m));
        assert_eq!(store.meta(&doc_id(2)).unwrap(), None);
    }

    pub fn invalid_meta_is_refused(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let mut m = meta(doc_id(1), "net", None, DocKind::Aim);
        m.visibility = Visibility::Site;
        assert!(matches!(
            store.put_meta(&m),
            Err(StoreError::InvalidMeta(_))
        ));
        assert_eq!(store.meta(&m.id).unwrap(), None);
    }

    pub fn list_applies_every_filter_field(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        // Written out of id order, to check that list sorts by id.
        let docs = [
            meta(doc_id(5), "a", Some("s1"), DocKind::PdsaCycle),
            meta(doc_id(1), "a", Some("s2"), DocKind::PdsaCycle),
            meta(doc_id(3), "a", None, DocKind::Aim),
            meta(doc_id(4), "b", Some("s1"), DocKind::PdsaCycle),
            {
                let mut m = meta(doc_id(2), "a", Some("s1"), DocKind::PdsaCycle);
                m.archived = true;
                m
            },
        ];
        for m in &docs {
            store.put_meta(m).unwrap();
        }
        let ids = |filter: ListFilter| -> Vec<u8> {
            let listed = store.list(&filter).unwrap();
            listed.iter().map(|m| m.id.as_bytes()[0]).collect()
        };
        assert_eq!(ids(ListFilter::default()), [1, 3, 4, 5]);
        let all = ListFilter {
            include_archived: true,
            ..ListFilter::default()
        };
        assert_eq!(ids(all.clone()), [1, 2, 3, 4, 5]);
        let net_a = ListFilter {
            network: Some(docs[0].network.clone()),
            ..ListFilter::default()
        };
        assert_eq!(ids(net_a.clone()), [1, 3, 5]);
        let site_s1 = ListFilter {
            site: Some(SiteId::new("s1").unwrap()),
            ..net_a.clone()
        };
        assert_eq!(ids(site_s1.clone()), [5]);
        assert_eq!(
            ids(ListFilter {
                include_archived: true,
                ..site_s1
            }),
            [2, 5]
        );
        let aims = ListFilter {
            kind: Some(DocKind::Aim),
            ..ListFilter::default()
        };
        assert_eq!(ids(aims), [3]);
    }

    pub fn appends_load_in_order(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let m = meta(doc_id(1), "net", None, DocKind::Aim);
        store.put_meta(&m).unwrap();
        assert_eq!(
            store.load(&m.id).unwrap().unwrap().chunks,
            Vec::<Vec<u8>>::new()
        );
        let mut writer = Writer::new(1);
        let chunks: Vec<Vec<u8>> = (0..20).map(|i| writer.set(&format!("k{i}"), "v")).collect();
        for chunk in &chunks {
            assert!(!store.append(&m.id, chunk).unwrap().compaction_due);
        }
        let stored = store.load(&m.id).unwrap().unwrap();
        assert_eq!(stored.meta, m);
        assert_eq!(stored.chunks, chunks);
        assert_same(&load(&stored), &writer.snapshot());
    }

    pub fn unknown_documents_load_as_none_and_refuse_writes(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let id = doc_id(9);
        assert!(store.load(&id).unwrap().is_none());
        assert!(matches!(store.append(&id, b"x"), Err(StoreError::UnknownDocument(d)) if d == id));
        assert!(matches!(
            store.compact(&id),
            Err(StoreError::UnknownDocument(_))
        ));
        assert!(store.load(&id).unwrap().is_none());
    }

    pub fn compaction_keeps_the_document(make: Make) {
        let policy = CompactionPolicy::default();
        let (store, _dir) = make(policy);
        let id = doc_id(1);
        store
            .put_meta(&meta(id, "net", None, DocKind::MeasureData))
            .unwrap();
        let mut writer = Writer::new(1);
        let mut first_due = None;
        for i in 0..300 {
            let outcome = store
                .append(&id, &writer.set(&format!("k{i}"), "v"))
                .unwrap();
            if outcome.compaction_due && first_due.is_none() {
                first_due = Some(i);
            }
        }
        // Small changes: the chunk count, not the byte size, makes compaction due.
        assert_eq!(first_due, Some(policy.max_incremental_chunks - 1));

        let outcome = store.compact(&id).unwrap();
        assert_eq!(outcome.chunks_replaced, 300);
        let stored = store.load(&id).unwrap().unwrap();
        assert_eq!(stored.chunks.len(), 1);
        assert_eq!(stored.chunks[0].len(), outcome.snapshot_bytes);
        assert_same(&load(&stored), &writer.snapshot());

        // Appends after compaction load after the snapshot.
        for i in 300..310 {
            let outcome = store
                .append(&id, &writer.set(&format!("k{i}"), "v"))
                .unwrap();
            assert!(!outcome.compaction_due);
        }
        let stored = store.load(&id).unwrap().unwrap();
        assert_eq!(stored.chunks.len(), 11);
        assert_same(&load(&stored), &writer.snapshot());
        assert_eq!(store.compact(&id).unwrap().chunks_replaced, 11);
        assert_same(
            &load(&store.load(&id).unwrap().unwrap()),
            &writer.snapshot(),
        );
    }

    pub fn compaction_due_follows_the_policy(make: Make) {
        let policy = CompactionPolicy {
            max_incremental_chunks: 1000,
            min_incremental_bytes: 2000,
        };
        let (store, _dir) = make(policy);
        let id = doc_id(1);
        store
            .put_meta(&meta(id, "net", None, DocKind::Aim))
            .unwrap();
        let mut writer = Writer::new(1);
        // Values that do not compress, so the sizes grow steadily.
        let value = |i: u64| -> String {
            (0..300)
                .map(|j| char::from(b'a' + ((i * 7919 + j * 104_729) % 26) as u8))
                .collect()
        };
        let (mut snapshot, mut bytes, mut count) = (0, 0, 0);
        let mut compactions = 0;
        for i in 0..60 {
            let chunk = writer.set(&format!("k{i}"), &value(i));
            bytes += chunk.len();
            count += 1;
            let due = store.append(&id, &chunk).unwrap().compaction_due;
            assert_eq!(due, policy.is_due(snapshot, bytes, count), "append {i}");
            if due {
                snapshot = store.compact(&id).unwrap().snapshot_bytes;
                (bytes, count) = (0, 0);
                compactions += 1;
            }
        }
        assert!(compactions >= 2, "only {compactions} compactions");
        assert_same(
            &load(&store.load(&id).unwrap().unwrap()),
            &writer.snapshot(),
        );
    }

    pub fn corrupt_chunk_fails_compaction_and_changes_nothing(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let id = doc_id(1);
        store
            .put_meta(&meta(id, "net", None, DocKind::Aim))
            .unwrap();
        let mut writer = Writer::new(1);
        store.append(&id, &writer.set("a", "1")).unwrap();
        store.append(&id, b"definitely not automerge").unwrap();
        let before = store.load(&id).unwrap();
        assert!(
            matches!(store.compact(&id), Err(StoreError::CorruptChunk { doc, .. }) if doc == id)
        );
        assert_eq!(store.load(&id).unwrap(), before);
    }

    pub fn compacting_a_document_without_chunks_does_nothing(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let id = doc_id(1);
        store
            .put_meta(&meta(id, "net", None, DocKind::Aim))
            .unwrap();
        let outcome = store.compact(&id).unwrap();
        assert_eq!((outcome.chunks_replaced, outcome.snapshot_bytes), (0, 0));
        assert!(store.load(&id).unwrap().unwrap().chunks.is_empty());
    }

    pub fn sync_states_round_trip_and_overwrite(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let (a, ab) = (peer("a"), peer("ab"));
        let (d1, d2) = (doc_id(1), doc_id(2));
        assert_eq!(store.sync_state(&a, &d1).unwrap(), None);
        store.put_sync_state(&a, &d1, b"one").unwrap();
        store.put_sync_state(&ab, &d1, b"two").unwrap();
        store.put_sync_state(&a, &d2, b"").unwrap();
        assert_eq!(
            store.sync_state(&a, &d1).unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(
            store.sync_state(&ab, &d1).unwrap().as_deref(),
            Some(&b"two"[..])
        );
        assert_eq!(
            store.sync_state(&a, &d2).unwrap().as_deref(),
            Some(&b""[..])
        );
        store.put_sync_state(&a, &d1, b"three").unwrap();
        assert_eq!(
            store.sync_state(&a, &d1).unwrap().as_deref(),
            Some(&b"three"[..])
        );
        assert_eq!(store.sync_state(&ab, &d2).unwrap(), None);
    }

    pub fn batch_applies_every_op(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let m = meta(doc_id(1), "net", None, DocKind::Aim);
        let mut writer = Writer::new(1);
        let (c1, c2) = (writer.set("a", "1"), writer.set("b", "2"));
        let mut batch = Batch::new();
        batch
            .push(Op::PutMeta(m.clone()))
            .push(Op::Append {
                doc: m.id,
                chunk: c1.clone(),
            })
            .push(Op::PutSyncState {
                peer: peer("p"),
                doc: m.id,
                state: b"s".to_vec(),
            })
            .push(Op::Append {
                doc: m.id,
                chunk: c2.clone(),
            });
        let outcomes = store.write_batch(&batch).unwrap();
        assert_eq!(outcomes.len(), 2);
        assert!(store.write_batch(&Batch::new()).unwrap().is_empty());
        store.flush(Durability::Process).unwrap();
        let stored = store.load(&m.id).unwrap().unwrap();
        assert_eq!(
            (stored.meta.clone(), stored.chunks.clone()),
            (m.clone(), vec![c1, c2])
        );
        assert_same(&load(&stored), &writer.snapshot());
        assert_eq!(
            store.sync_state(&peer("p"), &m.id).unwrap().as_deref(),
            Some(&b"s"[..])
        );
    }

    pub fn failed_batch_leaves_nothing(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let known = meta(doc_id(1), "net", None, DocKind::Aim);
        store.put_meta(&known).unwrap();
        let mut writer = Writer::new(1);
        store.append(&known.id, &writer.set("a", "1")).unwrap();
        let before = store.load(&known.id).unwrap();
        let created = meta(doc_id(2), "net", None, DocKind::Aim);
        let appended = Op::Append {
            doc: known.id,
            chunk: writer.set("b", "2"),
        };
        let synced = Op::PutSyncState {
            peer: peer("p"),
            doc: known.id,
            state: b"s".to_vec(),
        };

        let mut unknown_doc = Batch::new();
        unknown_doc
            .push(Op::PutMeta(created.clone()))
            .push(appended.clone())
            .push(synced.clone())
            .push(Op::Append {
                doc: doc_id(3),
                chunk: b"x".to_vec(),
            });
        let err = store.write_batch(&unknown_doc).unwrap_err();
        assert!(
            matches!(err, StoreError::UnknownDocument(d) if d == doc_id(3)),
            "{err}"
        );

        let mut invalid_meta = Batch::new();
        let mut bad = created.clone();
        bad.visibility = Visibility::Site;
        invalid_meta
            .push(appended)
            .push(synced)
            .push(Op::PutMeta(bad));
        assert!(matches!(
            store.write_batch(&invalid_meta),
            Err(StoreError::InvalidMeta(_))
        ));

        assert_eq!(store.meta(&created.id).unwrap(), None);
        assert_eq!(store.load(&known.id).unwrap(), before);
        assert_eq!(store.sync_state(&peer("p"), &known.id).unwrap(), None);
    }

    pub fn racing_creations_of_one_id_have_exactly_one_winner(make: Make) {
        let (store, _dir) = make(CompactionPolicy::default());
        let store: &dyn Store = &*store;
        for round in 0..50u8 {
            let id = doc_id(100 + round);
            // Four creators of one id, each with its own network and content.
            let outcomes: Vec<(u8, Result<(), StoreError>)> = std::thread::scope(|scope| {
                let handles: Vec<_> = (1..=4u8)
                    .map(|actor| {
                        scope.spawn(move || {
                            let mut writer = Writer::new(actor);
                            let mut batch = Batch::new();
                            batch
                                .push(Op::CreateMeta(meta(
                                    id,
                                    &format!("net{actor}"),
                                    None,
                                    DocKind::Aim,
                                )))
                                .push(Op::Append {
                                    doc: id,
                                    chunk: writer.set("by", &actor.to_string()),
                                });
                            (actor, store.write_batch(&batch).map(|_| ()))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let winners: Vec<u8> = outcomes
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|(a, _)| *a)
                .collect();
            assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
            for (_, outcome) in &outcomes {
                if let Err(e) = outcome {
                    assert!(matches!(e, StoreError::AlreadyExists(d) if *d == id), "{e}");
                }
            }
            // The winner's metadata and only its chunk.
            let stored = store.load(&id).unwrap().unwrap();
            assert_eq!(stored.meta.network.as_str(), format!("net{}", winners[0]));
            assert_eq!(stored.chunks.len(), 1, "round {round}");
        }
    }

    pub fn concurrent_appends_and_compactions_lose_nothing(make: Make) {
        let policy = CompactionPolicy {
            max_incremental_chunks: 8,
            min_incremental_bytes: usize::MAX,
        };
        let (store, _dir) = make(policy);
        let store: &dyn Store = &*store;
        let id = doc_id(1);
        store
            .put_meta(&meta(id, "net", None, DocKind::Aim))
            .unwrap();
        // Four writers with their own actors: their changes are independent, so any order of
        // arrival loads. Each compacts when told to, racing the others' appends.
        let writers: Vec<Writer> = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..=4u8)
                .map(|actor| {
                    scope.spawn(move || {
                        let mut writer = Writer::new(actor);
                        for i in 0..40 {
                            let chunk = writer.set(&format!("a{actor}-{i}"), "v");
                            let batched = i % 3 == 0;
                            let due = if batched {
                                let mut batch = Batch::new();
                                batch.push(Op::Append { doc: id, chunk });
                                store.write_batch(&batch).unwrap()[0].compaction_due
                            } else {
                                store.append(&id, &chunk).unwrap().compaction_due
                            };
                            if due {
                                store.compact(&id).unwrap();
                            }
                        }
                        writer
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let loaded = load(&store.load(&id).unwrap().unwrap());
        let mut expected = automerge::Automerge::new();
        for mut writer in writers {
            expected.merge(&mut writer.snapshot()).unwrap();
        }
        assert_same(&loaded, &expected);
    }
}

#[test]
fn mem_store_clones_share_data() {
    let store = MemStore::new();
    let restarted = store.clone();
    let m = meta(doc_id(1), "net", None, DocKind::Aim);
    store.put_meta(&m).unwrap();
    store.append(&m.id, b"chunk").unwrap();
    drop(store);
    assert_eq!(
        restarted.load(&m.id).unwrap().unwrap().chunks,
        vec![b"chunk".to_vec()]
    );
}

#[test]
fn sled_store_reopens_with_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let m = meta(doc_id(1), "net", Some("s"), DocKind::PdsaCycle);
    let other = meta(doc_id(2), "net", None, DocKind::Aim);
    let mut writer = Writer::new(1);
    let before = {
        let store = SledStore::open(&path).unwrap();
        store.put_meta(&m).unwrap();
        store.put_meta(&other).unwrap();
        for i in 0..10 {
            store
                .append(&m.id, &writer.set(&format!("k{i}"), "v"))
                .unwrap();
        }
        store.compact(&m.id).unwrap();
        store
            .append(&m.id, &writer.set("after", "compaction"))
            .unwrap();
        store.put_sync_state(&peer("p"), &m.id, b"state").unwrap();
        store.flush(Durability::PowerSafe).unwrap();
        store.load(&m.id).unwrap().unwrap()
    };
    let store = SledStore::open(&path).unwrap();
    let after = store.load(&m.id).unwrap().unwrap();
    assert_eq!(after, before);
    assert_eq!(after.chunks.len(), 2);
    assert_same(&load(&after), &writer.snapshot());
    assert_eq!(store.meta(&other.id).unwrap(), Some(other));
    assert_eq!(store.list(&ListFilter::default()).unwrap().len(), 2);
    assert_eq!(
        store.sync_state(&peer("p"), &m.id).unwrap().as_deref(),
        Some(&b"state"[..])
    );
    // New appends still sort after the snapshot written before the reopen.
    store.append(&m.id, &writer.set("reopened", "yes")).unwrap();
    assert_same(
        &load(&store.load(&m.id).unwrap().unwrap()),
        &writer.snapshot(),
    );
}
