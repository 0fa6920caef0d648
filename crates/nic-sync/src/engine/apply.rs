//! Applying sync messages, and — on a hub — holding their changes back until they are
//! durable.
//!
//! A hub writes a message's new changes to storage *before* it applies them. Its documents
//! in memory therefore hold only durable changes, so everything it sends to other peers and
//! every ack it gives is backed by storage: a hub crash can lose a change only while its
//! author still holds it.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::sync::{Message, SyncDoc};
use automerge::{Automerge, Change, ChangeHash, ReadDoc};
use nic_model::{DocumentId, PeerId};

use super::Engine;
use super::limits::MessageBudget;
use crate::chunks::ChunkKind;
use crate::doc::{ChangeDeps, DocState, Staged, StagedChunk};
use crate::inspect::Measure;
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
        let budget = MessageBudget::new(self.config.doc_limits.as_ref(), doc, entry.measure);
        let new = match new_changes(am, &entry.waiting, &message, budget) {
            Ok(new) => new,
            Err((code, message)) => {
                self.send_error(peer, Some(doc), code, message);
                return;
            }
        };
        // Verified authorship: every actor id of the new changes must be the peer's member's.
        if let Some(actor) = new.actors.iter().find(|a| !ctx.policy.may_author(peer, a)) {
            let actor = hex_id(actor);
            self.send_error(
                peer,
                Some(doc),
                ErrorCode::PermissionDenied,
                format!(
                    "document {doc}: changes by Automerge actor {actor} belong to another member; use your own actor id (nothing was stored)"
                ),
            );
            return;
        }
        if !new.bytes.is_empty()
            && ctx.policy.checks_content()
            && let Err(why) = self.check_content(ctx, doc, &new.bytes)
        {
            self.send_error(
                peer,
                Some(doc),
                ErrorCode::InvalidArgument,
                format!(
                    "document {doc}: the changes would leave content the hub cannot read: {why} (nothing was stored; the schema of every kind: docs/SCHEMA.md)"
                ),
            );
            return;
        }
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let waiting = entry.links.get(peer).is_some_and(|l| !l.staged.is_empty());
        if new.bytes.is_empty() && !waiting {
            self.apply_sync(ctx, doc, peer, message);
            return;
        }
        let seq = if new.bytes.is_empty() {
            0
        } else {
            let seq = entry.persist.next_seq();
            self.outbox.push(Effect::Persist {
                doc,
                seq,
                chunk: new.bytes.clone(),
                authored: Some(crate::Authored {
                    peer: peer.clone(),
                    actors: new.actors,
                }),
            });
            entry.measure = new.measure;
            entry.staged_chunks.push_back(StagedChunk {
                seq,
                sender: peer.clone(),
                bytes: new.bytes,
                changes: new.changes,
            });
            seq
        };
        if let Some(link) = self.docs.get_mut(&doc).and_then(|e| e.links.get_mut(peer)) {
            link.staged.push_back(Staged { message, seq });
            link.last_activity_ms = ctx.now_ms;
        }
    }

    /// Asks the policy whether the document with `bytes` (and every chunk still being
    /// stored) applied is content it accepts. The engine's copy holds only durable
    /// changes, so the check runs on a projection: a copy with the staged chunks and the
    /// new ones loaded.
    fn check_content(&self, ctx: Ctx<'_>, doc: DocumentId, bytes: &[u8]) -> Result<(), String> {
        let Some(entry) = self.docs.get(&doc) else {
            return Ok(());
        };
        let DocState::Ready(am) = &entry.state else {
            return Ok(());
        };
        let projected = catch_unwind(AssertUnwindSafe(|| {
            let mut after = am.clone();
            for chunk in &entry.staged_chunks {
                after.load_incremental(&chunk.bytes).ok()?;
            }
            after.load_incremental(bytes).ok()?;
            Some(after)
        }));
        let Ok(Some(after)) = projected else {
            return Err("the changes do not apply to the document".into());
        };
        ctx.policy
            .check_content(&doc, self.catalog.get(&doc), &after)
    }

    /// Applies every staged change that is now durable, relays them, then applies the
    /// messages that carried them.
    pub(super) fn release_staged(&mut self, ctx: Ctx<'_>, doc: DocumentId) {
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let durable = entry.persist.durable_seq;
        let DocState::Ready(am) = &mut entry.state else {
            return;
        };
        let before = am.get_heads();
        let mut applied = Vec::new();
        while entry
            .staged_chunks
            .front()
            .is_some_and(|c| c.seq <= durable)
        {
            let Some(chunk) = entry.staged_chunks.pop_front() else {
                break;
            };
            // Checked when staged; a failure here can only leave changes out, and the
            // sender's resync offers them again.
            let _ = catch_unwind(AssertUnwindSafe(|| am.load_incremental(&chunk.bytes)));
            self.stats.merges += 1;
            self.stats.changes_merged += chunk
                .changes
                .as_ref()
                .map_or(1, |c| u64::try_from(c.len()).unwrap_or(u64::MAX));
            applied.push(chunk);
        }
        // Changes stored but left waiting for a dependency; and those a later one released.
        for chunk in &applied {
            for (hash, _) in chunk.changes.iter().flatten() {
                if !has(am, hash) {
                    entry.waiting.insert(*hash);
                }
            }
        }
        entry.waiting.retain(|h| !has(am, h));
        let after = am.get_heads();
        if after != before {
            mark_durable(&mut entry.persist, after.clone());
            self.relay(ctx, doc, &before, &after, &applied);
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
        let hub = self.config.role == crate::Role::Hub;
        // A hub merged these changes when they became durable (`release_staged`).
        if has_changes && !hub {
            self.stats.merges += 1;
            self.stats.changes_merged += count_chunks(&message);
        }
        // A replica stores the changes as they came rather than asking Automerge to rebuild
        // them from its op set afterwards (which costs time in proportion to the document).
        let mut raw = (!hub && has_changes && self.catalog.contains_key(&doc))
            .then(|| raw_changes(&message))
            .flatten();
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
        // The bytes hold exactly what gets applied only if no change was waiting for a
        // dependency before (none is released) and none is left waiting after.
        if raw.is_some() && !am.get_missing_deps(&[]).is_empty() {
            raw = None;
        }
        let applied = catch_unwind(AssertUnwindSafe(|| {
            am.receive_sync_message(&mut link.sync, message)
        }));
        // A peer whose summary does not end at our heads does not know where we stand (it
        // reset, or our last word was lost): answer even if Automerge thinks we are done.
        if their_last_sync
            .as_ref()
            .is_some_and(|last| *last != sorted(am.get_heads()))
        {
            link.sync.have_responded = false;
        }
        link.last_activity_ms = ctx.now_ms;
        link.refused = false;
        if has_changes {
            link.ack_owed = true;
        }
        let after = am.get_heads();
        let changed = after != before;
        // Every message answers one of ours. While the peer still owes an answer to a newer
        // relay, an answer that brings nothing and asks nothing needs no reply of ours: the
        // answer to that relay will get one.
        link.relays_unanswered = link.relays_unanswered.saturating_sub(1);
        // The answer a held-back link waited for: time to send it everything since.
        let catch_up = hub && link.behind && link.relays_unanswered == 0;
        let no_reply_needed = hub
            && !has_changes
            && link.relays_unanswered > 0
            // The peer was just heard from, so it is working through what we sent
            // (`relay.rs`, `answer_on_its_way`).
            && ctx.now_ms.saturating_sub(link.last_relay_ms) < super::relay::MAX_HOLD_MS
            // A peer that starts over (empty summary) is always answered.
            && their_last_sync.as_ref().is_some_and(|l| !l.is_empty())
            && link.sync.last_sent_heads == after
            && link.sync.their_need.as_ref().is_none_or(Vec::is_empty);
        // Both sides stand at the same heads, each knows it, and nothing is asked for:
        // Automerge would find nothing to send (after walking the change graph to be sure).
        let in_step = hub
            && !has_changes
            && link.sync.have_responded
            && !link.sync.needs_reset
            && link.sync.last_sent_heads == after
            && link.sync.their_heads.as_ref() == Some(&after)
            && their_last_sync.as_ref() == Some(&after)
            && link.sync.their_need.as_ref().is_none_or(Vec::is_empty);
        if in_step {
            link.nothing_to_send = true;
        }
        if changed && hub {
            // Staged changes were durable before they were applied.
            mark_durable(&mut entry.persist, after);
        } else if changed
            && let Some(raw) = raw
            && entry.persist.issued_heads == before
            && am.get_missing_deps(&[]).is_empty()
        {
            let seq = entry.persist.issue(after);
            self.outbox.push(Effect::Persist {
                doc,
                seq,
                chunk: raw,
                authored: None,
            });
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
        } else if catch_up {
            self.catch_up(ctx, doc, peer);
        } else if (no_reply_needed || in_step) && self.may_read(ctx, peer, &doc) {
            self.stats.replies_skipped += 1;
            self.update_settled(doc, peer);
        } else {
            self.sync_peer(ctx, doc, peer);
        }
        self.maybe_ack(ctx, doc, peer);
    }
}

