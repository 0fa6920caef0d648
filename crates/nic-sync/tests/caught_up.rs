//! `Frame::CaughtUp`: once per answered subscription, after the subscriber holds every
//! document it covered at the hub's heads as of the answer — whatever else happens
//! meanwhile (edits on both sides, documents it may not read, documents that start in
//! step, documents still loading on the hub).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ChangeHash, ROOT};
use nic_model::{DocumentId, NetworkId};
use nic_sync::{AllowAll, Ctx, Engine, Frame, Target};
use proptest::prelude::*;

mod common;
use common::pair::Pair;
use common::{Net, peer};

fn network() -> NetworkId {
    NetworkId::new("n").unwrap()
}

fn put(engine: &mut Engine, doc: DocumentId, key: &str) {
    engine
        .edit(Ctx::new(0, &AllowAll), &doc, |am| {
            am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, key, 1).map(|_| ()))
                .unwrap();
        })
        .unwrap();
}

/// The frames the hub sent, from the wire of a pair.
fn from_hub(pair: &Pair) -> Vec<&Frame> {
    pair.wire
        .iter()
        .filter(|(hub, _)| *hub)
        .map(|(_, f)| f)
        .collect()
}

fn caught_up_count(frames: &[&Frame], target: &Target) -> usize {
    frames
        .iter()
        .filter(|f| matches!(f, Frame::CaughtUp { target: t } if t == target))
        .count()
}

/// The hub sent every change the replica needed before its `CaughtUp`: none of its frames
/// after it carries one (no edit happens meanwhile in the tests that use this).
fn nothing_sent_after_caught_up(frames: &[&Frame]) {
    let caught = frames
        .iter()
        .position(|f| matches!(f, Frame::CaughtUp { .. }))
        .expect("caught up");
    for f in &frames[caught..] {
        if let Frame::Sync { message, .. } = f {
            let m = automerge::sync::Message::decode(message).unwrap();
            assert!(m.changes.is_empty(), "changes sent after CaughtUp");
        }
    }
}

#[test]
fn an_empty_subscription_is_caught_up_at_once_after_its_answer() {
    let mut pair = Pair::new();
    let target = Target::Network(network());
    pair.connect(target.clone(), Vec::new());
    let frames = from_hub(&pair);
    let answered = frames
        .iter()
        .position(|f| matches!(f, Frame::Subscribed { docs, .. } if docs.is_empty()))
        .expect("answered");
    let caught = frames
        .iter()
        .position(|f| matches!(f, Frame::CaughtUp { .. }))
        .expect("caught up");
    assert!(answered < caught);
    assert_eq!(caught_up_count(&frames, &target), 1);
}

#[test]
fn caught_up_follows_the_documents_and_comes_once_per_subscribe() {
    let ctx = Ctx::new(0, &AllowAll);
    let mut pair = Pair::new();
    let docs: Vec<_> = (1..=3).map(|n| common::meta(n, "n")).collect();
    for m in &docs {
        pair.hub
            .create(ctx, m.clone(), common::seeded_doc())
            .unwrap();
        put(&mut pair.hub, m.id, "more");
    }
    pair.settle();
    let target = Target::Network(network());
    pair.connect(target.clone(), Vec::new());
    let frames = from_hub(&pair);
    nothing_sent_after_caught_up(&frames);
    for m in &docs {
        assert_eq!(
            pair.replica.doc(&m.id).unwrap().get_heads(),
            pair.hub.doc(&m.id).unwrap().get_heads()
        );
    }
    assert_eq!(caught_up_count(&frames, &target), 1);
    // Subscribing again to the same target is answered, and caught up, again.
    pair.wire.clear();
    pair.replica
        .subscribe(ctx, &peer("hub"), Target::Docs(vec![docs[0].id]));
    pair.replica.subscribe(ctx, &peer("hub"), target.clone());
    pair.settle();
    let frames = from_hub(&pair);
    assert_eq!(caught_up_count(&frames, &target), 1);
    assert_eq!(caught_up_count(&frames, &Target::Docs(vec![docs[0].id])), 1);
}

