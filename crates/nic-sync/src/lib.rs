//! The sans-IO sync engine of nic-hub.
//!
//! An [`Engine`] holds Automerge documents and, for every peer and document it syncs, one
//! `automerge::sync::State`. The runtime around it (the `nic-runtime` crate, which the hub,
//! the client library and the simulation all run) feeds it what happened — a peer connected, a frame arrived, a
//! document finished loading, a write became durable, time passed — and drains the
//! [`Effect`]s it asks for: send a frame, load or persist something, tell the application.
//!
//! Architecture invariant: no runtime, network or disk crate appears in this crate's
//! dependency tree (no tokio, tonic, hyper or sled). Time arrives as [`Ctx::now_ms`]; rights
//! arrive as a [`Policy`], consulted on every outgoing message and every incoming change.
//!
//! Architecture invariant: a hub applies, relays and acknowledges ([`Frame::Ack`]) a peer's
//! changes only after the runtime has reported them durable with [`Engine::persisted`].
//!
//! # Driving an engine
//!
//! A runtime loops: call an input method, then carry out [`Engine::take_effects`].
//!
//! ```
//! use nic_model::{DocKind, DocMeta, DocumentId, NetworkId, PeerId, Visibility};
//! use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, LoadResult, Target};
//!
//! let ctx = Ctx::new(0, &AllowAll); // the time now, and the rights in force
//! let mut hub = Engine::new(EngineConfig::hub());
//! let mut replica = Engine::new(EngineConfig::replica());
//! let meta = DocMeta {
//!     id: DocumentId::from_bytes([7; 16]),
//!     kind: DocKind::PdsaCycle,
//!     network: NetworkId::new("algebra-readiness")?,
//!     site: None,
//!     visibility: Visibility::Network,
//!     title: "Warm-up problems, cycle 1".into(),
//!     created_at_ms: 0,
//!     archived: false,
//! };
//! let doc = meta.id;
//! hub.create(ctx, meta, automerge::Automerge::new())?;
//! let (hub_id, replica_id) = (PeerId::new("hub")?, PeerId::new("lincoln-laptop")?);
//! hub.peer_connected(ctx, replica_id.clone());
//! replica.peer_connected(ctx, hub_id.clone());
//! replica.subscribe(ctx, &hub_id, Target::Docs(vec![doc]));
//!
//! // A toy runtime: storage is instantly durable, frames are delivered at once.
//! let mut engines = [hub, replica];
//! let ids = [hub_id, replica_id];
//! loop {
//!     let mut quiet = true;
//!     for me in 0..2 {
//!         for effect in engines[me].take_effects() {
//!             quiet = false;
//!             let e = &mut engines[me];
//!             match effect {
//!                 Effect::Send { frame, .. } => engines[1 - me].receive(ctx, &ids[me], frame),
//!                 Effect::Load { doc } => e.loaded(ctx, doc, LoadResult::NotFound),
//!                 Effect::LoadSyncState { peer, doc } => e.sync_state_loaded(ctx, &peer, doc, None),
//!                 Effect::Persist { doc, seq, .. } => e.persisted(ctx, doc, seq),
//!                 _ => {}
//!             }
//!         }
//!     }
//!     if quiet {
//!         break;
//!     }
//! }
//! let [hub, replica] = &engines;
//! assert_eq!(replica.meta(&doc).map(|m| m.title.as_str()), Some("Warm-up problems, cycle 1"));
//! assert!(hub.is_settled() && replica.is_settled());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chunks;
mod config;
mod doc;
mod effect;
mod engine;
mod error;
mod frame;
pub mod inspect;
mod policy;

pub use automerge;
pub use config::{Ctx, EngineConfig, Role};
pub use effect::{Authored, Effect, LoadResult, Notification, Origin};
pub use engine::{Engine, EngineStats, Held, LinkStatus};
pub use error::EngineError;
pub use frame::{ErrorCode, Frame, Known, Target};
pub use policy::{AllowAll, Policy};
