//! The rules that tell signal from noise in a measure's series, as their sources publish
//! them:
//!
//! - IHI run-chart rules (Perla, Provost & Murray 2011): median; shift, trend, too few or too
//!   many runs read from the paper's Table 1 ([`runs_table`]), candidate astronomical points
//!   ([`run_chart`]);
//! - Anhøj's rules (as the R package qicharts2 applies them): median; unusually long run,
//!   too few crossings;
//! - XmR charts (NHS "Making Data Count"): mean, limits from the average moving range; a
//!   point outside, 7 on one side, 7 rising or falling, 2 of 3 beyond 2 sigma ([`control`]);
//! - P and U charts (proportions and rates with each period's denominator, limits that vary
//!   by point; Laney's P′ and U′ for large denominators), with the XmR chart's four signal
//!   rules ([`control`]).
//!
//! Each analysis reports the centre line and statistics of its own method only. A series
//! may be split into phases (a frozen baseline, a rebase at a date): each phase's centre
//! and limits come from its baseline points and extend to its end, and the rules are applied
//! phase by phase against them. Every signal is labelled improvement, concern or neutral
//! from the measure's direction.

pub mod control;
pub mod run_chart;
pub mod runs_table;

use nic_model::schema::measure::Direction;
use serde::Serialize;

pub use runs_table::{RunsExpected, RunsSource, expected_runs};

use crate::runs::Side;

/// Which rules to apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// IHI run-chart rules (Perla, Provost & Murray 2011): median; shift, trend, runs,
    /// candidate astronomical points.
    #[default]
    Ihi,
    /// Anhøj's rules: median; unusually long run, too few crossings.
    Anhoj,
    /// XmR chart (NHS Making Data Count): mean and limits; a point outside, 7 on one side,
    /// 7 rising or falling, 2 of 3 beyond 2 sigma.
    Xmr,
    /// P chart: a proportion with each period's denominator; limits vary by point.
    P,
    /// Laney's P′ chart: a P chart whose limits are widened (or narrowed) by the variation
    /// between periods, for large denominators where the P chart's limits are too tight.
    PPrime,
    /// U chart: a rate (count per unit of exposure) with each period's exposure.
    U,
    /// Laney's U′ chart: the U chart adjusted as P′ adjusts P.
    UPrime,
}

impl RuleSet {
    /// Whether the centre line is a median and the run-chart statistics apply.
    pub fn is_run_chart(self) -> bool {
        matches!(self, RuleSet::Ihi | RuleSet::Anhoj)
    }

    /// Whether the chart needs each period's numerator and denominator.
    pub fn needs_counts(self) -> bool {
        matches!(
            self,
            RuleSet::P | RuleSet::PPrime | RuleSet::U | RuleSet::UPrime
        )
    }

    /// What the centre line is called.
    pub fn centre_name(self) -> &'static str {
        match self {
            RuleSet::Ihi | RuleSet::Anhoj => "median",
            RuleSet::Xmr => "mean",
            RuleSet::P | RuleSet::PPrime => "overall proportion",
            RuleSet::U | RuleSet::UPrime => "overall rate",
        }
    }

    /// How many points (useful observations for run charts, points behind the limits for
    /// control charts) a phase needs before its absence of signals means anything.
    pub fn points_needed(self) -> usize {
        match self {
            RuleSet::Ihi | RuleSet::Anhoj => 10,
            _ => 12,
        }
    }
}

