//! The hub's frame handling, runnable without a network: bytes as a client would send them
//! on `Sync.Connect` are decoded, converted and handed to the hub's runtime (its real
//! policy, actor binding and storage commit) holding one document, exactly as the sync
//! service and the engine task do. The fuzz target
//! (`fuzz/fuzz_targets/client_frames.rs`) and the property test (`tests/frames.rs`) drive
//! it with arbitrary bytes, and `repo_messages.rs` with automerge-repo WebSocket messages; neither may panic, and whatever the hub would store must be
//! valid Automerge changes.

use nic_model::{DocKind, DocMeta, DocumentId, Grant, Grants, Member, MemberId, NetworkId};
use nic_model::{PeerId, TokenId, Visibility};
use nic_proto::convert::{self, FromClient};
use nic_proto::v1;
use nic_runtime::storage::{self, Write};
use nic_runtime::{Current, HubRuntime, Output, Time};
use nic_store::{Durability, MemStore, Store};
use nic_sync::automerge::Automerge;
use nic_sync::{EngineConfig, Target};
use prost::Message as _;

/// The hub's runtime (`nic_runtime::HubRuntime`, with its real policy and storage commit)
/// over an in-memory store holding one document that the peer `fuzz`, a lead of its
/// network, has subscribed to.
pub struct FrameCheck {
    rt: HubRuntime,
    store: MemStore,
    peer: PeerId,
    doc: DocumentId,
    now: u64,
}

/// What a run of frames led the hub to do.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Frames the bytes decoded to.
    pub frames: usize,
    /// Chunks the hub stored.
    pub stored: Vec<Vec<u8>>,
    /// automerge-repo messages that did not decode back to themselves once encoded (must
    /// stay 0: the endpoint's decoder and encoder agree).
    pub roundtrip_failures: usize,
}

impl Default for FrameCheck {
    fn default() -> Self {
        Self::new()
    }
}

fn literal<T, E>(made: Result<T, E>) -> T {
    made.unwrap_or_else(|_| unreachable!("a valid literal"))
}

impl FrameCheck {
    /// The hub, its document (id 0x07…, with a little content), and the subscribed peer.
    pub fn new() -> Self {
        let network = literal(NetworkId::new("fuzz"));
        let doc = DocumentId::from_bytes([7; 16]);
        let meta = DocMeta {
            id: doc,
            kind: DocKind::PdsaCycle,
            network: network.clone(),
            site: None,
            visibility: Visibility::Network,
            title: "fuzz".into(),
            created_at_ms: 0,
            archived: false,
        };
        let store = MemStore::new();
        let mut am = Automerge::new();
        let _ = am.transact::<_, _, nic_sync::automerge::AutomergeError>(|tx| {
            use nic_sync::automerge::transaction::Transactable;
            tx.put(nic_sync::automerge::ROOT, "title", "fuzz")?;
            Ok(())
        });
        // An in-memory store does not fail on valid input.
        let _ = store.put_meta(&meta);
        let _ = store.append(&doc, &am.save());
        let mut rt = HubRuntime::new(EngineConfig::hub());
        let t = Time::default();
        rt.catalogue(t, meta);
        let peer = literal(PeerId::new("fuzz"));
        let member = Member {
            id: literal(MemberId::new("fuzz")),
            name: "fuzz".into(),
            grants: Grants(vec![Grant::NetworkLead { network }]),
            created_at_ms: 0,
        };
        let current = Current {
            member,
            expires_at_ms: None,
        };
        rt.connect(t, peer.clone(), literal(TokenId::new("fuzz")), current);
        rt.receive(
            t,
            &peer,
            nic_sync::Frame::Subscribe {
                target: Target::Docs(vec![doc]),
                known: Vec::new(),
            },
        );
        let mut check = Self {
            rt,
            store,
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
            let t = self.time();
            self.rt.receive(t, &self.peer, frame);
            self.settle(outcome);
        }
    }

    /// Feeds `bytes` as a sequence of automerge-repo WebSocket messages (two bytes of
    /// length, little-endian, then that many bytes), decoded as the `/automerge` endpoint
    /// decodes them: `request` and `sync` reach the runtime as sync frames, as a socket's do.
    pub fn feed_repo(&mut self, bytes: &[u8]) -> Outcome {
        let limits = nic_repo_wire::Limits {
            max_message_bytes: 64 * 1024,
            ..nic_repo_wire::Limits::default()
        };
        let mut outcome = Outcome::default();
        let mut rest = bytes;
        while rest.len() >= 2 {
            let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
            let (message, tail) = rest[2..].split_at(len);
            rest = tail;
            let Ok(message) = nic_repo_wire::decode(message, &limits) else {
                continue;
            };
            outcome.frames += 1;
            let again = nic_repo_wire::decode(&nic_repo_wire::encode(&message), &limits);
            if again.as_ref() != Ok(&message) {
                outcome.roundtrip_failures += 1;
            }
            if let nic_repo_wire::Message::Request { document, data, .. }
            | nic_repo_wire::Message::Sync { document, data, .. } = message
            {
                self.now += 1;
                let t = self.time();
                let frame = nic_sync::Frame::Sync {
                    doc: document,
                    message: data,
                };
                self.rt.receive(t, &self.peer, frame);
                self.settle(&mut outcome);
            }
        }
        outcome
    }

    fn time(&self) -> Time {
        Time {
            engine_ms: self.now,
            wall_ms: 0,
        }
    }

    /// Carries out the runtime's outputs as the engine task would: reads answered from the
    /// store, write groups committed with `nic_runtime::storage::commit` at once.
    fn settle(&mut self, outcome: &mut Outcome) {
        loop {
            let t = self.time();
            let outputs = self.rt.take_outputs();
            if !outputs.is_empty() {
                for output in outputs {
                    if let Output::Read(read) = output {
                        self.rt.read_done(t, storage::read(&self.store, read, None));
                    }
                }
                continue;
            }
            let Some(group) = self.rt.take_group() else {
                return;
            };
            let chunks: Vec<(u64, Vec<u8>)> = group
                .writes
                .iter()
                .filter_map(|w| match w {
                    Write::Chunk { seq, chunk, .. } => Some((*seq, chunk.clone())),
                    _ => None,
                })
                .collect();
            let committed =
                storage::commit(&self.store, Some(&self.store), group, Durability::Process);
            outcome.stored.extend(
                chunks
                    .into_iter()
                    .filter(|(seq, _)| committed.persisted.iter().any(|(_, s)| s == seq))
                    .map(|(_, chunk)| chunk),
            );
            self.rt.committed(t, committed);
        }
    }

    /// Whether every stored chunk loads as Automerge on top of the document, and the
    /// document with all of them still reads as a PDSA cycle (or is empty): the hub never
    /// stores content the product cannot read.
    pub fn stored_is_valid(outcome: &Outcome) -> bool {
        let mut doc = Automerge::new();
        outcome.stored.iter().all(|chunk| {
            Automerge::new().load_incremental(chunk).is_ok() && doc.load_incremental(chunk).is_ok()
        }) && (nic_model::schema::check::is_empty(&doc)
            || nic_model::schema::check::check(&doc, DocKind::PdsaCycle).is_ok())
    }
}
