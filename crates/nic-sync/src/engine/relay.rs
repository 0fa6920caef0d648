//! Relaying durable changes to every other peer of a document without a fresh exchange each.
//!
//! When a hub applies changes `C` that took a document from heads `H0` to `H1`, a peer we
//! have already sent everything up to `H0` (our last message to it named `H0`) needs exactly
//! `C`. Automerge's `generate_sync_message` would work that out per peer — walk the change
//! graph since the shared heads, build a Bloom filter, rebuild `C` from the op set — which
//! costs time proportional to the document, once per peer and change. We know the answer
//! already, and it is the same for every such peer: a message with heads `H1`, our summary
//! "everything up to `H0`, plus `C`", and the bytes of `C` as they arrived. It is encoded once
//! per message format and sent to all of them, and each link's sync state is advanced exactly
//! as `generate_sync_message` would have advanced it.
//!
//! Peers that do not fit (they sent some of `C`, asked for something, reset, are read-only,
//! or are at other heads) get the ordinary exchange, so the fast path only ever skips work.
//! Its messages are valid Automerge sync messages; any Automerge peer understands them.
//!
//! Flow control: while a peer has not yet answered a relay, further relays to it are held
//! back (the link is marked `behind`) and the relays are kept in a short per-document log.
//! Its answer brings it up to date with one message carrying every change since, so a
//! peer that falls behind receives — and merges — changes in batches instead of one
//! message per change, and answers once per batch. A link whose answer does not come
//! within the resync interval is relayed to again, and the engine's tick resyncs it.

use std::collections::HashSet;

use automerge::ChangeHash;
use automerge::sync::{
    BloomFilter, Capability, ChunkList, Have, Message, MessageFlags, MessageVersion,
};
use nic_model::{DocumentId, PeerId};

use super::Engine;
use super::apply::has;
use crate::doc::{ChangeDeps, DocEntry, DocState, LoggedRelay, StagedChunk};
use crate::{Ctx, Frame, Notification, Origin};

/// Longest a relay waits for its answer from a peer that is busy but alive before the
/// link is treated as stalled (relayed to again, resynced on the tick).
pub(super) const MAX_HOLD_MS: u64 = 60_000;
/// Most relays a document's log keeps for links held back.
const LOG_MAX_ENTRIES: usize = 256;
/// Most bytes of changes a document's log keeps; a link that falls further behind is
/// caught up by the ordinary exchange.
const LOG_MAX_BYTES: usize = 1 << 20;

/// Changes to relay, in the forms a message may need, encoded lazily.
struct Relay {
    before: Vec<ChangeHash>,
    after: Vec<ChangeHash>,
    hashes: Vec<ChangeHash>,
    /// The changes' bytes as they arrived, concatenated.
    bytes: Vec<u8>,
    /// Changes still being made durable here: a peer whose heads name them needs nothing.
    staged: HashSet<ChangeHash>,
    /// Encoded messages by (read-only flag, version 2).
    encoded: [Option<Vec<u8>>; 4],
}

impl Relay {
    fn new(entry: &DocEntry, before: Vec<ChangeHash>) -> Self {
        Self {
            after: before.clone(),
            before,
            hashes: Vec::new(),
            bytes: Vec::new(),
            staged: entry
                .staged_chunks
                .iter()
                .flat_map(|c| c.changes.iter().flatten().map(|(h, _)| *h))
                .collect(),
            encoded: Default::default(),
        }
    }

    /// Adds the next logged relay, which must start where this one ends.
    fn extend(&mut self, logged: &LoggedRelay) {
        self.after.clone_from(&logged.after);
        self.hashes.extend_from_slice(&logged.hashes);
        self.bytes.extend_from_slice(&logged.bytes);
    }

    fn encoded(&mut self, read_only: bool, v2: bool) -> Vec<u8> {
        let slot = usize::from(read_only) * 2 + usize::from(v2);
        if let Some(bytes) = &self.encoded[slot] {
            return bytes.clone();
        }
        let changes: ChunkList = if v2 {
            self.bytes.clone().into()
        } else {
            // Version 1 carries one change per entry.
            crate::chunks::split(&self.bytes)
                .unwrap_or_default()
                .into_iter()
                .map(|(_, piece)| piece.to_vec())
                .collect::<Vec<_>>()
                .into()
        };
        let mut flags = MessageFlags::new();
        flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
        if read_only {
            flags.set(MessageFlags::READ_ONLY);
        }
        let message = Message {
            heads: self.after.clone(),
            need: Vec::new(),
            have: vec![Have {
                last_sync: self.before.clone(),
                bloom: BloomFilter::from_hashes(self.hashes.iter()),
            }],
            changes,
            flags: Some(flags),
            version: if v2 {
                MessageVersion::V2
            } else {
                MessageVersion::V1
            },
        };
        let bytes = message.encode();
        self.encoded[slot] = Some(bytes.clone());
        bytes
    }
}

