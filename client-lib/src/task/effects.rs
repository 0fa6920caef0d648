//! Carrying out the engine's effects against the replica's store, and turning its
//! notifications into change events and acknowledgement records.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nic_model::{DocumentId, PeerId};
use nic_proto::convert;
use nic_sync::automerge::{Automerge, ChangeHash};
use nic_sync::{Effect, LoadResult, Notification};
use prost::Message;

use super::{Task, authors::Resolve, hub_peer};
use crate::events::{ChangeEvent, ChangeInfo, Origin};

/// The pseudo-peer under which the store's sync-state table keeps, per document, when the
/// hub last acknowledged changes made here and up to which heads.
fn acked_key() -> PeerId {
    PeerId::new("hub.acked").unwrap_or_else(|_| unreachable!("a valid literal id"))
}

/// `[time ms: u64 BE][heads: 32 bytes each]`.
fn encode_ack(at: SystemTime, heads: &[ChangeHash]) -> Vec<u8> {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut out = ms.to_be_bytes().to_vec();
    for h in heads {
        out.extend_from_slice(&h.0);
    }
    out
}

fn decode_ack(bytes: &[u8]) -> Option<(SystemTime, Vec<ChangeHash>)> {
    let (ms, rest) = bytes.split_first_chunk::<8>()?;
    if !rest.len().is_multiple_of(32) {
        return None;
    }
    let heads = rest
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect();
    Some((
        UNIX_EPOCH + Duration::from_millis(u64::from_be_bytes(*ms)),
        heads,
    ))
}

/// The changes after `since` as the change stream reports them (authors named later).
pub(super) fn change_infos(am: &Automerge, since: &[ChangeHash]) -> Vec<ChangeInfo> {
    am.get_changes(since)
        .into_iter()
        .map(|c| ChangeInfo {
            hash: c.hash(),
            actor: c.actor_id().clone(),
            author: None,
            message: c.message().map(str::to_owned),
            time_ms: c.timestamp(),
        })
        .collect()
}

impl Task {
    /// Carries out the engine's effects until it has none left. Storage is written in the
    /// order the engine asked; whether it is durable is [`Task::flush`]'s business.
    pub(super) async fn dispatch(&mut self) {
        loop {
            let effects = self.engine.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                self.apply(effect).await;
            }
        }
    }

    async fn apply(&mut self, effect: Effect) {
        let ctx = self.ctx();
        match effect {
            Effect::Send { frame, .. } => {
                if let (Some(conn), Some(wire)) = (&self.conn, convert::to_hub(frame)) {
                    self.wire.frames_sent += 1;
                    self.wire.bytes_sent += wire.encoded_len() as u64;
                    if conn.out.send(wire).await.is_err() {
                        self.lost("the stream to the hub closed".into());
                    }
                }
            }
            Effect::Load { doc } => {
                let result = match self.store.load(&doc) {
                    Ok(Some(s)) => LoadResult::Found {
                        meta: Some(s.meta),
                        chunks: s.chunks,
                    },
                    Ok(None) => LoadResult::NotFound,
                    Err(e) => LoadResult::Failed(e.to_string()),
                };
                self.engine.loaded(ctx, doc, result);
                if let Ok(Some(bytes)) = self.store.sync_state(&acked_key(), &doc)
                    && let Some((at, heads)) = decode_ack(&bytes)
                {
                    self.engine.restore_acked(&doc, &hub_peer(), heads);
                    self.last_ack.insert(doc, at);
                }
            }
            Effect::LoadSyncState { peer, doc } => {
                let state = self.store.sync_state(&peer, &doc).ok().flatten();
                self.engine.sync_state_loaded(ctx, &peer, doc, state);
            }
            Effect::PutMeta(meta) => {
                self.unflushed = true;
                if let Err(e) = self.store.put_meta(&meta) {
                    tracing::warn!(error = %e, "storing metadata failed");
                    self.save_error = Some(e);
                }
            }
            Effect::Persist {
                doc, seq, chunk, ..
            } => {
                self.unflushed = true;
                match self.store.append(&doc, &chunk) {
                    // Durable only after the flush: `Task::flush_if_needed` reports it.
                    Ok(_) => self.appended.push((doc, seq)),
                    Err(e) => {
                        self.engine.persist_failed(ctx, doc, seq, &e.to_string());
                        self.save_error = Some(e);
                    }
                }
            }
            Effect::SaveSyncState { peer, doc, state } => {
                self.unflushed = true;
                if let Err(e) = self.store.put_sync_state(&peer, &doc, &state) {
                    tracing::debug!(error = %e, "saving sync state failed (a cache)");
                }
            }
            Effect::Notify(n) => self.notify(n),
        }
    }

    fn notify(&mut self, n: Notification) {
        match &n {
            Notification::Ready { doc } => {
                if let Some(am) = self.engine.doc(doc) {
                    self.last_heads.insert(*doc, am.get_heads());
                }
            }
            Notification::Changed { doc, origin, heads } => {
                let origin = match origin {
                    nic_sync::Origin::Local => Origin::Local,
                    nic_sync::Origin::Remote(_) => Origin::Remote,
                };
                self.publish_change(*doc, origin, heads.clone());
            }
            Notification::Acked { doc, heads, .. } => {
                self.status_stale = true;
                let now = SystemTime::now();
                self.last_ack.insert(*doc, now);
                self.unflushed = true;
                if let Err(e) =
                    self.store
                        .put_sync_state(&acked_key(), doc, &encode_ack(now, heads))
                {
                    tracing::debug!(error = %e, "recording an ack failed");
                }
                self.problems.remove(doc);
                self.check_clean(*doc);
            }
            Notification::DocError {
                doc: Some(doc),
                message,
                ..
            } => {
                self.problems.insert(*doc, message.clone());
            }
            Notification::DocError { .. } => {}
        }
        let _ = self.events.send(n);
    }

    /// Sends a change event for what `doc` gained since it was last reported.
    pub(super) fn publish_change(
        &mut self,
        doc: DocumentId,
        origin: Origin,
        heads: Vec<ChangeHash>,
    ) {
        // Nobody reads the change stream: keep the heads, skip the walk (it rebuilds every
        // new change from Automerge's op set, on the path every merge takes).
        let since = self
            .last_heads
            .insert(doc, heads.clone())
            .unwrap_or_default();
        if self.changes.receiver_count() == 0 {
            return;
        }
        let Some(am) = self.engine.doc(&doc) else {
            return;
        };
        let changes = change_infos(am, &since);
        if changes.is_empty() {
            return;
        }
        let _ = self.resolver.send(Resolve::Event(ChangeEvent {
            doc,
            origin,
            changes,
            heads,
        }));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ack_records_round_trip_and_damaged_ones_are_ignored() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_000_000_123);
        let heads = vec![ChangeHash([1; 32]), ChangeHash([2; 32])];
        assert_eq!(decode_ack(&encode_ack(at, &heads)), Some((at, heads)));
        assert_eq!(decode_ack(&[1, 2, 3]), None);
        assert_eq!(decode_ack(&[0; 9]), None);
    }
}
