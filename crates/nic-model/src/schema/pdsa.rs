//! The PDSA cycle: one Plan-Do-Study-Act test of a change idea at a site.
//!
//! Prose fields are collaborative text ([`Text`]): two people typing in the same paragraph
//! both keep their words. Lists of entries carry their own ids so concurrent additions and
//! edits merge entry by entry.

use autosurgeon::{Hydrate, Reconcile, Text};

use super::describe::Describe;

use super::SchemaError;
use super::findings::{Finding, Severity};
use crate::DocKind;

/// Why the cycle is run (the "ramp" stage).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hydrate, Reconcile, Describe)]
pub enum Purpose {
    /// Learn more before choosing a change.
    #[autosurgeon(rename = "collect_information")]
    CollectInformation,
    /// Shape a change on a small scale.
    #[default]
    #[autosurgeon(rename = "develop")]
    Develop,
    /// Test whether the change is an improvement.
    #[autosurgeon(rename = "test")]
    Test,
    /// Make the change part of daily work.
    #[autosurgeon(rename = "implement")]
    Implement,
}

/// What kind of data answers a learning question.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hydrate, Reconcile, Describe)]
pub enum DataType {
    /// Numbers.
    #[default]
    #[autosurgeon(rename = "quantitative")]
    Quantitative,
    /// Observations, interviews, work samples.
    #[autosurgeon(rename = "qualitative")]
    Qualitative,
    /// Both.
    #[autosurgeon(rename = "both")]
    Both,
}

/// The decision a cycle ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hydrate, Reconcile, Describe)]
pub enum Decision {
    /// Keep the change as tested.
    #[autosurgeon(rename = "adopt")]
    Adopt,
    /// Change it and test again (opens the next cycle).
    #[autosurgeon(rename = "adapt")]
    Adapt,
    /// Stop testing it.
    #[autosurgeon(rename = "abandon")]
    Abandon,
}

/// A question the cycle sets out to answer, with the team's prediction.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct LearningQuestion {
    /// Stable within the cycle, so results and edits find their question.
    #[key]
    pub id: String,
    /// The question.
    #[autosurgeon(missing = "Default::default")]
    pub question: Text,
    /// What the team expects, written before the Do phase and fixed once it has data.
    #[autosurgeon(missing = "Default::default")]
    pub prediction: Text,
    /// What kind of data will answer it.
    #[autosurgeon(missing = "Default::default")]
    pub data_type: DataType,
}

/// The plan.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Plan {
    /// What this cycle is for.
    #[autosurgeon(missing = "Default::default")]
    pub objective: Text,
    /// The questions and their predictions.
    #[autosurgeon(missing = "Default::default")]
    pub questions: Vec<LearningQuestion>,
    /// Who carries it out.
    #[autosurgeon(missing = "Default::default")]
    pub who: Text,
    /// What is done.
    #[autosurgeon(missing = "Default::default")]
    pub what: Text,
    /// When.
    #[autosurgeon(missing = "Default::default")]
    pub when: Text,
    /// Where.
    #[autosurgeon(rename = "where", missing = "Default::default")]
    pub where_: Text,
    /// Who the change is tried with (roles and groups, never names).
    #[autosurgeon(missing = "Default::default")]
    pub population: Text,
    /// Which measures, who collects them, how.
    #[autosurgeon(missing = "Default::default")]
    pub data_collection: Text,
}

/// A time-stamped note made while carrying the plan out.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Observation {
    /// Stable id.
    #[key]
    pub id: String,
    /// When, ms since the Unix epoch.
    #[autosurgeon(missing = "Default::default")]
    pub at_ms: i64,
    /// What was seen.
    #[autosurgeon(missing = "Default::default")]
    pub text: Text,
}

/// Carrying the plan out.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Do {
    /// Whether it went as planned; null until someone says.
    #[autosurgeon(missing = "Default::default")]
    pub as_planned: Option<bool>,
    /// What happened.
    #[autosurgeon(missing = "Default::default")]
    pub what_happened: Text,
    /// Notes as they were made.
    #[autosurgeon(missing = "Default::default")]
    pub observations: Vec<Observation>,
    /// Changes made on purpose, and ones that just happened.
    #[autosurgeon(missing = "Default::default")]
    pub adjustments: Text,
}

impl Do {
    /// Whether the Do phase holds any data: from then on the predictions are fixed.
    pub fn has_data(&self) -> bool {
        self.as_planned.is_some()
            || !self.what_happened.as_str().trim().is_empty()
            || !self.observations.is_empty()
            || !self.adjustments.as_str().trim().is_empty()
    }
}

/// A question's result beside its prediction.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct QuestionResult {
    /// The question's id.
    #[key]
    pub question_id: String,
    /// What the data showed.
    #[autosurgeon(missing = "Default::default")]
    pub result: Text,
}

/// Studying the results.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Study {
    /// Results per question.
    #[autosurgeon(missing = "Default::default")]
    pub results: Vec<QuestionResult>,
    /// What the team learned.
    #[autosurgeon(missing = "Default::default")]
    pub learning: Text,
}

