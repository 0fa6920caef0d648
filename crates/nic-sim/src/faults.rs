//! The faulty phase: random operations — edits, deliveries, flushes, ticks — with every
//! fault: drops, duplicates, reordering, partitions, batches, crashes (with disk loss),
//! failed flushes, revoked tokens, narrowed roles, broken connections, impostors.

use automerge::{ActorId, Automerge, ChangeHash};
use nic_model::{DocumentId, Member, SiteId, TokenId};
use nic_store::{DirOp, Directory};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::edits::{forged_edit, random_edit};
use crate::node::Runtime;
use crate::trace::describe;
use crate::world::{
    HUB, Kind, RESYNC_MS, World, actor_owner, member_name, peer_name, token_hash, token_record,
};

impl World {
    /// The faulty phase: random operations with every fault enabled.
    pub(crate) fn run_faulty(&mut self) -> Result<(), String> {
        let editors: Vec<usize> = (1..self.nodes.len())
            .filter(|i| self.kinds[*i] != Kind::Observer)
            .collect();
        let c = &self.config;
        let (restart, partition, rights) = (
            c.restart_pct,
            c.restart_pct + c.partition_pct,
            c.restart_pct + c.partition_pct + c.rights_pct,
        );
        for _ in 0..self.config.ops {
            let roll = self.rng.random_range(0..100u32);
            let node = self.rng.random_range(0..self.nodes.len());
            if roll < restart {
                self.restart(node)?;
            } else if roll < partition {
                let client = self.rng.random_range(1..self.nodes.len());
                self.partitioned[client] = !self.partitioned[client];
                if self.partitioned[client] {
                    self.report.partitions += 1;
                }
            } else if roll < rights {
                self.rights_fault()?;
            } else if roll < 40 && !editors.is_empty() {
                let who = editors[self.rng.random_range(0..editors.len())];
                self.edit(who)?;
            } else if roll < 50 {
                self.faulty_flush(node)?;
            } else if roll < 58 {
                self.now += self.rng.random_range(0..=RESYNC_MS);
                self.tick(node)?;
            } else if roll >= 92 && self.packets.iter().any(|p| p.to != HUB) {
                let client = self.rng.random_range(1..self.nodes.len());
                self.deliver_together(client)?;
            } else if !self.packets.is_empty() {
                let index = self.rng.random_range(0..self.packets.len());
                if index + 1 < self.packets.len() {
                    self.report.reordered += 1;
                }
                self.deliver(index)?;
            }
        }
        Ok(())
    }

    /// A crash of node `i`: its runtime and every write not yet flushed are gone, except a
    /// random prefix the disk had written (the last of which may be torn).
    pub(crate) fn restart(&mut self, i: usize) -> Result<(), String> {
        self.report.restarts += 1;
        if i == HUB {
            self.report.hub_restarts += 1;
            self.count_hub_stats();
        }
        // What the replica's engine had been told is durable must survive.
        let durable: Vec<(DocumentId, Vec<ChangeHash>)> = self
            .docs
            .iter()
            .filter_map(|d| Some((*d, self.nodes[i].engine().durable_heads(d)?.to_vec())))
            .collect();
        let unflushed = self.nodes[i].disk.unflushed();
        let keep = self.rng.random_range(0..=unflushed);
        let tear = self.rng.random_range(0..100) < 30;
        let loss = self.nodes[i].disk.crash(keep, tear)?;
        if self.trace {
            eprintln!("t={} CRASH {} {loss:?}", self.now, peer_name(i));
        }
        self.report.writes_lost += loss.lost as u64;
        self.report.writes_kept += loss.kept as u64;
        self.report.torn_writes += u64::from(loss.torn);
        let rt = self.fresh_runtime(i);
        self.nodes[i].rt = rt;
        for (doc, heads) in durable {
            let stored = self.nodes[i]
                .disk
                .durable_doc(&doc)
                .map_err(|e| e.to_string())?;
            let am = match stored {
                Some(s) => Automerge::load(&s.concatenated())
                    .map_err(|e| format!("{}'s stored {doc} does not load: {e}", peer_name(i)))?,
                None => Automerge::new(),
            };
            if let Some(h) = heads
                .iter()
                .find(|h| am.get_change_meta_by_hash(h).is_none())
            {
                return Err(format!(
                    "{} lost change {h} of {doc} in a crash, after its runtime reported it durable",
                    peer_name(i)
                ));
            }
        }
        if i == HUB {
            for (doc, heads) in self.acked.clone() {
                self.check_durable(doc, &heads)
                    .map_err(|e| format!("after a hub crash: {e}"))?;
                self.report.acks_rechecked += 1;
            }
            self.check_bindings()?;
            for c in 1..self.nodes.len() {
                self.connected[c] = false;
            }
            self.start_hub()?;
            for c in 1..self.nodes.len() {
                let hub = peer_name(HUB);
                self.with_node(c, |node, t| {
                    if let Some(r) = node.replica() {
                        r.with_engine(t, |engine, ctx| engine.peer_disconnected(ctx, &hub));
                    }
                })?;
                self.connect(c)?;
            }
        } else {
            let client = peer_name(i);
            self.with_node(HUB, |node, t| {
                if let Some(h) = node.hub() {
                    h.disconnect(t, &client);
                }
            })?;
            self.connect(i)?;
        }
        Ok(())
    }

