//! Engine behaviour between a hub and replicas, pumped by hand so each step can be checked.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ROOT, ReadDoc};
use nic_model::{DocMeta, DocumentId, NetworkId};
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, ErrorCode, Frame, LoadResult, Target};
use proptest::prelude::*;

mod common;
use common::*;

#[test]
fn changes_spread_and_are_acked_only_once_durable_on_the_hub() {
    let mut net = Net::new();
    let m = meta(1, "algebra");
    let doc = m.id;
    net.create(m);
    net.flush_hub();
    net.add_replica("a");
    net.add_replica("b");
    net.subscribe("a", Target::Docs(vec![doc]));
    net.subscribe("b", Target::Network(NetworkId::new("algebra").unwrap()));
    net.pump();
    net.flush_hub();
    net.pump();

    net.log.clear();
    net.edit("a", doc, "prediction");
    net.pump();
    assert_eq!(
        net.replicas["a"].pending_changes(&doc, &peer("hub")),
        Some(1)
    );
    // Nothing is durable on the hub yet: no ack, and no other peer has the change.
    assert!(
        net.replicas["b"]
            .doc(&doc)
            .unwrap()
            .get(ROOT, "prediction")
            .unwrap()
            .is_none()
    );
    assert!(
        net.hub
            .doc(&doc)
            .unwrap()
            .get(ROOT, "prediction")
            .unwrap()
            .is_none()
    );
    assert!(
        !net.frames_to("a")
            .iter()
            .any(|f| matches!(f, Frame::Ack { .. }))
    );

    net.flush_hub();
    net.pump();
    assert!(
        net.replicas["b"]
            .doc(&doc)
            .unwrap()
            .get(ROOT, "prediction")
            .unwrap()
            .is_some()
    );
    let a_heads = net.replicas["a"].doc(&doc).unwrap().get_heads();
    let acks: Vec<_> = net
        .frames_to("a")
        .into_iter()
        .filter_map(|f| match f {
            Frame::Ack { heads, .. } => Some(heads.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(acks, vec![a_heads.clone()]);
    assert_eq!(
        net.replicas["a"].acked_heads(&doc, &peer("hub")),
        Some(a_heads.as_slice())
    );
    assert_eq!(
        net.replicas["a"].pending_changes(&doc, &peer("hub")),
        Some(0)
    );
    // b's copy holds only changes that came from the hub: nothing of its own is pending.
    assert_eq!(
        net.replicas["b"].pending_changes(&doc, &peer("hub")),
        Some(0)
    );
    // b only read: it is owed no ack.
    assert!(
        !net.frames_to("b")
            .iter()
            .any(|f| matches!(f, Frame::Ack { .. }))
    );
    assert_eq!(net.hub.doc(&doc).unwrap().get_heads(), a_heads);
    assert_eq!(net.replicas["b"].doc(&doc).unwrap().get_heads(), a_heads);
}

#[test]
fn settled_links_send_nothing() {
    let mut net = Net::new();
    let m = meta(2, "algebra");
    let doc = m.id;
    net.create(m);
    net.add_replica("a");
    net.subscribe("a", Target::Docs(vec![doc]));
    net.pump();
    net.flush_hub();
    net.pump();
    assert!(net.hub.is_settled() && net.replicas["a"].is_settled());
    net.now += 1_000_000;
    net.hub.tick(Ctx::new(net.now, &net.rights));
    net.replicas
        .get_mut("a")
        .unwrap()
        .tick(Ctx::new(net.now, &AllowAll));
    assert!(net.hub.take_effects().is_empty());
    assert!(net.replicas.get_mut("a").unwrap().take_effects().is_empty());
}

#[test]
fn a_peer_that_may_not_read_gets_nothing() {
    let mut net = Net::new();
    let m = meta(3, "algebra");
    let doc = m.id;
    net.create(m);
    net.rights.no_read.borrow_mut().insert("a".into());
    net.add_replica("a");
    net.subscribe("a", Target::Docs(vec![doc]));
    net.subscribe("a", Target::Network(NetworkId::new("algebra").unwrap()));
    net.pump();
    assert_eq!(net.errors_to("a"), vec![ErrorCode::PermissionDenied]);
    // Beyond the refusal, only empty subscription answers (each caught up at once):
    // nothing about the document.
    for frame in net.frames_to("a") {
        match frame {
            Frame::Error { .. } | Frame::CaughtUp { .. } => {}
            Frame::Subscribed { docs, .. } => assert!(docs.is_empty(), "{frame:?}"),
            other => panic!("a reader without rights was sent {other:?}"),
        }
    }
}

#[test]
fn changes_without_write_rights_are_refused_and_never_stored() {
    let mut net = Net::new();
    let m = meta(4, "algebra");
    let doc = m.id;
    net.create(m);
    net.flush_hub();
    net.rights.no_write.borrow_mut().insert("a".into());
    net.add_replica("a");
    net.subscribe("a", Target::Docs(vec![doc]));
    net.pump();
    let stored_before = net.hub_stored[&doc].len();
    let hub_heads = net.hub.doc(&doc).unwrap().get_heads();

    // A well-behaved replica learns it is read-only and keeps its edit to itself.
    net.edit("a", doc, "local-only");
    net.pump();
    assert_eq!(net.hub.doc(&doc).unwrap().get_heads(), hub_heads);

    // A forged message carrying a change is refused outright.
    let mut forged = net.hub.doc(&doc).unwrap().fork();
    forged
        .transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "sneaky", 1).map(|_| ()))
        .unwrap();
    let change = forged.get_changes(&hub_heads).pop().unwrap();
    let message = automerge::sync::Message {
        heads: forged.get_heads(),
        need: vec![],
        have: vec![],
        changes: vec![change.raw_bytes().to_vec()].into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    net.log.clear();
    net.wire.push((
        "a".into(),
        "hub".into(),
        Frame::Sync {
            doc,
            message: message.encode(),
        },
    ));
    net.pump();
    net.flush_hub();
    assert_eq!(net.hub.doc(&doc).unwrap().get_heads(), hub_heads);
    assert_eq!(
        net.hub_stored[&doc].len(),
        stored_before,
        "nothing of the refused change was stored"
    );
    assert_eq!(net.errors_to("a"), vec![ErrorCode::PermissionDenied]);
}

#[test]
fn a_reader_whose_right_is_revoked_stops_receiving_at_once() {
    let mut net = Net::new();
    let m = meta(5, "algebra");
    let doc = m.id;
    net.create(m);
    net.add_replica("a");
    net.add_replica("b");
    net.subscribe("a", Target::Docs(vec![doc]));
    net.subscribe("b", Target::Docs(vec![doc]));
    net.pump();
    net.flush_hub();
    net.pump();

    net.rights.no_read.borrow_mut().insert("b".into());
    net.log.clear();
    net.edit("a", doc, "after-revocation");
    net.pump();
    net.flush_hub();
    net.pump();
    let to_b = net.frames_to("b");
    assert!(
        to_b.iter().all(|f| matches!(
            f,
            Frame::Error {
                code: ErrorCode::PermissionDenied,
                ..
            }
        )),
        "{to_b:?}"
    );
    assert!(!to_b.is_empty());
    assert!(
        net.replicas["b"]
            .doc(&doc)
            .unwrap()
            .get(ROOT, "after-revocation")
            .unwrap()
            .is_none()
    );
}

#[test]
fn unknown_documents_are_not_found() {
    let mut net = Net::new();
    net.add_replica("a");
    net.subscribe("a", Target::Docs(vec![DocumentId::from_bytes([9; 16])]));
    net.pump();
    assert_eq!(net.errors_to("a"), vec![ErrorCode::NotFound]);
}

#[test]
fn new_documents_are_announced_to_network_subscribers() {
    let mut net = Net::new();
    net.add_replica("a");
    net.subscribe("a", Target::Network(NetworkId::new("algebra").unwrap()));
    net.pump();
    let m = meta(6, "algebra");
    let other = meta(7, "geometry");
    net.create(m.clone());
    net.create(other.clone());
    net.flush_hub();
    net.pump();
    let announced: Vec<DocumentId> = net
        .frames_to("a")
        .into_iter()
        .filter_map(|f| match f {
            Frame::Announce(meta) => Some(meta.id),
            _ => None,
        })
        .collect();
    assert_eq!(announced, vec![m.id]);
    let replica = &net.replicas["a"];
    assert_eq!(
        replica.doc(&m.id).unwrap().get_heads(),
        net.hub.doc(&m.id).unwrap().get_heads()
    );
    assert_eq!(replica.meta(&m.id), Some(&m));
    assert!(replica.doc(&other.id).is_none());
}

#[test]
fn malformed_sync_messages_are_invalid_arguments() {
    let mut net = Net::new();
    let m = meta(8, "algebra");
    let doc = m.id;
    net.create(m);
    net.add_replica("a");
    net.hub.receive(
        Ctx::new(0, &net.rights),
        &peer("a"),
        Frame::Sync {
            doc,
            message: vec![0x42, 1, 2],
        },
    );
    net.drain_hub();
    net.pump();
    assert_eq!(net.errors_to("a"), vec![ErrorCode::InvalidArgument]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_sync_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256), version in prop_oneof![Just(0x42u8), Just(0x43u8), any::<u8>()]) {
        let mut net = Net::new();
        let m = meta(10, "algebra");
        let doc = m.id;
        net.create(m);
        net.add_replica("a");
        let mut message = vec![version];
        message.extend(body);
        net.hub.receive(Ctx::new(0, &net.rights), &peer("a"), Frame::Sync { doc, message });
        net.drain_hub();
        // The hub still serves the document afterwards.
        prop_assert!(net.hub.doc(&doc).is_some());
    }

    #[test]
    fn random_stored_chunks_never_panic(chunk in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut engine = Engine::new(EngineConfig::hub());
        let m = meta(11, "algebra");
        let ctx = Ctx::new(0, &AllowAll);
        engine.catalogue(ctx, m.clone());
        engine.peer_connected(ctx, peer("a"));
        engine.receive(
            ctx,
            &peer("a"),
            Frame::Subscribe {
                target: Target::Docs(vec![m.id]),
                known: Vec::new(),
            },
        );
        engine.loaded(ctx, m.id, LoadResult::Found { meta: None, chunks: vec![chunk] });
        let _ = engine.take_effects();
    }
}

#[test]
fn an_edit_touches_only_its_document() {
    let mut net = Net::new();
    let metas: Vec<DocMeta> = (0..200u8).map(|n| meta(n, "algebra")).collect();
    for m in &metas {
        net.create(m.clone());
    }
    net.flush_hub();
    for name in ["a", "b", "c"] {
        net.add_replica(name);
        net.subscribe(name, Target::Network(NetworkId::new("algebra").unwrap()));
    }
    net.pump();
    net.flush_hub();
    net.pump();
    assert!(net.hub.is_settled());

    let doc = metas[17].id;
    net.log.clear();
    net.edit("a", doc, "only-here");
    net.pump();
    net.flush_hub();
    net.pump();
    assert!(!net.log.is_empty());
    for (_, _, frame) in &net.log {
        match frame {
            Frame::Sync { doc: d, .. } | Frame::Ack { doc: d, .. } => assert_eq!(*d, doc),
            other => panic!("unexpected frame {other:?}"),
        }
    }
    // Three replicas, one change: a handful of messages, not one per document.
    assert!(net.log.len() <= 12, "{} frames for one edit", net.log.len());
    for name in ["b", "c"] {
        assert_eq!(
            net.replicas[name].doc(&doc).unwrap().get_heads(),
            net.hub.doc(&doc).unwrap().get_heads()
        );
    }
}

#[test]
fn a_v2_message_with_several_changes_in_one_chunk_is_accepted() {
    let mut net = Net::new();
    let m = meta(12, "algebra");
    let doc = m.id;
    net.create(m);
    net.flush_hub();
    net.add_replica("a");
    net.subscribe("a", Target::Docs(vec![doc]));
    net.pump();
    let hub_heads = net.hub.doc(&doc).unwrap().get_heads();
    let mut theirs = net.hub.doc(&doc).unwrap().fork();
    for key in ["one", "two"] {
        theirs
            .transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, key, 1).map(|_| ()))
            .unwrap();
    }
    // Automerge's V2 messages concatenate changes into a single chunk.
    let joined: Vec<u8> = theirs
        .get_changes(&hub_heads)
        .iter()
        .flat_map(|c| c.raw_bytes().to_vec())
        .collect();
    let message = automerge::sync::Message {
        heads: theirs.get_heads(),
        need: vec![],
        have: vec![],
        changes: vec![joined].into(),
        flags: None,
        version: automerge::sync::MessageVersion::V2,
    };
    net.log.clear();
    net.wire.push((
        "a".into(),
        "hub".into(),
        Frame::Sync {
            doc,
            message: message.encode(),
        },
    ));
    net.pump();
    net.flush_hub();
    net.pump();
    assert!(net.errors_to("a").is_empty(), "{:?}", net.frames_to("a"));
    assert_eq!(net.hub.doc(&doc).unwrap().get_heads(), theirs.get_heads());
}

