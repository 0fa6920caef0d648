//! Links: one peer syncing one document. Opening, starting, driving and closing them.

use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::Automerge;
use automerge::sync::SyncDoc;
use nic_model::{DocumentId, PeerId};

use super::Engine;
use crate::doc::{DocEntry, DocState, Link};
use crate::{Ctx, Effect, ErrorCode, Frame, Known, Role};

impl Engine {
    /// Ensures `peer` and this engine sync `doc`, and says whether they now do. On a hub the
    /// peer must be allowed to read it and the document must exist. An existing link starts
    /// a fresh exchange when `restart`.
    pub(super) fn link(
        &mut self,
        ctx: Ctx<'_>,
        peer: &PeerId,
        doc: DocumentId,
        restart: bool,
    ) -> bool {
        self.link_with(ctx, peer, doc, restart, None)
    }

    /// [`Engine::link`] for a document the subscriber says it already holds: a new link
    /// skips the announcement if the metadata is the same, and starts in step if the heads
    /// are (see [`crate::Known`]).
    pub(super) fn link_with(
        &mut self,
        ctx: Ctx<'_>,
        peer: &PeerId,
        doc: DocumentId,
        restart: bool,
        known: Option<&Known>,
    ) -> bool {
        if !self.peers.contains_key(peer) {
            return false;
        }
        if self.config.role == Role::Hub {
            if !self.catalog.contains_key(&doc) {
                self.send_error(
                    peer,
                    Some(doc),
                    ErrorCode::NotFound,
                    format!("document {doc} does not exist"),
                );
                return false;
            }
            if !self.may_read(ctx, peer, &doc) {
                self.send_error(
                    peer,
                    Some(doc),
                    ErrorCode::PermissionDenied,
                    format!("you may not read document {doc}; ask a network lead for access"),
                );
                return false;
            }
        }
        let exists = self
            .docs
            .get(&doc)
            .is_some_and(|e| e.links.contains_key(peer));
        if exists {
            self.announce(ctx, doc, peer);
            if restart {
                self.resync(ctx, doc, peer);
            }
            return true;
        }
        let persist_state = self.keeps_state(peer);
        if !self.docs.contains_key(&doc) {
            self.outbox.push(Effect::Load { doc });
        }
        let entry = self.docs.entry(doc).or_insert_with(DocEntry::loading);
        let mut link = Link::new(ctx.now_ms, persist_state);
        link.known = known.map(|k| k.heads.clone());
        entry.links.insert(peer.clone(), link);
        if let Some(p) = self.peers.get_mut(peer) {
            p.docs.insert(doc);
        }
        self.unsettled.insert((doc, peer.clone()));
        let same_meta = known.is_some_and(|k| {
            self.catalog
                .get(&doc)
                .is_some_and(|m| m.fingerprint() == k.meta_digest)
        });
        if !same_meta {
            self.announce(ctx, doc, peer);
        }
        if persist_state {
            self.outbox.push(Effect::LoadSyncState {
                peer: peer.clone(),
                doc,
            });
        } else {
            self.start_link(ctx, doc, peer);
        }
        true
    }

    /// Sends a hub's announcement of a document's metadata, if the peer may read it; a peer
    /// that may no longer read a linked document is unlinked and told.
    pub(super) fn announce(&mut self, ctx: Ctx<'_>, doc: DocumentId, peer: &PeerId) {
        if self.config.role != Role::Hub {
            return;
        }
        if !self.may_read(ctx, peer, &doc) {
            self.revoke(doc, peer);
            return;
        }
        if let Some(meta) = self.catalog.get(&doc).cloned() {
            self.send(peer, Frame::Announce(meta));
        }
    }

    /// Once both the document and the link's stored state are ready, processes what queued
    /// up and sends the first message.
    pub(super) fn start_link(&mut self, ctx: Ctx<'_>, doc: DocumentId, peer: &PeerId) {
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        if matches!(entry.state, DocState::Loading) {
            return;
        }
        let ours = entry.doc().map(Automerge::get_heads);
        let Some(link) = entry.links.get_mut(peer) else {
            return;
        };
        if link.awaiting_state {
            return;
        }
        // Both sides said they stand where they last agreed: nothing to say until one moves.
        if let Some(known) = link.known.take()
            && link.inbox.is_empty()
            && ours.as_ref().is_some_and(|h| same_set(h, &known))
        {
            link.assume_in_step(known);
            self.stats.links_started_in_step += 1;
            self.update_settled(doc, peer);
            return;
        }
        let queued: Vec<_> = link.inbox.drain(..).collect();
        let offer = self.config.role == Role::Hub
            || entry.doc().is_some_and(|am| !am.get_heads().is_empty())
            || !queued.is_empty();
        for message in queued {
            self.receive_sync(ctx, doc, peer, message);
        }
        // An empty replica has nothing to offer: it waits for the hub's first message
        // rather than doubling the opening exchange.
        if offer {
            self.sync_peer(ctx, doc, peer);
        }
    }