/// A rule that fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// IHI: 6 or more consecutive points on one side of the median.
    Shift,
    /// IHI: 5 or more consecutive points going up, or going down.
    Trend,
    /// IHI: fewer runs than Perla, Provost & Murray's Table 1 allows.
    TooFewRuns,
    /// IHI: more runs than the table allows.
    TooManyRuns,
    /// IHI: a candidate astronomical point (it stands out from both its neighbours).
    AstronomicalPoint,
    /// Anhøj: a run longer than round(log2(n)) + 3.
    LongRun,
    /// Anhøj: fewer crossings than the 5% quantile of Binomial(n − 1, 0.5).
    FewCrossings,
    /// XmR, P, U: a point outside the process limits.
    OutsideLimits,
    /// XmR, P, U: 7 or more consecutive points on one side of the centre line.
    RunOfSeven,
    /// XmR, P, U: 7 or more consecutive points rising, or falling.
    TrendOfSeven,
    /// XmR, P, U: 2 of 3 consecutive points beyond 2 sigma on the same side (one signal per
    /// episode of overlapping windows).
    TwoOfThreeBeyondTwoSigma,
}

impl Rule {
    /// Whether the rule speaks about the whole phase rather than some of its points.
    pub fn is_whole_series(self) -> bool {
        matches!(
            self,
            Rule::TooFewRuns | Rule::TooManyRuns | Rule::FewCrossings
        )
    }
}

/// What a signal means for the measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Movement in the measure's better direction.
    Improvement,
    /// Movement in its worse direction.
    Concern,
    /// Non-random, but no direction (e.g. too few runs).
    Neutral,
}

/// A signal: a rule that fired, on which points, and what it means.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Signal {
    /// The rule.
    pub rule: Rule,
    /// Indices of the points involved (every point of its phase for a whole-series rule).
    /// From [`analyse`] they index the values given; in a [`crate::series::Series`] they
    /// index its `points` (suppressed ones included), the array that is exported.
    pub points: Vec<usize>,
    /// The periods of those points, when the analysis belongs to a series (empty from a
    /// bare [`analyse`]).
    pub periods: Vec<String>,
    /// Improvement, concern or neutral.
    pub label: Label,
    /// What was found, for people: the observed value and what the rule expects.
    pub detail: String,
}

/// XmR process limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Limits {
    /// The mean (centre line).
    pub mean: f64,
    /// The average moving range.
    pub average_moving_range: f64,
    /// Mean − 2.66 × AMR.
    pub lower: f64,
    /// Mean + 2.66 × AMR.
    pub upper: f64,
    /// Mean − (2/3 × 2.66) × AMR: the 2-sigma line below.
    pub lower_two_sigma: f64,
    /// Mean + (2/3 × 2.66) × AMR.
    pub upper_two_sigma: f64,
}

/// The lines at one point: the centre, and for control charts the limits and 2-sigma lines
/// (which vary by point on P and U charts).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Lines {
    /// The centre line.
    pub centre: f64,
    /// The lower process limit (control charts).
    pub lower: Option<f64>,
    /// The upper process limit.
    pub upper: Option<f64>,
    /// The 2-sigma line below.
    pub lower_two_sigma: Option<f64>,
    /// The 2-sigma line above.
    pub upper_two_sigma: Option<f64>,
}

/// The run-chart statistics of a phase (IHI and Anhøj only).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RunsSummary {
    /// Points not on the median.
    pub useful_observations: usize,
    /// Runs about the median.
    pub runs: usize,
    /// Crossings of the median (runs − 1).
    pub crossings: usize,
    /// The longest run.
    pub longest_run: usize,
    /// IHI: the runs chance gives (fewer is too few, more too many); `None` below 10 useful
    /// observations.
    pub expected_runs: Option<RunsExpected>,
    /// Anhøj: a run longer than this signals.
    pub longest_run_limit: Option<usize>,
    /// Anhøj: fewer crossings than this signal.
    pub crossings_limit: Option<u64>,
}

