//! The decoder against what a peer may send: every message round-trips, maps written the
//! way automerge-repo writes them decode, and hostile bytes are errors that name the fault,
//! never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;

use ciborium::Value;
use nic_model::DocumentId;
use nic_repo_wire::{DecodeError, Limits, Message, PeerMetadata, RemoteHeads, decode, encode};
use proptest::prelude::*;

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (Value::Text((*k).to_owned()), v.clone()))
            .collect(),
    )
}

fn t(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn doc() -> DocumentId {
    DocumentId::from_bytes([42; 16])
}

#[test]
fn a_join_as_automerge_repo_writes_it_decodes() {
    // Field order and extra fields as a JS client may send them.
    let bytes = cbor(&map(&[
        ("senderId", t("browser-tab-1")),
        ("type", t("join")),
        (
            "peerMetadata",
            map(&[
                ("storageId", t("idb-7")),
                ("isEphemeral", Value::Bool(false)),
            ]),
        ),
        ("supportedProtocolVersions", Value::Array(vec![t("1")])),
        ("somethingNewer", Value::Integer(3.into())),
    ]));
    assert_eq!(
        decode(&bytes, &Limits::default()).unwrap(),
        Message::Join {
            sender: "browser-tab-1".into(),
            supported_versions: vec!["1".into()],
            metadata: Some(PeerMetadata {
                storage_id: Some("idb-7".into()),
                is_ephemeral: false,
            }),
        }
    );
}

#[test]
fn a_sync_message_carries_its_document_id_in_automerge_repo_form() {
    let bytes = cbor(&map(&[
        ("type", t("sync")),
        ("documentId", t(&doc().to_string())),
        ("senderId", t("a")),
        ("targetId", t("hub")),
        ("data", Value::Bytes(vec![0x42, 1, 2])),
    ]));
    let Message::Sync { document, data, .. } = decode(&bytes, &Limits::default()).unwrap() else {
        panic!("not a sync message");
    };
    assert_eq!(document, doc());
    assert_eq!(data, [0x42, 1, 2]);
}

#[test]
fn hostile_messages_are_named_errors() {
    let limits = Limits::default();
    let err = |v: &Value| decode(&cbor(v), &limits).unwrap_err();
    assert_eq!(err(&Value::Array(vec![])), DecodeError::NotAMap);
    assert_eq!(
        err(&map(&[("type", t("launch-missiles"))])),
        DecodeError::UnknownType("launch-missiles".into())
    );
    assert_eq!(
        err(&map(&[("senderId", t("a"))])),
        DecodeError::Missing {
            kind: "message",
            field: "type"
        }
    );
    assert_eq!(
        err(&map(&[
            ("type", t("sync")),
            ("documentId", t(&doc().to_string()))
        ])),
        DecodeError::Missing {
            kind: "sync",
            field: "senderId"
        }
    );
    assert!(matches!(
        err(&map(&[
            ("type", t("request")),
            ("documentId", t("not-an-id")),
            ("senderId", t("a")),
            ("targetId", t("b")),
            ("data", Value::Bytes(vec![])),
        ])),
        DecodeError::Invalid {
            field: "documentId",
            ..
        }
    ));
    assert!(matches!(
        err(&map(&[
            ("type", t("sync")),
            ("documentId", t(&doc().to_string())),
            ("senderId", t("a")),
            ("targetId", t("b")),
            ("data", t("text, not bytes")),
        ])),
        DecodeError::Invalid { field: "data", .. }
    ));
    assert!(matches!(
        err(&map(&[
            ("type", t("ephemeral")),
            ("documentId", t(&doc().to_string())),
            ("senderId", t("a")),
            ("targetId", t("b")),
            ("count", Value::Integer((-1).into())),
            ("sessionId", t("s")),
            ("data", Value::Bytes(vec![])),
        ])),
        DecodeError::Invalid { field: "count", .. }
    ));
    // Not CBOR at all, and a truncated map.
    assert!(matches!(
        decode(&[0xff, 0x00], &limits),
        Err(DecodeError::NotCbor(_))
    ));
    let whole = encode(&Message::Leave { sender: "a".into() });
    assert!(matches!(
        decode(&whole[..whole.len() - 1], &limits),
        Err(DecodeError::NotCbor(_))
    ));
}

#[test]
fn size_is_checked_before_decoding_and_nesting_is_bounded() {
    let limits = Limits {
        max_message_bytes: 100,
        max_depth: 16,
    };
    let big = encode(&Message::Error {
        message: "x".repeat(200),
    });
    assert_eq!(
        decode(&big, &limits),
        Err(DecodeError::TooLarge {
            len: big.len(),
            max: 100
        })
    );
    // 100,000 nested arrays: refused without exhausting the stack.
    let mut deep = vec![0x81_u8; 100_000];
    deep.push(0x00);
    let limits = Limits::default();
    assert!(matches!(
        decode(&deep, &limits),
        Err(DecodeError::NotCbor(_))
    ));
}

fn peer_id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9-]{0,24}"
}

