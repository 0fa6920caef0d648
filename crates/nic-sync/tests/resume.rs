//! A reconnecting peer resumes from the sync state saved at disconnect: the exchange after
//! a short offline period is small, not a full re-summary of the document.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ROOT};
use nic_model::{DocKind, DocMeta, DocumentId, NetworkId, PeerId, Visibility};
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, Frame, LoadResult, Target};

fn peer(s: &str) -> PeerId {
    PeerId::new(s).unwrap()
}

/// Both engines with their stores: chunks and saved sync states.
struct Pair {
    hub: Engine,
    replica: Engine,
    hub_chunks: Vec<Vec<u8>>,
    replica_chunks: Vec<Vec<u8>>,
    states: HashMap<(bool, DocumentId), Vec<u8>>,
    bytes_on_wire: usize,
}

impl Pair {
    /// Runs both engines' effects until quiet; returns the sync bytes exchanged.
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
                for effect in effects {
                    moved = true;
                    let (engine, other, chunks) = if from_hub {
                        (&mut self.hub, &mut self.replica, &mut self.hub_chunks)
                    } else {
                        (&mut self.replica, &mut self.hub, &mut self.replica_chunks)
                    };
                    let (me, them) = if from_hub {
                        (peer("hub"), peer("r"))
                    } else {
                        (peer("r"), peer("hub"))
                    };
                    match effect {
                        Effect::Send { frame, .. } => {
                            if let Frame::Sync { message, .. } = &frame {
                                self.bytes_on_wire += message.len();
                            }
                            other.receive(ctx, &me, frame);
                        }
                        Effect::Load { doc } => {
                            let result = if chunks.is_empty() {
                                LoadResult::NotFound
                            } else {
                                LoadResult::Found {
                                    meta: None,
                                    chunks: chunks.clone(),
                                }
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
                            chunks.push(chunk);
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

    fn connect(&mut self, doc: DocumentId) {
        let ctx = Ctx::new(0, &AllowAll);
        self.hub.peer_connected(ctx, peer("r"));
        self.replica.peer_connected(ctx, peer("hub"));
        self.replica
            .subscribe(ctx, &peer("hub"), Target::Docs(vec![doc]));
        self.settle();
    }

    fn disconnect(&mut self) {
        let ctx = Ctx::new(0, &AllowAll);
        self.hub.peer_disconnected(ctx, &peer("r"));
        self.replica.peer_disconnected(ctx, &peer("hub"));
        self.settle();
    }
}

/// Bytes exchanged to catch up one new change after reconnecting, with or without the
/// saved sync state.
fn catch_up_bytes(keep_state: bool) -> usize {
    let ctx = Ctx::new(0, &AllowAll);
    let meta = DocMeta {
        id: DocumentId::from_bytes([3; 16]),
        kind: DocKind::PdsaCycle,
        network: NetworkId::new("n").unwrap(),
        site: None,
        visibility: Visibility::Network,
        title: "t".into(),
        created_at_ms: 0,
        archived: false,
    };
    let doc = meta.id;
    let mut pair = Pair {
        hub: Engine::new(EngineConfig::hub()),
        replica: Engine::new(EngineConfig::replica()),
        hub_chunks: Vec::new(),
        replica_chunks: Vec::new(),
        states: HashMap::new(),
        bytes_on_wire: 0,
    };
    let mut am = automerge::Automerge::new();
    for i in 0..500 {
        am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, format!("k{i}"), i).map(|_| ()))
            .unwrap();
    }
    pair.hub.create(ctx, meta, am).unwrap();
    pair.connect(doc);
    assert_eq!(
        pair.replica.doc(&doc).unwrap().get_heads(),
        pair.hub.doc(&doc).unwrap().get_heads()
    );

    pair.disconnect();
    if !keep_state {
        pair.states.clear();
    }
    pair.hub
        .edit(ctx, &doc, |am| {
            am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "new", 1).map(|_| ()))
                .unwrap();
        })
        .unwrap();
    pair.settle();
    pair.bytes_on_wire = 0;
    pair.connect(doc);
    assert_eq!(
        pair.replica.doc(&doc).unwrap().get_heads(),
        pair.hub.doc(&doc).unwrap().get_heads()
    );
    pair.bytes_on_wire
}

#[test]
fn reconnect_resumes_with_a_small_exchange() {
    let resumed = catch_up_bytes(true);
    let fresh = catch_up_bytes(false);
    println!("catch-up after reconnect: resumed {resumed} bytes, fresh {fresh} bytes");
    assert!(
        resumed * 2 < fresh,
        "resumed exchange {resumed} bytes vs fresh {fresh} bytes"
    );
}
