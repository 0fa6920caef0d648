//! A replica resubscribing with what it knows: documents unchanged on both sides since the
//! last agreement exchange nothing, not even an announcement; those changed on either side,
//! or whose metadata changed, sync as usual; everything converges.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ROOT};
use nic_model::{DocKind, DocMeta, DocumentId, NetworkId, PeerId, Visibility};
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, Frame, Known, LoadResult, Target};

fn peer(s: &str) -> PeerId {
    PeerId::new(s).unwrap()
}

fn network() -> NetworkId {
    NetworkId::new("n").unwrap()
}

fn meta(n: u8) -> DocMeta {
    DocMeta {
        id: DocumentId::from_bytes([n; 16]),
        kind: DocKind::PdsaCycle,
        network: network(),
        site: None,
        visibility: Visibility::Network,
        title: format!("doc {n}"),
        created_at_ms: 0,
        archived: false,
    }
}

fn put(engine: &mut Engine, doc: DocumentId, key: &str) {
    engine
        .edit(Ctx::new(0, &AllowAll), &doc, |am| {
            am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, key, 1).map(|_| ()))
                .unwrap();
        })
        .unwrap();
}

/// A hub and a replica with their stores, and every frame that passed between them.
struct Pair {
    hub: Engine,
    replica: Engine,
    chunks: HashMap<(bool, DocumentId), Vec<Vec<u8>>>,
    states: HashMap<(bool, DocumentId), Vec<u8>>,
    /// (from the hub?, frame).
    wire: Vec<(bool, Frame)>,
}

