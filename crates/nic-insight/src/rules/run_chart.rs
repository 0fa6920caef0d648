//! Run charts: the IHI rules and Anhøj's, against a phase's median.
//!
//! **Candidate astronomical points** (IHI). Perla, Provost & Murray leave the astronomical
//! point to judgement ("a data point that is blatantly different from the rest"). This
//! module offers candidates by one written rule: an interior point that stands out from
//! *both* its neighbours, on the same side, by more than the upper range limit of the
//! phase's moving ranges — 3.865 × the median moving range (Wheeler's limit for median
//! moving ranges, robust to the spike itself and to a level change). A level change makes
//! one large moving range, not two, so the points of a new level after a shift are never
//! candidates: the shift rule reports them. The first and last points of a phase have one
//! neighbour and cannot be told from the start of a new level, so they are not judged.

use crate::runs::{self, Side};
use crate::stats;

use super::{
    Label, Lines, Phase, PhaseFound, Rule, RuleSet, RunsSummary, Segment, expected_runs,
    label_rising, label_side, num, side_word, signal,
};

/// Wheeler's upper range limit for the median moving range.
const MEDIAN_RANGE_LIMIT: f64 = 3.865;

/// Anhøj's limits for `n` useful observations (n ≥ 1): a run longer than the first value
/// signals, and fewer crossings than the second.
pub fn anhoj_limits(n: usize) -> (usize, u64) {
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let longest = (n.max(1) as f64).log2().round() as usize + 3;
    let crossings = stats::binomial_half_quantile(0.05, n.saturating_sub(1) as u64);
    (longest, crossings)
}

pub(crate) fn analyse_phase(seg: &Segment<'_>) -> PhaseFound {
    let values = seg.values;
    let median = stats::median(seg.baseline_values()).unwrap_or(0.0);
    let sides = runs::sides(values, median);
    let runs_list = runs::runs(&sides);
    let useful = runs::useful(&sides);
    let summary = RunsSummary {
        useful_observations: useful,
        runs: runs_list.len(),
        crossings: runs::crossings(&runs_list),
        longest_run: runs_list.iter().map(|r| r.points.len()).max().unwrap_or(0),
        expected_runs: None,
        longest_run_limit: None,
        crossings_limit: None,
    };
    let mut found = PhaseFound {
        phase: Phase {
            first: seg.offset,
            last: seg.offset + values.len() - 1,
            baseline_last: seg.offset + seg.baseline.min(values.len()) - 1,
            baseline_points: seg.baseline.min(values.len()),
            centre: median,
            limits: None,
            sigma_z: None,
            runs: Some(summary),
        },
        lines: vec![
            Lines {
                centre: median,
                lower: None,
                upper: None,
                lower_two_sigma: None,
                upper_two_sigma: None,
            };
            values.len()
        ],
        signals: Vec::new(),
        warnings: Vec::new(),
    };
    match seg.rule_set {
        RuleSet::Anhoj => anhoj(seg, &runs_list, &mut found),
        _ => ihi(seg, &runs_list, &mut found),
    }
    found
}

