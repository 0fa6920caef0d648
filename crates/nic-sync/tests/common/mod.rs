//! What the engine tests share: a hub and replicas pumped by hand, with storage the test
//! flushes explicitly, and rights it can change while links are open.

#![allow(dead_code)] // each test file uses some of these

pub mod pair;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use automerge::transaction::Transactable;
use automerge::{Automerge, AutomergeError, ROOT};
use nic_model::{DocMeta, DocumentId, PeerId};
use nic_sync::{
    AllowAll, Ctx, Effect, Engine, EngineConfig, ErrorCode, Frame, LoadResult, Policy, Target,
};

/// Rights the test can change while links are open.
#[derive(Default)]
pub struct Rights {
    pub no_read: RefCell<HashSet<String>>,
    /// Documents no peer may read.
    pub no_read_docs: RefCell<HashSet<DocumentId>>,
    pub no_write: RefCell<HashSet<String>>,
}

impl Policy for Rights {
    fn can_read(&self, peer: &PeerId, doc: &DocumentId, _: Option<&DocMeta>) -> bool {
        !self.no_read.borrow().contains(peer.as_str()) && !self.no_read_docs.borrow().contains(doc)
    }
    fn can_write(&self, peer: &PeerId, _: &DocumentId, _: Option<&DocMeta>) -> bool {
        !self.no_write.borrow().contains(peer.as_str())
    }
}

pub use nic_model::fixtures::{meta, peer};

pub fn seeded_doc() -> Automerge {
    let mut doc = Automerge::new();
    doc.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "title", "PDSA").map(|_| ()))
        .unwrap();
    doc
}

/// A hub and replicas with in-memory storage that the test flushes explicitly.
pub struct Net {
    pub hub: Engine,
    pub replicas: HashMap<String, Engine>,
    pub rights: Rights,
    /// Frames sent, in order: (from, to, frame).
    pub wire: Vec<(String, String, Frame)>,
    /// Every frame ever delivered, for assertions.
    pub log: Vec<(String, String, Frame)>,
    /// Hub persists not yet confirmed.
    pub hub_unflushed: Vec<(DocumentId, u64)>,
    /// Chunks confirmed durable on the hub.
    pub hub_stored: HashMap<DocumentId, Vec<Vec<u8>>>,
    pub now: u64,
}

impl Net {
    pub fn new() -> Self {
        let mut config = EngineConfig::hub();
        config.persist_sync_state = false;
        Self {
            hub: Engine::new(config),
            replicas: HashMap::new(),
            rights: Rights::default(),
            wire: Vec::new(),
            log: Vec::new(),
            hub_unflushed: Vec::new(),
            hub_stored: HashMap::new(),
            now: 0,
        }
    }

    pub fn add_replica(&mut self, name: &str) {
        let mut config = EngineConfig::replica();
        config.persist_sync_state = false;
        let mut engine = Engine::new(config);
        let ctx = Ctx::new(self.now, &AllowAll);
        engine.peer_connected(ctx, peer("hub"));
        self.hub
            .peer_connected(Ctx::new(self.now, &self.rights), peer(name));
        self.replicas.insert(name.to_owned(), engine);
    }

    /// Creates a document with a history: Automerge sends a young document whole rather
    /// than as changes, and the relay path is for changes.
    pub fn create_busy(&mut self, meta: DocMeta) {
        let mut doc = seeded_doc();
        for i in 0..10 {
            doc.transact::<_, _, AutomergeError>(|tx| {
                tx.put(ROOT, format!("step-{i}"), i).map(|_| ())
            })
            .unwrap();
        }
        let ctx = Ctx::new(self.now, &self.rights);
        self.hub.create(ctx, meta, doc).unwrap();
        self.drain_hub();
    }

    pub fn create(&mut self, meta: DocMeta) {
        let ctx = Ctx::new(self.now, &self.rights);
        self.hub.create(ctx, meta, seeded_doc()).unwrap();
        self.drain_hub();
    }

    pub fn subscribe(&mut self, name: &str, target: Target) {
        let engine = self.replicas.get_mut(name).unwrap();
        engine.subscribe(Ctx::new(self.now, &AllowAll), &peer("hub"), target);
        self.drain_replica(name);
    }

