//! The rules that tell signal from noise in a measure's series, as their sources publish
//! them (IHI: Perla, Provost & Murray 2011; Anhøj: qicharts2; XmR: NHS Making Data Count):
//! IHI run-chart rules, Anhøj's rules (as qicharts2 applies them), and XmR rules (NHS
//! "Making Data Count"). Each signal is labelled improvement, concern or neutral from the
//! measure's direction.

use nic_model::schema::measure::Direction;
use serde::Serialize;

use crate::runs::{self, Side};
use crate::stats;

/// Which rules to apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// IHI run-chart rules (Perla, Provost & Murray 2011): median; shift, trend, runs,
    /// astronomical points (candidates beyond XmR limits).
    #[default]
    Ihi,
    /// Anhøj's rules: median; unusually long run, too few crossings.
    Anhoj,
    /// XmR chart (NHS Making Data Count): mean and limits; a point outside, 7 on one side,
    /// 7 rising or falling, 2 of 3 beyond 2 sigma.
    Xmr,
}

/// A rule that fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// IHI: 6 or more consecutive points on one side of the median.
    Shift,
    /// IHI: 5 or more consecutive points going up, or going down.
    Trend,
    /// IHI: fewer runs than chance allows (Swed–Eisenhart, 5% two-tailed).
    TooFewRuns,
    /// IHI: more runs than chance allows.
    TooManyRuns,
    /// IHI: a candidate astronomical point (beyond an XmR 3-sigma limit).
    AstronomicalPoint,
    /// Anhøj: a run longer than round(log2(n)) + 3.
    LongRun,
    /// Anhøj: fewer crossings than the 5% quantile of Binomial(n − 1, 0.5).
    FewCrossings,
    /// XmR: a point outside the process limits.
    OutsideLimits,
    /// XmR: 7 or more consecutive points on one side of the mean.
    RunOfSeven,
    /// XmR: 7 or more consecutive points rising, or falling.
    TrendOfSeven,
    /// XmR: 2 of 3 consecutive points beyond 2 sigma on the same side.
    TwoOfThreeBeyondTwoSigma,
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
    /// Indices of the points involved (all the series for a whole-series rule).
    pub points: Vec<usize>,
    /// Improvement, concern or neutral.
    pub label: Label,
    /// What was found, for people.
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

/// Everything the rules found in one series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// The rules applied.
    pub rule_set: RuleSet,
    /// The centre line: the median (IHI, Anhøj) or the mean (XmR); `None` if no points.
    pub centre: Option<f64>,
    /// XmR limits (XmR; IHI uses them for astronomical points), when there are 2+ points.
    pub limits: Option<Limits>,
    /// Points not on the median.
    pub useful_observations: usize,
    /// Runs about the median.
    pub runs: usize,
    /// Crossings of the median.
    pub crossings: usize,
    /// The longest run about the median.
    pub longest_run: usize,
    /// IHI: (too few if runs ≤ this, too many if runs ≥ this).
    pub runs_limits: Option<(u64, u64)>,
    /// Anhøj: a run longer than this signals.
    pub longest_run_limit: Option<usize>,
    /// Anhøj: fewer crossings than this signal.
    pub crossings_limit: Option<u64>,
    /// What fired.
    pub signals: Vec<Signal>,
    /// Caveats, e.g. too few points for a rule to be trusted.
    pub warnings: Vec<String>,
}

/// The XmR multiplier for the process limits.
const E2: f64 = 2.66;

fn label_side(side: Side, direction: Direction) -> Label {
    match (side, direction) {
        (Side::Above, Direction::Up) | (Side::Below, Direction::Down) => Label::Improvement,
        _ => Label::Concern,
    }
}

fn label_rising(rising: bool, direction: Direction) -> Label {
    label_side(if rising { Side::Above } else { Side::Below }, direction)
}

/// A value as people read it: at most one decimal.
fn round1(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Above => "above",
        Side::Below => "below",
    }
}

/// The points outside the process limits: index, value and side.
fn beyond_limits(values: &[f64], limits: &Limits) -> Vec<(usize, f64, Side)> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, &v)| {
            if v > limits.upper {
                Some((i, v, Side::Above))
            } else if v < limits.lower {
                Some((i, v, Side::Below))
            } else {
                None
            }
        })
        .collect()
}

