//! The hub's frame handling, runnable without a network: bytes as a client would send them
//! on `Sync.Connect` are decoded, converted and handed to a hub engine holding one document,
//! exactly as the sync service and the engine task do. The fuzz target
//! (`fuzz/fuzz_targets/client_frames.rs`) and the property test (`tests/frames.rs`) drive
//! it with arbitrary bytes; neither may panic, and whatever the hub would store must be
//! valid Automerge changes.

use nic_model::{DocKind, DocMeta, DocumentId, NetworkId, PeerId, Visibility};
use nic_proto::convert::{self, FromClient};
use nic_proto::v1;
use nic_sync::automerge::Automerge;
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, LoadResult, Target};
use prost::Message as _;

/// A hub engine with one loaded document that the peer `fuzz` has subscribed to.
pub struct FrameCheck {
    engine: Engine,
    peer: PeerId,
    doc: DocumentId,
    now: u64,
}

/// What a run of frames led the hub to do.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Frames the bytes decoded to.
    pub frames: usize,
    /// Chunks the hub would have written to storage.
    pub stored: Vec<Vec<u8>>,
}

impl Default for FrameCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameCheck {
    /// The hub, its document (id 0x07…, with a little content), and the subscribed peer.
    pub fn new() -> Self {
        let mut engine = Engine::new(EngineConfig::hub());
        let doc = DocumentId::from_bytes([7; 16]);
        let meta = DocMeta {
            id: doc,
            kind: DocKind::PdsaCycle,
            network: NetworkId::new("fuzz").unwrap_or_else(|_| unreachable!("a valid literal")),
            site: None,
            visibility: Visibility::Network,
            title: "fuzz".into(),
            created_at_ms: 0,
            archived: false,
        };
        let ctx = Ctx::new(0, &AllowAll);
        engine.catalogue(ctx, meta);
        let peer = PeerId::new("fuzz").unwrap_or_else(|_| unreachable!("a valid literal"));
        engine.peer_connected(ctx, peer.clone());
        engine.receive(
            ctx,
            &peer,
            nic_sync::Frame::Subscribe {
                target: Target::Docs(vec![doc]),
                known: Vec::new(),
            },
        );
        let mut check = Self {
            engine,
            peer,
            doc,
            now: 0,
        };
        check.settle(&mut Outcome::default());
        check
    }

    /// The document the peer holds a link to.
    pub fn doc(&self) -> DocumentId {
        self.doc
    }

    /// Feeds `bytes` as a sequence of length-prefixed `ClientFrame`s (one byte of length,
    /// then that many bytes), the way a stream would deliver them.
    pub fn feed(&mut self, bytes: &[u8]) -> Outcome {
        let mut outcome = Outcome::default();
        let mut rest = bytes;
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len).min(tail.len());
            let (frame, tail) = tail.split_at(len);
            rest = tail;
            self.feed_one(frame, &mut outcome);
        }
        outcome
    }

    /// Feeds one encoded `ClientFrame`.
    pub fn feed_one(&mut self, encoded: &[u8], outcome: &mut Outcome) {
        let Ok(frame) = v1::ClientFrame::decode(encoded) else {
            return;
        };
        outcome.frames += 1;
        if let Ok(FromClient::Frame(frame)) = convert::from_client(frame) {
            self.now += 1;
            let ctx = Ctx::new(self.now, &AllowAll);
            self.engine.receive(ctx, &self.peer, frame);
            self.settle(outcome);
        }
    }

    /// Carries out the engine's effects as the engine task would: loads answer from an
    /// empty store with a little document, persists succeed at once.
    fn settle(&mut self, outcome: &mut Outcome) {
        let ctx = Ctx::new(self.now, &AllowAll);
        loop {
            let effects = self.engine.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                match effect {
                    Effect::Load { doc } => {
                        let mut am = Automerge::new();
                        let _ = am.transact::<_, _, nic_sync::automerge::AutomergeError>(|tx| {
                            use nic_sync::automerge::transaction::Transactable;
                            tx.put(nic_sync::automerge::ROOT, "title", "fuzz")?;
                            Ok(())
                        });
                        self.engine.loaded(
                            ctx,
                            doc,
                            LoadResult::Found {
                                meta: None,
                                chunks: vec![am.save()],
                            },
                        );
                    }
                    Effect::LoadSyncState { peer, doc } => {
                        self.engine.sync_state_loaded(ctx, &peer, doc, None);
                    }
                    Effect::Persist {
                        doc, seq, chunk, ..
                    } => {
                        outcome.stored.push(chunk);
                        self.engine.persisted(ctx, doc, seq);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Whether every stored chunk loads as Automerge on top of the document.
    pub fn stored_is_valid(outcome: &Outcome) -> bool {
        outcome
            .stored
            .iter()
            .all(|chunk| Automerge::new().load_incremental(chunk).is_ok())
    }
}
