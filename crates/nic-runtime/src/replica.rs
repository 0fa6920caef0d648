//! The replica's runtime: its engine (whose only peer is the hub), the open write group and
//! the record of the hub's acknowledgements. Like the hub's, every input is followed by
//! carrying out the engine's effects in one loop (`CarryOut::drain`, shared with the hub); the client
//! library's task and the simulation carry out the [`Output`]s and [`Group`]s.
//!
//! The ack record: when the hub acknowledges a document's heads, the replica stores when
//! and which, under the pseudo-peer [`ack_record_peer`] in its sync-state table, in the same
//! flush as whatever else is pending; at load, the engine is told them again, so a restarted
//! replica knows what the hub already holds.

use std::collections::BTreeMap;

use automerge::ChangeHash;
use nic_model::{DocumentId, PeerId};
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, Notification};

use crate::storage::{Committed, Group, Read, ReadDone, Write};
use crate::{CarryOut, Output, Time};

/// The pseudo-peer under which a replica keeps, per document, when the hub last
/// acknowledged changes made here and up to which heads.
pub fn ack_record_peer() -> PeerId {
    PeerId::new("hub.acked").unwrap_or_else(|_| unreachable!("a valid literal id"))
}

/// `[time ms: i64 BE][heads: 32 bytes each]`.
pub fn encode_ack(at_ms: i64, heads: &[ChangeHash]) -> Vec<u8> {
    let mut out = at_ms.to_be_bytes().to_vec();
    for h in heads {
        out.extend_from_slice(&h.0);
    }
    out
}

/// Reads an ack record; `None` if it is damaged.
pub fn decode_ack(bytes: &[u8]) -> Option<(i64, Vec<ChangeHash>)> {
    let (ms, rest) = bytes.split_first_chunk::<8>()?;
    if !rest.len().is_multiple_of(32) {
        return None;
    }
    let heads = rest
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect();
    Some((i64::from_be_bytes(*ms), heads))
}

/// A replica's engine and what it has asked for but not yet had carried out.
pub struct ReplicaRuntime {
    engine: Engine,
    hub: PeerId,
    group: Group,
    out: Vec<Output>,
    /// When the hub last acknowledged each document (wall-clock ms).
    last_ack: BTreeMap<DocumentId, i64>,
}

impl ReplicaRuntime {
    /// A replica runtime whose hub is known to its engine as `hub`.
    pub fn new(config: EngineConfig, hub: PeerId) -> Self {
        Self {
            engine: Engine::new(config),
            hub,
            group: Group::default(),
            out: Vec::new(),
            last_ack: BTreeMap::new(),
        }
    }

    /// The engine, to read.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The hub's peer id.
    pub fn hub(&self) -> &PeerId {
        &self.hub
    }

    /// When the hub last acknowledged each document.
    pub fn last_acks(&self) -> &BTreeMap<DocumentId, i64> {
        &self.last_ack
    }

    /// Runs `f` on the engine, then carries out what it asked for.
    pub fn with_engine<R>(&mut self, t: Time, f: impl FnOnce(&mut Engine, Ctx<'_>) -> R) -> R {
        let r = f(&mut self.engine, Ctx::new(t.engine_ms, &AllowAll));
        self.drain(t);
        r
    }

    /// What the environment must do now.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    /// Whether outputs wait for [`ReplicaRuntime::take_outputs`].
    pub fn has_outputs(&self) -> bool {
        !self.out.is_empty()
    }

    /// The writes issued since the last call, to commit with one flush; `None` if none.
    pub fn take_group(&mut self) -> Option<Group> {
        self.group.take()
    }

    /// Whether writes wait for [`ReplicaRuntime::take_group`].
    pub fn has_writes(&self) -> bool {
        !self.group.is_empty()
    }

    /// The answer to an [`Output::Read`].
    pub fn read_done(&mut self, t: Time, done: ReadDone) {
        let ctx = Ctx::new(t.engine_ms, &AllowAll);
        match done {
            ReadDone::Doc { doc, result, acked } => {
                self.engine.loaded(ctx, doc, result);
                if let Some((at, heads)) = acked.as_deref().and_then(decode_ack) {
                    self.engine.restore_acked(&doc, &self.hub, heads);
                    self.last_ack.insert(doc, at);
                }
            }
            ReadDone::SyncState { peer, doc, state } => {
                self.engine.sync_state_loaded(ctx, &peer, doc, state)
            }
            // A replica's store is its own: it never asks for another's chunks.
            ReadDone::Stored { .. } => {}
        }
        self.drain(t);
    }

    /// What committing a group did: its chunks reported persisted (or failed) — only now,
    /// after the flush, as `Effect::Persist` requires.
    pub fn committed(&mut self, t: Time, done: Committed) {
        let ctx = Ctx::new(t.engine_ms, &AllowAll);
        for (doc, seq) in done.persisted {
            self.engine.persisted(ctx, doc, seq);
        }
        for (doc, seq, reason) in done.failed {
            self.engine.persist_failed(ctx, doc, seq, &reason);
        }
        self.drain(t);
    }
}

impl CarryOut for ReplicaRuntime {
    fn take_effects(&mut self) -> Vec<Effect> {
        self.engine.take_effects()
    }

    fn carry_out(&mut self, t: Time, effect: Effect) {
        let writes = &mut self.group.writes;
        match effect {
            Effect::Send { peer, frame } => self.out.push(Output::Send { peer, frame }),
            Effect::Load { doc } => self.out.push(Output::Read(Read::Doc(doc))),
            Effect::LoadSyncState { peer, doc } => {
                self.out.push(Output::Read(Read::SyncState(peer, doc)))
            }
            Effect::PutMeta(meta) => writes.push(Write::Meta(meta)),
            Effect::Persist {
                doc, seq, chunk, ..
            } => writes.push(Write::Chunk {
                doc,
                seq,
                chunk,
                authored: None,
            }),
            Effect::SaveSyncState { peer, doc, state } => {
                writes.push(Write::SyncState { peer, doc, state })
            }
            Effect::Notify(n) => {
                if let Notification::Acked { doc, heads, .. } = &n {
                    self.last_ack.insert(*doc, t.wall_ms);
                    writes.push(Write::SyncState {
                        peer: ack_record_peer(),
                        doc: *doc,
                        state: encode_ack(t.wall_ms, heads),
                    });
                }
                self.out.push(Output::Notify(n));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ack_records_round_trip_and_damaged_ones_are_ignored() {
        let heads = vec![ChangeHash([1; 32]), ChangeHash([2; 32])];
        let at = 1_764_000_000_123;
        assert_eq!(decode_ack(&encode_ack(at, &heads)), Some((at, heads)));
        assert_eq!(decode_ack(&[1, 2, 3]), None);
        assert_eq!(decode_ack(&[0; 9]), None);
    }
}
