//! Compiles `proto/nic/v1/*.proto` with protox (pure Rust, so no system `protoc` is needed),
//! generates prost types and tonic stubs, and writes the encoded `FileDescriptorSet` to
//! `OUT_DIR/nic_v1_descriptor.bin` for gRPC server reflection.

use std::path::PathBuf;
use std::{env, fs};

/// The files of the `nic.v1` package, relative to the proto root.
const FILES: [&str; 6] = [
    "nic/v1/common.proto",
    "nic/v1/sync.proto",
    "nic/v1/documents.proto",
    "nic/v1/directory.proto",
    "nic/v1/insight.proto",
    "nic/v1/admin.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = manifest_dir.join("../../proto").canonicalize()?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    println!("cargo:rerun-if-changed={}", proto_root.display());
    for file in FILES {
        println!("cargo:rerun-if-changed={}", proto_root.join(file).display());
    }

    // Keeps source info (comments become rustdoc on the generated types) and imports.
    let fds = protox::compile(FILES, [&proto_root])?;

    // `compile_fds` does not write the descriptor set itself (it never runs protoc), so the
    // reflection descriptor is written here from the same set.
    let descriptor_path = out_dir.join("nic_v1_descriptor.bin");
    fs::write(&descriptor_path, prost::Message::encode_to_vec(&fds))?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // The transport helper `XxxClient::connect(endpoint)` would clash with the client
        // method of `rpc Connect` in `SyncClient`; clients build a `tonic::transport::Channel`
        // themselves and call `XxxClient::new(channel)`.
        .build_transport(false)
        // Undecodable messages are INVALID_ARGUMENT, not tonic's INTERNAL (src/codec.rs).
        .codec_path("crate::codec::StrictCodec")
        .file_descriptor_set_path(&descriptor_path)
        .skip_protoc_run()
        .compile_fds(fds)?;
    Ok(())
}