/// How many chunks (changes, or whole documents) a message carries.
fn count_chunks(message: &Message) -> u64 {
    let n: usize = message
        .changes
        .iter()
        .map(|entry| crate::chunks::split(entry).map_or(1, |pieces| pieces.len()))
        .sum();
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A message's changes as one chunk to store, if every piece is a single change (a whole
/// document or anything opaque is left to `persist_pending`).
fn raw_changes(message: &Message) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    for entry in message.changes.iter() {
        let pieces = crate::chunks::split(entry)?;
        if pieces.iter().any(|(kind, _)| *kind != ChunkKind::Change) {
            return None;
        }
        raw.extend_from_slice(entry);
    }
    Some(raw)
}

/// The changes of a message that the document lacks, as stored and staged on a hub.
pub(super) struct NewChunk {
    /// The bytes to store (empty: nothing new).
    pub(super) bytes: Vec<u8>,
    /// Each change's hash and dependencies; `None` if some piece is not a single change.
    pub(super) changes: Option<Vec<ChangeDeps>>,
    /// The actor ids that authored the new changes (for a whole document or an opaque
    /// piece, its changes' actors).
    pub(super) actors: Vec<Vec<u8>>,
    /// What the document will hold with them.
    pub(super) measure: Measure,
}

/// The changes of a message that the document lacks; an error if a piece does not parse or
/// the pieces exceed the document limits (measured before anything decodes them).
/// Each entry of the message is split into its chunks; a change is kept only if the document
/// lacks it, while a whole document or an opaque piece is kept whole (after checking that it
/// loads), which makes the result's `changes` unknown.
fn new_changes(
    am: &Automerge,
    waiting: &HashSet<ChangeHash>,
    message: &Message,
    mut budget: MessageBudget<'_>,
) -> Result<NewChunk, (ErrorCode, String)> {
    let doc = budget.doc;
    let malformed = |reason: String| {
        (
            ErrorCode::InvalidArgument,
            format!("sync message for document {doc} carries a malformed change: {reason}"),
        )
    };
    let mut bytes = Vec::new();
    let mut changes = Some(Vec::new());
    let mut actors: Vec<Vec<u8>> = Vec::new();
    let mut note_actor = |actor: &[u8]| {
        if !actors.iter().any(|a| a.as_slice() == actor) {
            actors.push(actor.to_vec());
        }
    };
    for entry in message.changes.iter() {
        let pieces = crate::chunks::split(entry).unwrap_or_else(|| vec![(ChunkKind::Other, entry)]);
        for (kind, piece) in pieces {
            let measure = budget.measure(piece)?;
            if kind == ChunkKind::Change
                && let Ok(Ok(change)) = catch_unwind(|| Change::try_from(piece))
            {
                let hash = change.hash();
                let known = has(am, &hash)
                    || waiting.contains(&hash)
                    || changes
                        .as_ref()
                        .is_some_and(|c: &Vec<ChangeDeps>| c.iter().any(|(h, _)| *h == hash));
                if !known {
                    budget.grow(&measure)?;
                    bytes.extend_from_slice(piece);
                    note_actor(change.actor_id().to_bytes());
                    if let Some(c) = changes.as_mut() {
                        c.push((hash, change.deps().to_vec()));
                    }
                }
                continue;
            }
            // Parsing into an empty document checks the bytes without copying ours;
            // changes whose dependencies are missing there are queued, not refused.
            let mut scratch = Automerge::new();
            match catch_unwind(AssertUnwindSafe(|| scratch.load_incremental(piece))) {
                Ok(Ok(_)) => {
                    budget.grow(&measure)?;
                    // Every change the piece holds that the document lacks was authored by
                    // one of these actors.
                    for change in scratch.get_changes(&[]) {
                        if !has(am, &change.hash()) && !waiting.contains(&change.hash()) {
                            note_actor(change.actor_id().to_bytes());
                        }
                    }
                    bytes.extend_from_slice(piece);
                    changes = None;
                }
                Ok(Err(e)) => return Err(malformed(e.to_string())),
                Err(_) => return Err(malformed("the decoder panicked".to_owned())),
            }
        }
    }
    if bytes.is_empty() {
        changes = Some(Vec::new());
    }
    Ok(NewChunk {
        bytes,
        changes,
        actors,
        measure: budget.grown,
    })
}

/// An actor id as text, for messages.
fn hex_id(actor: &[u8]) -> String {
    actor.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records that the document's heads are durable, unless our own edits are still being
/// persisted (then their persist, which covers these heads too, will say so).
pub(super) fn mark_durable(p: &mut crate::doc::PersistState, heads: Vec<ChangeHash>) {
    if p.issued_heads == p.durable_heads {
        p.issued_heads.clone_from(&heads);
        p.durable_heads = heads;
    }
}

pub(super) fn has(am: &Automerge, hash: &ChangeHash) -> bool {
    am.get_change_meta_by_hash(hash).is_some()
}

fn sorted(mut hashes: Vec<ChangeHash>) -> Vec<ChangeHash> {
    hashes.sort_unstable();
    hashes
}
