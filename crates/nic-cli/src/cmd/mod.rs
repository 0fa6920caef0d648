//! The commands, by subject.

pub mod cycle;
pub mod demo;
pub mod directory;
pub mod docs;
pub mod history;
pub mod import;
pub mod insight;
pub mod names;
pub mod phasing;
pub mod render;
pub mod site_docs;
pub mod status;
pub mod watch;