#[test]
fn idle_documents_are_evicted_and_reload_on_demand() {
    let mut net = Net::new();
    let metas: Vec<DocMeta> = (20..30u8).map(|n| meta(n, "algebra")).collect();
    for m in &metas {
        net.create(m.clone());
    }
    net.flush_hub();
    assert_eq!(net.hub.loaded_count(), 10);
    net.add_replica("a");
    net.subscribe("a", Target::Docs(vec![metas[0].id]));
    net.pump();
    net.flush_hub();
    net.pump();
    // Nine are idle; the linked one stays.
    assert_eq!(net.hub.evict_idle(0), 9);
    assert_eq!(net.hub.loaded_count(), 1);
    assert!(net.hub.doc(&metas[0].id).is_some());
    // An evicted document loads again when a peer asks for it.
    net.subscribe("a", Target::Docs(vec![metas[5].id]));
    net.pump();
    assert_eq!(
        net.replicas["a"].doc(&metas[5].id).unwrap().get_heads(),
        net.hub.doc(&metas[5].id).unwrap().get_heads()
    );
}

#[test]
fn durable_changes_reach_settled_readers_by_one_shared_relay() {
    let mut net = Net::new();
    let m = meta(9, "algebra");
    let doc = m.id;
    net.create_busy(m);
    net.flush_hub();
    for name in ["writer", "r1", "r2", "observer"] {
        net.add_replica(name);
        net.subscribe(name, Target::Docs(vec![doc]));
    }
    // The observer may read but not write: its relays carry the read-only flag.
    net.rights.no_write.borrow_mut().insert("observer".into());
    net.pump();
    net.flush_hub();
    net.pump();
    assert!(net.hub.is_settled());

    for round in 0..5 {
        let before = net.hub.stats();
        net.log.clear();
        net.edit("writer", doc, &format!("measure-{round}"));
        net.pump();
        net.flush_hub();
        net.pump();
        let after = net.hub.stats();
        // Each of the three readers got the change by the fast path, not by an exchange.
        assert_eq!(after.fast_relays - before.fast_relays, 3, "round {round}");
        let relayed: Vec<&Vec<u8>> = ["r1", "r2"]
            .iter()
            .flat_map(|r| net.frames_to(r))
            .filter_map(|f| match f {
                Frame::Sync { message, .. } => Some(message),
                _ => None,
            })
            .collect();
        // Readers standing at the same heads get the very same bytes.
        assert_eq!(relayed.len(), 2, "round {round}");
        assert_eq!(relayed[0], relayed[1]);
        let heads = net.replicas["writer"].doc(&doc).unwrap().get_heads();
        for name in ["r1", "r2", "observer"] {
            assert_eq!(net.replicas[name].doc(&doc).unwrap().get_heads(), heads);
        }
        assert_eq!(net.hub.doc(&doc).unwrap().get_heads(), heads);
    }
    assert!(net.hub.is_settled());
    for engine in net.replicas.values() {
        assert!(engine.is_settled());
    }
}

