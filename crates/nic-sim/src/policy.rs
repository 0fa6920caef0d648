//! Rights in the simulated network.

use std::collections::HashSet;

use nic_model::{DocMeta, DocumentId, PeerId};
use nic_sync::Policy;

/// Everyone reads; only the listed writers write.
pub(crate) struct SimPolicy {
    pub(crate) writers: HashSet<PeerId>,
}

impl Policy for SimPolicy {
    fn can_read(&self, _: &PeerId, _: &DocumentId, _: Option<&DocMeta>) -> bool {
        true
    }
    fn can_write(&self, peer: &PeerId, _: &DocumentId, _: Option<&DocMeta>) -> bool {
        self.writers.contains(peer)
    }
}
