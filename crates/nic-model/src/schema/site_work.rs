//! A site's inquiry: empathy interviews, root-cause analyses, equity audits, and the school
//! improvement plan that ties them to the network's aim. No student names anywhere: roles
//! and groups only.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::describe::Describe;

use super::findings::{Finding, Severity};

/// One empathy interview (`site` visibility by default).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct EmpathyInterview {
    /// Who was interviewed, by role (e.g. `student`, `parent`), never by name.
    #[autosurgeon(missing = "Default::default")]
    pub interviewee_role: String,
    /// Their student groups, e.g. `english_learner`.
    #[autosurgeon(missing = "Default::default")]
    pub interviewee_groups: Vec<String>,
    /// The interviewer (a member id).
    #[autosurgeon(missing = "Default::default")]
    pub interviewer: String,
    /// When, `YYYY-MM-DD`.
    #[autosurgeon(missing = "Default::default")]
    #[describe(format = "date")]
    pub date: Option<String>,
    /// The questions asked.
    #[autosurgeon(missing = "Default::default")]
    pub questions: Vec<Text>,
    /// Notes.
    #[autosurgeon(missing = "Default::default")]
    pub notes: Text,
    /// Themes drawn from it.
    #[autosurgeon(missing = "Default::default")]
    pub themes: Vec<String>,
}

impl EmpathyInterview {
    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if self.interviewee_role.trim().is_empty() {
            found.push(Finding::new(
                Severity::Warning,
                "interviewee_role",
                "say who was interviewed by role (never by name)",
            ));
        }
        if self.notes.as_str().trim().is_empty() {
            found.push(Finding::new(Severity::Info, "notes", "no notes yet"));
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}

/// A cause in a fishbone category, possibly with sub-causes.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Cause {
    /// Stable id.
    #[key]
    pub id: String,
    /// The cause.
    #[autosurgeon(missing = "Default::default")]
    pub text: Text,
    /// The data that grounds it.
    #[autosurgeon(missing = "Default::default")]
    pub evidence: Text,
    /// Deeper causes.
    #[autosurgeon(missing = "Default::default")]
    pub causes: Vec<Cause>,
}

/// A fishbone category (e.g. `instruction`, `policies`, `relationships`).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Category {
    /// Stable id.
    #[key]
    pub id: String,
    /// Its name.
    #[autosurgeon(missing = "Default::default")]
    pub name: String,
    /// Its causes.
    #[autosurgeon(missing = "Default::default")]
    pub causes: Vec<Cause>,
}

/// A "5 whys" chain.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct WhyChain {
    /// Stable id.
    #[key]
    pub id: String,
    /// Each answer to "why?", in order.
    #[autosurgeon(missing = "Default::default")]
    pub whys: Vec<Text>,
}

/// A root-cause analysis document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct RootCauseAnalysis {
    /// The problem of practice.
    #[autosurgeon(missing = "Default::default")]
    pub problem: Text,
    /// The fishbone.
    #[autosurgeon(missing = "Default::default")]
    pub categories: Vec<Category>,
    /// The 5-whys chains.
    #[autosurgeon(missing = "Default::default")]
    pub why_chains: Vec<WhyChain>,
    /// Equity lens codes.
    #[autosurgeon(missing = "Default::default")]
    pub equity_codes: Vec<String>,
}

impl RootCauseAnalysis {
    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if self.problem.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "problem",
                "state the problem of practice",
            ));
        }
        fn ungrounded(causes: &[Cause], out: &mut Vec<String>) {
            for c in causes {
                if c.evidence.as_str().trim().is_empty() {
                    out.push(c.id.clone());
                }
                ungrounded(&c.causes, out);
            }
        }
        let mut missing = Vec::new();
        for category in &self.categories {
            ungrounded(&category.causes, &mut missing);
        }
        for id in missing {
            found.push(Finding::new(
                Severity::Warning,
                format!("causes[{id}]"),
                "a cause without the data that grounds it",
            ));
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}

/// A finding of an equity audit for one student group.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct GroupFinding {
    /// Stable id.
    #[key]
    pub id: String,
    /// The group, e.g. `english_learner=yes`.
    #[autosurgeon(missing = "Default::default")]
    pub group: String,
    /// What was found.
    #[autosurgeon(missing = "Default::default")]
    pub finding: Text,
}

/// An equity audit document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct EquityAudit {
    /// The area audited: access, discipline, course enrolment…
    #[autosurgeon(missing = "Default::default")]
    pub area: String,
    /// Findings by student group.
    #[autosurgeon(missing = "Default::default")]
    pub findings: Vec<GroupFinding>,
    /// The sources consulted.
    #[autosurgeon(missing = "Default::default")]
    pub sources: Text,
}

/// A school improvement plan document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct ImprovementPlan {
    /// The problem of practice.
    #[autosurgeon(missing = "Default::default")]
    pub problem: Text,
    /// The data that frames it.
    #[autosurgeon(missing = "Default::default")]
    pub data_summary: Text,
    /// The root-cause analysis document it rests on.
    #[autosurgeon(missing = "Default::default")]
    pub root_cause_analysis_id: Option<String>,
    /// The site's aims (aim document ids), aligned to the network aim.
    #[autosurgeon(missing = "Default::default")]
    pub aim_ids: Vec<String>,
    /// Its theory of change: driver diagram node ids it works on.
    #[autosurgeon(missing = "Default::default")]
    pub driver_ids: Vec<String>,
    /// The cycles it commits to (PDSA document ids).
    #[autosurgeon(missing = "Default::default")]
    pub cycle_ids: Vec<String>,
}

impl ImprovementPlan {
    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if self.problem.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "problem",
                "state the problem of practice",
            ));
        }
        if self.aim_ids.is_empty() {
            found.push(Finding::new(
                Severity::Warning,
                "aim_ids",
                "a plan names the site's aims, aligned to the network's",
            ));
        }
        if self.root_cause_analysis_id.is_none() {
            found.push(Finding::new(
                Severity::Warning,
                "root_cause_analysis_id",
                "a plan rests on a root-cause analysis: link it",
            ));
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}