/// XmR limits from the values (at least 2).
pub fn xmr_limits(values: &[f64]) -> Option<Limits> {
    if values.len() < 2 {
        return None;
    }
    let mean = stats::mean(values)?;
    let ranges: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let amr = stats::mean(&ranges)?;
    Some(Limits {
        mean,
        average_moving_range: amr,
        lower: mean - E2 * amr,
        upper: mean + E2 * amr,
        lower_two_sigma: mean - 2.0 / 3.0 * E2 * amr,
        upper_two_sigma: mean + 2.0 / 3.0 * E2 * amr,
    })
}

/// Applies `rule_set` to `values` (in time order) of a measure whose better direction is
/// `direction`.
pub fn analyse(values: &[f64], direction: Direction, rule_set: RuleSet) -> Analysis {
    let median = stats::median(values);
    let sides = median.map(|m| runs::sides(values, m)).unwrap_or_default();
    let runs_list = runs::runs(&sides);
    let useful = runs::useful(&sides);
    let mut analysis = Analysis {
        rule_set,
        centre: median,
        limits: xmr_limits(values),
        useful_observations: useful,
        runs: runs_list.len(),
        crossings: runs::crossings(&runs_list),
        longest_run: runs_list.iter().map(|r| r.points.len()).max().unwrap_or(0),
        runs_limits: None,
        longest_run_limit: None,
        crossings_limit: None,
        signals: Vec::new(),
        warnings: Vec::new(),
    };
    match rule_set {
        RuleSet::Ihi => ihi(values, direction, &sides, &runs_list, &mut analysis),
        RuleSet::Anhoj => anhoj(direction, &runs_list, &mut analysis),
        RuleSet::Xmr => {
            analysis.centre = analysis.limits.map(|l| l.mean);
            xmr(values, direction, &mut analysis);
        }
    }
    analysis
}

fn ihi(
    values: &[f64],
    direction: Direction,
    sides: &[Option<Side>],
    runs_list: &[runs::Run],
    a: &mut Analysis,
) {
    for run in runs_list.iter().filter(|r| r.points.len() >= 6) {
        a.signals.push(Signal {
            rule: Rule::Shift,
            points: run.points.clone(),
            label: label_side(run.side, direction),
            detail: format!(
                "shift: {} consecutive points {} the median",
                run.points.len(),
                side_word(run.side)
            ),
        });
    }
    for (first, last, rising, count) in runs::monotone_stretches(values) {
        if count >= 5 {
            a.signals.push(Signal {
                rule: Rule::Trend,
                points: (first..=last).collect(),
                label: label_rising(rising, direction),
                detail: format!(
                    "trend: {count} consecutive points {}",
                    if rising { "going up" } else { "going down" }
                ),
            });
        }
    }
    let above = sides.iter().filter(|s| **s == Some(Side::Above)).count() as u64;
    let below = sides.iter().filter(|s| **s == Some(Side::Below)).count() as u64;
    if above > 0 && below > 0 {
        let (lower, upper) = stats::runs_critical_values(above, below, 0.05);
        a.runs_limits = Some((lower, upper));
        let runs = a.runs as u64;
        let every: Vec<usize> = (0..values.len()).collect();
        if runs <= lower {
            a.signals.push(Signal {
                rule: Rule::TooFewRuns,
                points: every.clone(),
                label: Label::Neutral,
                detail: format!("too few runs: {runs} (chance gives more than {lower})"),
            });
        } else if runs >= upper {
            a.signals.push(Signal {
                rule: Rule::TooManyRuns,
                points: every,
                label: Label::Neutral,
                detail: format!("too many runs: {runs} (chance gives fewer than {upper})"),
            });
        }
    }
    if a.useful_observations < 10 {
        a.warnings.push(format!(
            "only {} points off the median: the runs rule needs about 10 to be trusted",
            a.useful_observations
        ));
    }
    if let Some(limits) = a.limits {
        for (i, v, side) in beyond_limits(values, &limits) {
            a.signals.push(Signal {
                rule: Rule::AstronomicalPoint,
                points: vec![i],
                label: label_side(side, direction),
                detail: format!(
                    "candidate astronomical point: {} is {} the 3-sigma limit",
                    round1(v),
                    side_word(side)
                ),
            });
        }
    }
}

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

