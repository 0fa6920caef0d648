//! What the task does for each [`Cmd`].

use nic_model::{DocMeta, DocumentId};
use nic_sync::Target;
use nic_sync::automerge::{Automerge, ChangeHash};

use super::authors::Resolve;
use super::{Cmd, EditFn, Task, hub_peer};
use crate::ClientError;
use crate::events::Origin;

impl Task {
    pub(super) async fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Subscribe(target, reply) => {
                let _ = reply.send(self.subscribe(target));
            }
            Cmd::Create(meta, am, reply) => {
                let result = self.create(meta, *am).await;
                let _ = reply.send(result);
            }
            Cmd::Edit(doc, f, reply) => {
                let result = self.edit(doc, f).await;
                let _ = reply.send(result);
            }
            Cmd::Read(doc, f, reply) => {
                let held = self.knows(&doc) && self.ensure_loaded(doc).await;
                match self.rt.engine().doc(&doc) {
                    Some(am) if held => {
                        f(am);
                        let _ = reply.send(true);
                    }
                    _ => {
                        let _ = reply.send(false);
                    }
                }
            }
            Cmd::ReadEach(docs, mut f, reply) => {
                self.ensure_all_loaded(&docs).await;
                let engine = self.rt.engine();
                for doc in &docs {
                    f(engine.meta(doc).zip(engine.doc(doc)));
                }
                let _ = reply.send(());
            }
            Cmd::List(filter, reply) => {
                let store = self.store.clone();
                let listed = tokio::task::spawn_blocking(move || store.list(&filter))
                    .await
                    .map_err(|e| ClientError::Protocol(format!("listing failed: {e}")))
                    .and_then(|r| r.map_err(ClientError::from));
                let _ = reply.send(listed);
            }
            Cmd::Meta(doc, reply) => {
                let _ = reply.send(self.rt.engine().meta(&doc).cloned());
            }
            Cmd::Acked(doc, reply) => {
                let _ = reply.send(
                    self.rt
                        .engine()
                        .acked_heads(&doc, &hub_peer())
                        .map(<[ChangeHash]>::to_vec),
                );
            }
            Cmd::Pending(doc, reply) => {
                let held = self.knows(&doc) && self.ensure_loaded(doc).await;
                let pending = held
                    .then(|| self.rt.engine().pending_changes(&doc, &hub_peer()))
                    .flatten();
                let _ = reply.send(pending);
            }
            Cmd::WaitSaved(doc, reply) => {
                if self.knows(&doc) && self.ensure_loaded(doc).await {
                    self.wait_saved(doc, reply);
                } else {
                    let _ = reply.send(Err(ClientError::UnknownDocument(doc)));
                }
            }
            Cmd::DocStatus(doc, reply) => {
                let held = self.knows(&doc) && self.ensure_loaded(doc).await;
                let _ = reply.send(held.then(|| self.doc_status(doc)).flatten());
            }
            Cmd::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Cmd::CaughtUp(target, reply) => {
                let _ = reply.send(self.caught_up.contains(&target));
            }
            Cmd::Stats(reply) => {
                let _ = reply.send(self.rt.engine().stats());
            }
            Cmd::Wire(reply) => {
                let _ = reply.send(self.wire);
            }
            Cmd::Offline(reply) => {
                self.paused = true;
                self.attempt = None;
                self.next_attempt = None;
                if self.conn.take().is_some() {
                    let t = self.now();
                    self.rt
                        .with_engine(t, |engine, ctx| engine.peer_disconnected(ctx, &hub_peer()));
                }
                for waiter in self.connect_waiters.drain(..) {
                    let _ = waiter.send(Err(ClientError::Protocol(
                        "the replica was taken offline".into(),
                    )));
                }
                let _ = reply.send(());
            }
            Cmd::Connect(reply) => {
                self.paused = false;
                if self.conn.is_some() {
                    let _ = reply.send(Ok(()));
                    return;
                }
                self.connect_waiters.push(reply);
                if self.attempt.is_none() {
                    self.start_attempt();
                }
            }
            Cmd::History(doc, reply) => {
                let held = self.knows(&doc) && self.ensure_loaded(doc).await;
                match self.rt.engine().doc(&doc) {
                    Some(am) if held => {
                        let changes = super::effects::change_infos(am, &[]);
                        let _ = self.resolver.send(Resolve::Name(doc, changes, reply));
                    }
                    _ => {
                        let _ = reply.send(Err(ClientError::UnknownDocument(doc)));
                    }
                }
            }
            Cmd::Close(reply) => {
                // Handled by the loop, which stops after it.
                let _ = reply.send(());
            }
        }
    }

    /// Whether this replica holds (or is fetching) the document.
    pub(super) fn knows(&self, doc: &DocumentId) -> bool {
        self.rt.engine().meta(doc).is_some() || self.rt.engine().doc(doc).is_some()
    }

    fn subscribe(&mut self, target: Target) -> Result<(), ClientError> {
        if !self.device.subscriptions.contains(&target) {
            self.device.subscriptions.push(target.clone());
            self.device.save()?;
        }
        if self.conn.is_some() {
            let t = self.now();
            self.rt
                .with_engine(t, |engine, ctx| engine.subscribe(ctx, &hub_peer(), target));
        }
        Ok(())
    }

    /// Creates a document here; it is offered to the hub now if online, else on reconnect.
    async fn create(&mut self, meta: DocMeta, am: Automerge) -> Result<(), ClientError> {
        meta.validate()?;
        if let Some((member, grants)) = &self.device.member
            && !grants.may_create(&meta.network, meta.site.as_ref())
        {
            let place = match &meta.site {
                Some(site) => format!("site {site} of network {}", meta.network),
                None => format!(
                    "network {} (network-level documents are for its leads)",
                    meta.network
                ),
            };
            return Err(ClientError::NotAllowed(format!(
                "{member} may not create documents in {place}; create it at your own site, or ask a network lead"
            )));
        }
        let doc = meta.id;
        // Recorded as unsent before it exists, so a crash in between cannot lose the offer
        // (an unsent id with no document behind it is dropped on the next push).
        self.device.unsent.push(doc);
        self.device.dirty.insert(doc);
        self.device.save()?;
        let t = self.now();
        if let Err(e) = self
            .rt
            .with_engine(t, |engine, ctx| engine.create(ctx, meta, am))
        {
            self.device.unsent.retain(|d| *d != doc);
            self.device.dirty.remove(&doc);
            self.device.save()?;
            return Err(ClientError::Protocol(e.to_string()));
        }
        self.settle().await;
        if let Some(e) = self.save_error.take() {
            return Err(ClientError::Storage(e));
        }
        let heads = self
            .rt
            .engine()
            .doc(&doc)
            .map(Automerge::get_heads)
            .unwrap_or_default();
        self.last_heads.insert(doc, Vec::new());
        self.publish_change(doc, Origin::Local, heads);
        self.refresh_pending(doc);
        self.push_unsent().await;
        Ok(())
    }

    /// Applies `f` and returns once its changes are flushed to local storage.
    async fn edit(&mut self, doc: DocumentId, f: EditFn) -> Result<(), ClientError> {
        if !self.knows(&doc) || !self.ensure_loaded(doc).await {
            return Err(ClientError::UnknownDocument(doc));
        }
        let by_roles = match (&self.device.member, self.rt.engine().meta(&doc)) {
            (Some((member, grants)), Some(meta)) if !grants.may_write(meta) => {
                Some((member.to_string(), meta.title.clone()))
            }
            _ => None,
        };
        if let Some((member, title)) = by_roles {
            return Err(ClientError::NotAllowed(format!(
                "{member} may read but not change document {doc} ({title}); ask its site's team or a network lead"
            )));
        }
        if self.hub_reads_only(doc) {
            return Err(ClientError::NotAllowed(format!(
                "the hub takes no changes to document {doc} from you now (you may read it only); ask its site's team or a network lead"
            )));
        }
        let t = self.now();
        let before = self.rt.engine().doc(&doc).map(Automerge::get_heads);
        let outcome = self
            .rt
            .with_engine(t, |engine, ctx| engine.edit(ctx, &doc, f))
            .map_err(|_| ClientError::UnknownDocument(doc))?;
        let after = self.rt.engine().doc(&doc).map(Automerge::get_heads);
        if before != after {
            if self.device.dirty.insert(doc) {
                self.device.save()?;
            }
            self.refresh_pending(doc);
        }
        self.settle().await;
        if let Some(e) = self.save_error.take() {
            return Err(ClientError::Storage(e));
        }
        outcome
    }
}
