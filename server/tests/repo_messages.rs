//! Random automerge-repo WebSocket messages at the hub, in the normal test run: the decoder
//! never panics, decodes back what it encodes, and nothing invalid is stored from `request`
//! or `sync` messages (`nic_hub::frame_check::FrameCheck::feed_repo`, which the fuzz target
//! `fuzz/fuzz_targets/repo_messages.rs` runs for longer; its crashers go into
//! `fuzz/regressions_repo/` and are replayed here).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_hub::frame_check::FrameCheck;
use nic_model::DocumentId;
use nic_repo_wire::Message;
use nic_sync::automerge::{self, transaction::Transactable};
use proptest::prelude::*;

/// One message as `feed_repo` reads it: two bytes of length, then the message.
fn framed(encoded: &[u8]) -> Vec<u8> {
    let len = u16::try_from(encoded.len()).unwrap_or(u16::MAX);
    let mut out = len.to_le_bytes().to_vec();
    out.extend_from_slice(&encoded[..usize::from(len)]);
    out
}

fn sync(doc: DocumentId, data: Vec<u8>) -> Vec<u8> {
    nic_repo_wire::encode(&Message::Sync {
        document: doc,
        sender: "fuzz".into(),
        target: "nic-hub".into(),
        data,
    })
}

#[test]
fn a_valid_change_in_a_sync_message_is_stored_so_the_checks_below_mean_something() {
    let mut check = FrameCheck::new();
    let mut am = automerge::Automerge::new();
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, "kind", "pdsa_cycle")?;
        tx.put(automerge::ROOT, "k", 1).map(|_| ())
    })
    .unwrap();
    let message = automerge::sync::Message {
        heads: am.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: automerge::sync::ChunkList::from(vec![
            am.get_last_local_change().unwrap().raw_bytes().to_vec(),
        ]),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    let outcome = check.feed_repo(&framed(&sync(check.doc(), message.encode())));
    assert_eq!(outcome.frames, 1);
    assert_eq!(outcome.stored.len(), 1);
    assert!(FrameCheck::stored_is_valid(&outcome));
}

#[test]
fn regressions_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions_repo");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let outcome = FrameCheck::new().feed_repo(&bytes);
        assert!(
            FrameCheck::stored_is_valid(&outcome),
            "{}",
            entry.path().display()
        );
        assert_eq!(outcome.roundtrip_failures, 0, "{}", entry.path().display());
    }
}

/// A message as a hostile client might send it: well-formed ones with random contents, and
/// well-formed ones damaged at a random byte.
fn message(doc: DocumentId) -> impl Strategy<Value = Vec<u8>> {
    let data = proptest::collection::vec(any::<u8>(), 0..200);
    let other = any::<[u8; 16]>().prop_map(DocumentId::from_bytes);
    let well_formed = prop_oneof![
        (prop_oneof![Just(doc), other.clone()], data.clone()).prop_map(|(d, data)| sync(d, data)),
        (
            prop_oneof![Just(doc), other],
            data.clone(),
            any::<u64>(),
            "[a-z0-9]{0,12}"
        )
            .prop_map(|(d, data, count, session)| {
                nic_repo_wire::encode(&Message::Ephemeral {
                    document: d,
                    sender: "fuzz".into(),
                    target: "hub".into(),
                    count,
                    session,
                    data,
                })
            }),
        ("[ -~]{0,20}", proptest::collection::vec("[0-9]", 0..3)).prop_map(|(sender, versions)| {
            nic_repo_wire::encode(&Message::Join {
                sender,
                supported_versions: versions,
                metadata: None,
            })
        }),
    ];
    prop_oneof![
        well_formed.clone(),
        (well_formed, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(mut m, at, b)| {
            let i = at.index(m.len());
            m[i] = b;
            m
        }),
        proptest::collection::vec(any::<u8>(), 0..120),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic_and_store_nothing_invalid(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let outcome = FrameCheck::new().feed_repo(&bytes);
        prop_assert!(FrameCheck::stored_is_valid(&outcome));
        prop_assert_eq!(outcome.roundtrip_failures, 0);
    }

    #[test]
    fn hostile_messages_never_panic_and_random_sync_bytes_store_nothing(
        messages in proptest::collection::vec(message(DocumentId::from_bytes([7; 16])), 1..12)
    ) {
        let mut check = FrameCheck::new();
        let stream: Vec<u8> = messages.iter().flat_map(|m| framed(m)).collect();
        let outcome = check.feed_repo(&stream);
        prop_assert_eq!(outcome.roundtrip_failures, 0);
        // Random sync bytes are not a valid change: nothing of them is stored.
        prop_assert!(outcome.stored.is_empty(), "stored {} chunks", outcome.stored.len());
    }
}
