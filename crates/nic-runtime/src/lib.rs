//! The runtime under a `nic-sync` engine, shared by the hub, the replica and the
//! simulation, so that the code the simulation proves is the code that ships.
//!
//! A runtime owns an [`nic_sync::Engine`] and carries out its effects in one loop per role
//! ([`HubRuntime`], [`ReplicaRuntime`]). It never blocks and never touches the network: what
//! needs the outside world comes out as values the environment carries out —
//!
//! - [`Output::Send`] frames to deliver, [`Output::End`] streams to end, notifications;
//! - [`Output::Read`] storage reads, answered with [`storage::read`] where blocking is
//!   allowed and handed back to `read_done`;
//! - a [`storage::Group`] of writes, taken with `take_group` and made durable by
//!   [`storage::commit`] with **one flush**, then handed back to `committed`.
//!
//! The flush point is explicit: issue → flush → persisted/ack. A chunk is reported persisted
//! only by `committed`, after its flush; on a hub the actor bindings of a peer's changes and
//! the audit entries of hindsight edits to predictions travel in the same group as the
//! changes they belong to, so a refused message binds nothing, and a stored change's actor is
//! always bound to the member who sent it.
//!
//! The environments: the hub's tokio driver (a writer thread commits groups, the blocking
//! pool reads, one reader thread reads the directory in event order), the client library's
//! task (reads and commits on the blocking pool), and `nic-sim` (simulated clock, network and
//! a disk that loses unflushed writes).

mod hindsight;
mod hub;
mod replica;
pub mod rights;
pub mod storage;

pub use hindsight::{ACTION as HINDSIGHT_ACTION, Hindsight};
pub use hub::HubRuntime;
pub use replica::{ReplicaRuntime, ack_record_peer, decode_ack, encode_ack};
pub use rights::{Current, PeerAuth, Refusal, Rights};
pub use storage::{Committed, Group, Read, ReadDone, Write, actor_key};

use nic_model::PeerId;
use nic_sync::{Effect, Frame, Notification};

/// The time, as the environment's clock gives it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Time {
    /// Monotonic milliseconds, for the engine's timers.
    pub engine_ms: u64,
    /// Wall-clock milliseconds since the Unix epoch: token expiry, audit and ack records.
    pub wall_ms: i64,
}

/// Something the environment must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Deliver a frame to a connected peer.
    Send {
        /// The recipient.
        peer: PeerId,
        /// The frame.
        frame: Frame,
    },
    /// Carry out a storage read and hand the answer back.
    Read(Read),
    /// End a peer's stream: its rights are gone. The runtime has already forgotten it.
    End {
        /// The peer.
        peer: PeerId,
        /// Why, to tell the client.
        refusal: Refusal,
    },
    /// News from the engine (for logs, metrics, or the application).
    Notify(Notification),
}

/// The effect loop, written once for both roles: take the engine's effects and carry each
/// out, until carrying them out produces no more.
pub(crate) trait CarryOut {
    /// The engine's effects so far.
    fn take_effects(&mut self) -> Vec<Effect>;

    /// Carries out one effect (this role's way).
    fn carry_out(&mut self, t: Time, effect: Effect);

    /// Carries out every effect the engine has produced.
    fn drain(&mut self, t: Time) {
        loop {
            let effects = self.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                self.carry_out(t, effect);
            }
        }
    }
}
