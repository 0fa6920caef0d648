//! Applying sync messages, and — on a hub — holding their changes back until they are
//! durable.
//!
//! A hub writes a message's new changes to storage *before* it applies them. Its documents
//! in memory therefore hold only durable changes, so everything it sends to other peers and
//! every ack it gives is backed by storage: a hub crash can lose a change only while its
//! author still holds it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::sync::{Message, SyncDoc};
use automerge::{Automerge, Change, ChangeHash};
use nic_model::{DocumentId, PeerId};

use super::Engine;
use crate::doc::{DocState, Staged};
use crate::{Ctx, Effect, ErrorCode, Origin};

impl Engine {
    /// On a hub: persist the message's new changes and apply it once they are durable, in
    /// order behind any message of the same link still waiting.
    pub(super) fn stage_or_apply(
        &mut self,
        ctx: Ctx<'_>,
        doc: DocumentId,
        peer: &PeerId,
        message: Message,
    ) {
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let DocState::Ready(am) = &entry.state else {
            return;
        };
        let new_chunk = match new_changes(am, &message) {
            Ok(chunk) => chunk,
            Err(reason) => {
                self.send_error(
                    peer,
                    Some(doc),
                    ErrorCode::InvalidArgument,
                    format!("sync message for document {doc} carries a malformed change: {reason}"),
                );
                return;
            }
        };
        let waiting = entry.links.get(peer).is_some_and(|l| !l.staged.is_empty());
        if new_chunk.is_empty() && !waiting {
            self.apply_sync(ctx, doc, peer, message);
            return;
        }
        let seq = if new_chunk.is_empty() {
            0
        } else {
            entry.persist.issued_seq += 1;
            let seq = entry.persist.issued_seq;
            entry
                .staged_chunks
                .push_back((seq, peer.clone(), new_chunk.clone()));
            self.outbox.push(Effect::Persist {
                doc,
                seq,
                chunk: new_chunk,
            });
            seq
        };
        if let Some(link) = self.docs.get_mut(&doc).and_then(|e| e.links.get_mut(peer)) {
            link.staged.push_back(Staged { message, seq });
            link.last_activity_ms = ctx.now_ms;
        }
    }

    /// Applies every staged change that is now durable, then the messages that carried them.
    pub(super) fn release_staged(&mut self, ctx: Ctx<'_>, doc: DocumentId) {
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let durable = entry.persist.durable_seq;
        let mut senders = Vec::new();
        while entry
            .staged_chunks
            .front()
            .is_some_and(|(seq, _, _)| *seq <= durable)
        {
            let Some((_, sender, chunk)) = entry.staged_chunks.pop_front() else {
                break;
            };
            let DocState::Ready(am) = &mut entry.state else {
                return;
            };
            let before = am.get_heads();
            // Checked when staged; a failure here can only leave changes out, and the
            // sender's resync offers them again.
            let _ = catch_unwind(AssertUnwindSafe(|| am.load_incremental(&chunk)));
            let after = am.get_heads();
            if after != before {
                mark_durable(&mut entry.persist, after);
                senders.push(sender);
            }
        }
        for sender in senders {
            self.on_changed(ctx, doc, Origin::Remote(sender));
        }
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let mut ready = Vec::new();
        for (peer, link) in &mut entry.links {
            while link.staged.front().is_some_and(|s| s.seq <= durable) {
                if let Some(staged) = link.staged.pop_front() {
                    ready.push((peer.clone(), staged.message));
                }
            }
        }
        for (peer, message) in ready {
            self.apply_sync(ctx, doc, &peer, message);
        }
    }

    /// Applies a checked sync message to a ready document and answers it.
    pub(super) fn apply_sync(
        &mut self,
        ctx: Ctx<'_>,
        doc: DocumentId,
        peer: &PeerId,
        message: Message,
    ) {
        let has_changes = !message.changes.is_empty();
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let DocState::Ready(am) = &mut entry.state else {
            return;
        };
        let Some(link) = entry.links.get_mut(peer) else {
            return;
        };
        // The peer names changes it still needs. If we sent them before, that message was
        // lost: forget we sent them, or Automerge's de-duplication would withhold them forever.
        for hash in &message.need {
            link.sync.sent_hashes.remove(hash);
        }
        let their_last_sync = message.have.first().map(|h| sorted(h.last_sync.clone()));
        let before = am.get_heads();
        let applied = catch_unwind(AssertUnwindSafe(|| {
            am.receive_sync_message(&mut link.sync, message)
        }));
        // A peer whose summary does not end at our heads does not know where we stand (it
        // reset, or our last word was lost): answer even if Automerge thinks we are done.
        if their_last_sync.is_some_and(|last| last != sorted(am.get_heads())) {
            link.sync.have_responded = false;
        }
        link.last_activity_ms = ctx.now_ms;
        link.refused = false;
        if has_changes {
            link.ack_owed = true;
        }
        let after = am.get_heads();
        let changed = after != before;
        if changed && self.config.role == crate::Role::Hub {
            // Staged changes were durable before they were applied.
            mark_durable(&mut entry.persist, after);
        }
        match applied {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.send_error(
                peer,
                Some(doc),
                ErrorCode::InvalidArgument,
                format!("could not apply sync message for document {doc}: {e}"),
            ),
            Err(_) => {
                self.fail_doc(
                    doc,
                    ErrorCode::Internal,
                    format!("document {doc} hit an internal error applying a sync message and was unloaded"),
                );
                return;
            }
        }
        if changed {
            self.on_changed(ctx, doc, Origin::Remote(peer.clone()));
        } else {
            self.sync_peer(ctx, doc, peer);
        }
        self.maybe_ack(ctx, doc, peer);
    }
}

/// The changes of a message that the document lacks, as one chunk for storage; an error if
/// a chunk does not parse. A chunk is one change (filtered against the document), or several
/// changes or a whole document (kept whole: Automerge exposes no way to split them).
fn new_changes(am: &Automerge, message: &Message) -> Result<Vec<u8>, String> {
    let mut chunk = Vec::new();
    for bytes in message.changes.iter() {
        match catch_unwind(|| Change::try_from(bytes)) {
            Ok(Ok(change)) => {
                if !has(am, &change.hash()) {
                    chunk.extend_from_slice(bytes);
                }
            }
            Ok(Err(_)) | Err(_) => {
                // Parsing into an empty document checks the bytes without copying ours;
                // changes whose dependencies are missing there are queued, not refused.
                let mut scratch = Automerge::new();
                match catch_unwind(AssertUnwindSafe(|| scratch.load_incremental(bytes))) {
                    Ok(Ok(_)) => chunk.extend_from_slice(bytes),
                    Ok(Err(e)) => return Err(e.to_string()),
                    Err(_) => return Err("the decoder panicked".to_owned()),
                }
            }
        }
    }
    Ok(chunk)
}

/// Records that the document's heads are durable, unless our own edits are still being
/// persisted (then their persist, which covers these heads too, will say so).
fn mark_durable(p: &mut crate::doc::PersistState, heads: Vec<ChangeHash>) {
    if p.issued_heads == p.durable_heads {
        p.issued_heads.clone_from(&heads);
        p.durable_heads = heads;
    }
}

fn has(am: &Automerge, hash: &ChangeHash) -> bool {
    am.get_change_meta_by_hash(hash).is_some()
}

fn sorted(mut hashes: Vec<ChangeHash>) -> Vec<ChangeHash> {
    hashes.sort_unstable();
    hashes
}
