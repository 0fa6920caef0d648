//! Frames that arrived together, handled together.
//!
//! Automerge applies a batch of changes several times faster than the same changes one
//! call at a time (see `BENCHMARKS.md`), and a replica that answers once per batch rather
//! than once per message spares the hub as much work again. When a busy hub has sent several
//! sync messages for one document before the replica got to read them, the replica merges
//! them into one: the changes of all, and the heads, summary and requests of the last (each
//! message supersedes the one before on those). That is what the replica would have seen had
//! it read them one by one and answered only the last.

use automerge::sync::{ChunkList, Message, MessageFlags};
use nic_model::{DocumentId, PeerId};

use super::Engine;
use crate::{Ctx, Frame, Role};

impl Engine {
    /// Several frames from one peer that arrived together, in order. A replica merges the
    /// sync messages of each document among them (see the module documentation); a hub takes
    /// them one by one, as [`Engine::receive`] does.
    pub fn receive_all(&mut self, ctx: Ctx<'_>, peer: &PeerId, frames: Vec<Frame>) {
        if self.config.role != Role::Replica || frames.len() < 2 {
            for frame in frames {
                self.receive(ctx, peer, frame);
            }
            return;
        }
        // Merging stops well short of the per-message change limit.
        let max_changes = (self.config.max_changes_per_message / 2).max(1);
        let mut pending: Vec<(DocumentId, Message)> = Vec::new();
        for frame in frames {
            match frame {
                Frame::Sync { doc, message } => match Message::decode(&message) {
                    Ok(next) => {
                        let slot = pending.iter().position(|(d, _)| *d == doc);
                        match slot {
                            Some(i)
                                if pending[i].1.changes.len() + next.changes.len()
                                    <= max_changes =>
                            {
                                let merged =
                                    merge(std::mem::replace(&mut pending[i].1, empty()), next);
                                pending[i].1 = merged;
                            }
                            Some(i) => {
                                let (_, earlier) = pending.remove(i);
                                self.deliver(ctx, peer, doc, earlier);
                                pending.push((doc, next));
                            }
                            None => pending.push((doc, next)),
                        }
                    }
                    Err(_) => {
                        // The error path of a single frame says what was wrong.
                        self.flush_pending(ctx, peer, &mut pending);
                        self.receive(ctx, peer, Frame::Sync { doc, message });
                    }
                },
                other => {
                    // Acks, announcements and errors may rely on the sync messages before them.
                    self.flush_pending(ctx, peer, &mut pending);
                    self.receive(ctx, peer, other);
                }
            }
        }
        self.flush_pending(ctx, peer, &mut pending);
    }

    fn flush_pending(
        &mut self,
        ctx: Ctx<'_>,
        peer: &PeerId,
        pending: &mut Vec<(DocumentId, Message)>,
    ) {
        for (doc, message) in pending.drain(..) {
            self.deliver(ctx, peer, doc, message);
        }
    }

    fn deliver(&mut self, ctx: Ctx<'_>, peer: &PeerId, doc: DocumentId, message: Message) {
        if self.peers.contains_key(peer) {
            self.receive_sync_frame(ctx, doc, peer, message);
        }
    }
}

fn empty() -> Message {
    Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: ChunkList::empty(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
}

/// `earlier` then `later` as one message.
fn merge(earlier: Message, later: Message) -> Message {
    let changes: Vec<Vec<u8>> = earlier
        .changes
        .iter()
        .chain(later.changes.iter())
        .map(<[u8]>::to_vec)
        .collect();
    // A reset asked for by an earlier message must not be lost.
    let reset = earlier
        .flags
        .is_some_and(|f| f.contains(MessageFlags::SYNC_RESET));
    let flags = match later.flags {
        Some(mut f) => {
            if reset {
                f.set(MessageFlags::SYNC_RESET);
            }
            Some(f)
        }
        None if reset => earlier.flags,
        None => None,
    };
    Message {
        heads: later.heads,
        need: later.need,
        have: later.have,
        changes: changes.into(),
        flags,
        version: later.version,
    }
}
