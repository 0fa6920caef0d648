//! `nic-insight`'s results in their `nic.v1` wire form.

use nic_insight::cycles::{Comparison, DecisionCounts};
use nic_insight::rules::{Analysis, Label, Rule, RuleSet};
use nic_insight::series::{Gap, Reference, Series};
use nic_proto::v1;

pub(crate) fn rule_set(wire: i32) -> RuleSet {
    match v1::RuleSet::try_from(wire) {
        Ok(v1::RuleSet::Anhoj) => RuleSet::Anhoj,
        Ok(v1::RuleSet::Xmr) => RuleSet::Xmr,
        _ => RuleSet::Ihi,
    }
}

pub(crate) fn reference(wire: i32) -> Reference {
    match v1::GapReference::try_from(wire) {
        Ok(v1::GapReference::Best) => Reference::Best,
        _ => Reference::All,
    }
}

fn counts(d: DecisionCounts) -> v1::DecisionCounts {
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    v1::DecisionCounts {
        adopt: n(d.adopt),
        adapt: n(d.adapt),
        abandon: n(d.abandon),
        open: n(d.open),
    }
}

/// A word for a serde-named enum value (`TooFewRuns` → `too_few_runs`).
fn snake(debug: &str) -> String {
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn rule_name(rule: Rule) -> String {
    snake(&format!("{rule:?}"))
}

pub(crate) fn label_name(label: Label) -> String {
    snake(&format!("{label:?}"))
}

pub(crate) fn comparison(c: &Comparison) -> v1::CycleComparison {
    v1::CycleComparison {
        change_idea: c.change_idea.clone(),
        sites: c
            .sites
            .iter()
            .map(|s| v1::SiteRamp {
                site_id: s.site.clone(),
                cycles: s
                    .cycles
                    .iter()
                    .map(|c| v1::CycleSummary {
                        doc_id: c.doc.clone(),
                        number: c.number,
                        planned_start: c.planned_start.clone().unwrap_or_default(),
                        planned_end: c.planned_end.clone().unwrap_or_default(),
                        predictions: c
                            .predictions
                            .iter()
                            .map(|p| v1::Prediction {
                                question: p.question.clone(),
                                prediction: p.prediction.clone(),
                                result: p.result.clone(),
                            })
                            .collect(),
                        learning: c.learning.clone(),
                        decision: c.decision.unwrap_or("").to_owned(),
                    })
                    .collect(),
                decisions: Some(counts(s.decisions)),
                status: s.status.to_owned(),
                days_to_adoption: s.days_to_adoption,
            })
            .collect(),
        decisions: Some(counts(c.decisions)),
    }
}

fn analysis(a: &Analysis, shown_periods: &[&str]) -> v1::Analysis {
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    v1::Analysis {
        rule_set: snake(&format!("{:?}", a.rule_set)),
        centre: a.centre,
        limits: a.limits.map(|l| v1::ProcessLimits {
            mean: l.mean,
            lower: l.lower,
            upper: l.upper,
            lower_two_sigma: l.lower_two_sigma,
            upper_two_sigma: l.upper_two_sigma,
            average_moving_range: l.average_moving_range,
        }),
        signals: a
            .signals
            .iter()
            .map(|s| v1::ChartSignal {
                rule: rule_name(s.rule),
                label: label_name(s.label),
                periods: s
                    .points
                    .iter()
                    .filter_map(|&i| shown_periods.get(i).map(|p| (*p).to_owned()))
                    .collect(),
                detail: s.detail.clone(),
            })
            .collect(),
        warnings: a.warnings.clone(),
        useful_observations: n(a.useful_observations),
        runs: n(a.runs),
        crossings: n(a.crossings),
        longest_run: n(a.longest_run),
    }
}

pub(crate) fn series(s: &Series) -> v1::Series {
    let shown = s.shown_periods();
    v1::Series {
        site_id: s.site.clone(),
        group: s.group.clone(),
        points: s
            .points
            .iter()
            .map(|p| v1::SeriesPoint {
                period: p.period.clone(),
                value: p.value,
                n: p.n,
                suppressed: p.suppressed.map(|w| w.explain()).unwrap_or_default(),
            })
            .collect(),
        analysis: Some(analysis(&s.analysis, &shown)),
    }
}

pub(crate) fn gap(g: &Gap) -> v1::Gap {
    v1::Gap {
        site_id: g.site.clone(),
        focal_group: g.focal.clone(),
        reference: snake(&format!("{:?}", g.reference)),
        points: g
            .points
            .iter()
            .map(|p| v1::GapPoint {
                period: p.period.clone(),
                gap: p.gap,
                suppressed: p.suppressed.map(|w| w.explain()).unwrap_or_default(),
            })
            .collect(),
        closing: g.closing,
    }
}
