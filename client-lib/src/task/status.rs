//! Status: how each document and the whole replica stand with the hub.

use nic_model::DocumentId;

use super::{Reply, Task, hub_peer};
use crate::status::{Connection, DocStatus, Status, SyncState};
use crate::{ClientError, Refusal};

impl Task {
    fn connection(&self) -> Connection {
        if self.conn.is_some() {
            return Connection::Online;
        }
        if self.attempt.is_some() {
            return Connection::Connecting;
        }
        let reason = if self.paused {
            Some("taken offline by the application".to_owned())
        } else {
            self.last_error.clone()
        };
        Connection::Offline {
            reason,
            next_attempt: self.next_attempt,
        }
    }

    /// A document's status; `None` if it is not in memory.
    pub(super) fn doc_status(&self, doc: DocumentId) -> Option<DocStatus> {
        let pending = self.rt.engine().pending_changes(&doc, &hub_peer())?;
        let unsent = self.device.unsent.contains(&doc);
        let state = if self.conn.is_none() {
            SyncState::Offline(pending)
        } else if pending > 0 || unsent {
            SyncState::Pending(pending)
        } else {
            SyncState::Synced
        };
        let (refusal, problem) = match self.problems.get(&doc) {
            Some((refusal, message)) => (Some(*refusal), Some(message.clone())),
            None if pending > 0 && self.hub_reads_only(doc) => (
                Some(Refusal::PermissionDenied),
                Some(format!(
                    "the hub takes no changes from you to this document (you may read it only); the {pending} made here stay in this replica"
                )),
            ),
            None => (None, None),
        };
        Some(DocStatus {
            state,
            unsent,
            last_ack: self.last_ack.get(&doc).copied(),
            problem,
            refusal,
            in_step: self.conn.is_some() && pending == 0 && !unsent && self.in_step(doc),
        })
    }

    /// Whether the hub's last word on the document named exactly our heads, and nothing
    /// is on its way to or from it.
    fn in_step(&self, doc: DocumentId) -> bool {
        self.rt
            .engine()
            .link_status(&doc, &hub_peer())
            .is_some_and(|l| {
                !l.loading
                    && !l.awaiting_state
                    && l.queued == 0
                    && l.their_heads.as_ref() == Some(&l.our_heads)
            })
            && !self.rt.engine().unsettled_links().any(|(d, _)| *d == doc)
    }

    /// The whole replica's status, from the pending counts kept per document (nothing is
    /// worked out again here, so publishing it after every command costs little).
    pub(super) fn status(&self) -> Status {
        let mut pending_documents = 0;
        let mut pending_changes = 0;
        for n in self.pending.values() {
            if *n > 0 {
                pending_documents += 1;
                pending_changes += n;
            }
        }
        Status {
            connection: self.connection(),
            documents: self.rt.engine().catalog_len(),
            pending_documents,
            pending_changes,
            unsent_documents: self.device.unsent.len(),
            last_ack: self.last_ack.values().max().copied(),
            up_to_date: self.conn.is_some()
                && self.rt.engine().is_settled()
                && self.deferred.is_empty(),
        }
    }

    /// Whether the hub told this replica it takes no changes to the document from it.
    pub(super) fn hub_reads_only(&self, doc: DocumentId) -> bool {
        self.rt
            .engine()
            .link_status(&doc, &hub_peer())
            .is_some_and(|l| l.peer_read_only)
    }

    /// Tells status watchers, if the status changed.
    pub(super) fn publish_status(&self) {
        let now = self.status();
        self.status_tx.send_if_modified(|old| {
            if *old == now {
                return false;
            }
            *old = now;
            true
        });
    }

    /// Works out again how many of this replica's changes to `doc` the hub has not
    /// confirmed, and keeps the count for [`Task::status`]. Once none is left (and the
    /// hub has accepted the document, if it was made here) the document is clean and
    /// whoever waits for it to be saved is told. Called only when something that can
    /// change the count happened to this document: an edit, an ack, news from the hub.
    pub(super) fn refresh_pending(&mut self, doc: DocumentId) {
        if !self.device.dirty.contains(&doc) {
            self.answer_saved(doc);
            return;
        }
        let Some(n) = self.rt.engine().pending_changes(&doc, &hub_peer()) else {
            return; // not in memory yet: counted once it is loaded
        };
        if self.pending.insert(doc, n) != Some(n) {
            self.status_stale = true;
        }
        if n > 0 && self.hub_reads_only(doc) && self.saved_waiters.contains_key(&doc) {
            let message = format!(
                "the hub takes no changes from you to document {doc} (you may read it only); the {n} made here stay in this replica"
            );
            self.refuse_saved(doc, Refusal::PermissionDenied, &message);
        }
        if n == 0 && !self.device.unsent.contains(&doc) {
            self.pending.remove(&doc);
            self.device.dirty.remove(&doc);
            if let Err(e) = self.device.save() {
                tracing::warn!(error = %e, "cannot update the replica record");
            }
            self.answer_saved(doc);
        }
    }

    /// [`Task::refresh_pending`] for every document with changes waiting (on a tick: the
    /// hub's heads can confirm a change whose ack was lost).
    pub(super) fn refresh_all_pending(&mut self) {
        let dirty: Vec<DocumentId> = self.device.dirty.iter().copied().collect();
        for doc in dirty {
            self.refresh_pending(doc);
        }
    }

    /// Tells those waiting for `doc` to be saved that it is, if it is clean.
    fn answer_saved(&mut self, doc: DocumentId) {
        if self.device.dirty.contains(&doc) || self.device.unsent.contains(&doc) {
            return;
        }
        for waiter in self.saved_waiters.remove(&doc).unwrap_or_default() {
            let _ = waiter.send(Ok(()));
        }
    }

    /// Waits for `doc` to be saved on the hub: answered now if it is, else when it is
    /// (or when the hub refuses it).
    pub(super) fn wait_saved(&mut self, doc: DocumentId, reply: Reply<Result<(), ClientError>>) {
        self.saved_waiters.entry(doc).or_default().push(reply);
        self.refresh_pending(doc);
        // The hub may have refused before anyone waited (a creation refused while the
        // caller was still on its way here): that refusal stands until the hub next
        // acknowledges the document, so the waiter hears it now, not at its timeout.
        let waiting = self.device.dirty.contains(&doc) || self.device.unsent.contains(&doc);
        if let Some((refusal, message)) = self.problems.get(&doc).cloned()
            && waiting
        {
            self.refuse_saved(doc, refusal, &message);
        }
    }

    /// The hub refused something about `doc` for good: those waiting for it to be saved
    /// hear why instead of waiting for their timeout.
    pub(super) fn refuse_saved(&mut self, doc: DocumentId, refusal: Refusal, message: &str) {
        for waiter in self.saved_waiters.remove(&doc).unwrap_or_default() {
            let _ = waiter.send(Err(ClientError::Refused {
                refusal,
                message: message.to_owned(),
            }));
        }
    }
}
