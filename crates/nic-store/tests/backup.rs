//! `SledStore` backups: everything comes back in a new folder, a restored store goes on
//! numbering after the old one, a backup taken under concurrent writes is one moment of the
//! whole store, and a damaged file or a used folder is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{doc_id, meta, peer};
use nic_model::{AuditEntry, DocKind, Grants, Member, MemberId, Network, NetworkId, TokenId};
use nic_model::{TokenRecord, fixtures};
use nic_store::backup::{BackupError, BackupFile, BackupSummary};
use nic_store::{Batch, DirOp, Directory, MemStore, Op, SledStore, Store};

fn member(id: &str) -> Member {
    Member {
        id: MemberId::new(id).unwrap(),
        name: id.into(),
        grants: Grants(Vec::new()),
        created_at_ms: 3,
    }
}

fn audit(action: &str, target: &str) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at_ms: 5,
        by: MemberId::new("admin").unwrap(),
        action: action.into(),
        target: target.into(),
        network: None,
        detail: String::new(),
    }
}

fn backup_of(store: &SledStore, files: &[BackupFile<'_>]) -> (Vec<u8>, BackupSummary) {
    let mut out = Vec::new();
    let summary = store.backup(&mut out, files).unwrap();
    (out, summary)
}

/// Writes `bytes` to a file in `dir` and restores it into `dir/name`.
fn restore(
    dir: &std::path::Path,
    bytes: &[u8],
    name: &str,
) -> (std::path::PathBuf, Result<BackupSummary, BackupError>) {
    let file = dir.join(format!("{name}.nicbak"));
    std::fs::write(&file, bytes).unwrap();
    let target = dir.join(name);
    let result = SledStore::restore(&file, &target);
    (target, result)
}

#[test]
fn everything_comes_back_and_new_numbers_follow_the_old() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SledStore::open(tmp.path().join("live")).unwrap();
    let (a, b) = (doc_id(1), doc_id(2));
    let mut batch = Batch::default();
    batch
        .ops
        .push(Op::CreateMeta(meta(a, "algebra", None, DocKind::PdsaCycle)));
    batch
        .ops
        .push(Op::CreateMeta(meta(b, "algebra", None, DocKind::Aim)));
    batch.ops.push(Op::Append {
        doc: a,
        chunk: b"first".to_vec(),
    });
    store.write_batch(&batch).unwrap();
    store.append(&a, b"second").unwrap();
    store.append(&b, b"only").unwrap();
    store.put_sync_state(&peer("p"), &a, b"state").unwrap();
    let network = Network {
        id: NetworkId::new("algebra").unwrap(),
        name: "Algebra".into(),
        description: String::new(),
        min_cell_size: 10,
        created_at_ms: 1,
        public_dashboard: false,
    };
    let token = TokenRecord {
        id: TokenId::new("tok-ana").unwrap(),
        member: MemberId::new("ana").unwrap(),
        label: "laptop".into(),
        created_at_ms: 4,
        expires_at_ms: None,
        revoked_at_ms: None,
    };
    let first_seq = store
        .write_directory(
            &[DirOp::PutNetwork(network.clone())],
            Some(&audit("create_network", "algebra")),
        )
        .unwrap()
        .unwrap();
    store
        .write_directory(
            &[
                DirOp::PutMember(member("ana")),
                DirOp::PutToken {
                    hash: [9; 32],
                    record: token.clone(),
                },
            ],
            Some(&audit("add_member", "ana")),
        )
        .unwrap();
    store
        .bind_actor(b"actor-1", &MemberId::new("ana").unwrap())
        .unwrap();
    let old_audit = store.audit_log(0, 100).unwrap();

    let (bytes, written) = backup_of(
        &store,
        &[BackupFile {
            name: "admin-token",
            contents: b"the-secret\n",
        }],
    );
    assert_eq!(written.files, ["admin-token"]);
    assert_eq!(written.bytes, bytes.len() as u64);
    let (target, restored) = restore(tmp.path(), &bytes, "restored");
    assert_eq!(restored.unwrap(), written);
    assert_eq!(
        std::fs::read(target.join("admin-token")).unwrap(),
        b"the-secret\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&target.join("admin-token")), 0o600);
        assert_eq!(mode(&target), 0o700);
    }

    let copy = SledStore::open(&target).unwrap();
    assert_eq!(
        copy.list(&Default::default()).unwrap(),
        store.list(&Default::default()).unwrap()
    );
    for doc in [a, b] {
        assert_eq!(copy.load(&doc).unwrap(), store.load(&doc).unwrap());
    }
    assert_eq!(
        copy.sync_state(&peer("p"), &a).unwrap().as_deref(),
        Some(&b"state"[..])
    );
    assert_eq!(copy.networks().unwrap(), vec![network]);
    assert_eq!(copy.members().unwrap(), vec![member("ana")]);
    assert_eq!(copy.token_by_hash(&[9; 32]).unwrap(), Some(token));
    assert_eq!(
        copy.actor_member(b"actor-1").unwrap(),
        Some(MemberId::new("ana").unwrap())
    );
    assert_eq!(copy.audit_log(0, 100).unwrap(), old_audit);

    // The new database counts from 0 again: without the backup's next number, this chunk
    // would sort before the old ones and this entry would replace the first one.
    copy.append(&a, b"third").unwrap();
    let seq = copy
        .write_directory(&[], Some(&audit("restored", "hub")))
        .unwrap()
        .unwrap();
    assert!(seq > old_audit.last().unwrap().seq, "{seq}");
    let chunks = copy.load(&a).unwrap().unwrap().chunks;
    assert_eq!(chunks, [&b"first"[..], b"second", b"third"]);
    let log = copy.audit_log(0, 100).unwrap();
    assert_eq!(log.len(), old_audit.len() + 1);
    assert_eq!(log[0].seq, first_seq);
    assert_eq!(log[..old_audit.len()], old_audit[..]);
    // And again after a restart, when sled's own counter jumps ahead.
    drop(copy);
    let copy = SledStore::open(&target).unwrap();
    copy.append(&a, b"fourth").unwrap();
    assert_eq!(copy.load(&a).unwrap().unwrap().chunks.len(), 4);
    // A backup of the restored store carries on from its numbers.
    let (again, _) = backup_of(&copy, &[]);
    drop(copy);
    let (second, restored) = restore(tmp.path(), &again, "second");
    restored.unwrap();
    let copy = SledStore::open(&second).unwrap();
    copy.append(&a, b"fifth").unwrap();
    let chunks = copy.load(&a).unwrap().unwrap().chunks;
    assert_eq!(chunks.last().map(Vec::as_slice), Some(&b"fifth"[..]));
    assert_eq!(chunks.len(), 5);
}

