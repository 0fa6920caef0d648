//! Status: how each document and the whole replica stand with the hub.

use nic_model::DocumentId;

use super::{Task, hub_peer};
use crate::status::{Connection, DocStatus, Status, SyncState};

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
        Some(DocStatus {
            state,
            unsent,
            last_ack: self.last_ack.get(&doc).copied(),
            problem: self.problems.get(&doc).cloned().or_else(|| {
                (pending > 0 && self.hub_reads_only(doc)).then(|| {
                    format!(
                        "the hub takes no changes from you to this document (you may read it only); the {pending} made here stay in this replica"
                    )
                })
            }),
        })
    }

    /// The whole replica's status. Only documents changed here can have pending changes,
    /// and those are kept in memory, so nothing is loaded for this.
    pub(super) fn status(&self) -> Status {
        let mut pending_documents = 0;
        let mut pending_changes = 0;
        for doc in &self.device.dirty {
            let n = self
                .rt
                .engine()
                .pending_changes(doc, &hub_peer())
                .unwrap_or_default();
            if n > 0 {
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
            up_to_date: self.conn.is_some() && self.rt.engine().is_settled(),
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

    /// Forgets that a document has changes waiting once the hub holds them all.
    pub(super) fn check_clean(&mut self, doc: DocumentId) {
        if !self.device.dirty.contains(&doc) || self.device.unsent.contains(&doc) {
            return;
        }
        if self.rt.engine().pending_changes(&doc, &hub_peer()) == Some(0) {
            self.device.dirty.remove(&doc);
            if let Err(e) = self.device.save() {
                tracing::warn!(error = %e, "cannot update the replica record");
            }
        }
    }

    /// [`Task::check_clean`] for every document with changes waiting.
    pub(super) fn check_all_clean(&mut self) {
        let dirty: Vec<DocumentId> = self.device.dirty.iter().copied().collect();
        for doc in dirty {
            self.check_clean(doc);
        }
    }
}
