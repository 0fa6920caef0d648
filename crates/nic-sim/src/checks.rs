//! The invariants, checked where they must hold, and healing: after the faults stop,
//! everyone converges.

use automerge::{AutoSerde, Automerge, ChangeHash};
use nic_model::DocumentId;
use nic_runtime::actor_key;
use nic_sync::Frame;

use crate::trace::{describe, short};
use crate::world::{HEAL_ROUNDS, HUB, Kind, RESYNC_MS, World, actor_owner, member_name, peer_name};

impl World {
    /// Invariants of a frame the hub sends: the recipient is connected, may read the
    /// document the frame carries (as the hub was last told), and an ack names only changes
    /// durable on the hub's disk.
    pub(crate) fn check_frame(&mut self, to: usize, frame: &Frame) -> Result<(), String> {
        self.report.frames_checked += 1;
        if !self.connected[to] {
            return Err(format!(
                "the hub sent to {}, whose stream it ended",
                peer_name(to)
            ));
        }
        let doc = match frame {
            Frame::Sync { doc, .. } | Frame::Ack { doc, .. } => Some(*doc),
            Frame::Announce(meta) => Some(meta.id),
            _ => None,
        };
        if let Some(doc) = doc {
            let meta = self
                .metas
                .get(&doc)
                .ok_or_else(|| format!("the hub sent a frame about unknown document {doc}"))?;
            if !self.told[to].may_read(meta) {
                return Err(format!(
                    "the hub sent {} a frame of {doc}, which they may not read: {}",
                    peer_name(to),
                    describe(frame)
                ));
            }
        }
        if let Frame::Ack { doc, heads } = frame {
            self.check_durable(*doc, heads)?;
            self.report.acks_checked += 1;
            self.acked.push((*doc, heads.clone()));
        }
        Ok(())
    }

