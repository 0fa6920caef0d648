//! An aim: what will improve, by how much, by when, for whom.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::describe::Describe;

use super::findings::{Finding, Severity};

/// An aim statement and its parts.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Aim {
    /// The whole statement, e.g. "Increase from 30% to 80% the share of 9th-grade English
    /// learners who pass Algebra I by June 2027."
    #[autosurgeon(missing = "Default::default")]
    pub statement: Text,
    /// What: the outcome.
    #[autosurgeon(missing = "Default::default")]
    pub what: Text,
    /// How much: where it stands now.
    #[autosurgeon(missing = "Default::default")]
    pub baseline: Option<f64>,
    /// How much: where it should be.
    #[autosurgeon(missing = "Default::default")]
    pub target: Option<f64>,
    /// The unit of baseline and target, e.g. `%`.
    #[autosurgeon(missing = "Default::default")]
    pub unit: String,
    /// By when, `YYYY-MM-DD`.
    #[autosurgeon(missing = "Default::default")]
    #[describe(format = "date")]
    pub by_when: Option<String>,
    /// For whom: the student groups the aim centres, e.g. `english_learner`.
    #[autosurgeon(missing = "Default::default")]
    pub for_whom: Vec<String>,
    /// The outcome measure that tracks it.
    #[autosurgeon(missing = "Default::default")]
    pub outcome_measure_id: Option<String>,
    /// Equity lens codes.
    #[autosurgeon(missing = "Default::default")]
    pub equity_codes: Vec<String>,
}

impl Aim {
    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if self.statement.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "statement",
                "an aim needs its statement",
            ));
        }
        if let Some(e) = self
            .by_when
            .as_deref()
            .and_then(|d| crate::Period::parse(d).err())
        {
            found.push(Finding::new(
                Severity::Error,
                "by_when",
                format!("by when is a date, YYYY-MM-DD: {e}"),
            ));
        }
        if self.by_when.is_none() {
            found.push(Finding::new(
                Severity::Warning,
                "by_when",
                "say by when: an aim without a date cannot be met or missed",
            ));
        }
        if self.for_whom.is_empty() {
            found.push(Finding::new(
                Severity::Warning,
                "for_whom",
                "say for whom: which student groups does this aim centre?",
            ));
        }
        if self.baseline.is_none() || self.target.is_none() {
            found.push(Finding::new(
                Severity::Warning,
                "target",
                "say how much: the baseline and the target",
            ));
        }
        if self.outcome_measure_id.is_none() {
            found.push(Finding::new(
                Severity::Info,
                "outcome_measure_id",
                "link the outcome measure that will show progress",
            ));
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}
