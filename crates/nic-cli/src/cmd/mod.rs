//! The commands, by subject.

pub mod audit;
pub mod coaching;
pub mod cycle;
pub mod demo;
pub mod directory;
pub mod docs;
pub mod driver;
pub mod edit;
pub mod equity;
pub mod feedback;
pub mod history;
pub mod import;
pub mod insight;
pub mod interview;
pub mod measures;
pub mod names;
pub mod phasing;
pub mod plan;
pub mod rca;
pub mod render;
pub mod site_docs;
pub mod status;
pub mod watch;
