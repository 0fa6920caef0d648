//! The hub's fan-out fast paths — shared relays, held-back relays and catch-ups — under
//! random schedules: whatever order edits, flushes, deliveries, losses and ticks come in,
//! every message is one plain Automerge accepts, and everyone ends at the same heads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::{HashMap, VecDeque};

use automerge::sync::{Message, SyncDoc};
use nic_model::DocumentId;
use nic_sync::{AllowAll, Ctx, Frame};
use proptest::prelude::*;

mod common;
use common::*;

const WRITERS: [&str; 2] = ["writer", "w2"];
const READERS: [&str; 2] = ["reader", "r2"];

#[derive(Clone, Debug)]
enum Step {
    /// A writer edits.
    Edit(usize),
    /// Frames travel, except those for readers, which wait in their queues.
    Pump,
    /// The hub's storage confirms what it was given.
    Flush,
    /// A reader reads this many of its waiting frames.
    Read(usize, usize),
    /// A reader's oldest waiting frame is lost.
    Lose(usize),
    /// Time passes beyond the resync interval and every engine ticks.
    Tick,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..WRITERS.len()).prop_map(Step::Edit),
        3 => Just(Step::Pump),
        2 => Just(Step::Flush),
        3 => (0..READERS.len(), 1..4usize).prop_map(|(r, n)| Step::Read(r, n)),
        1 => (0..READERS.len()).prop_map(Step::Lose),
        1 => Just(Step::Tick),
    ]
}

/// A hub with a busy document, two writers and two readers, all settled.
fn network() -> (Net, DocumentId) {
    busy_doc_held_by(40, &["writer", "reader", "w2", "r2"])
}

/// Delivers everything on the wire except frames for readers, which join their queues.
fn pump_except_readers(net: &mut Net, queues: &mut HashMap<&str, VecDeque<Frame>>) {
    while !net.wire.is_empty() {
        let (from, to, frame) = net.wire.remove(0);
        match queues.get_mut(to.as_str()) {
            Some(queue) => queue.push_back(frame),
            None => net.deliver(from, to, frame),
        }
    }
}

