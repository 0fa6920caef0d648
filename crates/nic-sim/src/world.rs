//! The simulated world: nodes running the shipping runtimes, the network between them, the
//! hub's directory, and the run loop with its faults and invariants.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use automerge::{ActorId, ChangeHash};
use nic_model::{DocKind, DocMeta, DocumentId, Grant, Grants, Member, MemberId, NetworkId};
use nic_model::{PeerId, SiteId, TokenId, TokenRecord, Visibility};
use nic_runtime::rights::read_current;
use nic_runtime::{HubRuntime, ReplicaRuntime, Time};
use nic_store::{DirOp, Directory, Durability, ListFilter, Store};
use nic_sync::{EngineConfig, Known, Target};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::SimConfig;
use crate::disk::SimDisk;
use crate::edits::initial_doc;
use crate::net::Packet;
use crate::node::{Node, Outputs, Runtime};

pub(crate) const HUB: usize = 0;
pub(crate) const RESYNC_MS: u64 = 1_000;
pub(crate) const HEAL_ROUNDS: usize = 200;
/// The wall clock at the simulation's start (token and audit times).
const WALL0: i64 = 1_764_000_000_000;

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
    /// Peer restarts (crashes).
    pub restarts: u64,
    /// Crashes of the hub.
    pub hub_restarts: u64,
    /// Crashes between a group's writes and its flush.
    pub crashes_mid_commit: u64,
    /// Unflushed writes lost to crashes.
    pub writes_lost: u64,
    /// Unflushed writes a crash kept (the disk had written them).
    pub writes_kept: u64,
    /// Last writes torn by a crash.
    pub torn_writes: u64,
    /// Flushes that failed.
    pub flush_failures: u64,
    /// Acks checked against the hub's durable store.
    pub acks_checked: u64,
    /// Acks checked again after a hub crash.
    pub acks_rechecked: u64,
    /// Frames from the hub checked against the recipient's rights.
    pub frames_checked: u64,
    /// Stored changes whose actor binding was checked.
    pub bindings_checked: u64,
    /// Tokens revoked mid-stream.
    pub revocations: u64,
    /// Members' roles narrowed mid-stream.
    pub narrowings: u64,
    /// Connections broken and reopened (with the documents the client knew).
    pub reconnects: u64,
    /// Subscriptions that named documents the client already held in step.
    pub known_subscriptions: u64,
    /// Documents the hub evicted.
    pub evictions: u64,
    /// Edits made under another member's actor id.
    pub impostor_edits: u64,
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