/// A stretch of the series with its own centre and limits: the whole series, or the part
/// before or after a rebase.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Phase {
    /// Its first point (an index like the signals' points).
    pub first: usize,
    /// Its last point.
    pub last: usize,
    /// The last point the centre and limits are computed from (its baseline); later points
    /// are judged against them, extended.
    pub baseline_last: usize,
    /// Points in its baseline.
    pub baseline_points: usize,
    /// Its centre line: the median (run charts), the mean (XmR), the overall proportion or
    /// rate (P, U).
    pub centre: f64,
    /// XmR only: its limits.
    pub limits: Option<Limits>,
    /// P′ and U′ only: Laney's σz, how much wider (above 1) or narrower the limits are than
    /// the P or U chart's.
    pub sigma_z: Option<f64>,
    /// Run charts only: runs, crossings and their limits.
    pub runs: Option<RunsSummary>,
}

/// What the rules can say about a series overall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// At least one rule fired.
    Signals,
    /// Enough points, some variation, and no rule fired.
    CommonCause,
    /// No rule fired, but a phase has too few points for that to mean anything.
    TooFewPoints {
        /// Points the shortest phase has (useful observations for run charts, baseline
        /// points for control charts).
        have: usize,
        /// Points the rule set needs.
        needed: usize,
        /// Which phase is that short (1-based), when the series has several.
        phase: Option<usize>,
    },
    /// Every point is on the centre line, or the limits collapse onto it: nothing to judge.
    NoVariation,
}

impl Verdict {
    /// The verdict for people.
    pub fn describe(self) -> String {
        match self {
            Verdict::Signals => "signals found".into(),
            Verdict::CommonCause => "no signal: common-cause variation".into(),
            Verdict::TooFewPoints {
                have,
                needed,
                phase: None,
            } => format!("too few points to judge ({needed} needed, {have} here)"),
            Verdict::TooFewPoints {
                have,
                needed,
                phase: Some(k),
            } => format!("too few points to judge ({needed} needed, {have} in phase {k})"),
            Verdict::NoVariation => "no variation: every point is on the centre line".into(),
        }
    }
}

/// Everything the rules found in one series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// The rules applied.
    pub rule_set: RuleSet,
    /// The overall verdict.
    pub verdict: Verdict,
    /// The latest phase's centre line (see `phases` for each); `None` when nothing is shown.
    pub centre: Option<f64>,
    /// XmR only: the latest phase's limits.
    pub limits: Option<Limits>,
    /// The lines at each point (`None` where a point is not analysed: suppressed, or no
    /// value). From [`analyse`] one per value; in a series one per point.
    pub lines: Vec<Option<Lines>>,
    /// The phases, in order (one unless a baseline is frozen or the series is rebased).
    pub phases: Vec<Phase>,
    /// What fired.
    pub signals: Vec<Signal>,
    /// Caveats, e.g. too few points for a rule to be trusted.
    pub warnings: Vec<String>,
}

impl Analysis {
    /// The latest phase's run-chart statistics (IHI, Anhøj).
    pub fn runs(&self) -> Option<&RunsSummary> {
        self.phases.last().and_then(|p| p.runs.as_ref())
    }

    /// Every finding in words: each signal's detail, then each warning, then the verdict
    /// when no signal fired.
    pub fn findings(&self) -> Vec<String> {
        let mut out: Vec<String> = self.signals.iter().map(|s| s.detail.clone()).collect();
        out.extend(self.warnings.iter().cloned());
        if self.signals.is_empty() {
            out.push(self.verdict.describe());
        }
        out
    }
}

/// The counts behind a proportion or rate (P and U charts).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Counts {
    /// Students (or events) counted.
    pub numerator: f64,
    /// Out of (students, or units of exposure).
    pub denominator: f64,
}

/// Where a phase starts, and how many of its points form its baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseStart {
    /// Its first point (index into the values).
    pub start: usize,
    /// Points from `start` that the centre and limits are computed from; `None`: all of
    /// the phase's points.
    pub baseline: Option<usize>,
}

