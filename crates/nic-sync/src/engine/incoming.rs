//! Frames arriving from peers.

use automerge::sync::Message;
use nic_model::{DocumentId, PeerId};

use super::Engine;
use crate::doc::DocState;
use crate::{Ctx, Effect, ErrorCode, Frame, Notification, Role, Target};

impl Engine {
    /// A frame arrived from a connected peer.
    pub fn receive(&mut self, ctx: Ctx<'_>, peer: &PeerId, frame: Frame) {
        let Some(entry) = self.peers.get_mut(peer) else {
            return;
        };
        entry.last_heard_ms = ctx.now_ms;
        match frame {
            Frame::Subscribe { target, known } => self.receive_subscribe(ctx, peer, target, &known),
            Frame::Subscribed { target, docs } => {
                self.pending_subscriptions.remove(&(peer.clone(), target));
                for doc in docs {
                    self.link(ctx, peer, doc, false);
                }
            }
            Frame::Unsubscribe(target) => self.unsubscribe(peer, target),
            Frame::CaughtUp { target } => {
                self.awaiting_caught_up
                    .remove(&(peer.clone(), target.clone()));
                if self.config.role == Role::Replica {
                    self.outbox.push(Effect::Notify(Notification::CaughtUp {
                        peer: peer.clone(),
                        target,
                    }));
                }
            }
            Frame::Sync { doc, message } => match Message::decode(&message) {
                Ok(message) => self.receive_sync_frame(ctx, doc, peer, message),
                Err(e) => self.send_error(
                    peer,
                    Some(doc),
                    ErrorCode::InvalidArgument,
                    format!("malformed sync message for document {doc}: {e}"),
                ),
            },
            Frame::Ack { doc, heads } => {
                if let Some(entry) = self.docs.get_mut(&doc) {
                    entry.acked.insert(peer.clone(), heads.clone());
                    self.outbox.push(Effect::Notify(Notification::Acked {
                        doc,
                        peer: peer.clone(),
                        heads,
                    }));
                }
            }
            Frame::Announce(meta) => self.receive_announce(ctx, peer, meta),
            Frame::Error { doc, code, message } => {
                if let Some(doc) = doc {
                    match code {
                        // The document does not exist there: stop asking.
                        ErrorCode::NotFound => self.drop_link(doc, peer, false),
                        // Refused a document we were never let read (a subscription by id
                        // to someone else's): stop asking, as for one that does not exist.
                        // Without this the link never settles and is asked for again on
                        // every tick (found by the simulation once it ran real rights).
                        ErrorCode::PermissionDenied
                            if self.config.role == crate::Role::Replica
                                && !self.catalog.contains_key(&doc) =>
                        {
                            self.drop_link(doc, peer, false)
                        }
                        // Keep the link (a refused write still lets us read) but stop
                        // resyncing; the peer's next message revives it.
                        ErrorCode::PermissionDenied => {
                            if let Some(link) =
                                self.docs.get_mut(&doc).and_then(|e| e.links.get_mut(peer))
                            {
                                link.refused = true;
                            }
                            self.update_settled(doc, peer);
                        }
                        _ => {}
                    }
                }
                self.outbox.push(Effect::Notify(Notification::DocError {
                    doc,
                    peer: Some(peer.clone()),
                    code,
                    message,
                }));
            }
        }
    }

    /// A peer subscribes: link what it may read and tell it what that is.
    fn receive_subscribe(
        &mut self,
        ctx: Ctx<'_>,
        peer: &PeerId,
        target: Target,
        known: &[crate::Known],
    ) {
        let known: std::collections::HashMap<DocumentId, &crate::Known> =
            known.iter().map(|k| (k.doc, k)).collect();
        let max = self.config.max_docs_per_subscription;
        let size = match &target {
            Target::Docs(docs) => docs.len(),
            Target::Network(network) => self.by_network.get(network).map_or(0, |docs| {
                docs.iter().filter(|d| self.may_read(ctx, peer, d)).count()
            }),
        };
        if size > max {
            let what = match &target {
                Target::Docs(_) => format!("the subscription names {size} documents"),
                Target::Network(network) => format!(
                    "network {network} has {size} documents you may read; subscribe to documents by id instead"
                ),
            };
            self.send_error(
                peer,
                None,
                ErrorCode::ResourceExhausted,
                format!("{what}: the limit of documents per subscription is {max}"),
            );
            return;
        }
        let mut covered = Vec::new();
        match &target {
            Target::Docs(docs) => {
                for doc in docs {
                    let k = known.get(doc).copied();
                    // A named document restarts its exchange, unless the peer says where
                    // it stands.
                    if self.link_with(ctx, peer, *doc, k.is_none(), k) {
                        covered.push(*doc);
                    }
                }
            }
            Target::Network(network) => {
                if let Some(p) = self.peers.get_mut(peer) {
                    p.networks.insert(network.clone());
                }
                self.network_subscribers
                    .entry(network.clone())
                    .or_default()
                    .insert(peer.clone());
                let docs: Vec<DocumentId> = self
                    .by_network
                    .get(network)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default();
                // Documents the peer may not read are skipped silently: a subscription never
                // reveals what it does not cover.
                for doc in docs {
                    if self.may_read(ctx, peer, &doc)
                        && self.link_with(ctx, peer, doc, false, known.get(&doc).copied())
                    {
                        covered.push(doc);
                    }
                }
            }
        }
        self.send(
            peer,
            Frame::Subscribed {
                target: target.clone(),
                docs: covered.clone(),
            },
        );
        self.start_catch_up(peer, target, &covered);
    }