fn tick_all(net: &mut Net) {
    net.now += 10_000;
    net.hub.tick(Ctx::new(net.now, &net.rights));
    net.drain_hub();
    let names: Vec<String> = net.replicas.keys().cloned().collect();
    for name in names {
        net.replicas
            .get_mut(&name)
            .unwrap()
            .tick(Ctx::new(net.now, &AllowAll));
        net.drain_replica(&name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn readers_converge_through_relays_holds_and_catch_ups(steps in proptest::collection::vec(step(), 1..60)) {
        let (mut net, doc) = network();
        let mut queues: HashMap<&str, VecDeque<Frame>> =
            READERS.iter().map(|r| (*r, VecDeque::new())).collect();
        let mut edits = 0;
        for step in &steps {
            match step {
                Step::Edit(w) => {
                    net.edit(WRITERS[*w], doc, &format!("k{edits}"));
                    edits += 1;
                }
                Step::Pump => pump_except_readers(&mut net, &mut queues),
                Step::Flush => net.flush_hub(),
                Step::Read(r, n) => {
                    for _ in 0..*n {
                        let Some(frame) = queues.get_mut(READERS[*r]).unwrap().pop_front() else {
                            break;
                        };
                        net.deliver("hub".into(), READERS[*r].into(), frame);
                    }
                }
                Step::Lose(r) => {
                    queues.get_mut(READERS[*r]).unwrap().pop_front();
                }
                Step::Tick => tick_all(&mut net),
            }
        }
        // Every sync message still waiting for a reader decodes, and plain Automerge takes it
        // (on a copy of the hub's document: its changes parse and its summary is sound).
        for queue in queues.values() {
            for frame in queue {
                if let Frame::Sync { message, .. } = frame {
                    let message = Message::decode(message).unwrap();
                    let mut plain = net.hub.doc(&doc).unwrap().clone();
                    plain.receive_sync_message(&mut automerge::sync::State::new(), message).unwrap();
                }
            }
        }
        // Then the network heals: every frame arrives, storage confirms, time passes.
        for _ in 0..20 {
            for reader in READERS {
                let waiting: Vec<Frame> = queues.get_mut(reader).unwrap().drain(..).collect();
                for frame in waiting {
                    net.deliver("hub".into(), reader.into(), frame);
                }
            }
            net.pump();
            net.flush_hub();
            net.pump();
            if net.hub.is_settled() && net.replicas.values().all(|e| e.is_settled()) {
                break;
            }
            tick_all(&mut net);
        }
        let heads = net.hub.doc(&doc).unwrap().get_heads();
        for (name, engine) in &net.replicas {
            prop_assert_eq!(&engine.doc(&doc).unwrap().get_heads(), &heads, "{} differs", name);
        }
        // Every edit reached the hub.
        let hub = net.hub.doc(&doc).unwrap();
        for k in 0..edits {
            let key = format!("k{k}");
            let held = automerge::ReadDoc::get(hub, automerge::ROOT, key.as_str()).unwrap();
            prop_assert!(held.is_some(), "edit {} is missing", key);
        }
    }
}

#[test]
fn random_schedules_take_every_fast_path() {
    // Guard against a schedule generator that never holds a relay back or catches up.
    let (mut net, doc) = network();
    let mut queues: HashMap<&str, VecDeque<Frame>> =
        READERS.iter().map(|r| (*r, VecDeque::new())).collect();
    for i in 0..6 {
        net.edit(WRITERS[i % 2], doc, &format!("k{i}"));
        pump_except_readers(&mut net, &mut queues);
        net.flush_hub();
        pump_except_readers(&mut net, &mut queues);
    }
    for reader in READERS {
        let waiting: Vec<Frame> = queues.get_mut(reader).unwrap().drain(..).collect();
        for frame in waiting {
            net.deliver("hub".into(), reader.into(), frame);
        }
    }
    net.pump();
    let stats = net.hub.stats();
    assert!(
        stats.fast_relays > 0 && stats.relays_held > 0 && stats.catch_ups > 0,
        "{stats:?}"
    );
    let heads = net.hub.doc(&doc).unwrap().get_heads();
    for engine in net.replicas.values() {
        assert_eq!(engine.doc(&doc).unwrap().get_heads(), heads);
    }
}

/// A reader that lags by more than the resync interval but is still heard from (it is
/// working through a backlog, answering in order) keeps its relays held: the changes since
/// reach it as one catch-up when its answer comes, not one message each. A reader that has
/// gone quiet gets the relay as before.
#[test]
fn a_busy_reader_lagging_past_the_resync_interval_gets_one_catch_up() {
    let quiet_or_busy = |busy: bool| {
        let (mut net, doc) = writer_and_reader(41);
        let mut queued: Vec<Frame> = Vec::new();
        net.edit("writer", doc, "k0");
        queued.extend(net.pump_holding("reader"));
        net.flush_hub();
        queued.extend(net.pump_holding("reader"));
        assert_eq!(sync_messages(&queued).len(), 1, "the first relay");
        // Longer than the resync interval passes before the reader answers.
        net.now += 6_000;
        if busy {
            // Heard from just now (anything it sends will do).
            net.deliver(
                "reader".into(),
                "hub".into(),
                Frame::CaughtUp {
                    target: nic_sync::Target::Docs(vec![]),
                },
            );
        }
        let held_before = net.hub.stats().relays_held;
        for k in 1..4 {
            net.edit("writer", doc, &format!("k{k}"));
            queued.extend(net.pump_holding("reader"));
            net.flush_hub();
            queued.extend(net.pump_holding("reader"));
        }
        let held = net.hub.stats().relays_held - held_before;
        let sent_meanwhile = sync_messages(&queued).len() - 1;
        // The reader reads its backlog; everything heals.
        for frame in queued {
            net.deliver("hub".into(), "reader".into(), frame);
        }
        net.pump();
        net.flush_hub();
        net.pump();
        let heads = net.hub.doc(&doc).unwrap().get_heads();
        assert_eq!(net.replicas["reader"].doc(&doc).unwrap().get_heads(), heads);
        (held, sent_meanwhile, net.hub.stats().catch_ups)
    };
    let (held, sent, catch_ups) = quiet_or_busy(true);
    assert_eq!(
        (held, sent),
        (3, 0),
        "busy: held back, nothing sent meanwhile"
    );
    assert_eq!(catch_ups, 1, "busy: one catch-up carried all three");
    let (held, sent, _) = quiet_or_busy(false);
    assert_eq!(
        held, 2,
        "quiet: the first relay goes out after the interval, then holds"
    );
    assert_eq!(sent, 1);
}