impl Engine {
    /// After a hub applied durable changes `applied` (heads `before` → `after`): tell the
    /// application, then bring every linked peer up to date — by the fast path where it fits,
    /// else by the ordinary exchange.
    pub(super) fn relay(
        &mut self,
        ctx: Ctx<'_>,
        doc: DocumentId,
        before: &[ChangeHash],
        after: &[ChangeHash],
        applied: &[StagedChunk],
    ) {
        self.persist_pending(doc);
        let mut senders: Vec<PeerId> = Vec::new();
        for chunk in applied {
            if !senders.contains(&chunk.sender) {
                senders.push(chunk.sender.clone());
            }
        }
        for sender in &senders {
            self.outbox
                .push(crate::Effect::Notify(Notification::Changed {
                    doc,
                    origin: Origin::Remote(sender.clone()),
                    heads: after.to_vec(),
                }));
        }
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let peers: Vec<PeerId> = entry.links.keys().cloned().collect();
        let mut relay = exact_relay(before, after, applied).map(|hashes| {
            let logged = LoggedRelay {
                before: before.to_vec(),
                after: after.to_vec(),
                hashes,
                bytes: applied
                    .iter()
                    .flat_map(|c| c.bytes.iter().copied())
                    .collect(),
            };
            let mut relay = Relay::new(entry, before.to_vec());
            relay.extend(&logged);
            entry.relay_log.push_back(logged);
            relay
        });
        for peer in peers {
            let sent = match relay.as_mut() {
                Some(relay) if !senders.contains(&peer) => {
                    self.hold(ctx, doc, &peer) || self.relay_to(ctx, doc, &peer, relay)
                }
                _ => false,
            };
            if !sent {
                self.sync_peer(ctx, doc, &peer);
            }
        }
        self.trim_relay_log(doc);
    }

    /// Holds a relay back from a peer that has not answered the last one (and may still
    /// read the document); says whether it did.
    fn hold(&mut self, ctx: Ctx<'_>, doc: DocumentId, peer: &PeerId) -> bool {
        let waiting = self
            .docs
            .get(&doc)
            .and_then(|e| e.links.get(peer))
            .is_some_and(|link| self.answer_on_its_way(ctx, peer, link));
        if !waiting || !self.may_read(ctx, peer, &doc) {
            return false;
        }
        if let Some(link) = self.docs.get_mut(&doc).and_then(|e| e.links.get_mut(peer)) {
            link.behind = true;
        }
        self.stats.relays_held += 1;
        true
    }

    /// Whether the peer's answer to our last relay on this link can still be expected: it
    /// is recent (within the resync interval), or the peer is busy — heard from within that
    /// interval, so working through a backlog of what we sent it, in order — and the relay
    /// is not older than [`MAX_HOLD_MS`]. A peer that lags by seconds thus receives each
    /// document's changes since as one message once it answers (and merges them in one
    /// call), instead of one message per change: the more it lags, the larger its batches.
    /// A peer gone quiet gets relays again after the resync interval, as before.
    pub(super) fn answer_on_its_way(
        &self,
        ctx: Ctx<'_>,
        peer: &PeerId,
        link: &crate::doc::Link,
    ) -> bool {
        if link.relays_unanswered == 0 {
            return false;
        }
        let resync = self.config.resync_after_ms;
        let since_relay = ctx.now_ms.saturating_sub(link.last_relay_ms);
        let heard = self
            .peers
            .get(peer)
            .is_some_and(|p| ctx.now_ms.saturating_sub(p.last_heard_ms) < resync);
        since_relay < resync || (heard && since_relay < MAX_HOLD_MS)
    }

    /// Brings a link that was held back up to date: one relay of everything since our last
    /// message to it, if the log still holds it all, else the ordinary exchange.
    pub(super) fn catch_up(&mut self, ctx: Ctx<'_>, doc: DocumentId, peer: &PeerId) {
        let Some(link) = self.docs.get_mut(&doc).and_then(|e| e.links.get_mut(peer)) else {
            return;
        };
        link.behind = false;
        let from = link.sync.last_sent_heads.clone();
        let sent = match self.logged_since(doc, from) {
            Some(mut relay) => self.relay_to(ctx, doc, peer, &mut relay),
            None => false,
        };
        if sent {
            self.stats.catch_ups += 1;
        } else {
            self.sync_peer(ctx, doc, peer);
        }
        self.trim_relay_log(doc);
    }

    /// Every logged relay from heads `from` to the document's heads, as one relay; `None` if
    /// there is nothing to send or the log no longer covers it.
    fn logged_since(&self, doc: DocumentId, from: Vec<ChangeHash>) -> Option<Relay> {
        let entry = self.docs.get(&doc)?;
        let target = entry.doc()?.get_heads();
        let start = entry.relay_log.iter().position(|r| r.before == from)?;
        let mut relay = Relay::new(entry, from);
        for logged in entry.relay_log.iter().skip(start) {
            if relay.after == target || logged.before != relay.after {
                break;
            }
            relay.extend(logged);
        }
        (relay.after == target && !relay.hashes.is_empty()).then_some(relay)
    }