#[test]
fn known_documents_that_start_in_step_are_caught_up_without_a_message() {
    let ctx = Ctx::new(0, &AllowAll);
    let mut pair = Pair::new();
    let m = common::meta(4, "n");
    pair.hub
        .create(ctx, m.clone(), common::seeded_doc())
        .unwrap();
    let target = Target::Network(network());
    pair.connect(target.clone(), Vec::new());
    pair.disconnect();
    let known = vec![pair.known(m.id)];
    pair.wire.clear();
    pair.connect(target.clone(), known);
    let frames = from_hub(&pair);
    assert_eq!(pair.about(m.id), (0, 0), "started in step");
    assert_eq!(caught_up_count(&frames, &target), 1);
}

#[test]
fn a_document_loading_on_the_hub_is_waited_for() {
    let ctx = Ctx::new(0, &AllowAll);
    let mut pair = Pair::new();
    let m = common::meta(5, "n");
    pair.hub
        .create(ctx, m.clone(), common::seeded_doc())
        .unwrap();
    put(&mut pair.hub, m.id, "stored");
    pair.settle();
    // Out of memory: the subscription is answered while the document loads.
    assert_eq!(pair.hub.evict_idle(0), 1);
    let target = Target::Docs(vec![m.id]);
    pair.connect(target.clone(), Vec::new());
    assert_eq!(caught_up_count(&from_hub(&pair), &target), 1);
    nothing_sent_after_caught_up(&from_hub(&pair));
    assert_eq!(
        pair.replica.doc(&m.id).unwrap().get_heads(),
        pair.hub.doc(&m.id).unwrap().get_heads()
    );
}

#[test]
fn unreadable_and_unknown_documents_do_not_hold_it_up() {
    let mut net = Net::new();
    let readable = common::meta(6, "n");
    let hidden = common::meta(7, "n");
    net.create(readable.clone());
    net.create(hidden.clone());
    net.flush_hub();
    net.rights.no_read_docs.borrow_mut().insert(hidden.id);
    net.add_replica("r");
    let unknown = common::meta(8, "n").id;
    let named = Target::Docs(vec![readable.id, hidden.id, unknown]);
    net.subscribe("r", Target::Network(network()));
    net.subscribe("r", named.clone());
    net.pump();
    net.flush_hub();
    net.pump();
    let frames = net.frames_to("r");
    for target in [Target::Network(network()), named] {
        let n = frames
            .iter()
            .filter(|f| matches!(f, Frame::CaughtUp { target: t } if *t == target))
            .count();
        assert_eq!(n, 1, "{target:?}");
    }
    assert!(
        frames
            .iter()
            .all(|f| !matches!(f, Frame::Sync { doc, .. } if *doc == hidden.id)),
        "nothing of the hidden document"
    );
}

#[test]
fn a_read_right_lost_midway_ends_the_wait_after_the_error() {
    let mut net = Net::new();
    let m = common::meta(9, "n");
    net.create_busy(m.clone());
    net.flush_hub();
    net.add_replica("r");
    let target = Target::Docs(vec![m.id]);
    net.subscribe("r", target.clone());
    // The hub answers and offers the document; then the replica loses its right.
    let _ = net.pump_holding("r");
    net.rights.no_read.borrow_mut().insert("r".into());
    net.hub.rights_changed(Ctx::new(0, &net.rights), &peer("r"));
    net.drain_hub();
    net.pump();
    let frames = net.frames_to("r");
    let denied = frames
        .iter()
        .position(|f| matches!(f, Frame::Error { .. }))
        .expect("told");
    let caught = frames
        .iter()
        .position(|f| matches!(f, Frame::CaughtUp { .. }))
        .expect("caught up");
    assert!(denied < caught);
}

/// One step of a random run.
#[derive(Clone, Debug)]
enum Step {
    /// Deliver the oldest frame on the wire (in order, as a stream does).
    Deliver,
    /// Confirm the hub's persists.
    Flush,
    /// Edit a document on the hub.
    HubEdit(u8),
    /// Edit a document on the replica (if it holds it).
    ReplicaEdit(u8),
    /// Subscribe (again) to the network.
    Subscribe,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => Just(Step::Deliver),
        2 => Just(Step::Flush),
        1 => (0..4u8).prop_map(Step::HubEdit),
        1 => (0..4u8).prop_map(Step::ReplicaEdit),
        1 => Just(Step::Subscribe),
    ]
}