#[test]
fn a_relay_is_a_sync_message_plain_automerge_understands() {
    let (mut net, doc) = writer_and_reader(10);
    net.log.clear();
    net.edit("writer", doc, "aim");
    net.pump();
    net.flush_hub();
    net.pump();
    assert_eq!(net.hub.stats().fast_relays, 1);
    // The reader's copy before the relay, fed the relay through Automerge's own API.
    let relay = net
        .frames_to("reader")
        .into_iter()
        .find_map(|f| match f {
            Frame::Sync { message, .. } => Some(message.clone()),
            _ => None,
        })
        .unwrap();
    let message = automerge::sync::Message::decode(&relay).unwrap();
    let mut plain = net.hub.doc(&doc).unwrap().clone();
    let writer_heads = net.replicas["writer"].doc(&doc).unwrap().get_heads();
    assert_eq!(message.heads, writer_heads);
    // A plain Automerge document at the relay's starting point takes it as any sync message.
    let mut fresh = plain.fork_at(&message.have[0].last_sync).unwrap();
    assert!(fresh.get(ROOT, "aim").unwrap().is_none());
    use automerge::sync::SyncDoc;
    let mut state = automerge::sync::State::new();
    fresh.receive_sync_message(&mut state, message).unwrap();
    assert_eq!(fresh.get_heads(), writer_heads);
    assert!(fresh.get(ROOT, "aim").unwrap().is_some());
    plain.merge(&mut fresh).unwrap();
    assert_eq!(plain.get_heads(), writer_heads);
}

