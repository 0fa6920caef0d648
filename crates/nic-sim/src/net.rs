//! The faulty in-memory network.

use nic_sync::Frame;

/// A frame on its way.
pub(crate) struct Packet {
    /// Sending node index (0 is the hub).
    pub(crate) from: usize,
    /// Receiving node index.
    pub(crate) to: usize,
    /// The connection generation it was sent on: frames of a broken connection die with it.
    pub(crate) generation: u64,
    pub(crate) frame: Frame,
}
