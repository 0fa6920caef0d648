//! A site's inquiry: empathy interviews, root-cause analyses, equity audits, and the school
//! improvement plan that ties them to the network's aim. No student names anywhere: roles
//! and groups only.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::findings::{Finding, Severity};

/// One empathy interview (`site` visibility by default).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct EmpathyInterview {
    /// Who was interviewed, by role (e.g. `student`, `parent`), never by name.
    pub interviewee_role: String,
    /// Their student groups, e.g. `english_learner`.
    pub interviewee_groups: Vec<String>,
    /// The interviewer (a member id).
    pub interviewer: String,
    /// When, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The questions asked.
    pub questions: Vec<Text>,
    /// Notes.
    pub notes: Text,
    /// Themes drawn from it.
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
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct Cause {
    /// Stable id.
    #[key]
    pub id: String,
    /// The cause.
    pub text: Text,
    /// The data that grounds it.
    pub evidence: Text,
    /// Deeper causes.
    pub causes: Vec<Cause>,
}

/// A fishbone category (e.g. `instruction`, `policies`, `relationships`).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct Category {
    /// Stable id.
    #[key]
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its causes.
    pub causes: Vec<Cause>,
}

/// A "5 whys" chain.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct WhyChain {
    /// Stable id.
    #[key]
    pub id: String,
    /// Each answer to "why?", in order.
    pub whys: Vec<Text>,
}

/// A root-cause analysis document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct RootCauseAnalysis {
    /// The problem of practice.
    pub problem: Text,
    /// The fishbone.
    pub categories: Vec<Category>,
    /// The 5-whys chains.
    pub why_chains: Vec<WhyChain>,
    /// Equity lens codes.
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
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct GroupFinding {
    /// Stable id.
    #[key]
    pub id: String,
    /// The group, e.g. `english_learner=yes`.
    pub group: String,
    /// What was found.
    pub finding: Text,
}

/// An equity audit document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct EquityAudit {
    /// The area audited: access, discipline, course enrolment…
    pub area: String,
    /// Findings by student group.
    pub findings: Vec<GroupFinding>,
    /// The sources consulted.
    pub sources: Text,
}

/// A school improvement plan document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile)]
pub struct ImprovementPlan {
    /// The problem of practice.
    pub problem: Text,
    /// The data that frames it.
    pub data_summary: Text,
    /// The root-cause analysis document it rests on.
    pub root_cause_analysis_id: Option<String>,
    /// The site's aims (aim document ids), aligned to the network aim.
    pub aim_ids: Vec<String>,
    /// Its theory of change: driver diagram node ids it works on.
    pub driver_ids: Vec<String>,
    /// The cycles it commits to (PDSA document ids).
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