    /// Generates and sends whatever the peer needs of the document now, if it may read it.
    pub(super) fn sync_peer(&mut self, ctx: Ctx<'_>, doc: DocumentId, peer: &PeerId) {
        if !self.may_read(ctx, peer, &doc) {
            self.revoke(doc, peer);
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
        // On a hub, our own edits reach peers only once durable (`persisted` resumes).
        let held_back = self.config.role == Role::Hub && entry.persist.local_in_flight.is_some();
        if link.awaiting_state || held_back {
            return;
        }
        // A hub tells a peer without write rights that it is read-only, so a well-behaved
        // peer stops offering changes; rights are re-read before every message.
        if self.config.role == Role::Hub {
            let meta = self.catalog.get(&doc);
            link.sync
                .set_read_only(!ctx.policy.can_write(peer, &doc, meta));
        }
        let generated = catch_unwind(AssertUnwindSafe(|| {
            am.generate_sync_message(&mut link.sync)
        }));
        match generated {
            Ok(Some(message)) => {
                self.stats.exchanges += 1;
                link.nothing_to_send = false;
                // The message carries everything we have, held-back relays included.
                link.behind = false;
                link.last_activity_ms = ctx.now_ms;
                let frame = Frame::Sync {
                    doc,
                    message: message.encode(),
                };
                self.send(peer, frame);
            }
            Ok(None) => link.nothing_to_send = !link.sync.in_flight,
            Err(_) => {
                self.fail_doc(
                    doc,
                    ErrorCode::Internal,
                    format!("document {doc} hit an internal error while syncing and was unloaded"),
                );
                return;
            }
        }
        self.update_settled(doc, peer);
    }

    /// Starts a fresh exchange on a link that has gone quiet without agreement.
    pub(super) fn resync(&mut self, ctx: Ctx<'_>, doc: DocumentId, peer: &PeerId) {
        let replica_missing_meta =
            self.config.role == Role::Replica && !self.catalog.contains_key(&doc);
        let Some(link) = self.docs.get_mut(&doc).and_then(|e| e.links.get_mut(peer)) else {
            return;
        };
        link.reset();
        link.last_activity_ms = ctx.now_ms;
        if replica_missing_meta {
            // The announcement may have been lost: asking again makes the hub repeat it.
            self.send(
                peer,
                Frame::Subscribe {
                    target: crate::Target::Docs(vec![doc]),
                    known: Vec::new(),
                },
            );
        }
        self.sync_peer(ctx, doc, peer);
    }

    /// Records whether a link has reached agreement, so ticks only visit links that have not.
    pub(super) fn update_settled(&mut self, doc: DocumentId, peer: &PeerId) {
        let settled = self
            .docs
            .get(&doc)
            .and_then(|e| Some((e.doc()?, e.links.get(peer)?)))
            .is_some_and(|(am, link)| link_settled(am, link))
            && (self.config.role == Role::Hub || self.catalog.contains_key(&doc));
        let key = (doc, peer.clone());
        if settled {
            self.unsettled.remove(&key);
        } else if self
            .docs
            .get(&doc)
            .is_some_and(|e| e.links.contains_key(peer))
        {
            self.unsettled.insert(key);
        }
        self.check_caught_up(doc, peer);
    }

    /// Stops syncing a document with a peer who may no longer read it, and says why.
    pub(super) fn revoke(&mut self, doc: DocumentId, peer: &PeerId) {
        let linked = self
            .docs
            .get(&doc)
            .is_some_and(|e| e.links.contains_key(peer));
        if linked {
            // The error first: dropping the link may complete a subscription's catch-up,
            // and the peer should learn why before it hears that.
            self.send_error(
                peer,
                Some(doc),
                ErrorCode::PermissionDenied,
                format!("you may no longer read document {doc}"),
            );
            self.drop_link(doc, peer, false);
        }
    }

    /// Closes a link, saving its sync state for the next connection when asked.
    pub(super) fn drop_link(&mut self, doc: DocumentId, peer: &PeerId, save_state: bool) {
        self.unsettled.remove(&(doc, peer.clone()));
        if let Some(p) = self.peers.get_mut(peer) {
            p.docs.remove(&doc);
        }
        let Some(link) = self.docs.get_mut(&doc).and_then(|e| e.links.remove(peer)) else {
            return;
        };
        if save_state && self.keeps_state(peer) && !link.awaiting_state {
            self.outbox.push(Effect::SaveSyncState {
                peer: peer.clone(),
                doc,
                state: link.sync.encode(),
            });
        }
        self.check_caught_up(doc, peer);
    }
}

/// Whether both sides of a link hold everything the other may give them.
fn link_settled(am: &automerge::Automerge, link: &Link) -> bool {
    if link.refused {
        return true;
    }
    let Some(their) = link.sync.their_heads.as_ref() else {
        return false;
    };
    let ours = am.get_heads();
    if *their == ours {
        return true;
    }
    let have_theirs = || {
        their
            .iter()
            .all(|h| am.get_change_meta_by_hash(h).is_some())
    };
    if link.sync.read_only {
        // We take nothing from this peer: done once we have nothing left to send it.
        link.nothing_to_send
    } else if link.sync.is_peer_read_only() {
        // The peer takes nothing from us: done once we hold all it has.
        have_theirs()
    } else {
        false
    }
}

/// Whether two lists of heads hold the same hashes.
fn same_set(a: &[automerge::ChangeHash], b: &[automerge::ChangeHash]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}