    pub(crate) fn deliver(&mut self, index: usize) -> Result<(), String> {
        let packet = self.packets.swap_remove(index);
        let client = if packet.from == HUB {
            packet.to
        } else {
            packet.from
        };
        if packet.generation != self.generation[client] {
            return Ok(()); // the connection it travelled on is gone
        }
        self.report.delivered += 1;
        if self.trace {
            eprintln!(
                "t={} {} -> {}: {}",
                self.now,
                peer_name(packet.from),
                peer_name(packet.to),
                describe(&packet.frame)
            );
        }
        let from = peer_name(packet.from);
        self.with_node(packet.to, |node, t| match &mut node.rt {
            Runtime::Hub(h) => h.receive(t, &from, packet.frame),
            Runtime::Replica(r) => {
                r.with_engine(t, |engine, ctx| engine.receive(ctx, &from, packet.frame))
            }
        })
    }

    /// Delivers every frame waiting for a client at once, in order, as a client that was
    /// busy reads them (`Engine::receive_all`, which merges a document's messages).
    pub(crate) fn deliver_together(&mut self, client: usize) -> Result<(), String> {
        let generation = self.generation[client];
        let mut frames = Vec::new();
        let mut i = 0;
        while i < self.packets.len() {
            if self.packets[i].to == client {
                let packet = self.packets.remove(i);
                if packet.generation == generation {
                    frames.push(packet.frame);
                }
            } else {
                i += 1;
            }
        }
        if frames.is_empty() {
            return Ok(());
        }
        self.report.delivered += frames.len() as u64;
        self.report.batches += 1;
        let hub = peer_name(HUB);
        self.with_node(client, |node, t| {
            if let Some(r) = node.replica() {
                r.with_engine(t, |engine, ctx| engine.receive_all(ctx, &hub, frames));
            }
        })
    }

    pub(crate) fn edit(&mut self, i: usize) -> Result<(), String> {
        let Some(&doc) = self.docs.get(self.rng.random_range(0..self.docs.len())) else {
            return Ok(());
        };
        let impostor = self.kinds[i] == Kind::Impostor;
        let stolen = if impostor {
            // An impostor copies a writer's actor id it has seen in the document's history.
            match self.stolen_actor(i, &doc) {
                Some(actor) => Some(actor),
                None => return Ok(()),
            }
        } else {
            None
        };
        let seed = self.rng.random::<u64>();
        let mut made = None;
        self.with_node(i, |node, t| {
            if let Some(r) = node.replica() {
                made = r.with_engine(t, |engine, ctx| {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    let edited = engine
                        .edit(ctx, &doc, |am| match stolen {
                            Some(actor) => {
                                am.set_actor(actor);
                                forged_edit(am, seed)
                            }
                            None => random_edit(am, &mut rng),
                        })
                        .unwrap_or(false);
                    edited.then(|| engine.doc(&doc).map(Automerge::get_heads))?
                });
            }
        })?;
        if let Some(heads) = made {
            self.report.edits += 1;
            if impostor {
                self.report.impostor_edits += 1;
                self.impostor_changes.extend(heads);
            }
        }
        Ok(())
    }

    /// A writer's actor id found in client `i`'s copy of `doc`, if any.
    pub(crate) fn stolen_actor(&self, i: usize, doc: &DocumentId) -> Option<ActorId> {
        let am = self.nodes[i].engine().doc(doc)?;
        am.get_changes(&[])
            .iter()
            .map(|c| c.actor_id().clone())
            .find(|a| actor_owner(a.to_bytes()).is_some_and(|o| self.kinds[o] == Kind::Writer))
    }