impl Pair {
    fn settle(&mut self) {
        let ctx = Ctx::new(0, &AllowAll);
        loop {
            let mut moved = false;
            for from_hub in [true, false] {
                let effects = if from_hub {
                    self.hub.take_effects()
                } else {
                    self.replica.take_effects()
                };
                let (engine, other) = if from_hub {
                    (&mut self.hub, &mut self.replica)
                } else {
                    (&mut self.replica, &mut self.hub)
                };
                let (me, them) = if from_hub {
                    (peer("hub"), peer("r"))
                } else {
                    (peer("r"), peer("hub"))
                };
                for effect in effects {
                    moved = true;
                    match effect {
                        Effect::Send { frame, .. } => {
                            self.wire.push((from_hub, frame.clone()));
                            other.receive(ctx, &me, frame);
                        }
                        Effect::Load { doc } => {
                            let result = match self.chunks.get(&(from_hub, doc)) {
                                Some(chunks) => LoadResult::Found {
                                    meta: None,
                                    chunks: chunks.clone(),
                                },
                                None => LoadResult::NotFound,
                            };
                            engine.loaded(ctx, doc, result);
                        }
                        Effect::LoadSyncState { doc, .. } => {
                            let state = self.states.get(&(from_hub, doc)).cloned();
                            engine.sync_state_loaded(ctx, &them, doc, state);
                        }
                        Effect::SaveSyncState { doc, state, .. } => {
                            self.states.insert((from_hub, doc), state);
                        }
                        Effect::Persist { doc, seq, chunk } => {
                            self.chunks.entry((from_hub, doc)).or_default().push(chunk);
                            engine.persisted(ctx, doc, seq);
                        }
                        Effect::PutMeta(_) | Effect::Notify(_) => {}
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn connect(&mut self, known: Vec<Known>) {
        let ctx = Ctx::new(0, &AllowAll);
        self.hub.peer_connected(ctx, peer("r"));
        self.replica.peer_connected(ctx, peer("hub"));
        self.replica
            .subscribe_known(ctx, &peer("hub"), Target::Network(network()), known);
        self.settle();
    }

    fn disconnect(&mut self) {
        let ctx = Ctx::new(0, &AllowAll);
        self.hub.peer_disconnected(ctx, &peer("r"));
        self.replica.peer_disconnected(ctx, &peer("hub"));
        self.settle();
    }

    /// What the replica would say it knows of `doc`: the shared heads of its saved state.
    fn known(&self, doc: DocumentId) -> Known {
        let state = automerge::sync::State::decode(&self.states[&(false, doc)]).unwrap();
        Known {
            doc,
            heads: state.shared_heads,
            meta_digest: self.replica.meta(&doc).unwrap().fingerprint(),
        }
    }

    /// Frames about `doc` since the wire was last cleared: (sync messages, announcements).
    fn about(&self, doc: DocumentId) -> (usize, usize) {
        let mut syncs = 0;
        let mut announces = 0;
        for (_, frame) in &self.wire {
            match frame {
                Frame::Sync { doc: d, .. } if *d == doc => syncs += 1,
                Frame::Announce(m) if m.id == doc => announces += 1,
                _ => {}
            }
        }
        (syncs, announces)
    }
}

#[test]
fn a_resubscribing_replica_exchanges_only_what_changed() {
    let ctx = Ctx::new(0, &AllowAll);
    let mut pair = Pair {
        hub: Engine::new(EngineConfig::hub()),
        replica: Engine::new(EngineConfig::replica()),
        chunks: HashMap::new(),
        states: HashMap::new(),
        wire: Vec::new(),
    };
    let [same, hub_changed, here_changed, archived] = [1, 2, 3, 4].map(meta);
    for m in [&same, &hub_changed, &here_changed, &archived] {
        let mut am = automerge::Automerge::new();
        am.transact::<_, _, AutomergeError>(|tx| {
            tx.put(ROOT, "title", m.title.as_str()).map(|_| ())
        })
        .unwrap();
        pair.hub.create(ctx, m.clone(), am).unwrap();
    }
    pair.connect(Vec::new());
    pair.disconnect();

    // Offline: one changes on the hub, one here, one is archived on the hub.
    put(&mut pair.hub, hub_changed.id, "hub");
    put(&mut pair.replica, here_changed.id, "here");
    let mut archived_now = archived.clone();
    archived_now.archived = true;
    pair.hub.catalogue(ctx, archived_now);
    pair.settle();

    // The replica knows every document it did not change itself.
    let known = [same.id, hub_changed.id, archived.id].map(|d| pair.known(d));
    pair.wire.clear();
    pair.connect(known.to_vec());

    assert_eq!(pair.about(same.id), (0, 0), "unchanged: not a word");
    assert_eq!(
        pair.about(archived.id),
        (0, 1),
        "new metadata: announced, no sync"
    );
    let (syncs, announces) = pair.about(hub_changed.id);
    assert!(syncs >= 1 && announces == 0, "{syncs} {announces}");
    let (syncs, announces) = pair.about(here_changed.id);
    assert!(syncs >= 1 && announces == 1, "{syncs} {announces}");
    for m in [&same, &hub_changed, &here_changed, &archived] {
        assert_eq!(
            pair.replica.doc(&m.id).unwrap().get_heads(),
            pair.hub.doc(&m.id).unwrap().get_heads(),
            "{}",
            m.title
        );
    }
    assert!(pair.replica.meta(&archived.id).unwrap().archived);
    assert!(pair.hub.is_settled() && pair.replica.is_settled());
    assert_eq!(pair.hub.stats().links_started_in_step, 2);
    assert_eq!(pair.replica.stats().links_started_in_step, 3);

    // Later changes flow on the links that started in step, both ways.
    pair.wire.clear();
    put(&mut pair.hub, same.id, "later");
    pair.settle();
    put(&mut pair.replica, archived.id, "later here");
    pair.settle();
    for m in [&same, &archived] {
        assert_eq!(
            pair.replica.doc(&m.id).unwrap().get_heads(),
            pair.hub.doc(&m.id).unwrap().get_heads()
        );
    }
}

#[test]
fn a_known_entry_that_does_not_match_the_replica_falls_back_to_a_full_exchange() {
    let ctx = Ctx::new(0, &AllowAll);
    let mut pair = Pair {
        hub: Engine::new(EngineConfig::hub()),
        replica: Engine::new(EngineConfig::replica()),
        chunks: HashMap::new(),
        states: HashMap::new(),
        wire: Vec::new(),
    };
    let m = meta(9);
    pair.hub
        .create(ctx, m.clone(), automerge::Automerge::new())
        .unwrap();
    put(&mut pair.hub, m.id, "a");
    pair.settle();
    pair.connect(Vec::new());
    pair.disconnect();
    // A wrong claim (heads neither side holds) costs an exchange, never a divergence.
    let wrong = Known {
        doc: m.id,
        heads: vec![automerge::ChangeHash([5; 32])],
        meta_digest: 0,
    };
    put(&mut pair.hub, m.id, "b");
    pair.wire.clear();
    pair.connect(vec![wrong]);
    assert_eq!(
        pair.replica.doc(&m.id).unwrap().get_heads(),
        pair.hub.doc(&m.id).unwrap().get_heads()
    );
    assert!(pair.about(m.id).0 >= 2);
}
