//! The simulated world: nodes, the network between them, and the run loop.

use std::collections::HashSet;
use std::fmt;

use automerge::{ActorId, AutoSerde, Automerge, ChangeHash};
use nic_model::{DocKind, DocMeta, DocumentId, NetworkId, PeerId, Visibility};
use nic_store::{ListFilter, MemStore, Store};
use nic_sync::{AllowAll, Ctx, Engine, EngineConfig, Frame, Target};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::SimConfig;
use crate::edits::{initial_doc, random_edit};
use crate::net::Packet;
use crate::node::{Node, Outputs};
use crate::policy::SimPolicy;

const HUB: usize = 0;
const RESYNC_MS: u64 = 1_000;
const HEAL_ROUNDS: usize = 200;

/// Figures from a run that converged.
#[derive(Clone, Debug, Default)]
pub struct SimReport {
    /// Frames delivered.
    pub delivered: u64,
    /// Frames lost to drops and partitions.
    pub dropped: u64,
    /// Frames delivered twice.
    pub duplicated: u64,
    /// Frames delivered out of the order they were sent in.
    pub reordered: u64,
    /// Partitions started.
    pub partitions: u64,
    /// Edits made by clients.
    pub edits: u64,
    /// Peer restarts.
    pub restarts: u64,
    /// Acks checked against the hub's store.
    pub acks_checked: u64,
    /// Rounds needed to converge after healing.
    pub heal_rounds: usize,
    /// Changes the hub relayed by the fast path (no fresh exchange per peer).
    pub fast_relays: u64,
    /// Times a client read every frame waiting for it at once.
    pub batches: u64,
    /// Relays the hub held back from a peer that had not answered the previous one.
    pub relays_held: u64,
    /// Held-back peers the hub caught up with one relay of everything since.
    pub catch_ups: u64,
}

/// A run that broke an invariant, with the seed that replays it.
#[derive(Clone, Debug)]
pub struct SimFailure {
    /// The seed to replay with [`run`].
    pub seed: u64,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for SimFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "simulation seed {} failed: {}", self.seed, self.reason)
    }
}

/// Which kind of client a node is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hub,
    Writer,
    Observer,
    Intruder,
}

struct World {
    config: SimConfig,
    rng: ChaCha8Rng,
    now: u64,
    nodes: Vec<Node>,
    kinds: Vec<Kind>,
    /// How many times each node has started (for fresh actor ids after a crash).
    incarnations: Vec<u64>,
    /// Connection generation per client; frames of older generations are discarded.
    generation: Vec<u64>,
    partitioned: Vec<bool>,
    faults_on: bool,
    packets: Vec<Packet>,
    policy: SimPolicy,
    network: NetworkId,
    docs: Vec<DocumentId>,
    report: SimReport,
    /// Print every delivered frame (set `NIC_SIM_TRACE=1` when replaying a seed).
    trace: bool,
}

/// Runs one seeded simulation to the end, checking every invariant on the way.
pub fn run(seed: u64, config: &SimConfig) -> Result<SimReport, SimFailure> {
    let fail = |reason: String| SimFailure { seed, reason };
    let mut world = World::new(seed, config.clone()).map_err(fail)?;
    world.run_faulty().map_err(fail)?;
    world.heal().map_err(fail)?;
    world.verify().map_err(fail)?;
    world.count_hub_stats();
    Ok(world.report)
}

fn peer_name(i: usize) -> PeerId {
    let name = if i == HUB {
        "hub".to_owned()
    } else {
        format!("c{i}")
    };
    PeerId::new(name).unwrap_or_else(|_| unreachable!("simulation peer names are valid"))
}

impl World {
    fn new(seed: u64, config: SimConfig) -> Result<Self, String> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let network = NetworkId::new("sim-net").map_err(|e| e.to_string())?;
        let mut kinds = vec![Kind::Hub];
        kinds.extend(std::iter::repeat_n(Kind::Writer, config.writers));
        kinds.extend(std::iter::repeat_n(Kind::Observer, config.observers));
        kinds.extend(std::iter::repeat_n(Kind::Intruder, config.intruders));
        let writers = (0..kinds.len())
            .filter(|i| kinds[*i] == Kind::Writer)
            .map(peer_name)
            .collect::<HashSet<_>>();