fn anhoj(direction: Direction, runs_list: &[runs::Run], a: &mut Analysis) {
    let n = a.useful_observations;
    if n == 0 {
        return;
    }
    let (longest_limit, crossings_limit) = anhoj_limits(n);
    a.longest_run_limit = Some(longest_limit);
    a.crossings_limit = Some(crossings_limit);
    for run in runs_list.iter().filter(|r| r.points.len() > longest_limit) {
        a.signals.push(Signal {
            rule: Rule::LongRun,
            points: run.points.clone(),
            label: label_side(run.side, direction),
            detail: format!(
                "unusually long run: {} points {} the median (more than {longest_limit})",
                run.points.len(),
                side_word(run.side)
            ),
        });
    }
    if (a.crossings as u64) < crossings_limit {
        a.signals.push(Signal {
            rule: Rule::FewCrossings,
            points: runs_list.iter().flat_map(|r| r.points.clone()).collect(),
            label: Label::Neutral,
            detail: format!(
                "too few crossings: {} (fewer than {crossings_limit})",
                a.crossings
            ),
        });
    }
    if n < 10 {
        a.warnings.push(format!(
            "only {n} useful observations: Anhøj's rules are calibrated from 10"
        ));
    }
}

fn xmr(values: &[f64], direction: Direction, a: &mut Analysis) {
    if values.len() < 12 {
        a.warnings.push(format!(
            "only {} points: XmR limits are unreliable with fewer than 12",
            values.len()
        ));
    }
    let Some(limits) = a.limits else {
        return;
    };
    for (i, v, side) in beyond_limits(values, &limits) {
        a.signals.push(Signal {
            rule: Rule::OutsideLimits,
            points: vec![i],
            label: label_side(side, direction),
            detail: format!("{} is {} the process limits", round1(v), side_word(side)),
        });
    }
    // Seven on one side of the mean: a point on the mean ends the run.
    let sides = runs::sides(values, limits.mean);
    let mut start = 0;
    while start < values.len() {
        let Some(side) = sides[start] else {
            start += 1;
            continue;
        };
        let mut end = start;
        while end + 1 < values.len() && sides[end + 1] == Some(side) {
            end += 1;
        }
        if end - start + 1 >= 7 {
            a.signals.push(Signal {
                rule: Rule::RunOfSeven,
                points: (start..=end).collect(),
                label: label_side(side, direction),
                detail: format!(
                    "{} consecutive points {} the mean",
                    end - start + 1,
                    side_word(side)
                ),
            });
        }
        start = end + 1;
    }
    // Seven rising or falling: each point strictly beyond the one before.
    let mut start = 0;
    while start + 1 < values.len() {
        if values[start + 1] == values[start] {
            start += 1;
            continue;
        }
        let rising = values[start + 1] > values[start];
        let mut end = start + 1;
        while end + 1 < values.len()
            && values[end + 1] != values[end]
            && (values[end + 1] > values[end]) == rising
        {
            end += 1;
        }
        if end - start + 1 >= 7 {
            a.signals.push(Signal {
                rule: Rule::TrendOfSeven,
                points: (start..=end).collect(),
                label: label_rising(rising, direction),
                detail: format!(
                    "{} consecutive points {}",
                    end - start + 1,
                    if rising { "rising" } else { "falling" }
                ),
            });
        }
        start = end;
    }
    // Two of three beyond 2 sigma, same side.
    let mut last: Option<Vec<usize>> = None;
    for w in 0..values.len().saturating_sub(2) {
        for side in [Side::Above, Side::Below] {
            let beyond: Vec<usize> = (w..w + 3)
                .filter(|&i| match side {
                    Side::Above => values[i] > limits.upper_two_sigma,
                    Side::Below => values[i] < limits.lower_two_sigma,
                })
                .collect();
            if beyond.len() >= 2 && last.as_ref() != Some(&beyond) {
                a.signals.push(Signal {
                    rule: Rule::TwoOfThreeBeyondTwoSigma,
                    points: beyond.clone(),
                    label: label_side(side, direction),
                    detail: format!("2 of 3 points {} the 2-sigma line", side_word(side)),
                });
                last = Some(beyond);
            }
        }
    }
}