#[test]
fn a_replica_merges_messages_that_arrive_together_and_answers_once() {
    let (mut net, doc) = writer_and_reader(11);
    // Three edits reach the hub and are relayed while the reader is not reading. Each comes
    // after the resync interval, so the hub counts the unanswered relay as lost and relays
    // again rather than holding back.
    let mut held = Vec::new();
    for i in 0..3 {
        net.now += 10_000;
        net.edit("writer", doc, &format!("note-{i}"));
        held.extend(net.pump_holding("reader"));
        net.flush_hub();
        held.extend(net.pump_holding("reader"));
    }
    let syncs = held
        .iter()
        .filter(|f| matches!(f, Frame::Sync { .. }))
        .count();
    assert!(syncs >= 3, "{held:?}");
    let reader = net.replicas.get_mut("reader").unwrap();
    reader.receive_all(Ctx::new(0, &AllowAll), &peer("hub"), held);
    let answers: Vec<Effect> = reader
        .take_effects()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Send {
                    frame: Frame::Sync { .. },
                    ..
                }
            )
        })
        .collect();
    assert_eq!(answers.len(), 1, "{answers:?}");
    let heads = net.replicas["writer"].doc(&doc).unwrap().get_heads();
    assert_eq!(net.replicas["reader"].doc(&doc).unwrap().get_heads(), heads);
    // The one answer settles the link on both sides.
    for effect in answers {
        if let Effect::Send { frame, .. } = effect {
            net.wire.push(("reader".into(), "hub".into(), frame));
        }
    }
    net.pump();
    net.flush_hub();
    net.pump();
    assert!(net.hub.is_settled());
    assert!(net.replicas["reader"].is_settled());
}