    pub fn edit(&mut self, name: &str, doc: DocumentId, key: &str) {
        let engine = self.replicas.get_mut(name).unwrap();
        engine
            .edit(Ctx::new(self.now, &AllowAll), &doc, |am| {
                am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, key, 1).map(|_| ()))
                    .unwrap();
            })
            .unwrap();
        self.drain_replica(name);
    }

    pub fn drain_hub(&mut self) {
        loop {
            let effects = self.hub.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                match effect {
                    Effect::Send { peer, frame } => {
                        self.wire.push(("hub".into(), peer.to_string(), frame))
                    }
                    Effect::Load { doc } => {
                        let result = match self.hub_stored.get(&doc) {
                            Some(chunks) => LoadResult::Found {
                                meta: None,
                                chunks: chunks.clone(),
                            },
                            None => LoadResult::NotFound,
                        };
                        self.hub
                            .loaded(Ctx::new(self.now, &self.rights), doc, result);
                    }
                    Effect::Persist {
                        doc, seq, chunk, ..
                    } => {
                        self.hub_stored.entry(doc).or_default().push(chunk);
                        self.hub_unflushed.push((doc, seq));
                    }
                    _ => {}
                }
            }
        }
    }

    pub fn drain_replica(&mut self, name: &str) {
        let engine = self.replicas.get_mut(name).unwrap();
        loop {
            let effects = engine.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                match effect {
                    Effect::Send { peer, frame } => {
                        self.wire.push((name.into(), peer.to_string(), frame))
                    }
                    Effect::Load { doc } => {
                        engine.loaded(Ctx::new(self.now, &AllowAll), doc, LoadResult::NotFound)
                    }
                    Effect::Persist { doc, seq, .. } => {
                        engine.persisted(Ctx::new(self.now, &AllowAll), doc, seq)
                    }
                    _ => {}
                }
            }
        }
    }

    /// Delivers frames until none are left. Hub persists stay unconfirmed until `flush_hub`.
    pub fn pump(&mut self) {
        while !self.wire.is_empty() {
            let (from, to, frame) = self.wire.remove(0);
            self.deliver(from, to, frame);
        }
    }

    /// Like `pump`, but frames for `held` are kept back and returned.
    pub fn pump_holding(&mut self, held: &str) -> Vec<Frame> {
        let mut kept = Vec::new();
        while !self.wire.is_empty() {
            let (from, to, frame) = self.wire.remove(0);
            if to == held {
                kept.push(frame);
            } else {
                self.deliver(from, to, frame);
            }
        }
        kept
    }

    pub fn deliver(&mut self, from: String, to: String, frame: Frame) {
        self.log.push((from.clone(), to.clone(), frame.clone()));
        if to == "hub" {
            self.hub
                .receive(Ctx::new(self.now, &self.rights), &peer(&from), frame);
            self.drain_hub();
        } else if let Some(engine) = self.replicas.get_mut(&to) {
            engine.receive(Ctx::new(self.now, &AllowAll), &peer("hub"), frame);
            self.drain_replica(&to);
        }
    }

    pub fn flush_hub(&mut self) {
        for (doc, seq) in std::mem::take(&mut self.hub_unflushed) {
            self.hub
                .persisted(Ctx::new(self.now, &self.rights), doc, seq);
        }
        self.drain_hub();
    }

    pub fn frames_to(&self, name: &str) -> Vec<&Frame> {
        self.log
            .iter()
            .filter(|(_, to, _)| to == name)
            .map(|(_, _, f)| f)
            .collect()
    }

    pub fn errors_to(&self, name: &str) -> Vec<ErrorCode> {
        self.frames_to(name)
            .into_iter()
            .filter_map(|f| match f {
                Frame::Error { code, .. } => Some(*code),
                _ => None,
            })
            .collect()
    }
}

/// A hub with a busy document that a writer and a reader both hold, all settled.
pub fn writer_and_reader(n: u8) -> (Net, DocumentId) {
    busy_doc_held_by(n, &["writer", "reader"])
}

/// A hub with a busy document that replicas with these names all hold, all settled.
pub fn busy_doc_held_by(n: u8, names: &[&str]) -> (Net, DocumentId) {
    let mut net = Net::new();
    let m = meta(n, "algebra");
    let doc = m.id;
    net.create_busy(m);
    net.flush_hub();
    for name in names {
        net.add_replica(name);
        net.subscribe(name, Target::Docs(vec![doc]));
    }
    net.pump();
    net.flush_hub();
    net.pump();
    (net, doc)
}

/// The sync messages among `frames`, decoded.
pub fn sync_messages(frames: &[Frame]) -> Vec<automerge::sync::Message> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Sync { message, .. } => Some(automerge::sync::Message::decode(message).unwrap()),
            _ => None,
        })
        .collect()
}
