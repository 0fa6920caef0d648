//! Control charts: XmR, P and U (with Laney's P′ and U′), and the four signal rules NHS
//! "Making Data Count" applies to all of them, against lines that may vary by point.
//!
//! - XmR: centre = mean of the baseline; limits = mean ± 2.66 × average moving range (AMR);
//!   2-sigma lines = mean ± (2/3 × 2.66) × AMR.
//! - P (proportions): p̄ = Σ numerators / Σ denominators of the baseline; at each point
//!   σᵢ = √(p̄(1 − p̄)/nᵢ); limits p̄ ± 3σᵢ (kept within 0 and 1), 2-sigma lines p̄ ± 2σᵢ.
//! - U (rates): ū = Σ counts / Σ exposure; σᵢ = √(ū/nᵢ); limits ū ± 3σᵢ (not below 0).
//! - P′ and U′ (Laney 2002, "Improved control charts for attributes", Quality Engineering
//!   14(4)): zᵢ = (pᵢ − p̄)/σᵢ over the baseline, σz = average moving range of z / 1.128,
//!   and every σᵢ is multiplied by σz — for large denominators, where between-period
//!   variation makes the P chart's limits too tight.
//!
//! Values and lines are in the measure's displayed unit (`scale` × the proportion).

use crate::runs::{self, Side};
use crate::stats;

use super::{
    E2, Limits, Lines, Phase, PhaseFound, Rule, RuleSet, Segment, label_rising, label_side, num,
    side_word, signal,
};

/// d2 for moving ranges of two: σ ≈ average moving range / 1.128.
const D2: f64 = 1.128;

/// XmR limits from the values (at least 2).
pub fn xmr_limits(values: &[f64]) -> Option<Limits> {
    if values.len() < 2 {
        return None;
    }
    let mean = stats::mean(values)?;
    let amr = average_moving_range(values)?;
    Some(Limits {
        mean,
        average_moving_range: amr,
        lower: mean - E2 * amr,
        upper: mean + E2 * amr,
        lower_two_sigma: mean - 2.0 / 3.0 * E2 * amr,
        upper_two_sigma: mean + 2.0 / 3.0 * E2 * amr,
    })
}

fn average_moving_range(values: &[f64]) -> Option<f64> {
    let ranges: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    stats::mean(&ranges)
}

pub(crate) fn analyse_phase(seg: &Segment<'_>) -> PhaseFound {
    let n = seg.values.len();
    let baseline_points = seg.baseline.min(n);
    let mut found = PhaseFound {
        phase: Phase {
            first: seg.offset,
            last: seg.offset + n - 1,
            baseline_last: seg.offset + baseline_points - 1,
            baseline_points,
            centre: 0.0,
            limits: None,
            sigma_z: None,
            runs: None,
        },
        lines: Vec::new(),
        signals: Vec::new(),
        warnings: Vec::new(),
    };
    let lines = match seg.rule_set {
        RuleSet::P | RuleSet::PPrime | RuleSet::U | RuleSet::UPrime => attribute(seg, &mut found),
        _ => xmr(seg, &mut found),
    };
    let Some(lines) = lines else {
        // One point: a centre line but no limits.
        let c = seg.values[0];
        found.phase.centre = c;
        found.lines = vec![
            Lines {
                centre: c,
                lower: None,
                upper: None,
                lower_two_sigma: None,
                upper_two_sigma: None,
            };
            n
        ];
        return found;
    };
    if baseline_points < 12 {
        found.warnings.push(format!(
            "{}only {baseline_points} point(s) behind the limits: limits are unreliable with \
             fewer than 12",
            seg.prefix()
        ));
    }
    found.signals = signals(seg, &lines);
    found.lines = lines;
    found
}

fn xmr(seg: &Segment<'_>, found: &mut PhaseFound) -> Option<Vec<Lines>> {
    let limits = xmr_limits(seg.baseline_values())?;
    found.phase.centre = limits.mean;
    found.phase.limits = Some(limits);
    Some(vec![
        Lines {
            centre: limits.mean,
            lower: Some(limits.lower),
            upper: Some(limits.upper),
            lower_two_sigma: Some(limits.lower_two_sigma),
            upper_two_sigma: Some(limits.upper_two_sigma),
        };
        seg.values.len()
    ])
}

/// P, P′, U and U′ lines; `None` without counts.
fn attribute(seg: &Segment<'_>, found: &mut PhaseFound) -> Option<Vec<Lines>> {
    let counts = seg.counts?;
    let base = &counts[..seg.baseline.min(counts.len())];
    let total: f64 = base.iter().map(|c| c.denominator).sum();
    if total <= 0.0 {
        return None;
    }
    let bar = base.iter().map(|c| c.numerator).sum::<f64>() / total;
    let proportion = matches!(seg.rule_set, RuleSet::P | RuleSet::PPrime);
    let sigma = |d: f64| {
        if proportion {
            (bar * (1.0 - bar) / d).max(0.0).sqrt()
        } else {
            (bar / d).max(0.0).sqrt()
        }
    };
    let sigma_z = if matches!(seg.rule_set, RuleSet::PPrime | RuleSet::UPrime) {
        let z: Vec<f64> = base
            .iter()
            .map(|c| {
                let s = sigma(c.denominator);
                if s > 0.0 {
                    (c.numerator / c.denominator - bar) / s
                } else {
                    0.0
                }
            })
            .collect();
        let sz = average_moving_range(&z).map_or(1.0, |amr| amr / D2);
        found.phase.sigma_z = Some(sz);
        sz
    } else {
        1.0
    };
    let (floor, ceiling) = if proportion {
        (0.0, seg.scale)
    } else {
        (0.0, f64::INFINITY)
    };
    found.phase.centre = bar * seg.scale;
    Some(
        counts
            .iter()
            .map(|c| {
                let s = sigma(c.denominator) * sigma_z * seg.scale;
                let centre = bar * seg.scale;
                Lines {
                    centre,
                    lower: Some((centre - 3.0 * s).max(floor)),
                    upper: Some((centre + 3.0 * s).min(ceiling)),
                    lower_two_sigma: Some((centre - 2.0 * s).max(floor)),
                    upper_two_sigma: Some((centre + 2.0 * s).min(ceiling)),
                }
            })
            .collect(),
    )
}