/// Acting on what was learned.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Act {
    /// Adopt, adapt or abandon; null until decided.
    #[autosurgeon(missing = "Default::default")]
    pub decision: Option<Decision>,
    /// Why.
    #[autosurgeon(missing = "Default::default")]
    pub rationale: Text,
    /// The cycle that follows, once opened.
    #[autosurgeon(missing = "Default::default")]
    pub next_cycle_id: Option<String>,
}

/// A pause to look at the work through an equity lens, at any phase.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct EquityPause {
    /// Stable id.
    #[key]
    pub id: String,
    /// The phase it was taken in: `plan`, `do`, `study` or `act`.
    #[autosurgeon(missing = "Default::default")]
    pub phase: String,
    /// The prompt, e.g. "Whose voice is missing?".
    #[autosurgeon(missing = "Default::default")]
    pub prompt: Text,
    /// The member who called it.
    #[autosurgeon(missing = "Default::default")]
    pub by: String,
    /// The team's reflection.
    #[autosurgeon(missing = "Default::default")]
    pub reflection: Text,
}

/// A PDSA cycle: one Plan-Do-Study-Act test of a change idea at a site (its site is the document's own).
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct PdsaCycle {
    /// The change idea tested.
    #[autosurgeon(missing = "Default::default")]
    pub change_idea_id: String,
    /// Position in the ramp of cycles on this idea, from 1.
    #[autosurgeon(missing = "Default::default")]
    pub cycle_number: u32,
    /// The cycle this one follows on the ramp.
    #[autosurgeon(missing = "Default::default")]
    pub previous_cycle_id: Option<String>,
    /// Why it is run.
    #[autosurgeon(missing = "Default::default")]
    pub purpose: Purpose,
    /// Planned start, `YYYY-MM-DD`.
    #[autosurgeon(missing = "Default::default")]
    #[describe(format = "date")]
    pub planned_start: Option<String>,
    /// Planned end, `YYYY-MM-DD`.
    #[autosurgeon(missing = "Default::default")]
    #[describe(format = "date")]
    pub planned_end: Option<String>,
    /// Plan.
    #[autosurgeon(missing = "Default::default")]
    pub plan: Plan,
    /// Do.
    #[autosurgeon(rename = "do", missing = "Default::default")]
    pub do_: Do,
    /// Study.
    #[autosurgeon(missing = "Default::default")]
    pub study: Study,
    /// Act.
    #[autosurgeon(missing = "Default::default")]
    pub act: Act,
    /// Equity pauses taken along the way.
    #[autosurgeon(missing = "Default::default")]
    pub equity_pauses: Vec<EquityPause>,
    /// Stakeholder groups that took part: `students`, `families`, `teachers`, `community`…
    #[autosurgeon(missing = "Default::default")]
    pub voices: Vec<String>,
    /// Equity lens codes (ids of the network profile's `equity_codes`).
    #[autosurgeon(missing = "Default::default")]
    pub equity_codes: Vec<String>,
}

/// Why an edit to a cycle was refused.
#[derive(Debug, thiserror::Error)]
pub enum PdsaError {
    /// A prediction would change after the Do phase has data.
    #[error(
        "the prediction of question {question} is fixed: the Do phase already has data (write what you learned in Study instead)"
    )]
    PredictionFixed {
        /// The question's id.
        question: String,
    },
    /// The document could not be read or written.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

impl PdsaCycle {
    /// The questions whose prediction differs between `self` (before) and `after`, or that
    /// `after` dropped.
    pub fn changed_predictions(&self, after: &PdsaCycle) -> Vec<String> {
        self.plan
            .questions
            .iter()
            .filter(|q| {
                after
                    .plan
                    .questions
                    .iter()
                    .find(|a| a.id == q.id)
                    .is_none_or(|a| a.prediction.as_str() != q.prediction.as_str())
            })
            .map(|q| q.id.clone())
            .collect()
    }

    /// The predictions an edit from `self` to `after` changed after the Do phase had data —
    /// what the hub records when a raw Automerge edit bypasses [`PdsaCycle::check_edit`]:
    /// (question id, prediction before, prediction after; empty after if the question went).
    pub fn hindsight_edits(&self, after: &PdsaCycle) -> Vec<(String, String, String)> {
        if !self.do_.has_data() {
            return Vec::new();
        }
        self.changed_predictions(after)
            .into_iter()
            .map(|id| {
                let before = self
                    .plan
                    .questions
                    .iter()
                    .find(|q| q.id == id)
                    .map(|q| q.prediction.as_str().to_owned())
                    .unwrap_or_default();
                let now = after
                    .plan
                    .questions
                    .iter()
                    .find(|q| q.id == id)
                    .map(|q| q.prediction.as_str().to_owned())
                    .unwrap_or_default();
                (id, before, now)
            })
            .collect()
    }

