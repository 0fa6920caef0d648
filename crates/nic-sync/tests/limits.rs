//! Document limits on a hub: changes that would cost more than the limits once decompressed
//! are refused before Automerge decodes them, and nothing of them is stored; a stored
//! document beyond the limits is not loaded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use automerge::transaction::Transactable;
use automerge::{Automerge, AutomergeError, ChangeHash, ROOT, ReadDoc};
use common::*;
use nic_model::DocumentId;
use nic_sync::inspect::Limits;
use nic_sync::{Ctx, Engine, EngineConfig, ErrorCode, Frame, Target};

/// Sends `changes` to the hub from `from` as one sync message, as a client that does not
/// wait for the exchange would.
fn force(net: &mut Net, from: &str, doc: DocumentId, heads: Vec<ChangeHash>, changes: Vec<u8>) {
    let message = automerge::sync::Message {
        heads,
        need: vec![],
        have: vec![],
        changes: vec![changes].into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    net.wire.push((
        from.into(),
        "hub".into(),
        Frame::Sync {
            doc,
            message: message.encode(),
        },
    ));
    net.pump();
    net.flush_hub();
    net.pump();
}

fn error_messages(net: &Net, name: &str) -> Vec<String> {
    net.frames_to(name)
        .into_iter()
        .filter_map(|f| match f {
            Frame::Error { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_change_holding_a_compressed_fifty_megabyte_string_is_refused_and_nothing_stored() {
    let (mut net, doc) = writer_and_reader(1);
    let hub_heads = net.hub.doc(&doc).unwrap().get_heads();
    let stored_before = net.hub_stored[&doc].len();
    let mut bomb = net.hub.doc(&doc).unwrap().fork();
    bomb.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "s", "a".repeat(50 << 20)).map(|_| ()))
        .unwrap();
    let mut change = bomb.get_changes(&hub_heads).pop().unwrap();
    let packed = change.bytes().to_vec();
    assert!(packed.len() < 100_000, "{} bytes on the wire", packed.len());
    net.log.clear();
    force(&mut net, "writer", doc, bomb.get_heads(), packed);
    assert_eq!(net.hub.doc(&doc).unwrap().get_heads(), hub_heads);
    assert_eq!(
        net.hub_stored[&doc].len(),
        stored_before,
        "nothing was stored"
    );
    assert_eq!(net.errors_to("writer"), vec![ErrorCode::ResourceExhausted]);
    let said = error_messages(&net, "writer").join("");
    assert!(
        said.contains("bytes once decompressed, more than the limit of 16777216"),
        "{said}"
    );
    // The document goes on for everyone else.
    net.edit("reader", doc, "still-here");
    net.pump();
    net.flush_hub();
    net.pump();
    assert!(
        net.hub
            .doc(&doc)
            .unwrap()
            .get(ROOT, "still-here")
            .unwrap()
            .is_some()
    );
}

/// A hub whose documents may hold at most `max_ops` operations, with one busy document
/// (11 operations) that a writer and a reader hold.
fn small_hub(max_ops: u64) -> (Net, DocumentId) {
    let mut net = Net::new();
    let mut config = EngineConfig::hub();
    config.persist_sync_state = false;
    config.doc_limits = Some(Limits {
        max_ops,
        ..Limits::DEFAULT
    });
    net.hub = Engine::new(config);
    let m = meta(2, "algebra");
    let doc = m.id;
    net.create_busy(m);
    net.flush_hub();
    for name in ["writer", "reader"] {
        net.add_replica(name);
        net.subscribe(name, Target::Docs(vec![doc]));
    }
    net.pump();
    net.flush_hub();
    net.pump();
    (net, doc)
}

#[test]
fn a_document_does_not_grow_past_the_limits_through_accepted_changes() {
    let (mut net, doc) = small_hub(15);
    let mut am: Automerge = net.hub.doc(&doc).unwrap().fork();
    let start = am.get_heads();
    for i in 0..4 {
        am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, format!("more-{i}"), i).map(|_| ()))
            .unwrap();
    }
    let fits: Vec<u8> = am.save_after(&start);
    force(&mut net, "writer", doc, am.get_heads(), fits);
    assert_eq!(
        net.hub.doc(&doc).unwrap().get_heads(),
        am.get_heads(),
        "15 operations fit"
    );
    assert!(net.errors_to("writer").is_empty());

    let stored_before = net.hub_stored[&doc].len();
    let heads = am.get_heads();
    am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "one-too-many", 1).map(|_| ()))
        .unwrap();
    net.log.clear();
    force(
        &mut net,
        "writer",
        doc,
        am.get_heads(),
        am.save_after(&heads),
    );
    assert_eq!(net.hub.doc(&doc).unwrap().get_heads(), heads);
    assert_eq!(
        net.hub_stored[&doc].len(),
        stored_before,
        "nothing was stored"
    );
    assert_eq!(net.errors_to("writer"), vec![ErrorCode::ResourceExhausted]);
    let said = error_messages(&net, "writer").join("");
    assert!(
        said.contains("would grow") && said.contains("at least 16 operations"),
        "{said}"
    );
}

