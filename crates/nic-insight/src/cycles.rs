//! One change idea's cycles compared across sites: each site's ramp in order, predictions
//! beside results, decisions, and how long adoption took.

use std::collections::BTreeMap;

use nic_model::schema::pdsa::{Decision, PdsaCycle};
use serde::Serialize;

use crate::dates::day_number;

/// A cycle as the comparison reads it.
#[derive(Clone, Debug)]
pub struct CycleInput<'a> {
    /// The cycle document's id.
    pub doc: String,
    /// Its site (`None`: network-level, reported under "network").
    pub site: Option<String>,
    /// Its content.
    pub cycle: &'a PdsaCycle,
}

/// A question's prediction beside what the data showed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// The question.
    pub question: String,
    /// What the team predicted before the Do phase.
    pub prediction: String,
    /// What the data showed (empty until Study).
    pub result: String,
}

/// One cycle in a site's ramp.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CycleSummary {
    /// The cycle document's id.
    pub doc: String,
    /// Its number on the ramp.
    pub number: u32,
    /// Its planned start, `YYYY-MM-DD`, if set.
    pub planned_start: Option<String>,
    /// Its planned end, if set.
    pub planned_end: Option<String>,
    /// Predictions and results, question by question.
    pub predictions: Vec<Prediction>,
    /// What the team learned.
    pub learning: String,
    /// The Act decision, if made: `adopt`, `adapt` or `abandon`.
    pub decision: Option<&'static str>,
}

/// How many cycles ended in each decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecisionCounts {
    /// Adopted.
    pub adopt: usize,
    /// Adapted (tested again).
    pub adapt: usize,
    /// Abandoned.
    pub abandon: usize,
    /// No decision yet.
    pub open: usize,
}

impl DecisionCounts {
    fn add(&mut self, decision: Option<Decision>) {
        match decision {
            Some(Decision::Adopt) => self.adopt += 1,
            Some(Decision::Adapt) => self.adapt += 1,
            Some(Decision::Abandon) => self.abandon += 1,
            None => self.open += 1,
        }
    }
}

/// One site's ramp.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiteRamp {
    /// The site.
    pub site: String,
    /// Its cycles by number.
    pub cycles: Vec<CycleSummary>,
    /// Its decisions.
    pub decisions: DecisionCounts,
    /// Where it stands: `testing`, `adopted`, `adapted` or `abandoned` (its latest cycle).
    pub status: &'static str,
    /// Days from its first cycle's start to the start of the cycle that adopted the
    /// change (its planned end if given), when it adopted and the dates are known.
    pub days_to_adoption: Option<i64>,
}

/// A change idea across sites.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The change idea's id.
    pub change_idea: String,
    /// Each site that tested it, by site id.
    pub sites: Vec<SiteRamp>,
    /// Decisions network-wide.
    pub decisions: DecisionCounts,
}

fn decision_word(d: Decision) -> &'static str {
    match d {
        Decision::Adopt => "adopt",
        Decision::Adapt => "adapt",
        Decision::Abandon => "abandon",
    }
}

/// Compares the cycles testing `change_idea` (others in `cycles` are ignored).
pub fn compare(change_idea: &str, cycles: &[CycleInput<'_>]) -> Comparison {
    let mut by_site: BTreeMap<String, Vec<&CycleInput<'_>>> = BTreeMap::new();
    for c in cycles
        .iter()
        .filter(|c| c.cycle.change_idea_id == change_idea)
    {
        let site = c.site.clone().unwrap_or_else(|| "network".to_owned());
        by_site.entry(site).or_default().push(c);
    }
    let mut total = DecisionCounts::default();
    let sites = by_site
        .into_iter()
        .map(|(site, mut list)| {
            list.sort_by(|a, b| {
                (a.cycle.cycle_number, &a.doc).cmp(&(b.cycle.cycle_number, &b.doc))
            });
            let mut decisions = DecisionCounts::default();
            for c in &list {
                decisions.add(c.cycle.act.decision);
                total.add(c.cycle.act.decision);
            }
            let status = match list.last().and_then(|c| c.cycle.act.decision) {
                None => "testing",
                Some(Decision::Adopt) => "adopted",
                Some(Decision::Adapt) => "adapted",
                Some(Decision::Abandon) => "abandoned",
            };
            let first_start = list
                .iter()
                .find_map(|c| c.cycle.planned_start.as_deref().and_then(day_number));
            let adopted = list
                .iter()
                .find(|c| c.cycle.act.decision == Some(Decision::Adopt))
                .and_then(|c| {
                    c.cycle
                        .planned_end
                        .as_deref()
                        .or(c.cycle.planned_start.as_deref())
                        .and_then(day_number)
                });
            let days_to_adoption = first_start.zip(adopted).map(|(a, b)| b - a);
            SiteRamp {
                site,
                cycles: list.iter().map(|c| summary(c)).collect(),
                decisions,
                status,
                days_to_adoption,
            }
        })
        .collect();
    Comparison {
        change_idea: change_idea.to_owned(),
        sites,
        decisions: total,
    }
}

fn summary(c: &CycleInput<'_>) -> CycleSummary {
    let cycle = c.cycle;
    CycleSummary {
        doc: c.doc.clone(),
        number: cycle.cycle_number,
        planned_start: cycle.planned_start.clone(),
        planned_end: cycle.planned_end.clone(),
        predictions: cycle
            .plan
            .questions
            .iter()
            .map(|q| Prediction {
                question: q.question.as_str().to_owned(),
                prediction: q.prediction.as_str().to_owned(),
                result: cycle
                    .study
                    .results
                    .iter()
                    .find(|r| r.question_id == q.id)
                    .map(|r| r.result.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect(),
        learning: cycle.study.learning.as_str().to_owned(),
        decision: cycle.act.decision.map(decision_word),
    }
}
