//! Random frames at the hub's frame handling, in the normal test run: nothing panics, and
//! nothing is stored from a malformed frame. The fuzz target (`fuzz/`) runs the same harness
//! for longer; crashers it finds go into `fuzz/regressions/` and are replayed here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_hub::frame_check::FrameCheck;
use nic_proto::v1::{self, client_frame::Frame as C};
use nic_sync::automerge::{self, transaction::Transactable};
use proptest::prelude::*;
use prost::Message as _;

fn encode(frame: C) -> Vec<u8> {
    v1::ClientFrame { frame: Some(frame) }.encode_to_vec()
}

/// A frame-sized chunk of the stream: one length byte, then the frame.
fn framed(encoded: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::try_from(encoded.len()).unwrap_or(u8::MAX)];
    out.extend_from_slice(&encoded[..encoded.len().min(255)]);
    out
}

/// A `DocSync` frame for the check's document carrying `am`'s last change.
fn last_change_frame(check: &FrameCheck, am: &automerge::Automerge) -> Vec<u8> {
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
    encode(C::DocSync(v1::DocSync {
        doc_id: check.doc().to_string(),
        message: message.encode(),
    }))
}

#[test]
fn a_valid_change_is_stored_so_the_checks_below_mean_something() {
    let mut check = FrameCheck::new();
    let mut am = automerge::Automerge::new();
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        // A PDSA cycle (the hub stores only content that reads as its kind), with a key
        // the schema does not name.
        tx.put(automerge::ROOT, "kind", "pdsa_cycle")?;
        tx.put(automerge::ROOT, "k", 1).map(|_| ())
    })
    .unwrap();
    let bytes = last_change_frame(&check, &am);
    let mut outcome = nic_hub::frame_check::Outcome::default();
    check.feed_one(&bytes, &mut outcome);
    assert_eq!(outcome.stored.len(), 1);
    assert!(FrameCheck::stored_is_valid(&outcome));
}

#[test]
fn a_change_leaving_unreadable_content_is_not_stored() {
    let mut check = FrameCheck::new();
    let mut am = automerge::Automerge::new();
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(automerge::ROOT, "kind", "pdsa_cycle")?;
        tx.put(automerge::ROOT, "cycle_number", "two").map(|_| ())
    })
    .unwrap();
    let bytes = last_change_frame(&check, &am);
    let mut outcome = nic_hub::frame_check::Outcome::default();
    check.feed_one(&bytes, &mut outcome);
    assert!(
        outcome.stored.is_empty(),
        "a cycle_number that is a string was stored"
    );
}

#[test]
fn regressions_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let outcome = FrameCheck::new().feed(&bytes);
        assert!(
            FrameCheck::stored_is_valid(&outcome),
            "{}",
            entry.path().display()
        );
    }
}

fn sync_message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        // A sync message's version bytes, then noise.
        (
            prop_oneof![Just(0x42u8), Just(0x43u8)],
            proptest::collection::vec(any::<u8>(), 0..200)
        )
            .prop_map(|(v, mut rest)| {
                rest.insert(0, v);
                rest
            }),
    ]
}

fn client_frame(doc: String) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            sync_message(),
            prop_oneof![Just(doc.clone()), "[a-zA-Z0-9]{0,40}"]
        )
            .prop_map(|(message, doc_id)| encode(C::DocSync(v1::DocSync { doc_id, message }))),
        proptest::collection::vec("[a-zA-Z0-9]{0,30}", 0..4).prop_map(|doc_ids| {
            encode(C::Subscribe(v1::Subscribe {
                target: Some(v1::subscribe::Target::Docs(v1::DocIds { doc_ids })),
                known: Vec::new(),
            }))
        }),
        "[a-z-]{0,20}".prop_map(|network_id| {
            encode(C::Subscribe(v1::Subscribe {
                target: Some(v1::subscribe::Target::NetworkId(network_id)),
                known: Vec::new(),
            }))
        }),
        proptest::collection::vec(any::<u8>(), 0..120),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic_and_store_nothing_invalid(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let outcome = FrameCheck::new().feed(&bytes);
        prop_assert!(FrameCheck::stored_is_valid(&outcome));
    }

    #[test]
    fn random_frames_never_panic_and_malformed_ones_store_nothing(
        frames in proptest::collection::vec(client_frame(nic_model::DocumentId::from_bytes([7; 16]).to_string()), 1..12)
    ) {
        let mut check = FrameCheck::new();
        let stream: Vec<u8> = frames.iter().flat_map(|f| framed(f)).collect();
        let outcome = check.feed(&stream);
        // Random sync bytes are not a valid change: nothing of them is stored.
        prop_assert!(outcome.stored.is_empty(), "stored {} chunks", outcome.stored.len());
    }
}
