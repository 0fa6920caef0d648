//! The `nic.v1` wire API: prost types and tonic client/server stubs generated from
//! `proto/nic/v1/*.proto`, which are the one source of truth for every language.
//!
//! `build.rs` compiles the `.proto` files with `protox` (pure Rust), so no system `protoc`
//! is needed. The comments in the `.proto` files become the documentation of the generated
//! items; read them there for what each field means, its units and constraints, and which
//! gRPC codes each rpc returns.
//!
//! Architecture invariant: protobuf types stop at `server/` and `client-lib/`. Those two
//! convert between these types and the domain types of `nic-model` and `nic-sync` at the
//! edge; the core crates (`nic-model`, `nic-sync`, `nic-store`) never depend on this crate.
//!
//! - [`v1`] — the generated messages, enums, `*_client` and `*_server` modules.
//! - [`FILE_DESCRIPTOR_SET`] — the encoded descriptors, for gRPC server reflection.
//! - [`auth`] — the `Bearer` interceptor that puts a token on every call.
//! - [`convert`] — the one place where wire types become domain types and back, shared by
//!   the hub and the client library.

pub mod auth;
pub mod codec;
pub mod convert;

/// Generated code for the `nic.v1` protobuf package.
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    clippy::unwrap_used
)]
pub mod v1 {
    tonic::include_proto!("nic.v1");

    // The old names of three Insight responses, renamed so that `protoc` accepts
    // insight.proto (an rpc may not share its name with a message). Only generated names
    // changed: the rpcs' paths and the messages' bytes are the same.

    /// Former name of [`CompareCyclesResponse`].
    #[deprecated(note = "renamed to CompareCyclesResponse; the wire is unchanged")]
    pub type CycleComparison = CompareCyclesResponse;
    /// Former name of [`NetworkOverviewResponse`].
    #[deprecated(note = "renamed to NetworkOverviewResponse; the wire is unchanged")]
    pub type NetworkOverview = NetworkOverviewResponse;
    /// Former name of [`DistrictOverviewResponse`].
    #[deprecated(note = "renamed to DistrictOverviewResponse; the wire is unchanged")]
    pub type DistrictOverview = DistrictOverviewResponse;
}

/// The encoded `google.protobuf.FileDescriptorSet` of every `nic.v1` file (with source
/// info and imports), for `tonic-reflection` so tools such as `grpcurl` can discover the
/// services.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/nic_v1_descriptor.bin"));

/// The version of the sync protocol this crate's types describe (`Hello.protocol_version`).
pub const PROTOCOL_VERSION: u32 = 1;

/// The fully qualified gRPC service names, e.g. for health checks.
pub mod service_names {
    /// `nic.v1.Sync`.
    pub const SYNC: &str = "nic.v1.Sync";
    /// `nic.v1.Documents`.
    pub const DOCUMENTS: &str = "nic.v1.Documents";
    /// `nic.v1.Directory`.
    pub const DIRECTORY: &str = "nic.v1.Directory";
    /// `nic.v1.Insight`.
    pub const INSIGHT: &str = "nic.v1.Insight";
    /// `nic.v1.Admin`.
    pub const ADMIN: &str = "nic.v1.Admin";
}
