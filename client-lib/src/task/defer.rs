//! Merging more per call when the replica is behind: adaptive batching on the replica's side.
//!
//! Automerge merges a document's changes several times cheaper per change when they come
//! in one call (`BENCHMARKS.md`: 97.6 µs for one change against 46.6 µs each for a
//! document's ~19). When the replica keeps up, every sync message is merged as it arrives:
//! nothing is added to the latency. When it falls behind — its runtime wakes its timer
//! late, because other work (other replicas on one core, say) keeps the thread busy — the
//! sync messages of each document are held for a while and merged together, answering the
//! hub once. The hub meanwhile holds its relays for the document back until that answer
//! (`nic_sync` flow control), so what arrives later comes as one catch-up too.
//!
//! Nothing reads a stale document because of it: a document's held messages are merged
//! before any read or status question about that document, before any frame that may rely
//! on them (its announcement, an error about it; a subscription answer or `CaughtUp` first
//! merges everything), when the stream ends, and when the hold expires. Its acks wait in
//! line with them, as an ack may name changes only they bring — unless someone waits for
//! the document to be saved (`Client::wait_saved`), when the ack brings them at once. Edits do not wait: an edit
//! made on what the replica has merged is concurrent with the held news, exactly as with
//! news still on the wire, and waiting would end every batch at the replica's next edit of
//! the document. While anything is held, the status does not say up to date.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nic_model::DocumentId;
use nic_sync::Frame;

use super::{Task, hub_peer};

/// The longest a document's news is held.
const MAX_HOLD: Duration = Duration::from_secs(2);
/// Timer lateness below this counts as keeping up: nothing is held.
const KEEPING_UP: Duration = Duration::from_millis(20);

/// Sync messages held per document, with when the first arrived.
#[derive(Default)]
pub(super) struct Deferred {
    held: BTreeMap<DocumentId, (Instant, Vec<Frame>)>,
    /// How late the task's timer fired, smoothed.
    lateness: Duration,
    /// How long news is held now (zero when keeping up).
    hold: Duration,
}

impl Deferred {
    /// The timer that should have fired at `due` fired now: adapt the hold.
    pub(super) fn timer_fired(&mut self, due: Instant) {
        let late = Instant::now().saturating_duration_since(due);
        self.lateness = (self.lateness * 7 + late * 3) / 10;
        self.hold = if self.lateness < KEEPING_UP {
            Duration::ZERO
        } else {
            (self.lateness * 4).min(MAX_HOLD)
        };
    }

    /// When the earliest held document is due, if any is held.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.held
            .values()
            .map(|(since, _)| *since + self.hold)
            .min()
    }

    /// Whether anything is held.
    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Sorts arriving frames: what may wait is held, the rest (with whatever held
    /// messages it may rely on, first) is returned to be received now, in order.
    /// An ack for a document in `awaited` (someone waits for it to be saved) is not held:
    /// it brings the document's held news with it at once.
    fn sort(&mut self, frames: Vec<Frame>, awaited: impl Fn(&DocumentId) -> bool) -> Vec<Frame> {
        let now = Instant::now();
        let mut now_frames = Vec::with_capacity(frames.len());
        for frame in frames {
            let about = match &frame {
                Frame::Sync { doc, .. } if !self.hold.is_zero() => {
                    self.held
                        .entry(*doc)
                        .or_insert_with(|| (now, Vec::new()))
                        .1
                        .push(frame);
                    continue;
                }
                // An ack waits with its document's held news (it may name changes only
                // they bring), and is answered when they are merged.
                Frame::Ack { doc, .. } if self.held.contains_key(doc) && !awaited(doc) => {
                    if let Some((_, held)) = self.held.get_mut(doc) {
                        held.push(frame);
                    }
                    continue;
                }
                Frame::Sync { doc, .. }
                | Frame::Ack { doc, .. }
                | Frame::Error { doc: Some(doc), .. } => Some(*doc),
                Frame::Announce(meta) => Some(meta.id),
                _ => None,
            };
            self.take(about, &mut now_frames);
            now_frames.push(frame);
        }
        now_frames
    }

    /// Moves the held messages of `doc` (of every document, for `None`) into `out`.
    fn take(&mut self, doc: Option<DocumentId>, out: &mut Vec<Frame>) {
        match doc {
            Some(doc) => {
                if let Some((_, frames)) = self.held.remove(&doc) {
                    out.extend(frames);
                }
            }
            None => {
                for (_, (_, frames)) in std::mem::take(&mut self.held) {
                    out.extend(frames);
                }
            }
        }
    }

    /// Moves out the held messages whose time is up.
    fn due(&mut self) -> Vec<Frame> {
        let now = Instant::now();
        let hold = self.hold;
        let due: Vec<DocumentId> = self
            .held
            .iter()
            .filter(|(_, (since, _))| *since + hold <= now)
            .map(|(doc, _)| *doc)
            .collect();
        let mut out = Vec::new();
        for doc in due {
            self.take(Some(doc), &mut out);
        }
        out
    }
}