#[test]
fn a_stored_document_beyond_the_limits_is_not_loaded() {
    let mut net = Net::new();
    let mut config = EngineConfig::hub();
    config.persist_sync_state = false;
    config.doc_limits = Some(Limits {
        max_ops: 5,
        ..Limits::DEFAULT
    });
    net.hub = Engine::new(config);
    let m = meta(3, "algebra");
    let doc = m.id;
    let mut big = seeded_doc();
    for i in 0..10 {
        big.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, format!("k{i}"), i).map(|_| ()))
            .unwrap();
    }
    net.hub_stored.insert(doc, vec![big.save()]);
    net.hub.catalogue(Ctx::new(0, &net.rights), m);
    net.add_replica("reader");
    net.subscribe("reader", Target::Docs(vec![doc]));
    net.pump();
    assert!(net.hub.doc(&doc).is_none());
    assert!(
        net.errors_to("reader")
            .contains(&ErrorCode::ResourceExhausted)
    );
    let said = error_messages(&net, "reader").join("");
    assert!(
        said.contains("too large to load: at least 11 operations"),
        "{said}"
    );
}

/// A sync message from `from` whose summary carries a Bloom filter of one entry with this
/// header, and an empty last sync: the hub checks all its changes against it.
fn send_bloom(net: &mut Net, from: &str, doc: DocumentId, bits_per_entry: u8, probes: &[u8]) {
    let mut bytes = vec![1, bits_per_entry];
    bytes.extend(probes);
    bytes.extend(std::iter::repeat_n(
        0xff,
        usize::from(bits_per_entry).div_ceil(8),
    ));
    let bloom = automerge::sync::BloomFilter::try_from(bytes.as_slice()).unwrap();
    let message = automerge::sync::Message {
        heads: vec![],
        need: vec![],
        have: vec![automerge::sync::Have {
            last_sync: vec![],
            bloom,
        }],
        changes: automerge::sync::ChunkList::empty(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    net.log.clear();
    net.wire.push((
        from.into(),
        "hub".into(),
        Frame::Sync {
            doc,
            message: message.encode(),
        },
    ));
    net.pump();
}

#[test]
fn a_bloom_filter_without_bits_does_not_unload_the_document() {
    let (mut net, doc) = writer_and_reader(4);
    send_bloom(&mut net, "reader", doc, 0, &[7]);
    assert_eq!(net.errors_to("reader"), vec![ErrorCode::InvalidArgument]);
    assert!(net.errors_to("writer").is_empty());
    assert!(net.hub.doc(&doc).is_some(), "the document stays loaded");
}

#[test]
fn a_bloom_filter_asking_for_billions_of_probes_is_refused() {
    let (mut net, doc) = writer_and_reader(5);
    // u32::MAX probes per hash: 16 GB for each of the hub's changes.
    send_bloom(&mut net, "reader", doc, 10, &[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert_eq!(net.errors_to("reader"), vec![ErrorCode::InvalidArgument]);
    let said = error_messages(&net, "reader").join("");
    assert!(said.contains("4294967295 probes"), "{said}");
    assert!(net.hub.doc(&doc).is_some());
}