/// Goals per answer, in the order the hub sent the answers: the heads it held of each
/// document the answer listed, when it sent it.
type Goals = Vec<BTreeMap<DocumentId, Vec<ChangeHash>>>;

/// Records the goal of every answer the hub sent since the last call. Called after every
/// step: no step both answers a subscription and changes the hub's documents, so the
/// hub's heads now are those it held when it answered.
fn record_answers(net: &Net, goals: &mut Goals) {
    let answers = net
        .log
        .iter()
        .chain(net.wire.iter())
        .filter_map(|(from, _, f)| match f {
            Frame::Subscribed { docs, .. } if from == "hub" => Some(docs),
            _ => None,
        });
    for docs in answers.skip(goals.len()) {
        goals.push(
            docs.iter()
                .map(|d| (*d, net.hub.doc(d).unwrap().get_heads()))
                .collect(),
        );
    }
}

/// Delivers the oldest frame on the wire; at a `CaughtUp`, checks the replica holds the
/// goal of the answer it belongs to. Returns whether there was a frame.
fn deliver(net: &mut Net, goals: &Goals, caught: &mut usize) -> bool {
    if net.wire.is_empty() {
        return false;
    }
    let (from, to, frame) = net.wire.remove(0);
    if let Frame::CaughtUp { .. } = &frame {
        let goal = goals
            .get(*caught)
            .expect("a CaughtUp for each answer, no more");
        let replica = &net.replicas["r"];
        for (doc, heads) in goal {
            let am = replica.doc(doc).expect("held");
            for h in heads {
                assert!(am.get_change_meta_by_hash(h).is_some(), "{doc} lacks {h}");
            }
        }
        *caught += 1;
    }
    net.deliver(from, to, frame);
    true
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// When a `CaughtUp` reaches the replica, it holds every document of the network at
    /// the heads the hub held when it answered that subscription; each answer gets exactly
    /// one, however the run interleaves edits, flushes and deliveries.
    #[test]
    fn caught_up_means_the_replica_holds_the_hubs_heads_as_of_the_answer(
        steps in prop::collection::vec(step(), 0..60),
    ) {
        let mut net = Net::new();
        let docs: Vec<DocumentId> = (0..4u8).map(|n| common::meta(20 + n, "n").id).collect();
        for n in 0..4u8 {
            let m = common::meta(20 + n, "n");
            if n % 2 == 0 { net.create_busy(m) } else { net.create(m) }
        }
        net.flush_hub();
        net.add_replica("r");
        let target = Target::Network(network());
        let mut goals = Goals::new();
        let mut caught = 0usize;
        let mut edits = 0;
        net.subscribe("r", target.clone());
        for s in steps {
            match s {
                Step::Deliver => { deliver(&mut net, &goals, &mut caught); }
                Step::Flush => net.flush_hub(),
                Step::HubEdit(i) => {
                    edits += 1;
                    let doc = docs[usize::from(i)];
                    net.hub.edit(Ctx::new(0, &net.rights), &doc, |am| {
                        am.transact::<_, _, AutomergeError>(|tx| {
                            tx.put(ROOT, format!("hub{edits}"), 1).map(|_| ())
                        }).unwrap();
                    }).unwrap();
                    net.drain_hub();
                }
                Step::ReplicaEdit(i) => {
                    edits += 1;
                    let doc = docs[usize::from(i)];
                    let held = net.replicas["r"].doc(&doc).is_some_and(|am| !am.get_heads().is_empty());
                    if held {
                        net.edit("r", doc, &format!("r{edits}"));
                    }
                }
                Step::Subscribe => net.subscribe("r", target.clone()),
            }
            record_answers(&net, &mut goals);
        }
        // Let everything finish: every answer gets its CaughtUp.
        for _ in 0..50 {
            while deliver(&mut net, &goals, &mut caught) {
                record_answers(&net, &mut goals);
            }
            net.flush_hub();
            record_answers(&net, &mut goals);
            if net.wire.is_empty() {
                break;
            }
        }
        prop_assert!(!goals.is_empty());
        prop_assert_eq!(caught, goals.len());
    }
}
