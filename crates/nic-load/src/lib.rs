//! `nic-load`: loads a nic-hub the way a networked improvement community uses it — K
//! clients co-editing M worksheets — and measures what a coach would feel (how fast a
//! new laptop gets the network's documents, how soon a colleague's edit shows up) and what
//! the hub costs (CPU, memory, disk).
//!
//! The crate is the `nic-load` tool; its modules are a library only so that the engine
//! benchmark (`benches/engine.rs`) and the tests reuse the same worksheet edits. It uses
//! `anyhow`, as binaries do.
//!
//! - [`workload`] — the worksheets and the edits made to them;
//! - [`hub`] — the hub under load: a child process, in-process, or given by address;
//! - [`scenario`] — the run itself and its [`scenario::Report`];
//! - [`creates`] — many documents created at once: the hub's group commit, and how soon a
//!   replica's `wait_saved` hears of each;
//! - [`archive`] — many stored documents, a few hundred active: restart, idle opens, memory;
//! - [`baseline`] — the same workload merged straight into Automerge: the clients' floor;
//! - [`latency`] — timing each edit's arrival at every other client;
//! - [`procfs`] — CPU, memory and disk figures of a process;
//! - [`slow_reader`] — the slow-reader attack: the hub's memory under readers that ask and
//!   never read;
//! - [`samod_bench`] — the same samod clients driving nic-hub's automerge-repo endpoint and
//!   a samod hub ([`samod_hub`]), over WebSockets this tool opens itself ([`samod_ws`]).

pub mod archive;
pub mod baseline;
pub mod create;
pub mod creates;
pub mod hub;
pub mod latency;
pub mod procfs;
pub mod replica;
pub mod samod_bench;
pub mod samod_hub;
pub mod samod_ws;
pub mod scenario;
pub mod slow_reader;
pub mod workload;
