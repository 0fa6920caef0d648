//! Generated nic.v1 types (filled in by build.rs).
