//! The network profile, coaching (a site's coaching log and comment threads on any
//! document), and the equity lens codes a network uses.

use autosurgeon::{Hydrate, Reconcile, Text};

/// An equity lens code the network defines: for the problem focus, the groups identified,
/// or the nature of the solution (from fitting students to the system to changing it).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct EquityCode {
    /// Stable id, used in documents' `equity_codes`.
    #[key]
    pub id: String,
    /// `problem`, `groups` or `solution`.
    pub dimension: String,
    /// What it means.
    pub label: Text,
}

/// A network profile document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct NetworkProfile {
    /// Its name.
    pub name: Text,
    /// What it works on.
    pub description: Text,
    /// Member sites (site ids).
    pub sites: Vec<String>,
    /// The network aim's document id.
    pub aim_id: Option<String>,
    /// The equity focus: which student groups, and why.
    pub equity_focus_groups: Vec<String>,
    /// Why those groups.
    pub equity_focus: Text,
    /// The network's equity lens codes.
    pub equity_codes: Vec<EquityCode>,
}

/// A comment in a thread.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct Comment {
    /// Stable id.
    #[key]
    pub id: String,
    /// The author (member id).
    pub author: String,
    /// The author's role when writing, e.g. `coach`.
    pub role: String,
    /// When, ms since the Unix epoch.
    pub at_ms: i64,
    /// The text.
    pub text: Text,
}

/// A comment thread anchored to a field or phase of a document.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct Thread {
    /// Stable id.
    #[key]
    pub id: String,
    /// The document it is about.
    pub doc_id: String,
    /// Where in it, e.g. `plan.questions[q1].prediction` or `study`.
    pub anchor: String,
    /// Whether feedback from a coach was asked for.
    pub feedback_requested: bool,
    /// Whether it is resolved.
    pub resolved: bool,
    /// The comments, oldest first.
    pub comments: Vec<Comment>,
}

/// A coaching visit.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct Visit {
    /// Stable id.
    #[key]
    pub id: String,
    /// When, `YYYY-MM-DD`.
    pub date: String,
    /// The focus.
    pub focus: Text,
    /// What was committed to.
    pub commitments: Text,
    /// What followed.
    pub follow_up: Text,
}

/// A site's coaching log document's content: visits, and the comment threads on its
/// documents.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct CoachingLog {
    /// Visits, oldest first.
    pub visits: Vec<Visit>,
    /// Comment threads on the site's documents.
    pub threads: Vec<Thread>,
}
