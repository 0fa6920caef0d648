//! A hub and one replica (peer `r`) pumped to quiet, with per-document stores and saved
//! sync states, and every frame that passed between them.

use std::collections::HashMap;

use nic_model::DocumentId;

use super::peer;
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, Frame, Known, LoadResult, Target};

/// A hub and a replica with their stores, and every frame that passed between them.
pub struct Pair {
    pub hub: Engine,
    pub replica: Engine,
    /// Stored chunks, by (the hub's?, document).
    pub chunks: HashMap<(bool, DocumentId), Vec<Vec<u8>>>,
    /// Saved sync states, by (the hub's?, document).
    pub states: HashMap<(bool, DocumentId), Vec<u8>>,
    /// (from the hub?, frame).
    pub wire: Vec<(bool, Frame)>,
}

impl Pair {
    /// A hub and a replica with default settings (sync states saved), not connected.
    pub fn new() -> Self {
        Self {
            hub: Engine::new(EngineConfig::hub()),
            replica: Engine::new(EngineConfig::replica()),
            chunks: HashMap::new(),
            states: HashMap::new(),
            wire: Vec::new(),
        }
    }

    /// Runs both engines' effects until quiet.
    pub fn settle(&mut self) {
        self.settle_checking(|_, _| {});
    }

    /// [`Pair::settle`], calling `check(hub, replica)` after every effect carried out.
    pub fn settle_checking(&mut self, mut check: impl FnMut(&Engine, &Engine)) {
        let ctx = Ctx::new(0, &AllowAll);
        loop {
            let mut moved = false;
            for from_hub in [true, false] {
                let effects = if from_hub {
                    self.hub.take_effects()
                } else {
                    self.replica.take_effects()
                };
                let (me, them) = if from_hub {
                    (peer("hub"), peer("r"))
                } else {
                    (peer("r"), peer("hub"))
                };
                for effect in effects {
                    moved = true;
                    let (engine, other) = if from_hub {
                        (&mut self.hub, &mut self.replica)
                    } else {
                        (&mut self.replica, &mut self.hub)
                    };
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
                        Effect::Persist {
                            doc, seq, chunk, ..
                        } => {
                            self.chunks.entry((from_hub, doc)).or_default().push(chunk);
                            engine.persisted(ctx, doc, seq);
                        }
                        Effect::PutMeta(_) | Effect::Notify(_) => {}
                    }
                    check(&self.hub, &self.replica);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Connects and subscribes the replica to `target`, saying it knows `known`.
    pub fn connect(&mut self, target: Target, known: Vec<Known>) {
        let ctx = Ctx::new(0, &AllowAll);
        self.hub.peer_connected(ctx, peer("r"));
        self.replica.peer_connected(ctx, peer("hub"));
        self.replica
            .subscribe_known(ctx, &peer("hub"), target, known);
        self.settle();
    }

    /// Disconnects both sides (each saves its sync states).
    pub fn disconnect(&mut self) {
        let ctx = Ctx::new(0, &AllowAll);
        self.hub.peer_disconnected(ctx, &peer("r"));
        self.replica.peer_disconnected(ctx, &peer("hub"));
        self.settle();
    }

    /// What the replica would say it knows of `doc`: the shared heads of its saved state.
    pub fn known(&self, doc: DocumentId) -> Known {
        let state = automerge::sync::State::decode(&self.states[&(false, doc)]).unwrap();
        Known {
            doc,
            heads: state.shared_heads,
            meta_digest: self.replica.meta(&doc).unwrap().fingerprint(),
        }
    }

    /// Frames about `doc` since the wire was last cleared: (sync messages, announcements).
    pub fn about(&self, doc: DocumentId) -> (usize, usize) {
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

    /// Bytes of sync messages on the wire since it was last cleared.
    pub fn sync_bytes(&self) -> usize {
        self.wire
            .iter()
            .map(|(_, f)| match f {
                Frame::Sync { message, .. } => message.len(),
                _ => 0,
            })
            .sum()
    }
}