#[test]
fn a_hub_holds_relays_from_a_peer_that_has_not_answered_then_sends_them_in_one_message() {
    let (mut net, doc) = writer_and_reader(12);
    let mut held = Vec::new();
    for i in 0..4 {
        net.edit("writer", doc, &format!("note-{i}"));
        held.extend(net.pump_holding("reader"));
        net.flush_hub();
        held.extend(net.pump_holding("reader"));
    }
    // Only the first edit went out; the other three wait for the reader's answer.
    let first = sync_messages(&held);
    assert_eq!(first.len(), 1, "{held:?}");
    assert_eq!(first[0].changes.iter().count(), 1);
    assert_eq!(net.hub.stats().relays_held, 3);
    for frame in held {
        net.deliver("hub".into(), "reader".into(), frame);
    }
    // The reader's answer brings the other three in one message.
    net.log.clear();
    let caught_up = net.pump_holding("reader");
    let batch = sync_messages(&caught_up);
    assert_eq!(batch.len(), 1, "{caught_up:?}");
    assert_eq!(net.hub.stats().catch_ups, 1);
    let before = net.replicas["reader"].doc(&doc).unwrap().get_heads();
    let merged = net.replicas["reader"].stats();
    for frame in caught_up {
        net.deliver("hub".into(), "reader".into(), frame);
    }
    let reader = net.replicas["reader"].doc(&doc).unwrap();
    assert_eq!(reader.get_changes(&before).len(), 3);
    // One Automerge merge took all three.
    let stats = net.replicas["reader"].stats();
    assert_eq!(stats.merges - merged.merges, 1);
    assert_eq!(stats.changes_merged - merged.changes_merged, 3);
    net.pump();
    let heads = net.replicas["writer"].doc(&doc).unwrap().get_heads();
    assert_eq!(net.replicas["reader"].doc(&doc).unwrap().get_heads(), heads);
    assert!(net.hub.is_settled());
    assert!(net.replicas["reader"].is_settled());
}