impl SimReport {
    /// Adds another run's figures to these (for totals over many seeds).
    pub fn add(&mut self, r: &SimReport) {
        let counts = [
            (&mut self.delivered, r.delivered),
            (&mut self.dropped, r.dropped),
            (&mut self.duplicated, r.duplicated),
            (&mut self.reordered, r.reordered),
            (&mut self.partitions, r.partitions),
            (&mut self.edits, r.edits),
            (&mut self.restarts, r.restarts),
            (&mut self.hub_restarts, r.hub_restarts),
            (&mut self.crashes_mid_commit, r.crashes_mid_commit),
            (&mut self.writes_lost, r.writes_lost),
            (&mut self.writes_kept, r.writes_kept),
            (&mut self.torn_writes, r.torn_writes),
            (&mut self.flush_failures, r.flush_failures),
            (&mut self.acks_checked, r.acks_checked),
            (&mut self.acks_rechecked, r.acks_rechecked),
            (&mut self.frames_checked, r.frames_checked),
            (&mut self.bindings_checked, r.bindings_checked),
            (&mut self.revocations, r.revocations),
            (&mut self.narrowings, r.narrowings),
            (&mut self.reconnects, r.reconnects),
            (&mut self.known_subscriptions, r.known_subscriptions),
            (&mut self.evictions, r.evictions),
            (&mut self.impostor_edits, r.impostor_edits),
            (&mut self.fast_relays, r.fast_relays),
            (&mut self.batches, r.batches),
            (&mut self.relays_held, r.relays_held),
            (&mut self.catch_ups, r.catch_ups),
        ];
        for (total, n) in counts {
            *total += n;
        }
        self.heal_rounds = self.heal_rounds.max(r.heal_rounds);
    }
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
pub(crate) enum Kind {
    Hub,
    Writer,
    Observer,
    /// Read rights only, edits anyway: every change must be refused.
    Intruder,
    /// Write rights, but edits under a writer's actor id it has seen: every such change
    /// must be refused, and nothing bound to it.
    Impostor,
}

pub(crate) struct World {
    pub(crate) config: SimConfig,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) now: u64,
    pub(crate) nodes: Vec<Node>,
    pub(crate) kinds: Vec<Kind>,
    /// How many times each node has started (for fresh actor ids after a crash).
    pub(crate) incarnations: Vec<u64>,
    /// Connection generation per client; frames of older generations are discarded.
    pub(crate) generation: Vec<u64>,
    /// Whether the client's stream is open.
    pub(crate) connected: Vec<bool>,
    pub(crate) partitioned: Vec<bool>,
    pub(crate) faults_on: bool,
    pub(crate) packets: Vec<Packet>,
    pub(crate) network: NetworkId,
    pub(crate) docs: Vec<DocumentId>,
    pub(crate) metas: HashMap<DocumentId, DocMeta>,
    /// Each client's current token.
    pub(crate) tokens: Vec<TokenId>,
    /// Writers whose roles are narrowed to observing now.
    pub(crate) narrowed: Vec<bool>,
    /// The roles the hub's runtime was last told each client holds.
    pub(crate) told: Vec<Grants>,
    /// Every ack the hub gave: it must survive every crash.
    pub(crate) acked: Vec<(DocumentId, Vec<ChangeHash>)>,
    /// Changes made by impostors, which the hub must never store.
    pub(crate) impostor_changes: HashSet<ChangeHash>,
    /// Changes of the documents as created (not authored by a client).
    pub(crate) initial_changes: HashSet<ChangeHash>,
    pub(crate) report: SimReport,
    /// Print every delivered frame (set `NIC_SIM_TRACE=1` when replaying a seed).
    pub(crate) trace: bool,
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

pub(crate) fn peer_name(i: usize) -> PeerId {
    let name = if i == HUB {
        "hub".to_owned()
    } else {
        format!("c{i}")
    };
    PeerId::new(name).unwrap_or_else(|_| unreachable!("simulation peer names are valid"))
}

pub(crate) fn member_name(i: usize) -> MemberId {
    MemberId::new(format!("m{i}")).unwrap_or_else(|_| unreachable!("valid member ids"))
}

/// The client whose actor ids look like `c{i}-{incarnation}`.
pub(crate) fn actor_owner(actor: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(actor).ok()?;
    s.strip_prefix('c')?.split('-').next()?.parse().ok()
}

impl World {
    pub(crate) fn new(seed: u64, config: SimConfig) -> Result<Self, String> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let network = NetworkId::new("sim-net").map_err(|e| e.to_string())?;
        let site = SiteId::new("site-a").map_err(|e| e.to_string())?;
        let mut kinds = vec![Kind::Hub];
        kinds.extend(std::iter::repeat_n(Kind::Writer, config.writers));
        kinds.extend(std::iter::repeat_n(Kind::Observer, config.observers));
        kinds.extend(std::iter::repeat_n(Kind::Intruder, config.intruders));
        kinds.extend(std::iter::repeat_n(Kind::Impostor, config.impostors));
        let count = kinds.len();

        // The hub's disk starts with the network's documents, as Documents.Create leaves
        // them, and the directory: one member and one token per client.
        let hub_disk = Arc::new(SimDisk::new());
        let mut docs = Vec::new();
        let mut metas = HashMap::new();
        let mut initial_changes = HashSet::new();
        for n in 0..config.docs {
            let id = DocumentId::random(&mut rng);
            // The last document is for its site's team only.
            let private = config.docs > 1 && n + 1 == config.docs;
            let meta = DocMeta {
                id,
                kind: DocKind::PdsaCycle,
                network: network.clone(),
                site: Some(site.clone()),
                visibility: if private {
                    Visibility::Site
                } else {
                    Visibility::Network
                },
                title: format!("PDSA {n}"),
                created_at_ms: 0,
                archived: false,
            };
            let doc = initial_doc().map_err(|e| e.to_string())?;
            initial_changes.extend(doc.get_changes(&[]).iter().map(|c| c.hash()));
            hub_disk.put_meta(&meta).map_err(|e| e.to_string())?;
            hub_disk
                .append(&id, &doc.save())
                .map_err(|e| e.to_string())?;
            metas.insert(id, meta);
            docs.push(id);
        }
        let mut told = vec![Grants(Vec::new()); count];
        let mut tokens = Vec::with_capacity(count);
        for i in 0..count {
            let grants = Self::grants_of(kinds[i], &network, &site);
            told[i] = grants.clone();
            let member = Member {
                id: member_name(i),
                name: format!("member {i}"),
                grants,
                created_at_ms: 0,
            };
            let token = TokenId::new(format!("t{i}-0")).map_err(|e| e.to_string())?;
            hub_disk
                .write_directory(
                    &[
                        DirOp::PutMember(member),
                        DirOp::PutToken {
                            hash: token_hash(i, 0),
                            record: token_record(&token, i),
                        },
                    ],
                    None,
                )
                .map_err(|e| e.to_string())?;
            tokens.push(token);
        }
        hub_disk
            .flush(Durability::Process)
            .map_err(|e| e.to_string())?;