#[test]
fn a_damaged_file_or_a_used_folder_is_refused_and_nothing_is_made() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SledStore::open(tmp.path().join("live")).unwrap();
    store.put_meta(&fixtures::meta(1, "algebra")).unwrap();
    store.append(&doc_id(1), &[5; 500]).unwrap();
    let (bytes, _) = backup_of(&store, &[]);

    let (target, result) = restore(tmp.path(), &bytes[..bytes.len() - 10], "cut");
    let err = result.unwrap_err();
    assert!(matches!(err, BackupError::Truncated { .. }), "{err}");
    assert!(err.to_string().contains("incomplete"), "{err}");
    assert!(
        !target.exists(),
        "a refused restore made {}",
        target.display()
    );

    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let (target, result) = restore(tmp.path(), &flipped, "flipped");
    let err = result.unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    assert!(!target.exists());

    let (target, result) = restore(tmp.path(), b"hello", "text");
    assert!(matches!(result, Err(BackupError::NotABackup)));
    assert!(!target.exists());

    let used = tmp.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("notes.txt"), "mine").unwrap();
    let file = tmp.path().join("good.nicbak");
    std::fs::write(&file, &bytes).unwrap();
    let err = SledStore::restore(&file, &used).unwrap_err();
    assert!(matches!(err, BackupError::TargetNotEmpty(_)), "{err}");
    assert_eq!(
        std::fs::read_dir(&used).unwrap().count(),
        1,
        "left as it was"
    );

    // An empty folder is fine (a mount point made for the purpose, say).
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    SledStore::restore(&file, &empty).unwrap();
    assert_eq!(
        SledStore::open(&empty).unwrap().load(&doc_id(1)).unwrap(),
        store.load(&doc_id(1)).unwrap()
    );
}