        // The hub's store starts with the network's documents, as Documents.Create leaves them.
        let hub_store = MemStore::new();
        let mut docs = Vec::new();
        for n in 0..config.docs {
            let id = DocumentId::random(&mut rng);
            let meta = DocMeta {
                id,
                kind: DocKind::PdsaCycle,
                network: network.clone(),
                site: None,
                visibility: Visibility::Network,
                title: format!("PDSA {n}"),
                created_at_ms: 0,
                archived: false,
            };
            let doc = initial_doc().map_err(|e| e.to_string())?;
            hub_store.put_meta(&meta).map_err(|e| e.to_string())?;
            hub_store
                .append(&id, &doc.save())
                .map_err(|e| e.to_string())?;
            docs.push(id);
        }
        let count = kinds.len();
        let mut world = Self {
            config,
            rng,
            now: 0,
            nodes: Vec::with_capacity(count),
            kinds,
            incarnations: vec![0; count],
            generation: vec![0; count],
            partitioned: vec![false; count],
            faults_on: true,
            packets: Vec::new(),
            policy: SimPolicy { writers },
            network,
            docs,
            report: SimReport::default(),
            trace: std::env::var_os("NIC_SIM_TRACE").is_some(),
        };
        for i in 0..count {
            let store = if i == HUB {
                hub_store.clone()
            } else {
                MemStore::new()
            };
            let engine = world.fresh_engine(i);
            world.nodes.push(Node::new(peer_name(i), engine, store));
        }
        world.start_hub()?;
        for i in 1..count {
            world.connect(i)?;
        }
        Ok(world)
    }

    fn fresh_engine(&mut self, i: usize) -> Engine {
        self.incarnations[i] += 1;
        let mut config = if i == HUB {
            EngineConfig::hub()
        } else {
            EngineConfig::replica()
        };
        config.resync_after_ms = RESYNC_MS;
        config.actor = Some(ActorId::from(
            format!("{}-{}", peer_name(i), self.incarnations[i]).as_bytes(),
        ));
        Engine::new(config)
    }

    /// Runs `f` on node `i` with the right context, then routes what it produced.
    fn with_node(&mut self, i: usize, f: impl FnOnce(&mut Node, Ctx<'_>)) -> Result<(), String> {
        let mut out = Outputs::default();
        {
            let ctx = if i == HUB {
                Ctx::new(self.now, &self.policy)
            } else {
                Ctx::new(self.now, &AllowAll)
            };
            let node = &mut self.nodes[i];
            f(node, ctx);
            node.process(ctx, &mut out)?;
        }
        self.route(i, out)
    }

    fn flush_node(&mut self, i: usize) -> Result<(), String> {
        let mut out = Outputs::default();
        {
            let ctx = if i == HUB {
                Ctx::new(self.now, &self.policy)
            } else {
                Ctx::new(self.now, &AllowAll)
            };
            self.nodes[i].flush(ctx, &mut out)?;
        }
        self.route(i, out)
    }

    /// Puts a node's frames on the network, applying faults.
    fn route(&mut self, from: usize, out: Outputs) -> Result<(), String> {
        for (doc, heads) in out.acks {
            self.check_ack_durable(doc, &heads)?;
        }
        for (peer, frame) in out.sends {
            let to = self
                .nodes
                .iter()
                .position(|n| n.peer == peer)
                .ok_or_else(|| format!("frame for unknown peer {peer}"))?;
            let client = if from == HUB { to } else { from };
            if self.faults_on
                && (self.partitioned[client]
                    || self.rng.random_range(0..100) < self.config.drop_pct)
            {
                self.report.dropped += 1;
                continue;
            }
            let copies = if self.faults_on && self.rng.random_range(0..100) < self.config.dup_pct {
                self.report.duplicated += 1;
                2
            } else {
                1
            };
            for _ in 0..copies {
                self.packets.push(Packet {
                    from,
                    to,
                    generation: self.generation[client],
                    frame: frame.clone(),
                });
            }
        }
        Ok(())
    }

    /// Invariant: an ack names only changes already durable in the hub's store.
    fn check_ack_durable(&mut self, doc: DocumentId, heads: &[ChangeHash]) -> Result<(), String> {
        self.report.acks_checked += 1;
        let stored = self.nodes[HUB]
            .store
            .load(&doc)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("ack for {doc}, which the hub has not stored"))?;
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

    fn start_hub(&mut self) -> Result<(), String> {
        let metas = self.nodes[HUB]
            .store
            .list(&ListFilter::default())
            .map_err(|e| e.to_string())?;
        self.with_node(HUB, |node, ctx| {
            for meta in metas {
                node.engine.catalogue(ctx, meta);
            }
        })
    }

    /// Opens a fresh connection between client `i` and the hub, and subscribes.
    fn connect(&mut self, i: usize) -> Result<(), String> {
        self.generation[i] += 1;
        let client = peer_name(i);
        let hub = peer_name(HUB);
        self.with_node(HUB, |node, ctx| node.engine.peer_connected(ctx, client))?;
        // Half the clients subscribe to the network, half to the documents by id.
        let target = if i.is_multiple_of(2) {
            Target::Network(self.network.clone())
        } else {
            Target::Docs(self.docs.clone())
        };
        self.with_node(i, |node, ctx| {
            node.engine.peer_connected(ctx, hub.clone());
            node.engine.subscribe(ctx, &hub, target);
        })
    }

    /// Adds the hub engine's fast-path counters to the report (before it restarts or ends).
    fn count_hub_stats(&mut self) {
        let stats = self.nodes[HUB].engine.stats();
        self.report.fast_relays += stats.fast_relays;
        self.report.relays_held += stats.relays_held;
        self.report.catch_ups += stats.catch_ups;
    }

    fn restart(&mut self, i: usize) -> Result<(), String> {
        self.report.restarts += 1;
        if i == HUB {
            self.count_hub_stats();
        }
        let engine = self.fresh_engine(i);
        self.nodes[i].crash(engine);
        if i == HUB {
            self.start_hub()?;
            let hub = peer_name(HUB);
            for c in 1..self.nodes.len() {
                self.with_node(c, |node, ctx| node.engine.peer_disconnected(ctx, &hub))?;
                self.connect(c)?;
            }
        } else {
            let client = peer_name(i);
            self.with_node(HUB, |node, ctx| node.engine.peer_disconnected(ctx, &client))?;
            self.connect(i)?;
        }
        Ok(())
    }

    fn deliver(&mut self, index: usize) -> Result<(), String> {
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
        self.with_node(packet.to, |node, ctx| {
            node.engine.receive(ctx, &from, packet.frame)
        })
    }

    fn edit(&mut self, i: usize) -> Result<(), String> {
        let Some(&doc) = self.docs.get(self.rng.random_range(0..self.docs.len())) else {
            return Ok(());
        };
        let seed = self.rng.random::<u64>();
        let mut edited = false;
        self.with_node(i, |node, ctx| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            edited = node
                .engine
                .edit(ctx, &doc, |am| random_edit(am, &mut rng))
                .unwrap_or(false);
        })?;
        if edited {
            self.report.edits += 1;
        }
        Ok(())
    }

    fn tick(&mut self, i: usize) -> Result<(), String> {
        self.with_node(i, |node, ctx| node.engine.tick(ctx))
    }

    /// The faulty phase: random operations with every fault enabled.
    fn run_faulty(&mut self) -> Result<(), String> {
        let editors: Vec<usize> = (1..self.nodes.len())
            .filter(|i| matches!(self.kinds[*i], Kind::Writer | Kind::Intruder))
            .collect();
        for _ in 0..self.config.ops {
            let roll = self.rng.random_range(0..100u32);
            let node = self.rng.random_range(0..self.nodes.len());
            if roll < self.config.restart_pct {
                self.restart(node)?;
            } else if roll < self.config.restart_pct + self.config.partition_pct {
                let client = self.rng.random_range(1..self.nodes.len());
                self.partitioned[client] = !self.partitioned[client];
                if self.partitioned[client] {
                    self.report.partitions += 1;
                }
            } else if roll < 40 && !editors.is_empty() {
                let who = editors[self.rng.random_range(0..editors.len())];
                self.edit(who)?;
            } else if roll < 50 {
                self.flush_node(node)?;
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

    /// Delivers every frame waiting for a client at once, in order, as a client that was
    /// busy reads them (`Engine::receive_all`, which merges a document's messages).
    fn deliver_together(&mut self, client: usize) -> Result<(), String> {
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
        self.with_node(client, |node, ctx| {
            node.engine.receive_all(ctx, &hub, frames)
        })
    }

    /// Heals every fault and runs until nothing is left to do.
    fn heal(&mut self) -> Result<(), String> {
        self.faults_on = false;
        self.partitioned.iter_mut().for_each(|p| *p = false);
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
                    .all(|n| !n.has_pending_writes() && n.engine.is_settled());
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
            for (doc, peer) in node.engine.unsettled_links() {
                stuck.push(format!(
                    "{} with {peer} on {}: {:?}",
                    node.peer,
                    short(doc),
                    node.engine.link_status(doc, peer)
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
    fn verify(&self) -> Result<(), String> {
        let hub = &self.nodes[HUB];
        let intruder_actors: Vec<Vec<u8>> = (0..self.nodes.len())
            .filter(|i| self.kinds[*i] == Kind::Intruder)
            .flat_map(|i| {
                (1..=self.incarnations[i])
                    .map(move |n| format!("{}-{n}", peer_name(i)).into_bytes())
            })
            .collect();
        for doc in &self.docs {
            let hub_doc = hub
                .engine
                .doc(doc)
                .ok_or_else(|| format!("hub has not loaded {doc}"))?;
            let heads = hub_doc.get_heads();
            let content =
                serde_json::to_value(AutoSerde::from(hub_doc)).map_err(|e| e.to_string())?;

            // Durable: the hub's store holds exactly what the hub holds.
            let stored = hub
                .store
                .load(doc)
                .map_err(|e| e.to_string())?
                .ok_or("hub lost a document")?;
            let stored = Automerge::load(&stored.concatenated())
                .map_err(|e| format!("the hub's stored {doc} does not load: {e}"))?;
            if stored.get_heads() != heads {
                return Err(format!(
                    "hub store heads for {doc} differ from the hub's memory"
                ));
            }
            // Refused: no change by a peer without write rights was applied or stored.
            for change in hub_doc.get_changes(&[]) {
                if intruder_actors
                    .iter()
                    .any(|a| a.as_slice() == change.actor_id().to_bytes())
                {
                    return Err(format!(
                        "hub holds a change to {doc} by a peer without write rights"
                    ));
                }
            }
            for (i, node) in self.nodes.iter().enumerate().skip(1) {
                let am = node
                    .engine
                    .doc(doc)
                    .ok_or_else(|| format!("{} has not loaded {doc}", node.peer))?;
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
                // Their replica's store must hold it too once flushed.
                let stored = node.store.load(doc).map_err(|e| e.to_string())?;
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

/// A one-line summary of a frame for traces.
fn describe(frame: &Frame) -> String {
    match frame {
        Frame::Sync { doc, message } => match automerge::sync::Message::decode(message) {
            Ok(m) => format!(
                "sync {} heads={} need={} have={} changes={} flags={:?}",
                short(doc),
                m.heads.len(),
                m.need.len(),
                m.have.len(),
                m.changes.len(),
                m.flags
            ),
            Err(e) => format!("sync {} undecodable: {e}", short(doc)),
        },
        Frame::Ack { doc, heads } => format!("ack {} heads={}", short(doc), heads.len()),
        Frame::Announce(meta) => format!("announce {}", short(&meta.id)),
        Frame::Subscribe { target, known } => {
            format!("subscribe {target:?} knowing {}", known.len())
        }
        Frame::Unsubscribe(t) => format!("unsubscribe {t:?}"),
        Frame::Subscribed { docs, .. } => format!("subscribed to {} docs", docs.len()),
        Frame::Error { doc, code, message } => {
            format!("error {:?} {code:?} {message}", doc.as_ref().map(short))
        }
    }
}

fn short(doc: &DocumentId) -> String {
    doc.to_string().chars().take(6).collect()
}
