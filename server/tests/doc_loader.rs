//! The document loader under limits, in the normal test run: arbitrary and damaged
//! Automerge bytes never panic the inspector, and whatever passes it decodes to no more than
//! it measured; bombs are refused. The fuzz target (`fuzz/fuzz_targets/doc_loader.rs`) runs
//! the same harness for longer under a memory limit; crashers it finds go into
//! `fuzz/regressions_doc_loader/` and are replayed here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_hub::doc_check::{self, LIMITS, Outcome};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, ObjType, ROOT};
use nic_sync::inspect::{InspectError, Limit};
use proptest::prelude::*;

#[test]
fn regressions_replay() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions_doc_loader");
    let mut replayed = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let outcome = doc_check::check(&bytes, &LIMITS);
        assert!(
            outcome.within_measure(),
            "{}: {outcome:?}",
            entry.path().display()
        );
        replayed += 1;
    }
    assert!(
        replayed > 0,
        "the regressions folder holds at least the seed bomb"
    );
}

#[test]
fn real_documents_load_and_bombs_are_refused() {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "title", "Warm-up problems").unwrap();
    tx.commit();
    assert!(matches!(
        doc_check::check(&doc.save(), &LIMITS),
        Outcome::Loaded {
            ops: 1,
            changes: 1,
            ..
        }
    ));
    // Two megabytes of one letter: a few kilobytes saved, twice the byte limit inflated.
    let mut tx = doc.transaction();
    tx.put(ROOT, "notes", "a".repeat(2 << 20)).unwrap();
    tx.commit();
    let bomb = doc.save();
    assert!(bomb.len() < 10_000);
    assert!(matches!(
        doc_check::check(&bomb, &LIMITS),
        Outcome::Refused(InspectError::TooLarge {
            limit: Limit::Bytes,
            ..
        })
    ));
}

/// One commit of a generated document.
fn build(edits: &[(u8, u16)]) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let list = tx.put_object(ROOT, "list", ObjType::List).unwrap();
    let text = tx.put_object(ROOT, "text", ObjType::Text).unwrap();
    tx.commit();
    for (kind, n) in edits {
        let n = usize::from(*n);
        let mut tx = doc.transaction();
        match kind % 3 {
            0 => tx.put(ROOT, format!("k{}", n % 7), "x".repeat(n)).unwrap(),
            1 => (0..n % 50).for_each(|i| tx.insert(&list, 0, i as i64).unwrap()),
            _ => tx
                .splice_text(&text, 0, 0, &"é".repeat(n % 80 + 1))
                .unwrap(),
        }
        tx.commit();
    }
    doc
}

/// A document's bytes in one of the forms the hub meets them.
fn form(doc: &Automerge, which: u8) -> Vec<u8> {
    match which % 4 {
        0 => doc.save(),
        1 => doc.save_nocompress(),
        2 => doc.save_after(&[]),
        _ => doc
            .get_changes(&[])
            .into_iter()
            .flat_map(|mut c| c.bytes().to_vec())
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_pass_only_within_what_they_measure(
        head in prop::sample::select(vec![
            vec![],
            vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0],
            vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1],
            vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2],
        ]),
        tail in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut bytes = head;
        bytes.extend(tail);
        let outcome = doc_check::check(&bytes, &LIMITS);
        prop_assert!(outcome.within_measure(), "{:?}", outcome);
    }

    #[test]
    fn damaged_documents_pass_only_within_what_they_measure(
        edits in prop::collection::vec((any::<u8>(), 0u16..3000), 1..8),
        which in any::<u8>(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let doc = build(&edits);
        let mut bytes = form(&doc, which);
        let whole = doc_check::check(&bytes, &LIMITS);
        prop_assert!(matches!(whole, Outcome::Loaded { .. } | Outcome::Refused(InspectError::TooLarge { .. })), "{:?}", whole);
        prop_assert!(whole.within_measure());
        for (at, byte) in damage {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let outcome = doc_check::check(&bytes, &LIMITS);
        prop_assert!(outcome.within_measure(), "{:?}", outcome);
    }
}