    pub(crate) fn tick(&mut self, i: usize) -> Result<(), String> {
        let keep = self.config.hub_loaded_docs;
        let mut evicted = 0;
        self.with_node(i, |node, t| match &mut node.rt {
            Runtime::Hub(h) => {
                h.tick(t);
                evicted = h.evict_idle(keep);
            }
            Runtime::Replica(r) => r.with_engine(t, |engine, ctx| engine.tick(ctx)),
        })?;
        self.report.evictions += evicted as u64;
        if self.trace && evicted > 0 {
            eprintln!("t={} EVICT {evicted}", self.now);
        }
        Ok(())
    }

    /// A change of rights or of a connection: a token revoked (a new one issued for the
    /// next connection), a writer's roles narrowed to observing or widened back, a
    /// connection broken, or a disconnected client reconnecting.
    pub(crate) fn rights_fault(&mut self) -> Result<(), String> {
        let c = self.rng.random_range(1..self.nodes.len());
        match self.rng.random_range(0..4) {
            0 if self.connected[c] => self.revoke_token(c),
            1 if self.kinds[c] == Kind::Writer => self.set_narrowed(c, !self.narrowed[c]),
            2 if self.connected[c] => {
                self.report.reconnects += 1;
                self.drop_connection(c)?;
                self.connect(c)
            }
            _ if !self.connected[c] => self.connect(c),
            _ => Ok(()),
        }
    }

    pub(crate) fn revoke_token(&mut self, c: usize) -> Result<(), String> {
        self.report.revocations += 1;
        let t = self.time();
        let old = self.tokens[c].clone();
        let (old_hash, mut record) = self.nodes[HUB]
            .disk
            .token(&old)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{old} is not in the directory"))?;
        record.revoked_at_ms = Some(t.wall_ms);
        let n = self.report.revocations;
        let new = TokenId::new(format!("t{c}-{n}")).map_err(|e| e.to_string())?;
        self.nodes[HUB]
            .disk
            .write_directory(
                &[
                    DirOp::PutToken {
                        hash: old_hash,
                        record: record.clone(),
                    },
                    DirOp::PutToken {
                        hash: token_hash(c, n),
                        record: token_record(&new, c),
                    },
                ],
                None,
            )
            .map_err(|e| e.to_string())?;
        // The directory service flushes before it answers, as here.
        self.flush_directory()?;
        self.tokens[c] = new;
        self.with_node(HUB, |node, t| {
            if let Some(h) = node.hub() {
                h.token_updated(t, &old, Ok(Some(record)));
            }
        })?;
        if self.connected[c] {
            return Err(format!(
                "{}'s stream outlived the revocation of its token",
                peer_name(c)
            ));
        }
        Ok(())
    }

    pub(crate) fn set_narrowed(&mut self, c: usize, narrowed: bool) -> Result<(), String> {
        if narrowed {
            self.report.narrowings += 1;
        }
        self.narrowed[c] = narrowed;
        let kind = if narrowed {
            Kind::Observer
        } else {
            self.kinds[c]
        };
        let site = SiteId::new("site-a").map_err(|e| e.to_string())?;
        let member = Member {
            id: member_name(c),
            name: format!("member {c}"),
            grants: Self::grants_of(kind, &self.network, &site),
            created_at_ms: 0,
        };
        self.nodes[HUB]
            .disk
            .write_directory(&[DirOp::PutMember(member.clone())], None)
            .map_err(|e| e.to_string())?;
        self.flush_directory()?;
        if self.connected[c] {
            self.told[c] = member.grants.clone();
        }
        let id = member.id.clone();
        self.with_node(HUB, |node, t| {
            if let Some(h) = node.hub() {
                h.member_updated(t, &id, Ok(Some(member)));
            }
        })
    }

    /// A flush; sometimes the flush fails, and sometimes the node crashes after the group's
    /// writes reached the disk but before its flush.
    pub(crate) fn faulty_flush(&mut self, node: usize) -> Result<(), String> {
        let roll = self.rng.random_range(0..100u32);
        if roll < self.config.flush_fail_pct {
            self.nodes[node].disk.fail_next_flushes(1);
            self.flush_node(node)
        } else if roll < self.config.flush_fail_pct + self.config.crash_mid_commit_pct {
            self.report.crashes_mid_commit += 1;
            self.nodes[node].disk.fail_next_flushes(1);
            self.flush_node(node)?;
            self.restart(node)
        } else {
            self.flush_node(node)
        }
    }
}