    /// Invariant: these heads of `doc` are durable on the hub's disk.
    pub(crate) fn check_durable(
        &self,
        doc: DocumentId,
        heads: &[ChangeHash],
    ) -> Result<(), String> {
        let stored = self.nodes[HUB]
            .disk
            .durable_doc(&doc)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("ack for {doc}, which the hub has not stored durably"))?;
        let am = Automerge::load(&stored.concatenated())
            .map_err(|e| format!("the hub's stored {doc} does not load: {e}"))?;
        for h in heads {
            if am.get_change_meta_by_hash(h).is_none() {
                return Err(format!(
                    "ack for {doc} names change {h} that is not durable on the hub"
                ));
            }
        }
        Ok(())
    }

    /// Invariant: every change the hub stored under a client's actor id is bound, durably,
    /// to the member who sent it, and no impostor's change was stored.
    pub(crate) fn check_bindings(&mut self) -> Result<(), String> {
        for doc in self.docs.clone() {
            let Some(stored) = self.nodes[HUB]
                .disk
                .durable_doc(&doc)
                .map_err(|e| e.to_string())?
            else {
                continue;
            };
            let am = Automerge::load(&stored.concatenated())
                .map_err(|e| format!("the hub's stored {doc} does not load: {e}"))?;
            for change in am.get_changes(&[]) {
                if self.initial_changes.contains(&change.hash()) {
                    continue;
                }
                if self.impostor_changes.contains(&change.hash()) {
                    return Err(format!(
                        "the hub stored an impostor's change to {doc} under another member's actor id"
                    ));
                }
                let actor = change.actor_id().to_bytes();
                let owner = actor_owner(actor).ok_or_else(|| {
                    format!("the hub stored a change to {doc} by an unknown actor")
                })?;
                let bound = self.nodes[HUB]
                    .disk
                    .durable_actor(&actor_key(actor))
                    .map_err(|e| e.to_string())?;
                if bound != Some(member_name(owner)) {
                    return Err(format!(
                        "a stored change to {doc} by {}'s actor is bound to {bound:?}",
                        peer_name(owner)
                    ));
                }
                self.report.bindings_checked += 1;
            }
        }
        Ok(())
    }

    /// Heals every fault (rights restored, every client reconnected) and runs until
    /// nothing is left to do.
    pub(crate) fn heal(&mut self) -> Result<(), String> {
        self.faults_on = false;
        self.partitioned.iter_mut().for_each(|p| *p = false);
        for c in 1..self.nodes.len() {
            if self.narrowed[c] {
                self.set_narrowed(c, false)?;
            }
        }
        for c in 1..self.nodes.len() {
            // A fresh stream, so links the narrowed roles closed are opened again.
            if self.connected[c] {
                self.drop_connection(c)?;
            }
            if self.kinds[c] == Kind::Impostor {
                // Its copies hold changes that clash with the real actor's (same actor id
                // and sequence number): they can never converge, and the hub would resync
                // them forever. It has done its damage; it stays away.
                continue;
            }
            self.connect(c)?;
            if !self.connected[c] {
                return Err(format!("{} cannot reconnect after healing", peer_name(c)));
            }
        }
        for round in 0..HEAL_ROUNDS {
            let mut delivered = 0;
            while !self.packets.is_empty() {
                self.deliver(0)?;
                delivered += 1;
                if delivered > 100_000 {
                    return Err("frames kept flowing after healing: a sync loop".to_owned());
                }
            }
            for i in 0..self.nodes.len() {
                self.flush_node(i)?;
            }
            let quiet = self.packets.is_empty()
                && self
                    .nodes
                    .iter()
                    .all(|n| !n.has_pending_writes() && n.engine().is_settled());
            if quiet {
                self.report.heal_rounds = round;
                return Ok(());
            }
            self.now += RESYNC_MS;
            for i in 0..self.nodes.len() {
                self.tick(i)?;
            }
        }
        let mut stuck = Vec::new();
        for node in &self.nodes {
            for (doc, peer) in node.engine().unsettled_links() {
                stuck.push(format!(
                    "{} with {peer} on {}: {:?}",
                    node.peer,
                    short(doc),
                    node.engine().link_status(doc, peer)
                ));
            }
            if node.has_pending_writes() {
                stuck.push(format!("{} has unflushed writes", node.peer));
            }
        }
        Err(format!(
            "did not settle within {HEAL_ROUNDS} rounds after healing; {} frames in flight; stuck:\n  {}",
            self.packets.len(),
            stuck.join("\n  ")
        ))
    }

    /// Every invariant of a healed world.
    pub(crate) fn verify(&mut self) -> Result<(), String> {
        self.check_bindings()?;
        let hub = &self.nodes[HUB];
        let intruder_actors: Vec<Vec<u8>> = (0..self.nodes.len())
            .filter(|i| self.kinds[*i] == Kind::Intruder)
            .flat_map(|i| {
                (1..=self.incarnations[i])
                    .map(move |n| format!("{}-{n}", peer_name(i)).into_bytes())
            })
            .collect();
        for doc in &self.docs {
            // Evicted documents are read back from the disk, as the hub would.
            let stored = hub
                .disk
                .durable_doc(doc)
                .map_err(|e| e.to_string())?
                .ok_or("hub lost a document")?;
            let stored = Automerge::load(&stored.concatenated())
                .map_err(|e| format!("the hub's stored {doc} does not load: {e}"))?;
            // What the hub holds in memory it has stored (the store may hold more: writes
            // of a failed flush that a later flush made durable, which no one resent).
            let reference = match hub.engine().doc(doc) {
                Some(am) => {
                    if let Some(h) = am
                        .get_heads()
                        .iter()
                        .find(|h| stored.get_change_meta_by_hash(h).is_none())
                    {
                        return Err(format!(
                            "the hub holds change {h} of {doc} in memory that is not durable"
                        ));
                    }
                    am
                }
                None => &stored,
            };
            let heads = reference.get_heads();
            let content =
                serde_json::to_value(AutoSerde::from(reference)).map_err(|e| e.to_string())?;
            // Refused: no change by a peer without write rights was stored.
            for change in stored.get_changes(&[]) {
                if intruder_actors
                    .iter()
                    .any(|a| a.as_slice() == change.actor_id().to_bytes())
                {
                    return Err(format!(
                        "hub holds a change to {doc} by a peer without write rights"
                    ));
                }
            }
            let meta = self.metas.get(doc).ok_or("unknown document")?;
            for (i, node) in self.nodes.iter().enumerate().skip(1) {
                if self.kinds[i] == Kind::Impostor {
                    continue; // see `heal`
                }
                let readable = self.told[i].may_read(meta);
                let held = node.engine().doc(doc);
                if !readable {
                    if held.is_some_and(|am| !am.get_heads().is_empty()) {
                        return Err(format!("{} holds {doc}, which it may not read", node.peer));
                    }
                    continue;
                }
                let am = held.ok_or_else(|| format!("{} has not loaded {doc}", node.peer))?;
                if self.kinds[i] == Kind::Intruder {
                    if let Some(h) = heads
                        .iter()
                        .find(|h| am.get_change_meta_by_hash(h).is_none())
                    {
                        return Err(format!("{} lacks hub change {h} of {doc}", node.peer));
                    }
                    continue;
                }
                if am.get_heads() != heads {
                    return Err(format!(
                        "{} has heads {:?} for {doc}, the hub {:?}",
                        node.peer,
                        am.get_heads(),
                        heads
                    ));
                }
                let theirs =
                    serde_json::to_value(AutoSerde::from(am)).map_err(|e| e.to_string())?;
                if theirs != content {
                    return Err(format!("{} has different content for {doc}", node.peer));
                }
                // Their replica's disk must hold it too once flushed.
                let stored = node.disk.durable_doc(doc).map_err(|e| e.to_string())?;
                let stored = stored.ok_or_else(|| format!("{} never stored {doc}", node.peer))?;
                let stored = Automerge::load(&stored.concatenated())
                    .map_err(|e| format!("{}'s stored {doc} does not load: {e}", node.peer))?;
                if stored.get_heads() != heads {
                    return Err(format!(
                        "{} store heads for {doc} differ from its memory",
                        node.peer
                    ));
                }
            }
        }
        Ok(())
    }
}