impl Task {
    /// Receives frames from the hub, holding what may wait (see the module documentation).
    pub(super) fn receive_frames(&mut self, frames: Vec<Frame>) {
        let waiters = &self.saved_waiters;
        let now_frames = self.deferred.sort(frames, |doc| waiters.contains_key(doc));
        self.deliver(now_frames);
    }

    /// Merges what is held for `doc` (for every document, with `None`) now.
    pub(super) fn merge_held(&mut self, doc: Option<DocumentId>) {
        if self.deferred.is_empty() {
            return;
        }
        let mut frames = Vec::new();
        self.deferred.take(doc, &mut frames);
        self.deliver(frames);
    }

    /// Merges what has been held long enough.
    pub(super) fn merge_due(&mut self) {
        let frames = self.deferred.due();
        self.deliver(frames);
    }

    fn deliver(&mut self, frames: Vec<Frame>) {
        if frames.is_empty() || self.conn.is_none() {
            return;
        }
        let t = self.now();
        self.rt.with_engine(t, |engine, ctx| {
            engine.receive_all(ctx, &hub_peer(), frames)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nic_model::fixtures::doc_id;

    fn sync(doc: DocumentId) -> Frame {
        Frame::Sync {
            doc,
            message: Vec::new(),
        }
    }

    fn none(_: &DocumentId) -> bool {
        false
    }

    #[test]
    fn keeping_up_holds_nothing_and_order_is_kept_for_what_relies_on_held_news() {
        let mut d = Deferred::default();
        let (a, b) = (doc_id(1), doc_id(2));
        // Keeping up: everything passes at once.
        assert_eq!(d.sort(vec![sync(a), sync(b)], none).len(), 2);
        assert!(d.is_empty());
        // Behind: sync messages wait; an ack for `a` waits behind a's held news, in order.
        d.hold = Duration::from_millis(500);
        let out = d.sort(vec![sync(a), sync(b), sync(a)], none);
        assert!(out.is_empty());
        let ack = |doc| Frame::Ack {
            doc,
            heads: Vec::new(),
        };
        assert!(d.sort(vec![ack(a)], none).is_empty());
        // An error about `a` brings a's held news (and ack) first.
        let out = d.sort(
            vec![Frame::Error {
                doc: Some(a),
                code: nic_sync::ErrorCode::Internal,
                message: String::new(),
            }],
            none,
        );
        assert_eq!(out.len(), 4, "a's two messages, its ack, then the error");
        assert!(matches!(out[2], Frame::Ack { .. }));
        assert!(matches!(out[3], Frame::Error { .. }));
        assert!(!d.is_empty(), "b still waits");
        // With nothing held for a document, its ack passes at once.
        assert_eq!(d.sort(vec![ack(a)], none).len(), 1);
        // A frame about no one document brings everything first.
        let out = d.sort(
            vec![Frame::CaughtUp {
                target: nic_sync::Target::Docs(vec![]),
            }],
            none,
        );
        assert_eq!(out.len(), 2);
        assert!(d.is_empty());
        // Someone waits for `a` to be saved: its ack brings a's held news at once.
        assert!(d.sort(vec![sync(a)], none).is_empty());
        let out = d.sort(vec![ack(a)], |doc| *doc == a);
        assert_eq!(out.len(), 2, "a's message, then its ack");
        assert!(d.is_empty());
    }

    #[test]
    fn the_hold_follows_how_late_the_timer_fires() {
        let mut d = Deferred::default();
        d.timer_fired(Instant::now());
        assert!(d.hold.is_zero());
        for _ in 0..20 {
            d.timer_fired(Instant::now() - Duration::from_millis(300));
        }
        assert!(
            d.hold >= Duration::from_millis(900) && d.hold <= MAX_HOLD,
            "{:?}",
            d.hold
        );
        for _ in 0..30 {
            d.timer_fired(Instant::now());
        }
        assert!(d.hold.is_zero(), "{:?}", d.hold);
    }
}
