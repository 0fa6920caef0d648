//! Carrying out the replica runtime's outputs — frames to the hub, storage reads and write
//! groups on the blocking pool (never on an async worker), notifications turned into change
//! events — and the runtime's `committed` after each flush.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nic_model::DocumentId;
use nic_proto::convert;
use nic_runtime::storage::{self, Committed, Group, Read, ReadDone};
use nic_runtime::{Output, ack_record_peer};
use nic_store::{Durability, Store, StoreError};
use nic_sync::Notification;
use nic_sync::automerge::{Automerge, ChangeHash};
use prost::Message;

use super::{Task, authors::Resolve};
use crate::events::{ChangeEvent, ChangeInfo, Origin};

/// Reads on the blocking pool, several in one trip (inline for a store in memory).
async fn read(
    store: Arc<dyn Store>,
    reads: Vec<Read>,
    in_memory: bool,
) -> Result<Vec<ReadDone>, String> {
    let all = move || {
        let peer = ack_record_peer();
        reads
            .into_iter()
            .map(|r| storage::read(&*store, r, Some(&peer)))
            .collect()
    };
    if in_memory {
        return Ok(all());
    }
    tokio::task::spawn_blocking(all)
        .await
        .map_err(|e| e.to_string())
}

/// Commits a write group (one flush) on the blocking pool (inline for a store in memory).
async fn commit(store: Arc<dyn Store>, group: Group, in_memory: bool) -> Result<Committed, String> {
    if in_memory {
        return Ok(storage::commit(&*store, None, group, Durability::Process));
    }
    tokio::task::spawn_blocking(move || storage::commit(&*store, None, group, Durability::Process))
        .await
        .map_err(|e| e.to_string())
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
    /// Carries out the runtime's outputs and commits its writes until neither leaves work:
    /// a chunk is reported persisted only after the flush that made it durable
    /// (`ReplicaRuntime::committed`), and that report may itself produce outputs.
    pub(super) async fn settle(&mut self) {
        loop {
            let outputs = self.rt.take_outputs();
            if !outputs.is_empty() {
                let mut outputs = outputs.into_iter().peekable();
                while let Some(output) = outputs.next() {
                    let Output::Read(first) = output else {
                        self.carry_out(output).await;
                        continue;
                    };
                    // Loads asked together (a bulk read) go to storage in one trip.
                    let mut reads = vec![first];
                    while let Some(Output::Read(_)) = outputs.peek() {
                        if let Some(Output::Read(r)) = outputs.next() {
                            reads.push(r);
                        }
                    }
                    self.read_all(reads).await;
                }
                continue;
            }
            let Some(group) = self.rt.take_group() else {
                return;
            };
            let committed = match commit(self.store.clone(), group, self.in_memory).await {
                Ok(committed) => committed,
                Err(e) => {
                    // The blocking task died: nothing of the group is known durable, and
                    // the engine resends what it did not hear was persisted.
                    tracing::error!(error = %e, "committing the replica's writes failed");
                    continue;
                }
            };
            if let Some((_, _, reason)) = committed.failed.first() {
                tracing::warn!(%reason, "saving to the replica failed");
                self.save_error = Some(StoreError::Io {
                    path: "replica".into(),
                    source: std::io::Error::other(reason.clone()),
                });
            }
            let t = self.now();
            self.rt.committed(t, committed);
        }
    }

    async fn carry_out(&mut self, output: Output) {
        match output {
            Output::Send { frame, .. } => {
                if let (Some(conn), Some(wire)) = (&self.conn, convert::to_hub(frame)) {
                    self.wire.frames_sent += 1;
                    self.wire.bytes_sent += wire.encoded_len() as u64;
                    if conn.out.send(wire).await.is_err() {
                        self.lost("the stream to the hub closed".into());
                    }
                }
            }
            Output::Read(request) => self.read_all(vec![request]).await,
            // A replica's runtime ends no streams (only a hub's does).
            Output::End { .. } => {}
            Output::Notify(n) => self.notify(n),
        }
    }

    /// Carries out storage reads and hands each answer to the runtime.
    async fn read_all(&mut self, reads: Vec<Read>) {
        let answers = match read(self.store.clone(), reads, self.in_memory).await {
            Ok(answers) => answers,
            Err(e) => {
                tracing::error!(error = %e, "reading the replica failed");
                return;
            }
        };
        for done in answers {
            let loaded = match &done {
                ReadDone::Doc { doc, .. } => Some(*doc),
                ReadDone::SyncState { .. } | ReadDone::Stored { .. } => None,
            };
            let t = self.now();
            self.rt.read_done(t, done);
            if let Some(doc) = loaded
                && let Some(at) = self.rt.last_acks().get(&doc)
            {
                let ms = u64::try_from(*at).unwrap_or(0);
                self.last_ack
                    .insert(doc, UNIX_EPOCH + Duration::from_millis(ms));
            }
        }
    }

    fn notify(&mut self, n: Notification) {
        match &n {
            Notification::Ready { doc } => {
                if let Some(am) = self.rt.engine().doc(doc) {
                    self.last_heads.insert(*doc, am.get_heads());
                }
                self.refresh_pending(*doc);
            }
            Notification::Changed { doc, origin, heads } => {
                let origin = match origin {
                    nic_sync::Origin::Local => Origin::Local,
                    nic_sync::Origin::Remote(_) | nic_sync::Origin::Stored => Origin::Remote,
                };
                self.publish_change(*doc, origin, heads.clone());
                // The hub's heads came with the change and may confirm ours.
                if origin == Origin::Remote && self.device.dirty.contains(doc) {
                    self.refresh_pending(*doc);
                }
            }
            Notification::Acked { doc, .. } => {
                // The runtime wrote the ack record into the write group.
                self.status_stale = true;
                self.last_ack.insert(*doc, SystemTime::now());
                self.problems.remove(doc);
                self.refresh_pending(*doc);
            }
            Notification::DocError {
                doc: Some(doc),
                code,
                message,
                ..
            } => {
                let refusal = super::refusal_of(*code);
                self.problems.insert(*doc, (refusal, message.clone()));
                self.status_stale = true;
                // A change the hub refused is never acknowledged: its waiters hear why now.
                // (A document it could not load for the moment may still be saved.)
                if *code != nic_sync::ErrorCode::Unavailable {
                    self.refuse_saved(*doc, refusal, message);
                }
            }
            Notification::DocError { .. } => {}
            Notification::CaughtUp { target, .. } => {
                self.caught_up.insert(target.clone());
            }
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
        let Some(am) = self.rt.engine().doc(&doc) else {
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
