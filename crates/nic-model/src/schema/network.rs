//! The network profile, coaching (a site's coaching log and comment threads on any
//! document), and the equity lens codes a network uses.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::describe::Describe;

/// An equity lens code the network defines: for the problem focus, the groups identified,
/// or the nature of the solution (from fitting students to the system to changing it).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct EquityCode {
    /// Stable id, used in documents' `equity_codes`.
    #[key]
    pub id: String,
    /// `problem`, `groups` or `solution`.
    #[autosurgeon(missing = "Default::default")]
    pub dimension: String,
    /// What it means.
    #[autosurgeon(missing = "Default::default")]
    pub label: Text,
}

/// A network profile document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct NetworkProfile {
    /// Its name.
    #[autosurgeon(missing = "Default::default")]
    pub name: Text,
    /// What it works on.
    #[autosurgeon(missing = "Default::default")]
    pub description: Text,
    /// Member sites (site ids).
    #[autosurgeon(missing = "Default::default")]
    pub sites: Vec<String>,
    /// The network aim's document id.
    #[autosurgeon(missing = "Default::default")]
    pub aim_id: Option<String>,
    /// The equity focus: which student groups, and why.
    #[autosurgeon(missing = "Default::default")]
    pub equity_focus_groups: Vec<String>,
    /// Why those groups.
    #[autosurgeon(missing = "Default::default")]
    pub equity_focus: Text,
    /// The network's equity lens codes.
    #[autosurgeon(missing = "Default::default")]
    pub equity_codes: Vec<EquityCode>,
}

/// A comment in a thread.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Comment {
    /// Stable id.
    #[key]
    pub id: String,
    /// The author (member id).
    #[autosurgeon(missing = "Default::default")]
    pub author: String,
    /// The author's role when writing, e.g. `coach`.
    #[autosurgeon(missing = "Default::default")]
    pub role: String,
    /// When, ms since the Unix epoch.
    #[autosurgeon(missing = "Default::default")]
    pub at_ms: i64,
    /// The text.
    #[autosurgeon(missing = "Default::default")]
    pub text: Text,
}

/// A comment thread anchored to a field or phase of a document.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Thread {
    /// Stable id.
    #[key]
    pub id: String,
    /// The document it is about.
    #[autosurgeon(missing = "Default::default")]
    pub doc_id: String,
    /// Where in it, e.g. `plan.questions[q1].prediction` or `study`.
    #[autosurgeon(missing = "Default::default")]
    pub anchor: String,
    /// Whether feedback from a coach was asked for.
    #[autosurgeon(missing = "Default::default")]
    pub feedback_requested: bool,
    /// Whether it is resolved.
    #[autosurgeon(missing = "Default::default")]
    pub resolved: bool,
    /// The comments, oldest first.
    #[autosurgeon(missing = "Default::default")]
    pub comments: Vec<Comment>,
}

/// A coaching visit.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Visit {
    /// Stable id.
    #[key]
    pub id: String,
    /// When, `YYYY-MM-DD`.
    #[autosurgeon(missing = "Default::default")]
    #[describe(format = "date")]
    pub date: String,
    /// The focus.
    #[autosurgeon(missing = "Default::default")]
    pub focus: Text,
    /// What was committed to.
    #[autosurgeon(missing = "Default::default")]
    pub commitments: Text,
    /// What followed.
    #[autosurgeon(missing = "Default::default")]
    pub follow_up: Text,
}

/// A site's coaching log document's content: visits, and the comment threads on its
/// documents.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct CoachingLog {
    /// Visits, oldest first.
    #[autosurgeon(missing = "Default::default")]
    pub visits: Vec<Visit>,
    /// Comment threads on the site's documents.
    #[autosurgeon(missing = "Default::default")]
    pub threads: Vec<Thread>,
}
