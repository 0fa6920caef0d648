//! The vocabulary every nic-hub crate shares: identifiers, document metadata, periods
//! ([`Period`]), and the rules of who may read, write and manage what ([`Grants`]).
//!
//! Architecture invariant: this crate does no I/O and depends on no runtime, network or
//! disk crate. Randomness is passed in (see [`DocumentId::random`]).

// So `#[derive(Describe)]`, which names `::nic_model`, works inside this crate too.
extern crate self as nic_model;

mod directory;
#[doc(hidden)]
pub mod fixtures;
mod ids;
mod meta;
pub mod period;
mod rights;
pub mod schema;

pub use directory::{AuditEntry, Member, Network, Site, TokenRecord, TokenState};
pub use ids::{DocumentId, IdError, MemberId, NetworkId, PeerId, SiteId, TokenId};
pub use meta::{DocKind, DocMeta, MetaError, Visibility};
pub use period::{Period, PeriodError};
pub use rights::{Grant, Grants};
