//! Sample values for tests, shared by every crate's tests instead of a copy in each. Not for
//! production code: these panic on a name that is not a valid id.

use crate::{DocKind, DocMeta, DocumentId, NetworkId, PeerId, SiteId, Visibility};

/// The peer called `name`.
pub fn peer(name: &str) -> PeerId {
    PeerId::new(name).expect("a valid peer name")
}

/// The network called `name`.
pub fn network(name: &str) -> NetworkId {
    NetworkId::new(name).expect("a valid network name")
}

/// The site called `name`.
pub fn site(name: &str) -> SiteId {
    SiteId::new(name).expect("a valid site name")
}

/// The document id whose bytes are all `n`.
pub fn doc_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

/// A network-visible PDSA cycle `doc_id(n)` of `network`, of no site, titled "doc {n}",
/// made at time 0. Change what a test needs with struct update:
/// `DocMeta { site: Some(site("lincoln")), ..meta(1, "algebra") }`.
pub fn meta(n: u8, network: &str) -> DocMeta {
    DocMeta {
        id: doc_id(n),
        kind: DocKind::PdsaCycle,
        network: self::network(network),
        site: None,
        visibility: Visibility::Network,
        title: format!("doc {n}"),
        created_at_ms: 0,
        archived: false,
    }
}