/// What to analyse.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The values, in time order, as shown (e.g. a proportion in %).
    pub values: &'a [f64],
    /// P and U charts: the counts behind each value (same length as `values`).
    pub counts: Option<&'a [Counts]>,
    /// Shown value = `scale` × numerator / denominator (100 for a proportion in %).
    pub scale: f64,
    /// Which way is better.
    pub direction: Direction,
    /// The rules.
    pub rule_set: RuleSet,
    /// Phase starts after the first (a rebase), or a first phase with a frozen baseline;
    /// empty: one phase, every point its baseline.
    pub phases: &'a [PhaseStart],
}

/// The XmR multiplier for the process limits.
pub(crate) const E2: f64 = 2.66;

pub(crate) fn label_side(side: Side, direction: Direction) -> Label {
    match (side, direction) {
        (Side::Above, Direction::Up) | (Side::Below, Direction::Down) => Label::Improvement,
        _ => Label::Concern,
    }
}

pub(crate) fn label_rising(rising: bool, direction: Direction) -> Label {
    label_side(if rising { Side::Above } else { Side::Below }, direction)
}

/// A value as people read it: at most two significant decimals.
pub(crate) fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    let s = format!("{r:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

pub(crate) fn side_word(side: Side) -> &'static str {
    match side {
        Side::Above => "above",
        Side::Below => "below",
    }
}

/// XmR limits from the values (at least 2).
pub fn xmr_limits(values: &[f64]) -> Option<Limits> {
    control::xmr_limits(values)
}

/// Anhøj's limits for `n` useful observations (n ≥ 1): a run longer than the first value
/// signals, and fewer crossings than the second.
pub fn anhoj_limits(n: usize) -> (usize, u64) {
    run_chart::anhoj_limits(n)
}

/// Applies `rule_set` to `values` (in time order, one phase) of a measure whose better
/// direction is `direction`. P and U charts need counts: use [`analyse_request`].
pub fn analyse(values: &[f64], direction: Direction, rule_set: RuleSet) -> Analysis {
    analyse_request(&Request {
        values,
        counts: None,
        scale: 1.0,
        direction,
        rule_set,
        phases: &[],
    })
}

/// The phases as index ranges: (first, last, baseline last), each non-empty.
fn phase_ranges(n: usize, starts: &[PhaseStart]) -> Vec<(usize, usize, usize)> {
    let mut starts: Vec<PhaseStart> = starts.iter().copied().filter(|p| p.start < n).collect();
    starts.sort_by_key(|p| p.start);
    starts.dedup_by_key(|p| p.start);
    if starts.first().is_none_or(|p| p.start != 0) {
        starts.insert(
            0,
            PhaseStart {
                start: 0,
                baseline: None,
            },
        );
    }
    let mut out = Vec::new();
    for (k, p) in starts.iter().enumerate() {
        let last = starts.get(k + 1).map_or(n, |q| q.start) - 1;
        let baseline_last = p
            .baseline
            .map_or(last, |b| (p.start + b.max(1) - 1).min(last));
        out.push((p.start, last, baseline_last));
    }
    out
}

/// Applies the rules as `request` says.
pub fn analyse_request(request: &Request<'_>) -> Analysis {
    let values = request.values;
    let n = values.len();
    let mut analysis = Analysis {
        rule_set: request.rule_set,
        verdict: Verdict::TooFewPoints {
            have: 0,
            needed: request.rule_set.points_needed(),
            phase: None,
        },
        centre: None,
        limits: None,
        lines: vec![None; n],
        phases: Vec::new(),
        signals: Vec::new(),
        warnings: Vec::new(),
    };
    if n == 0 {
        return analysis;
    }
    if request.rule_set.needs_counts()
        && request
            .counts
            .is_none_or(|c| c.len() != n || c.iter().any(|c| c.denominator <= 0.0))
    {
        analysis.warnings.push(
            "a P or U chart needs each period's numerator and denominator; this series has \
             none: use a run chart or XmR"
                .into(),
        );
        return analysis;
    }
    let ranges = phase_ranges(n, request.phases);
    let several = ranges.len() > 1;
    for (first, last, baseline_last) in ranges {
        let counts = request.counts.map(|c| &c[first..=last]);
        let phase = Segment {
            offset: first,
            values: &values[first..=last],
            counts,
            baseline: baseline_last - first + 1,
            scale: request.scale,
            direction: request.direction,
            rule_set: request.rule_set,
            name: several.then(|| format!("phase from point {}", first + 1)),
        };
        let found = if request.rule_set.is_run_chart() {
            run_chart::analyse_phase(&phase)
        } else {
            control::analyse_phase(&phase)
        };
        for (k, l) in found.lines.into_iter().enumerate() {
            analysis.lines[first + k] = Some(l);
        }
        analysis.signals.extend(found.signals);
        analysis.warnings.extend(found.warnings);
        analysis.phases.push(found.phase);
    }
    if let Some(p) = analysis.phases.last() {
        analysis.centre = Some(p.centre);
        analysis.limits = p.limits;
    }
    analysis.verdict = verdict(request, &analysis);
    analysis
}