fn document() -> impl Strategy<Value = DocumentId> {
    any::<[u8; 16]>().prop_map(DocumentId::from_bytes)
}

fn metadata() -> impl Strategy<Value = Option<PeerMetadata>> {
    proptest::option::of((proptest::option::of(peer_id()), any::<bool>()).prop_map(
        |(storage_id, is_ephemeral)| PeerMetadata {
            storage_id,
            is_ephemeral,
        },
    ))
}

fn message() -> impl Strategy<Value = Message> {
    let bytes = proptest::collection::vec(any::<u8>(), 0..64);
    let texts = || proptest::collection::vec(peer_id(), 0..4);
    prop_oneof![
        (peer_id(), texts(), metadata()).prop_map(|(sender, supported_versions, metadata)| {
            Message::Join {
                sender,
                supported_versions,
                metadata,
            }
        }),
        (peer_id(), peer_id(), peer_id(), metadata()).prop_map(
            |(sender, selected_version, target, metadata)| Message::Peer {
                sender,
                selected_version,
                target,
                metadata,
            }
        ),
        peer_id().prop_map(|sender| Message::Leave { sender }),
        (
            document(),
            peer_id(),
            peer_id(),
            bytes.clone(),
            any::<bool>()
        )
            .prop_map(|(document, sender, target, data, request)| if request {
                Message::Request {
                    document,
                    sender,
                    target,
                    data,
                }
            } else {
                Message::Sync {
                    document,
                    sender,
                    target,
                    data,
                }
            }),
        (document(), peer_id(), peer_id()).prop_map(|(document, sender, target)| {
            Message::DocUnavailable {
                document,
                sender,
                target,
            }
        }),
        (
            document(),
            peer_id(),
            peer_id(),
            any::<u64>(),
            peer_id(),
            bytes
        )
            .prop_map(|(document, sender, target, count, session, data)| {
                Message::Ephemeral {
                    document,
                    sender,
                    target,
                    count,
                    session,
                    data,
                }
            }),
        ".{0,40}".prop_map(|message| Message::Error { message }),
        (peer_id(), peer_id(), texts(), texts()).prop_map(|(sender, target, add, remove)| {
            Message::RemoteSubscriptionChange {
                sender,
                target,
                add,
                remove,
            }
        }),
        (
            document(),
            peer_id(),
            peer_id(),
            proptest::collection::btree_map(peer_id(), (texts(), any::<u64>()), 0..3)
        )
            .prop_map(
                |(document, sender, target, heads)| Message::RemoteHeadsChanged {
                    document,
                    sender,
                    target,
                    new_heads: heads
                        .into_iter()
                        .map(|(k, (heads, timestamp))| (k, RemoteHeads { heads, timestamp }))
                        .collect::<BTreeMap<_, _>>(),
                }
            ),
    ]
}

proptest! {
    // proptest prints the failing case and keeps its seed in proptest-regressions/.
    #[test]
    fn every_message_round_trips(m in message()) {
        prop_assert_eq!(decode(&encode(&m), &Limits::default()).unwrap(), m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes, &Limits::default());
    }

    #[test]
    fn a_flipped_byte_in_a_real_message_is_an_error_or_a_message(
        m in message(),
        at in any::<prop::sample::Index>(),
        to in any::<u8>(),
    ) {
        let mut bytes = encode(&m);
        let i = at.index(bytes.len());
        bytes[i] = to;
        let _ = decode(&bytes, &Limits::default());
    }
}
