//! A deterministic simulation of a hub and its clients, in the spirit of samod's test
//! harness and TigerBeetle's VOPR. It runs the shipping code: `nic-runtime`'s hub runtime
//! (with the hub's real policy — directory roles, actor binding, hindsight records) and its
//! replica runtime (with the replica's ack records), committing their write groups with the
//! shipping `storage::commit`, over a simulated clock, network and disk.
//!
//! Faults: frames dropped, duplicated, reordered, partitioned, read in batches; peers crash
//! at any point — with writes issued but not flushed, or after a group's writes reached the
//! disk but before its flush — and the disk keeps a random prefix of the unflushed writes,
//! tearing the last one sometimes; flushes fail; tokens are revoked and roles narrowed
//! mid-stream; connections break and reopen naming the documents held in step
//! (`subscribe_known`); the hub evicts idle documents and reloads them; an intruder edits
//! without write rights; an impostor edits under another member's actor id.
//!
//! Invariants, checked where they must hold: every ack names changes durable on the hub's
//! disk, and after every hub crash every ack ever given still holds; a runtime never reports
//! a change durable that a crash then loses; no frame carrying a document reaches a peer
//! that may not read it (as the hub was last told) or whose stream was ended; every stored
//! change's actor is durably bound to the member who sent it, and no intruder's or
//! impostor's change is stored; after healing, every peer that may read a document holds
//! identical heads and content, in memory and on disk.
//!
//! Everything is driven by one seed: a failing seed replays alone with [`run`].

mod checks;
mod disk;
mod edits;
mod faults;
mod net;
mod node;
mod trace;
mod world;

pub use world::{SimFailure, SimReport, run};

/// The shape and the fault rates of one simulated run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Clients with write rights.
    pub writers: usize,
    /// Clients with read rights only, which never edit.
    pub observers: usize,
    /// Clients with read rights only, which edit anyway (their changes must be refused).
    pub intruders: usize,
    /// Clients with write rights that edit under a writer's actor id they have seen (their
    /// changes must be refused).
    pub impostors: usize,
    /// Documents in the network.
    pub docs: usize,
    /// Random operations before the faults heal.
    pub ops: usize,
    /// Percent of frames lost.
    pub drop_pct: u32,
    /// Percent of frames delivered twice.
    pub dup_pct: u32,
    /// Percent of steps that start or heal a partition.
    pub partition_pct: u32,
    /// Percent of steps that crash and restart a peer.
    pub restart_pct: u32,
    /// Percent of steps that change rights or connections (revoke a token, narrow or widen
    /// a writer's roles, break a connection, reconnect).
    pub rights_pct: u32,
    /// Percent of flushes that fail.
    pub flush_fail_pct: u32,
    /// Percent of flushes during which the node crashes (writes on disk, not flushed).
    pub crash_mid_commit_pct: u32,
    /// Documents the hub keeps loaded; idle ones beyond are evicted on its ticks.
    pub hub_loaded_docs: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            writers: 4,
            observers: 1,
            intruders: 1,
            impostors: 1,
            docs: 3,
            ops: 300,
            drop_pct: 12,
            dup_pct: 5,
            partition_pct: 2,
            restart_pct: 1,
            rights_pct: 2,
            flush_fail_pct: 5,
            crash_mid_commit_pct: 3,
            hub_loaded_docs: 2,
        }
    }
}