#[test]
fn stores_without_backups_of_their_own_say_so() {
    let err = MemStore::new().backup(&mut Vec::new(), &[]).unwrap_err();
    assert!(matches!(err, BackupError::Unsupported), "{err}");
    assert!(err.to_string().contains("pg_dump"), "{err}");
}

/// Writes per writer thread in the concurrency test: bounded, so the test is too.
const WRITES: u64 = 3_000;

/// Writers keep writing pairs that must always be seen together — one batch appending to two
/// documents, a member written with its audit entry — while backups are taken one after
/// another. Every backup must hold both halves of each pair or neither, and everything
/// written before it started. (Without the write gate, the first rounds already copy a
/// batch in part: sled's iterators see writes made while they run.)
#[test]
fn a_backup_under_concurrent_writes_is_one_moment() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(tmp.path().join("live")).unwrap());
    let (a, b) = (doc_id(1), doc_id(2));
    store.put_meta(&fixtures::meta(1, "algebra")).unwrap();
    store.put_meta(&fixtures::meta(2, "algebra")).unwrap();
    let (pairs, members) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let chunk_writer = {
        let (store, pairs) = (store.clone(), pairs.clone());
        std::thread::spawn(move || {
            for i in 1..=WRITES {
                let chunk = i.to_be_bytes().to_vec();
                let batch = Batch {
                    ops: vec![
                        Op::Append {
                            doc: a,
                            chunk: chunk.clone(),
                        },
                        Op::Append { doc: b, chunk },
                    ],
                };
                store.write_batch(&batch).unwrap();
                pairs.store(i, Ordering::SeqCst);
            }
        })
    };
    let member_writer = {
        let (store, members) = (store.clone(), members.clone());
        std::thread::spawn(move || {
            for i in 1..=WRITES {
                let m = member(&format!("m{i}"));
                store
                    .write_directory(&[DirOp::PutMember(m)], Some(&audit("add_member", "m")))
                    .unwrap();
                members.store(i, Ordering::SeqCst);
            }
        })
    };
    let (mut rounds, mut mid_way) = (0, 0);
    let writing = || !chunk_writer.is_finished() || !member_writer.is_finished();
    while writing() || rounds == 0 {
        let (done_pairs, done_members) =
            (pairs.load(Ordering::SeqCst), members.load(Ordering::SeqCst));
        let (bytes, _) = backup_of(&store, &[]);
        let (target, result) = restore(tmp.path(), &bytes, &format!("round-{rounds}"));
        result.unwrap();
        let copy = SledStore::open(&target).unwrap();
        let (in_a, in_b) = (
            copy.load(&a).unwrap().unwrap().chunks,
            copy.load(&b).unwrap().unwrap().chunks,
        );
        assert_eq!(in_a, in_b, "round {rounds}: a batch was copied in part");
        assert!(
            in_a.len() as u64 >= done_pairs,
            "round {rounds}: lost pairs"
        );
        let (listed, logged) = (
            copy.members().unwrap().len(),
            copy.audit_log(0, usize::MAX).unwrap().len(),
        );
        assert_eq!(
            listed, logged,
            "round {rounds}: a member without its audit entry"
        );
        assert!(
            listed as u64 >= done_members,
            "round {rounds}: lost members"
        );
        let all = WRITES as usize;
        mid_way += usize::from(in_a.len() < all || listed < all);
        drop(copy);
        std::fs::remove_dir_all(&target).unwrap();
        rounds += 1;
    }
    chunk_writer.join().unwrap();
    member_writer.join().unwrap();
    println!("{rounds} backups, {mid_way} of them taken while the writers were writing");
    assert!(
        mid_way > 0,
        "no backup overlapped the writes; the test proved nothing"
    );
}