        let mut world = Self {
            config,
            rng,
            now: 0,
            nodes: Vec::with_capacity(count),
            kinds,
            incarnations: vec![0; count],
            generation: vec![0; count],
            connected: vec![false; count],
            partitioned: vec![false; count],
            faults_on: true,
            packets: Vec::new(),
            network,
            docs,
            metas,
            tokens,
            narrowed: vec![false; count],
            told,
            acked: Vec::new(),
            impostor_changes: HashSet::new(),
            initial_changes,
            report: SimReport::default(),
            trace: std::env::var_os("NIC_SIM_TRACE").is_some(),
        };
        for i in 0..count {
            let disk = if i == HUB {
                hub_disk.clone()
            } else {
                Arc::new(SimDisk::new())
            };
            let rt = world.fresh_runtime(i);
            world.nodes.push(Node {
                peer: peer_name(i),
                rt,
                disk,
            });
        }
        world.start_hub()?;
        for i in 1..count {
            world.connect(i)?;
        }
        Ok(world)
    }

    pub(crate) fn grants_of(kind: Kind, network: &NetworkId, site: &SiteId) -> Grants {
        let grant = match kind {
            Kind::Hub => return Grants(Vec::new()),
            Kind::Writer | Kind::Impostor => Grant::SiteMember {
                network: network.clone(),
                site: site.clone(),
            },
            Kind::Observer | Kind::Intruder => Grant::Observer {
                network: network.clone(),
            },
        };
        Grants(vec![grant])
    }

    pub(crate) fn time(&self) -> Time {
        Time {
            engine_ms: self.now,
            wall_ms: WALL0 + i64::try_from(self.now).unwrap_or(i64::MAX),
        }
    }

    pub(crate) fn fresh_runtime(&mut self, i: usize) -> Runtime {
        self.incarnations[i] += 1;
        let mut config = if i == HUB {
            EngineConfig::hub()
        } else {
            EngineConfig::replica()
        };
        config.resync_after_ms = RESYNC_MS;
        let actor = format!("{}-{}", peer_name(i), self.incarnations[i]);
        config.actor = Some(ActorId::from(actor.as_bytes()));
        if i == HUB {
            Runtime::Hub(HubRuntime::new(config))
        } else {
            Runtime::Replica(ReplicaRuntime::new(config, peer_name(HUB)))
        }
    }

