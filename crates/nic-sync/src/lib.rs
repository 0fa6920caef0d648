//! The sans-IO sync engine of nic-hub.
//!
//! An [`Engine`] holds Automerge documents and, for every peer and document it syncs, one
//! `automerge::sync::State`. The runtime around it (the hub's gRPC service, the client
//! library, the simulation) feeds it what happened — a peer connected, a frame arrived, a
//! document finished loading, a write became durable, time passed — and drains the
//! [`Effect`]s it asks for: send a frame, load or persist something, tell the application.
//!
//! Architecture invariant: no runtime, network or disk crate appears in this crate's
//! dependency tree (no tokio, tonic, hyper or sled). Time arrives as [`Ctx::now_ms`]; rights
//! arrive as a [`Policy`], consulted on every outgoing message and every incoming change.
//!
//! Architecture invariant: the engine tells a peer its changes are saved ([`Frame::Ack`])
//! only after the runtime has reported them durable with [`Engine::persisted`].

mod config;
mod doc;
mod effect;
mod engine;
mod error;
mod frame;
mod policy;

pub use automerge;
pub use config::{Ctx, EngineConfig, Role};
pub use effect::{Effect, LoadResult, Notification, Origin};
pub use engine::{Engine, LinkStatus};
pub use error::EngineError;
pub use frame::{ErrorCode, Frame, Target};
pub use policy::{AllowAll, Policy};
