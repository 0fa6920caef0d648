//! `nic-insight`'s results in their `nic.v1` wire form.

use nic_insight::cycles::{Comparison, DecisionCounts};
use nic_insight::export::snake;
use nic_insight::rules::{Analysis, Label, Rule, RuleSet, Verdict};
use nic_insight::series::{Gap, Reference, Series};
use nic_proto::v1;

pub(crate) fn rule_set(wire: i32) -> RuleSet {
    match v1::RuleSet::try_from(wire) {
        Ok(v1::RuleSet::Anhoj) => RuleSet::Anhoj,
        Ok(v1::RuleSet::Xmr) => RuleSet::Xmr,
        Ok(v1::RuleSet::P) => RuleSet::P,
        Ok(v1::RuleSet::PPrime) => RuleSet::PPrime,
        Ok(v1::RuleSet::U) => RuleSet::U,
        Ok(v1::RuleSet::UPrime) => RuleSet::UPrime,
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

pub(crate) fn rule_name(rule: Rule) -> String {
    snake(rule)
}

pub(crate) fn label_name(label: Label) -> String {
    snake(label)
}

pub(crate) fn comparison(c: &Comparison) -> v1::CompareCyclesResponse {
    v1::CompareCyclesResponse {
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
        // Filled in by the caller, which knows what the request read.
        unusable_documents: Vec::new(),
    }
}

fn limits(l: &nic_insight::Limits) -> v1::ProcessLimits {
    v1::ProcessLimits {
        mean: l.mean,
        lower: l.lower,
        upper: l.upper,
        lower_two_sigma: l.lower_two_sigma,
        upper_two_sigma: l.upper_two_sigma,
        average_moving_range: l.average_moving_range,
    }
}

/// A verdict's wire name (`TooFewPoints` → `too_few_points`).
pub(crate) fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Signals => "signals",
        Verdict::CommonCause => "common_cause",
        Verdict::TooFewPoints { .. } => "too_few_points",
        Verdict::NoVariation => "no_variation",
    }
}

fn analysis(a: &Analysis) -> v1::Analysis {
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    let n64 = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
    let runs = a.runs();
    let expected = runs.and_then(|r| r.expected_runs);
    v1::Analysis {
        rule_set: snake(a.rule_set),
        centre: a.centre,
        limits: a.limits.as_ref().map(limits),
        signals: a
            .signals
            .iter()
            .map(|s| v1::ChartSignal {
                rule: rule_name(s.rule),
                label: label_name(s.label),
                periods: s.periods.clone(),
                detail: s.detail.clone(),
                points: s.points.iter().map(|&i| n(i)).collect(),
            })
            .collect(),
        warnings: a.warnings.clone(),
        useful_observations: runs.map(|r| n(r.useful_observations)),
        runs: runs.map(|r| n(r.runs)),
        crossings: runs.map(|r| n(r.crossings)),
        longest_run: runs.map(|r| n(r.longest_run)),
        verdict: verdict_name(a.verdict).to_owned(),
        verdict_detail: a.verdict.describe(),
        runs_expected_lower: expected.map(|e| n64(e.lower)),
        runs_expected_upper: expected.map(|e| n64(e.upper)),
        runs_source: expected.map(|e| snake(e.source)).unwrap_or_default(),
        longest_run_limit: runs.and_then(|r| r.longest_run_limit).map(n),
        crossings_limit: runs.and_then(|r| r.crossings_limit).map(n64),
        lines: a
            .lines
            .iter()
            .map(|l| match l {
                Some(l) => v1::PointLines {
                    analysed: true,
                    centre: Some(l.centre),
                    lower: l.lower,
                    upper: l.upper,
                    lower_two_sigma: l.lower_two_sigma,
                    upper_two_sigma: l.upper_two_sigma,
                },
                None => v1::PointLines::default(),
            })
            .collect(),
        phases: a
            .phases
            .iter()
            .map(|p| v1::ChartPhase {
                first: n(p.first),
                last: n(p.last),
                baseline_last: n(p.baseline_last),
                centre: p.centre,
                limits: p.limits.as_ref().map(limits),
                sigma_z: p.sigma_z,
            })
            .collect(),
    }
}

pub(crate) fn series(s: &Series) -> v1::Series {
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
        analysis: Some(analysis(&s.analysis)),
    }
}

pub(crate) fn gap(g: &Gap) -> v1::Gap {
    v1::Gap {
        site_id: g.site.clone(),
        focal_group: g.focal.clone(),
        reference: snake(g.reference),
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