/// The four Making Data Count rules against per-point lines.
fn signals(seg: &Segment<'_>, lines: &[Lines]) -> Vec<super::Signal> {
    let v = seg.values;
    let at = |i: usize| seg.offset + i;
    let direction = seg.direction;
    let centre_name = seg.rule_set.centre_name();
    let mut out = Vec::new();
    for (i, (&x, l)) in v.iter().zip(lines).enumerate() {
        let (Some(lower), Some(upper)) = (l.lower, l.upper) else {
            continue;
        };
        let side = if x > upper {
            Side::Above
        } else if x < lower {
            Side::Below
        } else {
            continue;
        };
        let limit = if side == Side::Above { upper } else { lower };
        out.push(signal(
            Rule::OutsideLimits,
            vec![at(i)],
            label_side(side, direction),
            format!(
                "{} is {} the {} process limit {}",
                num(x),
                side_word(side),
                if side == Side::Above {
                    "upper"
                } else {
                    "lower"
                },
                num(limit)
            ),
        ));
    }
    // Seven on one side of the centre line: a point on the line ends the run.
    let sides: Vec<Option<Side>> = v
        .iter()
        .zip(lines)
        .map(|(&x, l)| runs::side(x, l.centre))
        .collect();
    let mut start = 0;
    while start < v.len() {
        let Some(side) = sides[start] else {
            start += 1;
            continue;
        };
        let mut end = start;
        while end + 1 < v.len() && sides[end + 1] == Some(side) {
            end += 1;
        }
        if end - start + 1 >= 7 {
            out.push(signal(
                Rule::RunOfSeven,
                (at(start)..=at(end)).collect(),
                label_side(side, direction),
                format!(
                    "{} consecutive points {} the {centre_name} (7 or more is a signal)",
                    end - start + 1,
                    side_word(side)
                ),
            ));
        }
        start = end + 1;
    }
    // Seven rising or falling: each point strictly beyond the one before.
    let mut start = 0;
    while start + 1 < v.len() {
        if v[start + 1] == v[start] {
            start += 1;
            continue;
        }
        let rising = v[start + 1] > v[start];
        let mut end = start + 1;
        while end + 1 < v.len() && v[end + 1] != v[end] && (v[end + 1] > v[end]) == rising {
            end += 1;
        }
        if end - start + 1 >= 7 {
            out.push(signal(
                Rule::TrendOfSeven,
                (at(start)..=at(end)).collect(),
                label_rising(rising, direction),
                format!(
                    "{} consecutive points {} (7 or more is a signal)",
                    end - start + 1,
                    if rising { "rising" } else { "falling" }
                ),
            ));
        }
        start = end;
    }
    out.extend(two_of_three(seg, lines));
    out
}

/// 2 of 3 consecutive points beyond the same 2-sigma line: windows that overlap are one
/// episode, reported once with every point beyond the line in it.
fn two_of_three(seg: &Segment<'_>, lines: &[Lines]) -> Vec<super::Signal> {
    let v = seg.values;
    let mut out = Vec::new();
    for side in [Side::Above, Side::Below] {
        let beyond = |i: usize| match side {
            Side::Above => lines[i].upper_two_sigma.is_some_and(|u| v[i] > u),
            Side::Below => lines[i].lower_two_sigma.is_some_and(|l| v[i] < l),
        };
        let mut episode: Vec<usize> = Vec::new();
        let mut last_window: Option<usize> = None;
        let flush = |episode: &mut Vec<usize>, out: &mut Vec<super::Signal>| {
            if episode.is_empty() {
                return;
            }
            let points: Vec<usize> = episode.iter().map(|&i| seg.offset + i).collect();
            let span = episode[episode.len() - 1] - episode[0] + 1;
            out.push(signal(
                Rule::TwoOfThreeBeyondTwoSigma,
                points,
                label_side(side, seg.direction),
                format!(
                    "2 of 3 points {} the 2-sigma line: {} points beyond it within {span} \
                     consecutive points",
                    side_word(side),
                    episode.len()
                ),
            ));
            episode.clear();
        };
        for w in 0..v.len().saturating_sub(2) {
            let hits: Vec<usize> = (w..w + 3).filter(|&i| beyond(i)).collect();
            if hits.len() < 2 {
                continue;
            }
            // A window that does not overlap the last firing one starts a new episode.
            if last_window.is_some_and(|l| w > l + 2) {
                flush(&mut episode, &mut out);
            }
            for i in hits {
                if !episode.contains(&i) {
                    episode.push(i);
                }
            }
            last_window = Some(w);
        }
        episode.sort_unstable();
        flush(&mut episode, &mut out);
    }
    out.sort_by_key(|s| s.points.first().copied());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_by_hand() {
        let l = xmr_limits(&[1.0, 3.0, 2.0]).expect("limits");
        assert!((l.mean - 2.0).abs() < 1e-12);
        assert!((l.average_moving_range - 1.5).abs() < 1e-12);
        assert!((l.upper - (2.0 + 2.66 * 1.5)).abs() < 1e-12);
    }
}
