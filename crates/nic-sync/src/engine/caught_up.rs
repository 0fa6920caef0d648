//! On a hub: telling a subscriber when a subscription's initial sync is complete
//! ([`Frame::CaughtUp`]), so it need not guess from a quiet stream.
//!
//! Each answered subscription keeps the heads the hub held of each document it listed (of
//! one still loading: once loaded). A document counts once the peer's own sync messages
//! report heads that include those, or once it is no longer synced with the peer (a
//! refusal, an error, an unsubscribe: the peer was told why). Only events about one link
//! re-check it, so the cost is per message, not per subscription size.

use automerge::{Automerge, ChangeHash};
use nic_model::{DocumentId, PeerId};

use super::Engine;
use crate::{Frame, Role, Target};

/// A subscription whose initial sync is under way.
pub(super) struct CatchUp {
    target: Target,
    /// The documents not yet caught up with, and the heads to reach (`None` while the
    /// document loads).
    waiting: std::collections::BTreeMap<DocumentId, Option<Vec<ChangeHash>>>,
}

impl Engine {
    /// A hub answered a subscription with `docs`: tracks them until the peer holds them.
    pub(super) fn start_catch_up(&mut self, peer: &PeerId, target: Target, docs: &[DocumentId]) {
        if self.config.role != Role::Hub {
            return;
        }
        let waiting = docs.iter().map(|d| (*d, self.heads_of(d))).collect();
        self.catching_up
            .entry(peer.clone())
            .or_default()
            .push(CatchUp { target, waiting });
        for doc in docs {
            self.check_caught_up(*doc, peer);
        }
        self.finish_caught_up(peer);
    }

    /// Something happened on the link between `peer` and `doc`: it may have caught up.
    pub(super) fn check_caught_up(&mut self, doc: DocumentId, peer: &PeerId) {
        let Some(mut subs) = self.catching_up.remove(peer) else {
            return;
        };
        let mut done = false;
        for sub in &mut subs {
            let Some(goal) = sub.waiting.get_mut(&doc) else {
                continue;
            };
            if goal.is_none() {
                *goal = self.heads_of(&doc);
            }
            if self.peer_holds(doc, peer, goal.as_deref()) {
                sub.waiting.remove(&doc);
                done |= sub.waiting.is_empty();
            }
        }
        self.catching_up.insert(peer.clone(), subs);
        if done {
            self.finish_caught_up(peer);
        }
    }

    /// The peer unsubscribed from `target`: nothing is owed for it any more.
    pub(super) fn cancel_catch_up(&mut self, peer: &PeerId, target: &Target) {
        if let Some(subs) = self.catching_up.get_mut(peer) {
            subs.retain(|s| s.target != *target);
        }
    }

    /// Sends [`Frame::CaughtUp`] for each of the peer's subscriptions with nothing left.
    fn finish_caught_up(&mut self, peer: &PeerId) {
        let Some(subs) = self.catching_up.get_mut(peer) else {
            return;
        };
        let (done, open): (Vec<_>, Vec<_>) = std::mem::take(subs)
            .into_iter()
            .partition(|s| s.waiting.is_empty());
        if open.is_empty() {
            self.catching_up.remove(peer);
        } else {
            *subs = open;
        }
        for sub in done {
            self.send(peer, Frame::CaughtUp { target: sub.target });
        }
    }

    /// Our heads of a document, if it is in memory.
    fn heads_of(&self, doc: &DocumentId) -> Option<Vec<ChangeHash>> {
        self.docs.get(doc)?.doc().map(Automerge::get_heads)
    }

    /// Whether the peer needs nothing more of `doc` to hold `goal`: its reported heads
    /// include `goal`, or the document is no longer synced with it.
    fn peer_holds(&self, doc: DocumentId, peer: &PeerId, goal: Option<&[ChangeHash]>) -> bool {
        let Some(entry) = self.docs.get(&doc) else {
            return true; // unloaded after an error: the peer was told
        };
        let Some(link) = entry.links.get(peer) else {
            return true; // no longer synced with this peer: it was told why
        };
        if link.refused {
            return true;
        }
        let (Some(am), Some(goal)) = (entry.doc(), goal) else {
            return false; // still loading
        };
        if link.sync.read_only && link.nothing_to_send {
            // We take nothing from this peer, so it may have nothing to say back; it has
            // answered our last message and we have nothing left to send: it holds what we
            // hold (the link counts as settled for the same reason).
            return true;
        }
        let Some(theirs) = link.sync.their_heads.as_deref() else {
            return false; // the peer has not said what it holds yet
        };
        covers(am, theirs, goal)
    }
}

/// Whether a peer with heads `theirs` holds every change up to `goal`: each goal head is
/// one of theirs or an ancestor of one we hold too (heads we do not know yet are the
/// peer's own new changes; once they arrive the check is made again).
fn covers(am: &Automerge, theirs: &[ChangeHash], goal: &[ChangeHash]) -> bool {
    if goal.iter().all(|h| theirs.contains(h)) {
        return true;
    }
    let known: Vec<ChangeHash> = theirs
        .iter()
        .copied()
        .filter(|h| am.get_change_meta_by_hash(h).is_some())
        .collect();
    if known.is_empty() {
        return false;
    }
    // Changes that are not ancestors of (or among) the peer's known heads.
    let beyond: std::collections::HashSet<ChangeHash> =
        am.get_changes(&known).iter().map(|c| c.hash()).collect();
    goal.iter().all(|h| !beyond.contains(h))
}
