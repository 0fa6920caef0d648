//! One simulated peer: the shipping runtime (`nic-runtime`'s hub or replica) over a
//! simulated disk. Reads are answered at once; writes wait in the runtime's group until the
//! world decides to flush them.

use std::sync::Arc;

use nic_model::PeerId;
use nic_runtime::storage::{self, Committed};
use nic_runtime::{HubRuntime, Output, Refusal, ReplicaRuntime, Time, ack_record_peer};
use nic_store::{Durability, Store};
use nic_sync::{Engine, Frame};

use crate::disk::SimDisk;

/// The runtime a node runs.
pub(crate) enum Runtime {
    Hub(HubRuntime),
    Replica(ReplicaRuntime),
}

/// What processing a node's outputs produced for the world to act on.
#[derive(Default)]
pub(crate) struct Outputs {
    pub(crate) sends: Vec<(PeerId, Frame)>,
    pub(crate) ends: Vec<(PeerId, Refusal)>,
}

pub(crate) struct Node {
    pub(crate) peer: PeerId,
    pub(crate) rt: Runtime,
    pub(crate) disk: Arc<SimDisk>,
}

impl Node {
    pub(crate) fn engine(&self) -> &Engine {
        match &self.rt {
            Runtime::Hub(h) => h.engine(),
            Runtime::Replica(r) => r.engine(),
        }
    }

    pub(crate) fn hub(&mut self) -> Option<&mut HubRuntime> {
        match &mut self.rt {
            Runtime::Hub(h) => Some(h),
            Runtime::Replica(_) => None,
        }
    }

    pub(crate) fn replica(&mut self) -> Option<&mut ReplicaRuntime> {
        match &mut self.rt {
            Runtime::Replica(r) => Some(r),
            Runtime::Hub(_) => None,
        }
    }

    pub(crate) fn has_pending_writes(&self) -> bool {
        let group = match &self.rt {
            Runtime::Hub(h) => h.has_writes(),
            Runtime::Replica(r) => r.has_writes(),
        };
        group || self.disk.has_unflushed()
    }

    /// Carries out the runtime's outputs until it has none left: reads at once from the
    /// disk, frames and ended streams handed to the world.
    pub(crate) fn process(&mut self, t: Time, out: &mut Outputs) {
        loop {
            let outputs = match &mut self.rt {
                Runtime::Hub(h) => h.take_outputs(),
                Runtime::Replica(r) => r.take_outputs(),
            };
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                match output {
                    Output::Send { peer, frame } => out.sends.push((peer, frame)),
                    Output::End { peer, refusal } => out.ends.push((peer, refusal)),
                    Output::Read(read) => match &mut self.rt {
                        Runtime::Hub(h) => h.read_done(t, storage::read(&*self.disk, read, None)),
                        Runtime::Replica(r) => {
                            let ack = ack_record_peer();
                            r.read_done(t, storage::read(&*self.disk, read, Some(&ack)))
                        }
                    },
                    Output::Notify(_) => {}
                }
            }
        }
    }

    /// Commits the runtime's write group with one flush (the shipping `storage::commit`),
    /// compacts what is due, and reports the outcome to the runtime.
    pub(crate) fn flush(&mut self, t: Time, out: &mut Outputs) -> Result<Committed, String> {
        let group = match &mut self.rt {
            Runtime::Hub(h) => h.take_group(),
            Runtime::Replica(r) => r.take_group(),
        }
        .unwrap_or_default();
        let disk = &*self.disk;
        let committed = match &self.rt {
            Runtime::Hub(_) => storage::commit(disk, Some(disk), group, Durability::Process),
            Runtime::Replica(_) => storage::commit(disk, None, group, Durability::Process),
        };
        for doc in &committed.compact {
            disk.compact(doc)
                .map_err(|e| format!("{}: compact: {e}", self.peer))?;
        }
        match &mut self.rt {
            Runtime::Hub(h) => h.committed(t, committed.clone()),
            Runtime::Replica(r) => r.committed(t, committed.clone()),
        }
        self.process(t, out);
        Ok(committed)
    }
}
