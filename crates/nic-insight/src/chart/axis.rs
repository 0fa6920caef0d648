//! Axes people read at a glance: y ticks at round values ("nice numbers": steps of 1, 2,
//! 2.5 or 5 × 10^k) with the scale extended to the outer ticks, and a name for the period
//! axis from the data's cadence.

use super::layout::{Anchor, Rect, text_box, text_width};
use crate::dates::day_number;

/// The y axis: its ticks, lowest first, and the step between them.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    /// The tick values; the axis runs from the first to the last.
    pub values: Vec<f64>,
    /// The distance between neighbouring ticks: 1, 2, 2.5 or 5 × 10^k.
    pub step: f64,
}

impl Ticks {
    /// The lowest value on the axis.
    pub fn lo(&self) -> f64 {
        self.values.first().copied().unwrap_or(0.0)
    }

    /// The highest value on the axis.
    pub fn hi(&self) -> f64 {
        self.values.last().copied().unwrap_or(1.0)
    }

    /// How many decimals a tick label needs so every tick is written exactly.
    fn decimals(&self) -> usize {
        // 2.5 × 10^k needs one decimal more than 10^k.
        #[allow(clippy::cast_possible_truncation)]
        let k = self.step.log10().floor() as i32;
        let mantissa = self.step / 10f64.powi(k);
        let extra = i32::from((mantissa - 2.5).abs() < 1e-6);
        usize::try_from((extra - k).max(0)).unwrap_or(0)
    }

    /// A value read off the axis (a line's or a point's): one decimal finer than the ticks,
    /// trailing zeros dropped.
    pub(crate) fn value_label(&self, v: f64) -> String {
        let d = self.decimals() + 1;
        let s = format!("{v:.d$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".to_owned()
        } else {
            s.to_owned()
        }
    }

    /// A tick value as its label writes it.
    pub fn label(&self, v: f64) -> String {
        let d = self.decimals();
        let s = format!("{v:.d$}");
        // "-0" is not a number anyone writes.
        if s.trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
        {
            s.trim_start_matches('-').to_owned()
        } else {
            s
        }
    }
}

/// The most ticks an axis gets; the fewest is 3.
const MAX_TICKS: usize = 6;

/// Round ticks covering `lo..=hi`: the smallest nice step giving at most six ticks (from
/// which it follows that there are at least three), the axis extended to the multiples of
/// the step at or beyond each end. An empty or one-valued range is widened first.
pub fn nice_ticks(lo: f64, hi: f64) -> Ticks {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    if hi - lo < 1e-9 * lo.abs().max(1.0) {
        let pad = (lo.abs() * 0.05).max(1.0);
        lo -= pad;
        hi += pad;
    }
    let span = hi - lo;
    #[allow(clippy::cast_possible_truncation)]
    let k0 = span.log10().floor() as i32 - 2;
    for k in k0..k0 + 5 {
        for m in [1.0, 2.0, 2.5, 5.0] {
            let step = m * 10f64.powi(k);
            // A value within a hair of a multiple counts as on it (no extra tick beyond it).
            let first = (lo / step + 1e-9).floor();
            let last = (hi / step - 1e-9).ceil();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let count = (last - first).round() as usize + 1;
            if count <= MAX_TICKS {
                let values = (0..count)
                    .map(|i| {
                        #[allow(clippy::cast_precision_loss)]
                        let v = (first + i as f64) * step;
                        v
                    })
                    .collect();
                return Ticks { values, step };
            }
        }
    }
    // Unreachable for finite input (a step of 10^(k0+4) covers the span in two ticks).
    Ticks {
        values: vec![lo, hi],
        step: hi - lo,
    }
}

/// What the period axis is called, from the typical gap between periods.
pub fn period_axis_title(periods: &[&str]) -> &'static str {
    let days: Vec<i64> = periods.iter().filter_map(|p| day_number(p)).collect();
    let mut gaps: Vec<i64> = days.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    match gaps.get(gaps.len() / 2) {
        Some(1) => "day",
        Some(6..=8) => "week starting",
        Some(28..=31) => "month starting",
        Some(89..=92) => "quarter starting",
        _ => "period starting",
    }
}

/// Which periods to label under the axis (points at `xs`) and where: from the last period
/// backwards every so many points (as many as fit), and the first; each label kept only if
/// it is clear of the one to its right. The first label starts at its point and the last
/// ends at its point, so that both stay inside the plot's width.
pub(crate) fn period_labels(
    periods: &[&str],
    xs: &[f64],
    baseline: f64,
    size: f64,
) -> Vec<(usize, Rect, Anchor)> {
    let n = periods.len().min(xs.len());
    if n == 0 {
        return Vec::new();
    }
    let last = n - 1;
    let widest = periods
        .iter()
        .map(|p| text_width(p, size))
        .fold(0.0, f64::max);
    #[allow(clippy::cast_precision_loss)]
    let spacing = if n > 1 {
        (xs[last] - xs[0]) / last as f64
    } else {
        f64::MAX
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let step = ((widest + 10.0) / spacing).ceil().max(1.0) as usize;
    let place = |i: usize| {
        let (anchor, x) = if i == last && n > 1 {
            (Anchor::End, xs[i] + 4.0)
        } else if i == 0 && n > 1 {
            (Anchor::Start, xs[i] - 4.0)
        } else {
            (Anchor::Middle, xs[i])
        };
        (text_box(periods[i], size, x, baseline, anchor), anchor)
    };
    let mut candidates: Vec<usize> = (0..=last).rev().step_by(step).collect();
    if candidates.last() != Some(&0) {
        candidates.push(0);
    }
    // The first period matters more than the regular label nearest it.
    let first_right = place(0).0.right();
    candidates.retain(|&i| i == 0 || i == last || place(i).0.x >= first_right + 6.0);
    let mut out = Vec::new();
    let mut left_edge = f64::INFINITY;
    for i in candidates {
        let (b, anchor) = place(i);
        if b.right() + 6.0 <= left_edge {
            left_edge = b.x;
            out.push((i, b, anchor));
        }
    }
    out
}