#[test]
fn a_held_back_peer_that_never_answers_is_relayed_to_again_after_the_resync_interval() {
    let (mut net, doc) = writer_and_reader(13);
    net.edit("writer", doc, "note-0");
    let mut lost = net.pump_holding("reader");
    net.flush_hub();
    lost.extend(net.pump_holding("reader"));
    assert_eq!(sync_messages(&lost).len(), 1);
    // The relay is lost; a second edit is held back behind it.
    net.edit("writer", doc, "note-1");
    net.pump_holding("reader");
    net.flush_hub();
    assert!(sync_messages(&net.pump_holding("reader")).is_empty());
    assert_eq!(net.hub.stats().relays_held, 1);
    // Once the interval has passed, the hub's tick starts over with the reader.
    net.now += 60_000;
    net.hub.tick(Ctx::new(net.now, &net.rights));
    net.drain_hub();
    net.pump();
    net.flush_hub();
    net.pump();
    let heads = net.replicas["writer"].doc(&doc).unwrap().get_heads();
    assert_eq!(net.replicas["reader"].doc(&doc).unwrap().get_heads(), heads);
    assert!(net.hub.is_settled());
}

#[test]
fn a_change_whose_ack_was_lost_counts_as_saved_once_the_hubs_heads_cover_it() {
    let (mut net, doc) = writer_and_reader(40);
    net.edit("writer", doc, "finding");
    net.pump();
    net.flush_hub();
    // The ack is lost with the connection.
    let held = net.pump_holding("writer");
    assert!(held.iter().any(|f| matches!(f, Frame::Ack { .. })));
    let hub = peer("hub");
    assert_eq!(net.replicas["writer"].pending_changes(&doc, &hub), Some(1));
    // Reconnect: the fresh exchange shows the hub holds the change, though no ack comes.
    let ctx = Ctx::new(net.now, &AllowAll);
    net.replicas
        .get_mut("writer")
        .unwrap()
        .peer_disconnected(ctx, &hub);
    net.hub
        .peer_disconnected(Ctx::new(net.now, &net.rights), &peer("writer"));
    net.replicas
        .get_mut("writer")
        .unwrap()
        .peer_connected(ctx, hub.clone());
    net.hub
        .peer_connected(Ctx::new(net.now, &net.rights), peer("writer"));
    net.log.clear();
    net.subscribe("writer", Target::Docs(vec![doc]));
    net.pump();
    assert!(
        !net.frames_to("writer")
            .iter()
            .any(|f| matches!(f, Frame::Ack { .. })),
        "nothing new to acknowledge"
    );
    assert_eq!(net.replicas["writer"].pending_changes(&doc, &hub), Some(0));
}

#[test]
fn a_replica_opens_a_stored_document_offline_and_restores_its_acked_heads() {
    let device = automerge::ActorId::from([9u8; 16]);
    let mut config = EngineConfig::replica();
    config.persist_sync_state = false;
    config.actor = Some(device.clone());
    let mut replica = Engine::new(config);
    let ctx = Ctx::new(0, &AllowAll);
    let hub = peer("hub");
    // Two changes of this device, the first acknowledged before the restart.
    let mut stored = automerge::Automerge::new();
    stored.set_actor(device);
    for key in ["acked", "offline"] {
        stored
            .transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, key, 1).map(|_| ()))
            .unwrap();
    }
    let acked = stored.get_changes(&[])[0].hash();
    let m = meta(41, "algebra");
    assert!(!replica.open(m.id), "not in memory yet");
    assert!(!replica.open(m.id), "one load in flight, not two");
    assert_eq!(replica.take_effects(), vec![Effect::Load { doc: m.id }]);
    replica.loaded(
        ctx,
        m.id,
        LoadResult::Found {
            meta: Some(m.clone()),
            chunks: vec![stored.save()],
        },
    );
    assert!(replica.open(m.id));
    assert_eq!(replica.doc(&m.id).unwrap().get_heads(), stored.get_heads());
    assert_eq!(replica.pending_changes(&m.id, &hub), Some(2));
    // Heads it does not hold are dropped, not trusted.
    replica.restore_acked(&m.id, &hub, vec![acked, automerge::ChangeHash([7; 32])]);
    assert_eq!(replica.acked_heads(&m.id, &hub), Some([acked].as_slice()));
    assert_eq!(replica.pending_changes(&m.id, &hub), Some(1));
}
