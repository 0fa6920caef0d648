//! `nic-insight`: what a networked improvement community learns across its sites, computed
//! from its typed documents, with privacy built in.
//!
//! - [`cycles`] — one change idea's cycles across sites: ramps, predictions vs. results,
//!   decisions, time to adoption;
//! - [`series`] — a measure's series per site and student group (suppressed for the
//!   reader), with the rules applied, and gaps between a focal group and a reference;
//! - [`rules`] — run-chart rules (IHI, with Perla, Provost & Murray's Table 1 as published;
//!   Anhøj), XmR rules (NHS Making Data Count), P and U charts (with Laney's P′ and U′),
//!   baselines and rebases, exactly as the module states them with their sources, each
//!   signal labelled improvement / concern / neutral;
//! - [`stats`] — the medians, binomial quantiles and runs distribution they rest on (the
//!   runs distribution gives IHI's limits beyond the table's 60 rows);
//! - [`runs`] — sides of the centre line, runs, crossings, monotone stretches;
//! - [`suppress`] — small-cell and complementary suppression of what leaves a site;
//! - [`chart`] — run, XmR, P and U charts as SVG with every finding listed, small multiples
//!   across sites;
//! - [`export`] — CSV of every table (JSON through `serde`).
//!
//! Architecture invariant: pure — no I/O, no runtime, no network or disk crate.

pub mod chart;
pub mod cycles;
pub mod dates;
pub mod export;
pub mod rules;
pub mod runs;
pub mod series;
pub mod stats;
pub mod suppress;

pub use rules::{
    Analysis, Label, Limits, Rule, RuleSet, Signal, analyse, anhoj_limits, xmr_limits,
};
