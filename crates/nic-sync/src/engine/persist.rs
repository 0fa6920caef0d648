//! Persistence and durable acknowledgements.
//!
//! Changes made here (and, on a replica, changes received) go to storage as incremental
//! chunks with a sequence number; on a hub, received changes are staged and persisted before
//! they are applied (see `apply.rs`). Either way an ack names only durable changes.

use nic_model::{DocumentId, PeerId};

use super::Engine;
use crate::doc::DocState;
use crate::{Ctx, Effect, ErrorCode, Frame, Notification, Role};

impl Engine {
    /// Hands everything not yet given to storage over, as one chunk.
    pub(super) fn persist_pending(&mut self, doc: DocumentId) {
        // A replica cannot store a document before it knows where it belongs.
        if self.config.role == Role::Replica && !self.catalog.contains_key(&doc) {
            return;
        }
        let hub = self.config.role == Role::Hub;
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let DocState::Ready(am) = &entry.state else {
            return;
        };
        let heads = am.get_heads();
        if heads == entry.persist.issued_heads {
            return;
        }
        // A document's first chunk is a whole snapshot, not its changes one by one: it loads
        // in about half the time, and most documents never grow enough to be compacted.
        let chunk = if entry.persist.issued_heads.is_empty() {
            am.save()
        } else {
            am.save_after(&entry.persist.issued_heads)
        };
        let p = &mut entry.persist;
        if chunk.is_empty() {
            p.issued_heads = heads;
            return;
        }
        let seq = p.issue(heads);
        if hub {
            p.local_in_flight = Some(seq);
        }
        self.outbox.push(Effect::Persist {
            doc,
            seq,
            chunk,
            authored: None,
        });
    }

    /// Storage reports persist `seq` of `doc` (and every earlier one) durable.
    pub fn persisted(&mut self, ctx: Ctx<'_>, doc: DocumentId, seq: u64) {
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let p = &mut entry.persist;
        if seq <= p.durable_seq {
            return;
        }
        p.durable_seq = seq;
        while p.in_flight.front().is_some_and(|(s, _)| *s <= seq) {
            if let Some((_, heads)) = p.in_flight.pop_front() {
                p.durable_heads = heads;
            }
        }
        let local_now_durable = p.local_in_flight.is_some_and(|s| s <= seq);
        if local_now_durable {
            p.local_in_flight = None;
        }
        self.release_staged(ctx, doc);
        if local_now_durable {
            // Our own edits were held back from peers until now.
            let peers: Vec<PeerId> = self
                .docs
                .get(&doc)
                .map(|e| e.links.keys().cloned().collect())
                .unwrap_or_default();
            for peer in peers {
                self.sync_peer(ctx, doc, &peer);
            }
        }
    }

    /// Storage could not make persist `seq` of `doc` durable. Staged messages waiting for it
    /// are dropped (their senders resync); our own changes are persisted again on the next
    /// tick.
    pub fn persist_failed(&mut self, _ctx: Ctx<'_>, doc: DocumentId, seq: u64, reason: &str) {
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        if seq <= entry.persist.durable_seq {
            return;
        }
        entry.staged_chunks.retain(|c| c.seq < seq);
        for link in entry.links.values_mut() {
            if let Some(at) = link.staged.iter().position(|s| s.seq >= seq) {
                link.staged.truncate(at);
            }
        }
        let p = &mut entry.persist;
        if p.in_flight.iter().any(|(s, _)| *s >= seq) {
            p.issued_heads.clone_from(&p.durable_heads);
            p.in_flight.clear();
            self.retry_persist.insert(doc);
        }
        self.outbox.push(Effect::Notify(Notification::DocError {
            doc: Some(doc),
            peer: None,
            code: ErrorCode::Unavailable,
            message: format!("saving document {doc} failed ({reason}); retrying"),
        }));
    }

    /// After a hub applied a peer's changes (durable by then), acknowledge the peer's heads
    /// once they are all here.
    pub(super) fn maybe_ack(&mut self, ctx: Ctx<'_>, doc: DocumentId, peer: &PeerId) {
        if self.config.role != Role::Hub {
            return;
        }
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let DocState::Ready(am) = &entry.state else {
            return;
        };
        let Some(link) = entry.links.get_mut(peer) else {
            return;
        };
        if !link.ack_owed {
            return;
        }
        let Some(their) = link.sync.their_heads.clone() else {
            return;
        };
        if their.is_empty() || link.last_acked.as_ref() == Some(&their) {
            link.ack_owed = false;
            return;
        }
        if !their
            .iter()
            .all(|h| am.get_change_meta_by_hash(h).is_some())
        {
            return; // some of their changes wait for dependencies: ack later
        }
        link.ack_owed = false;
        link.last_acked = Some(their.clone());
        if self.may_read(ctx, peer, &doc) {
            self.send(peer, Frame::Ack { doc, heads: their });
        }
    }
}