    /// Checks an edit from `self` to `after`: once the Do phase has data, predictions are
    /// fixed.
    pub fn check_edit(&self, after: &PdsaCycle) -> Result<(), PdsaError> {
        if self.do_.has_data()
            && let Some(question) = self.changed_predictions(after).into_iter().next()
        {
            return Err(PdsaError::PredictionFixed { question });
        }
        Ok(())
    }

    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if self.change_idea_id.trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "change_idea_id",
                "a cycle tests a change idea: link one",
            ));
        }
        for (field, date) in [
            ("planned_start", &self.planned_start),
            ("planned_end", &self.planned_end),
        ] {
            if let Some(e) = date.as_deref().and_then(|d| crate::Period::parse(d).err()) {
                found.push(Finding::new(
                    Severity::Error,
                    field,
                    format!("a cycle's dates are YYYY-MM-DD: {e}"),
                ));
            }
        }
        if self.cycle_number == 0 {
            found.push(Finding::new(
                Severity::Error,
                "cycle_number",
                "cycles are numbered from 1 along the ramp",
            ));
        }
        if self.cycle_number > 1 && self.previous_cycle_id.is_none() {
            found.push(Finding::new(
                Severity::Warning,
                "previous_cycle_id",
                "a cycle after the first should link the cycle it follows",
            ));
        }
        if self.plan.questions.is_empty() {
            found.push(Finding::new(
                Severity::Warning,
                "plan.questions",
                "a plan names at least one learning question",
            ));
        }
        let studying =
            !self.study.learning.as_str().trim().is_empty() || !self.study.results.is_empty();
        for q in &self.plan.questions {
            if q.prediction.as_str().trim().is_empty() {
                let (severity, message) = if studying {
                    (
                        Severity::Error,
                        "the cycle is in Study but this question has no prediction: results cannot be compared with one",
                    )
                } else {
                    (Severity::Warning, "write a prediction before the Do phase")
                };
                found.push(Finding::new(
                    severity,
                    format!("plan.questions[{}].prediction", q.id),
                    message,
                ));
            }
        }
        for r in &self.study.results {
            if !self.plan.questions.iter().any(|q| q.id == r.question_id) {
                found.push(Finding::new(
                    Severity::Error,
                    format!("study.results[{}]", r.question_id),
                    "a result answers a question the plan does not have",
                ));
            }
        }
        if self.act.decision.is_some() && self.study.learning.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Warning,
                "act.decision",
                "a decision without a summary of learning: say what the cycle taught",
            ));
        }
        if self.voices.is_empty() {
            found.push(Finding::new(
                Severity::Info,
                "voices",
                "no stakeholder group is recorded as taking part",
            ));
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}

impl PdsaCycle {
    /// The next cycle on the ramp after an "adapt" decision: the same change idea and
    /// purpose, cycle number + 1, linked back to this cycle (`this_id`), the plan cloned with
    /// its questions but not their predictions (a new test needs new predictions, written
    /// before its Do phase), and nothing done, studied or decided yet. `None` unless this
    /// cycle's decision is to adapt.
    pub fn next_from_adapt(&self, this_id: &str) -> Option<PdsaCycle> {
        if self.act.decision != Some(Decision::Adapt) {
            return None;
        }
        // Fresh text throughout: text read from this cycle's document carries that
        // document's heads, and the next cycle is a new document.
        let fresh = |t: &Text| Text::with_value(t.as_str());
        let plan = Plan {
            objective: fresh(&self.plan.objective),
            questions: self
                .plan
                .questions
                .iter()
                .map(|q| LearningQuestion {
                    id: q.id.clone(),
                    question: fresh(&q.question),
                    prediction: Text::default(),
                    data_type: q.data_type,
                })
                .collect(),
            who: fresh(&self.plan.who),
            what: fresh(&self.plan.what),
            when: fresh(&self.plan.when),
            where_: fresh(&self.plan.where_),
            population: fresh(&self.plan.population),
            data_collection: fresh(&self.plan.data_collection),
        };
        Some(PdsaCycle {
            change_idea_id: self.change_idea_id.clone(),
            cycle_number: self.cycle_number.saturating_add(1),
            previous_cycle_id: Some(this_id.to_owned()),
            purpose: self.purpose,
            planned_start: None,
            planned_end: None,
            plan,
            do_: Do::default(),
            study: Study::default(),
            act: Act::default(),
            equity_pauses: Vec::new(),
            voices: self.voices.clone(),
            equity_codes: self.equity_codes.clone(),
        })
    }
}

/// Changes a cycle document through the typed API: hydrate, apply `f`, refuse an edit that
/// breaks prediction integrity, and write back only what changed. `doc` is an `AutoCommit`
/// or an open `Transaction`.
pub fn edit<D: automerge::transaction::Transactable + autosurgeon::Doc>(
    doc: &mut D,
    f: impl FnOnce(&mut PdsaCycle),
) -> Result<(), PdsaError> {
    let before: PdsaCycle = super::read(doc, DocKind::PdsaCycle)?;
    let mut after = before.clone();
    f(&mut after);
    before.check_edit(&after)?;
    super::write(doc, DocKind::PdsaCycle, &after)?;
    Ok(())
}