fn ihi(seg: &Segment<'_>, runs_list: &[runs::Run], found: &mut PhaseFound) {
    let at = |i: usize| seg.offset + i;
    for run in runs_list.iter().filter(|r| r.points.len() >= 6) {
        found.signals.push(signal(
            Rule::Shift,
            run.points.iter().map(|&i| at(i)).collect(),
            label_side(run.side, seg.direction),
            format!(
                "shift: {} consecutive points {} the median (6 or more is a shift)",
                run.points.len(),
                side_word(run.side)
            ),
        ));
    }
    for (first, last, rising, count) in runs::monotone_stretches(seg.values) {
        if count >= 5 {
            found.signals.push(signal(
                Rule::Trend,
                (at(first)..=at(last)).collect(),
                label_rising(rising, seg.direction),
                format!(
                    "trend: {count} consecutive points {} (5 or more is a trend)",
                    if rising { "going up" } else { "going down" }
                ),
            ));
        }
    }
    let Some(summary) = found.phase.runs.as_mut() else {
        return;
    };
    let useful = summary.useful_observations as u64;
    let runs = summary.runs as u64;
    match expected_runs(useful) {
        Some(expected) => {
            summary.expected_runs = Some(expected);
            let range = format!(
                "{} to {} runs are expected for {useful} useful observations ({})",
                expected.lower,
                expected.upper,
                expected.source.cite()
            );
            if runs < expected.lower {
                found.signals.push(signal(
                    Rule::TooFewRuns,
                    seg.whole(),
                    super::Label::Neutral,
                    format!("too few runs: {runs}, where {range}"),
                ));
            } else if runs > expected.upper {
                found.signals.push(signal(
                    Rule::TooManyRuns,
                    seg.whole(),
                    super::Label::Neutral,
                    format!("too many runs: {runs}, where {range}"),
                ));
            }
        }
        None => found.warnings.push(format!(
            "{}only {useful} points off the median: the runs rule starts at 10 useful \
             observations",
            seg.prefix()
        )),
    }
    astronomical(seg, found);
}

/// Candidate astronomical points: see the module documentation.
fn astronomical(seg: &Segment<'_>, found: &mut PhaseFound) {
    let v = seg.values;
    if v.len() < 3 {
        return;
    }
    let ranges: Vec<f64> = v.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let typical = stats::median(&ranges).unwrap_or(0.0);
    // With half the moving ranges zero the median says nothing: fall back on the average.
    let typical = if typical > 0.0 {
        typical
    } else {
        stats::mean(&ranges).unwrap_or(0.0)
    };
    if typical <= 0.0 {
        return;
    }
    let limit = MEDIAN_RANGE_LIMIT * typical;
    for i in 1..v.len() - 1 {
        let (before, after) = (v[i] - v[i - 1], v[i] - v[i + 1]);
        if before.abs() > limit && after.abs() > limit && before.signum() == after.signum() {
            let side = if before > 0.0 {
                Side::Above
            } else {
                Side::Below
            };
            found.signals.push(signal(
                Rule::AstronomicalPoint,
                vec![seg.offset + i],
                label_side(side, seg.direction),
                format!(
                    "candidate astronomical point: {} stands {} both neighbours by more \
                     than {} (3.865 × the median moving range {})",
                    num(v[i]),
                    if side == Side::Above {
                        "above"
                    } else {
                        "below"
                    },
                    num(limit),
                    num(typical)
                ),
            ));
        }
    }
}

fn anhoj(seg: &Segment<'_>, runs_list: &[runs::Run], found: &mut PhaseFound) {
    let Some(summary) = found.phase.runs.as_mut() else {
        return;
    };
    let n = summary.useful_observations;
    if n == 0 {
        return;
    }
    let (longest_limit, crossings_limit) = anhoj_limits(n);
    summary.longest_run_limit = Some(longest_limit);
    summary.crossings_limit = Some(crossings_limit);
    let crossings = summary.crossings;
    for run in runs_list.iter().filter(|r| r.points.len() > longest_limit) {
        found.signals.push(signal(
            Rule::LongRun,
            run.points.iter().map(|&i| seg.offset + i).collect(),
            label_side(run.side, seg.direction),
            format!(
                "unusually long run: {} points {} the median, where at most {longest_limit} \
                 are expected for {n} useful observations",
                run.points.len(),
                side_word(run.side)
            ),
        ));
    }
    if (crossings as u64) < crossings_limit {
        found.signals.push(signal(
            Rule::FewCrossings,
            seg.whole(),
            Label::Neutral,
            format!(
                "too few crossings: {crossings}, where at least {crossings_limit} are expected \
                 for {n} useful observations"
            ),
        ));
    }
    if n < 10 {
        found.warnings.push(format!(
            "{}only {n} useful observations: Anhøj's rules are calibrated from 10",
            seg.prefix()
        ));
    }
}