fn verdict(request: &Request<'_>, a: &Analysis) -> Verdict {
    if !a.signals.is_empty() {
        return Verdict::Signals;
    }
    let needed = request.rule_set.points_needed();
    // What each phase's judgement rests on: useful observations for run charts, points
    // behind the limits for control charts.
    let basis: Vec<usize> = a
        .phases
        .iter()
        .map(|p| match &p.runs {
            Some(r) => r.useful_observations,
            None => p.baseline_points,
        })
        .collect();
    let flat = a.phases.iter().all(|p| {
        let lines = &a.lines[p.first..=p.last];
        match request.rule_set {
            RuleSet::Ihi | RuleSet::Anhoj => p.runs.is_some_and(|r| r.useful_observations == 0),
            _ => lines.iter().flatten().all(|l| {
                l.upper
                    .zip(l.lower)
                    .is_none_or(|(u, lo)| (u - lo).abs() < 1e-12)
            }),
        }
    });
    if flat {
        return Verdict::NoVariation;
    }
    let shortest = (0..basis.len()).min_by_key(|&k| basis[k]);
    let have = shortest.map_or(0, |k| basis[k]);
    if have < needed {
        Verdict::TooFewPoints {
            have,
            needed,
            phase: shortest.filter(|_| basis.len() > 1).map(|k| k + 1),
        }
    } else {
        Verdict::CommonCause
    }
}

/// One phase to analyse: its values, the counts behind them, and its baseline.
pub(crate) struct Segment<'a> {
    /// Index of its first value in the whole series (signals report whole-series indices).
    pub offset: usize,
    pub values: &'a [f64],
    pub counts: Option<&'a [Counts]>,
    /// Its first `baseline` values give the centre and limits.
    pub baseline: usize,
    pub scale: f64,
    pub direction: Direction,
    pub rule_set: RuleSet,
    /// How warnings name it when the series has several phases.
    pub name: Option<String>,
}

impl Segment<'_> {
    pub(crate) fn baseline_values(&self) -> &[f64] {
        &self.values[..self.baseline.min(self.values.len())]
    }

    /// A warning's prefix naming the phase, when there are several.
    pub(crate) fn prefix(&self) -> String {
        self.name
            .as_ref()
            .map(|n| format!("{n}: "))
            .unwrap_or_default()
    }

    pub(crate) fn whole(&self) -> Vec<usize> {
        (self.offset..self.offset + self.values.len()).collect()
    }
}

/// What a phase's analysis found.
pub(crate) struct PhaseFound {
    pub phase: Phase,
    pub lines: Vec<Lines>,
    pub signals: Vec<Signal>,
    pub warnings: Vec<String>,
}

pub(crate) fn signal(rule: Rule, points: Vec<usize>, label: Label, detail: String) -> Signal {
    Signal {
        rule,
        points,
        periods: Vec::new(),
        label,
        detail,
    }
}