    /// Runs `f` on node `i`, then carries out and routes what it produced.
    pub(crate) fn with_node(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Node, Time),
    ) -> Result<(), String> {
        let t = self.time();
        let mut out = Outputs::default();
        let node = &mut self.nodes[i];
        f(node, t);
        node.process(t, &mut out);
        self.route(i, out)
    }

    pub(crate) fn flush_node(&mut self, i: usize) -> Result<(), String> {
        let t = self.time();
        let mut out = Outputs::default();
        let committed = self.nodes[i].flush(t, &mut out)?;
        if committed.flush_error.is_some() {
            self.report.flush_failures += 1;
        }
        self.route(i, out)
    }

    /// Puts a node's frames on the network, applying faults; ends the streams the hub
    /// ended. Checks every frame from the hub against the recipient's rights.
    pub(crate) fn route(&mut self, from: usize, out: Outputs) -> Result<(), String> {
        for (peer, _) in out.ends {
            let c = self.index_of(&peer)?;
            self.drop_connection(c)?;
        }
        for (peer, frame) in out.sends {
            let to = self.index_of(&peer)?;
            let client = if from == HUB { to } else { from };
            if from == HUB {
                self.check_frame(to, &frame)?;
            }
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

    pub(crate) fn index_of(&self, peer: &PeerId) -> Result<usize, String> {
        self.nodes
            .iter()
            .position(|n| n.peer == *peer)
            .ok_or_else(|| format!("frame for unknown peer {peer}"))
    }

    pub(crate) fn start_hub(&mut self) -> Result<(), String> {
        let metas = self.nodes[HUB]
            .disk
            .list(&ListFilter::default())
            .map_err(|e| e.to_string())?;
        self.with_node(HUB, |node, t| {
            if let Some(hub) = node.hub() {
                for meta in metas {
                    hub.catalogue(t, meta);
                }
            }
        })
    }

    /// Opens a fresh connection between client `i` and the hub, if its rights allow, and
    /// subscribes, naming the documents it holds in step with the hub.
    pub(crate) fn connect(&mut self, i: usize) -> Result<(), String> {
        let t = self.time();
        let client = peer_name(i);
        let hub = peer_name(HUB);
        let current = read_current(
            &*self.nodes[HUB].disk,
            &member_name(i),
            &self.tokens[i],
            t.wall_ms,
        );
        let Ok(current) = current else {
            self.connected[i] = false;
            return Ok(());
        };
        self.generation[i] += 1;
        self.connected[i] = true;
        self.told[i] = current.member.grants.clone();
        let token = self.tokens[i].clone();
        self.with_node(HUB, |node, t| {
            if let Some(h) = node.hub() {
                // A stream already open under this peer id is replaced.
                h.disconnect(t, &client);
                h.connect(t, client, token, current);
            }
        })?;
        // One client subscribes to the network; the others to documents by id — all of
        // them once healing, a random few before, so that documents go without any linked
        // peer at times and the hub evicts them (and loads them again when asked).
        let target = if i == 2 {
            Target::Network(self.network.clone())
        } else if !self.faults_on {
            Target::Docs(self.docs.clone())
        } else {
            let mut some: Vec<DocumentId> = self
                .docs
                .iter()
                .copied()
                .filter(|_| self.rng.random_range(0..100) < 50)
                .collect();
            if some.is_empty() {
                some.push(self.docs[self.rng.random_range(0..self.docs.len())]);
            }
            Target::Docs(some)
        };
        let known = self.known_for(i);
        if !known.is_empty() {
            self.report.known_subscriptions += 1;
        }
        self.with_node(i, |node, t| {
            if let Some(r) = node.replica() {
                r.with_engine(t, |engine, ctx| {
                    engine.peer_disconnected(ctx, &hub);
                    engine.peer_connected(ctx, hub.clone());
                    engine.subscribe_known(ctx, &hub, target, known);
                });
            }
        })
    }

    /// The documents client `i` holds unchanged since it last agreed with the hub, at the
    /// heads of that agreement (from its saved sync state), as the client library does.
    pub(crate) fn known_for(&self, i: usize) -> Vec<Known> {
        let node = &self.nodes[i];
        let hub = peer_name(HUB);
        self.docs
            .iter()
            .filter_map(|doc| {
                let am = node.engine().doc(doc)?;
                let meta = node.engine().meta(doc)?;
                let state = node.disk.sync_state(&hub, doc).ok().flatten()?;
                let heads = automerge::sync::State::decode(&state).ok()?.shared_heads;
                (!heads.is_empty() && am.get_heads() == heads).then(|| Known {
                    doc: *doc,
                    heads,
                    meta_digest: meta.fingerprint(),
                })
            })
            .collect()
    }

    /// Client `c`'s stream is gone (the hub ended it, or the network broke it): both sides
    /// forget it; frames in flight on it die.
    pub(crate) fn drop_connection(&mut self, c: usize) -> Result<(), String> {
        self.generation[c] += 1;
        self.connected[c] = false;
        let client = peer_name(c);
        self.with_node(HUB, |node, t| {
            if let Some(h) = node.hub() {
                h.disconnect(t, &client);
            }
        })?;
        let hub = peer_name(HUB);
        self.with_node(c, |node, t| {
            if let Some(r) = node.replica() {
                r.with_engine(t, |engine, ctx| engine.peer_disconnected(ctx, &hub));
            }
        })
    }

    /// Adds the hub engine's fast-path counters to the report (before it restarts or ends).
    pub(crate) fn count_hub_stats(&mut self) {
        let stats = self.nodes[HUB].engine().stats();
        self.report.fast_relays += stats.fast_relays;
        self.report.relays_held += stats.relays_held;
        self.report.catch_ups += stats.catch_ups;
    }

    /// Makes a directory change durable, as the hub's directory service does before it
    /// answers (a flush injected to fail is retried: the service would report the error).
    pub(crate) fn flush_directory(&mut self) -> Result<(), String> {
        let disk = &self.nodes[HUB].disk;
        if disk.flush(Durability::Process).is_err() {
            disk.flush(Durability::Process).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// A distinct (made-up) secret hash per client and token number.
pub(crate) fn token_hash(client: usize, n: u64) -> [u8; 32] {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&(client as u64).to_be_bytes());
    hash[8..16].copy_from_slice(&n.to_be_bytes());
    hash
}

pub(crate) fn token_record(id: &TokenId, client: usize) -> TokenRecord {
    TokenRecord {
        id: id.clone(),
        member: member_name(client),
        label: format!("sim client {client}"),
        created_at_ms: 0,
        expires_at_ms: None,
        revoked_at_ms: None,
    }
}
