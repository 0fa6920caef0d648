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
        if let Some(entry) = self.peers.get_mut(peer) {
            entry.last_heard_ms = ctx.now_ms;
        }
        if self.config.role != Role::Replica || frames.len() < 2 {
            for frame in frames {
                self.receive(ctx, peer, frame);
            }
            return;
        }
        // Merging stops well short of the per-message change limit.
        let max_changes = (self.config.max_changes_per_message / 2).max(1);
        let mut pending: Vec<Pending> = Vec::new();
        for frame in frames {
            match frame {
                Frame::Sync { doc, message } => match Message::decode(&message) {
                    Ok(next) => match pending.iter().position(|p| p.doc == doc) {
                        Some(i) if pending[i].chunks.len() + next.changes.len() <= max_changes => {
                            pending[i].add(next);
                        }
                        Some(i) => {
                            let full = pending.remove(i);
                            self.deliver(ctx, peer, full);
                            pending.push(Pending::new(doc, next));
                        }
                        None => pending.push(Pending::new(doc, next)),
                    },
                    Err(_) => {
                        // The error path of a single frame says what was wrong.
                        self.flush(ctx, peer, &mut pending, Some(doc));
                        self.receive(ctx, peer, Frame::Sync { doc, message });
                    }
                },
                other => {
                    // A frame about one document may rely on that document's sync messages
                    // before it; documents do not depend on each other.
                    let about = match &other {
                        Frame::Ack { doc, .. } => Some(*doc),
                        Frame::Announce(meta) => Some(meta.id),
                        Frame::Error { doc: Some(doc), .. } => Some(*doc),
                        _ => None,
                    };
                    self.flush(ctx, peer, &mut pending, about);
                    self.receive(ctx, peer, other);
                }
            }
        }
        self.flush(ctx, peer, &mut pending, None);
    }

    /// Delivers what is pending for `doc`, or for every document when `None`.
    fn flush(
        &mut self,
        ctx: Ctx<'_>,
        peer: &PeerId,
        pending: &mut Vec<Pending>,
        doc: Option<DocumentId>,
    ) {
        let (due, keep): (Vec<Pending>, Vec<Pending>) = std::mem::take(pending)
            .into_iter()
            .partition(|p| doc.is_none_or(|d| d == p.doc));
        *pending = keep;
        for p in due {
            self.deliver(ctx, peer, p);
        }
    }

    fn deliver(&mut self, ctx: Ctx<'_>, peer: &PeerId, pending: Pending) {
        if self.peers.contains_key(peer) {
            let doc = pending.doc;
            self.receive_sync_frame(ctx, doc, peer, pending.into_message());
        }
    }
}

/// One document's messages being merged: the last one's heads, summary, requests and
/// flags, and every message's changes.
struct Pending {
    doc: DocumentId,
    last: Message,
    chunks: Vec<Vec<u8>>,
    /// An earlier message asked for a sync reset, which must not be lost.
    reset: bool,
}

impl Pending {
    fn new(doc: DocumentId, message: Message) -> Self {
        let (last, changes) = take_changes(message);
        Pending {
            doc,
            last,
            chunks: changes.iter().map(<[u8]>::to_vec).collect(),
            reset: false,
        }
    }

    fn add(&mut self, message: Message) {
        self.reset |= self
            .last
            .flags
            .is_some_and(|f| f.contains(MessageFlags::SYNC_RESET));
        let (last, changes) = take_changes(message);
        self.chunks.extend(changes.iter().map(<[u8]>::to_vec));
        self.last = last;
    }

    fn into_message(self) -> Message {
        let mut message = self.last;
        if self.reset {
            let mut flags = message.flags.unwrap_or_default();
            flags.set(MessageFlags::SYNC_RESET);
            message.flags = Some(flags);
        }
        message.changes = ChunkList::from(self.chunks);
        message
    }
}

/// A message without its changes, and the changes.
fn take_changes(mut message: Message) -> (Message, ChunkList) {
    let changes = std::mem::replace(&mut message.changes, ChunkList::empty());
    (message, changes)
}
