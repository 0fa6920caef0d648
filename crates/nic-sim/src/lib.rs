//! A deterministic simulation of a hub and its clients running `nic-sync`, in the spirit of
//! samod's test harness and TigerBeetle's VOPR.
//!
//! One hub engine and N replica engines exchange frames over an in-memory network that drops,
//! duplicates, reorders and partitions them; peers crash and restart from their stores
//! (losing writes they had not flushed); clients make random concurrent edits (map keys, list
//! pushes, text splices). After the faults heal, every peer must hold identical heads and
//! identical content, every ack must have named changes that were durable on the hub, and a
//! peer without write rights must have had none of its changes stored.
//!
//! Everything is driven by one seed: a failing seed replays alone with [`run`].

mod edits;
mod net;
mod node;
mod policy;
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
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            writers: 4,
            observers: 1,
            intruders: 1,
            docs: 3,
            ops: 300,
            drop_pct: 12,
            dup_pct: 5,
            partition_pct: 2,
            restart_pct: 1,
        }
    }
}
