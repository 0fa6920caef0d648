//! The vocabulary every nic-hub crate shares: identifiers and document metadata.
//!
//! Architecture invariant: this crate does no I/O and depends on no runtime, network or
//! disk crate. Randomness is passed in (see [`DocumentId::random`]).

mod ids;
mod meta;

pub use ids::{DocumentId, IdError, MemberId, NetworkId, PeerId, SiteId};
pub use meta::{DocKind, DocMeta, MetaError, Visibility};
