//! The commands, by subject.

pub mod coaching;
pub mod cycle;
pub mod demo;
pub mod directory;
pub mod docs;
pub mod driver;
pub mod edit;
pub mod equity;
pub mod feedback;
pub mod import;
pub mod insight;
pub mod measures;
pub mod names;
pub mod phasing;
pub mod status;
pub mod watch;