    fn unsubscribe(&mut self, peer: &PeerId, target: Target) {
        self.cancel_catch_up(peer, &target);
        let docs: Vec<DocumentId> = match target {
            Target::Docs(docs) => docs,
            Target::Network(network) => {
                if let Some(p) = self.peers.get_mut(peer) {
                    p.networks.remove(&network);
                }
                if let Some(set) = self.network_subscribers.get_mut(&network) {
                    set.remove(peer);
                }
                self.by_network
                    .get(&network)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default()
            }
        };
        for doc in docs {
            self.drop_link(doc, peer, true);
        }
    }

    /// A replica learns a document's metadata from its hub.
    fn receive_announce(&mut self, ctx: Ctx<'_>, peer: &PeerId, meta: nic_model::DocMeta) {
        if self.config.role != Role::Replica || meta.validate().is_err() {
            return;
        }
        let doc = meta.id;
        let wanted = self
            .docs
            .get(&doc)
            .is_some_and(|e| e.links.contains_key(peer))
            || self
                .peers
                .get(peer)
                .is_some_and(|p| p.local_networks.contains(&meta.network));
        if !wanted {
            return;
        }
        let changed = self.catalog.get(&doc) != Some(&meta);
        if changed {
            self.outbox.push(Effect::PutMeta(meta.clone()));
            self.catalogue(ctx, meta);
        }
        self.link(ctx, peer, doc, false);
        // Changes held back for want of metadata can be stored now.
        self.persist_pending(doc);
        self.update_settled(doc, peer);
    }

    /// A decoded sync message: link if needed, then apply now or queue until ready.
    pub(super) fn receive_sync_frame(
        &mut self,
        ctx: Ctx<'_>,
        doc: DocumentId,
        peer: &PeerId,
        message: Message,
    ) {
        let linked = self
            .docs
            .get(&doc)
            .is_some_and(|e| e.links.contains_key(peer));
        if !linked {
            self.link(ctx, peer, doc, false);
        }
        let max_queued = self.config.max_queued_messages;
        let Some(entry) = self.docs.get_mut(&doc) else {
            return;
        };
        let loading = matches!(entry.state, DocState::Loading);
        let Some(link) = entry.links.get_mut(peer) else {
            return;
        };
        if loading || link.awaiting_state {
            if link.inbox.len() >= max_queued {
                link.inbox.pop_front();
            }
            link.inbox.push_back(message);
            return;
        }
        self.receive_sync(ctx, doc, peer, message);
    }

    /// Applies a sync message on a ready link, checking write rights and limits first.
    pub(super) fn receive_sync(
        &mut self,
        ctx: Ctx<'_>,
        doc: DocumentId,
        peer: &PeerId,
        message: Message,
    ) {
        let has_changes = !message.changes.is_empty();
        if has_changes && !self.may_write(ctx, peer, &doc) {
            if let Some(link) = self.docs.get_mut(&doc).and_then(|e| e.links.get_mut(peer)) {
                link.refused = true;
            }
            self.send_error(
                peer,
                Some(doc),
                ErrorCode::PermissionDenied,
                format!("you may not change document {doc}; your changes were not applied"),
            );
            self.update_settled(doc, peer);
            return;
        }
        if message.changes.len() > self.config.max_changes_per_message {
            self.send_error(
                peer,
                Some(doc),
                ErrorCode::ResourceExhausted,
                format!(
                    "sync message for document {doc} carries {} changes; the limit is {}",
                    message.changes.len(),
                    self.config.max_changes_per_message
                ),
            );
            return;
        }
        if message.have.len() > 1 {
            // Automerge peers send at most one summary; more would reach unchecked paths.
            self.send_error(
                peer,
                Some(doc),
                ErrorCode::InvalidArgument,
                format!(
                    "sync message for document {doc} has {} 'have' entries; at most 1 is allowed",
                    message.have.len()
                ),
            );
            return;
        }
        if let Some(reason) = message
            .have
            .iter()
            .find_map(|h| super::limits::bloom_problem(&h.bloom))
        {
            self.send_error(
                peer,
                Some(doc),
                ErrorCode::InvalidArgument,
                format!("sync message for document {doc} has an unusable Bloom filter: {reason}"),
            );
            return;
        }
        if self.config.role == Role::Hub {
            self.stage_or_apply(ctx, doc, peer, message);
        } else {
            self.apply_sync(ctx, doc, peer, message);
        }
    }
}