    /// Drops logged relays no held-back link needs, and the oldest beyond the log's bounds.
    fn trim_relay_log(&mut self, doc: DocumentId) {
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let starts: Vec<&Vec<ChangeHash>> = entry
            .links
            .values()
            .filter(|l| l.behind)
            .map(|l| &l.sync.last_sent_heads)
            .collect();
        let log = &mut entry.relay_log;
        while log.front().is_some_and(|r| !starts.contains(&&r.before)) {
            log.pop_front();
        }
        let mut bytes: usize = log.iter().map(|r| r.bytes.len()).sum();
        while log.len() > LOG_MAX_ENTRIES || bytes > LOG_MAX_BYTES {
            let Some(dropped) = log.pop_front() else {
                break;
            };
            bytes -= dropped.bytes.len();
        }
    }

    /// Sends the relay to one peer if its link stands where the fast path applies; says
    /// whether it did (or whether nothing may be sent, which `sync_peer` also finds).
    fn relay_to(
        &mut self,
        ctx: Ctx<'_>,
        doc: DocumentId,
        peer: &PeerId,
        relay: &mut Relay,
    ) -> bool {
        if !self.may_read(ctx, peer, &doc) {
            return false; // sync_peer revokes and says why
        }
        let can_write = ctx.policy.can_write(peer, &doc, self.catalog.get(&doc));
        let Some(entry) = self.docs.get_mut(&doc) else {
            return false;
        };
        if entry.persist.local_in_flight.is_some() {
            return false; // our own edits are held back until durable
        }
        let DocState::Ready(am) = &entry.state else {
            return false;
        };
        let Some(link) = entry.links.get_mut(peer) else {
            return false;
        };
        link.sync.set_read_only(!can_write);
        let s = &link.sync;
        let fits = !link.awaiting_state
            && link.inbox.is_empty()
            && !link.refused
            && !s.needs_reset
            && !s.is_peer_read_only()
            && s.last_sent_heads == relay.before
            && s.their_need.as_ref().is_none_or(Vec::is_empty)
            // We know what they have: our summary can stand on theirs.
            && s.their_have.as_ref().is_some_and(|have| {
                have.first()
                    .is_none_or(|h| h.last_sync.iter().all(|x| has(am, x)))
            })
            // Nothing of theirs is missing here except what is being made durable, so we
            // need nothing from them.
            && s.their_heads.as_ref().is_some_and(|heads| {
                heads.iter().all(|h| has(am, h) || relay.staged.contains(h))
            });
        if !fits {
            return false;
        }
        let v2 = s
            .their_capabilities
            .as_ref()
            .is_some_and(|caps| caps.contains(&Capability::MessageV2));
        let message = relay.encoded(s.read_only, v2);
        // `sync::State` fields edited by hand: `automerge` is pinned exactly in the workspace
        // Cargo.toml for this reason.
        let s = &mut link.sync;
        s.have_responded = true;
        s.last_sent_heads.clone_from(&relay.after);
        s.sent_hashes.extend(relay.hashes.iter().copied());
        s.in_flight = true;
        link.last_activity_ms = ctx.now_ms;
        link.nothing_to_send = false;
        link.relays_unanswered = link.relays_unanswered.saturating_add(1);
        link.last_relay_ms = ctx.now_ms;
        self.stats.fast_relays += 1;
        self.send(peer, Frame::Sync { doc, message });
        self.update_settled(doc, peer);
        true
    }
}

/// The hashes of the applied changes, if they are exactly what took the document from
/// `before` to `after` (every piece a known change, none missing or left queued); `None`
/// sends everyone the ordinary exchange instead.
fn exact_relay(
    before: &[ChangeHash],
    after: &[ChangeHash],
    applied: &[StagedChunk],
) -> Option<Vec<ChangeHash>> {
    let mut changes = Vec::new();
    for chunk in applied {
        changes.extend(chunk.changes.as_ref()?.iter());
    }
    let hashes: Vec<ChangeHash> = changes.iter().map(|(h, _)| *h).collect();
    (!hashes.is_empty() && exactly_applied(before, after, changes)).then_some(hashes)
}

/// The heads a document at `before` reaches by applying `changes` in order — if they are
/// `after`, the changes are exactly what was applied (none was left waiting for a dependency,
/// none that waited before was released).
fn exactly_applied<'a>(
    before: &[ChangeHash],
    after: &[ChangeHash],
    changes: impl IntoIterator<Item = &'a ChangeDeps>,
) -> bool {
    let mut heads: HashSet<ChangeHash> = before.iter().copied().collect();
    for (hash, deps) in changes {
        for dep in deps {
            heads.remove(dep);
        }
        heads.insert(*hash);
    }
    let mut expected: Vec<ChangeHash> = heads.into_iter().collect();
    expected.sort_unstable();
    expected == after
}
