//! The few statistics the rules need, computed exactly rather than read from tables.

/// The median (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        f64::midpoint(v[mid - 1], v[mid])
    } else {
        v[mid]
    })
}

/// The arithmetic mean; `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // series are far shorter than 2^52
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// `n choose k` as a float (exact for the sizes run charts have; large values lose only
/// precision, never overflow to a wrong integer).
pub fn choose(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    let mut c = 1.0_f64;
    for i in 0..k {
        #[allow(clippy::cast_precision_loss)]
        {
            c = c * (n - i) as f64 / (i + 1) as f64;
        }
    }
    c
}

/// The smallest `x` with P(X ≤ x) ≥ `p` for X ~ Binomial(`n`, 1/2) — R's `qbinom(p, n, 0.5)`.
pub fn binomial_half_quantile(p: f64, n: u64) -> u64 {
    let total = 2f64.powi(i32::try_from(n).unwrap_or(i32::MAX));
    let mut cumulative = 0.0;
    for x in 0..=n {
        cumulative += choose(n, x) / total;
        // A hair of tolerance: the sum of exact fractions can land a rounding error short.
        if cumulative >= p - 1e-12 {
            return x;
        }
    }
    n
}

/// P(R = r) for the number of runs R in a random arrangement of `n1` symbols of one kind
/// and `n2` of the other (Swed & Eisenhart 1943).
pub fn runs_probability(n1: u64, n2: u64, r: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return if r == 1 { 1.0 } else { 0.0 };
    }
    if r < 2 {
        return 0.0;
    }
    let total = choose(n1 + n2, n1);
    let k = r / 2;
    let ways = if r.is_multiple_of(2) {
        2.0 * choose(n1 - 1, k - 1) * choose(n2 - 1, k - 1)
    } else {
        choose(n1 - 1, k - 1) * choose(n2 - 1, k) + choose(n1 - 1, k) * choose(n2 - 1, k - 1)
    };
    ways / total
}

/// The Swed–Eisenhart critical values for a two-tailed test at level `alpha` (0.05: 2.5% in
/// each tail), as the published tables print them: `(lower, upper)` where `lower` is the
/// largest r with P(R ≤ r) ≤ alpha/2 (1 when none: nothing is too few) and `upper` the
/// smallest r with P(R ≥ r) ≤ alpha/2 (one more than the most runs possible when none).
/// Too few runs: R ≤ lower; too many: R ≥ upper.
pub fn runs_critical_values(n1: u64, n2: u64, alpha: f64) -> (u64, u64) {
    let tail = alpha / 2.0;
    let max = if n1 == n2 { 2 * n1 } else { 2 * n1.min(n2) + 1 };
    let mut lower = 1;
    let mut cumulative = 0.0;
    for r in 2..=max {
        cumulative += runs_probability(n1, n2, r);
        if cumulative <= tail + 1e-12 {
            lower = r;
        } else {
            break;
        }
    }
    let mut upper = max + 1;
    let mut cumulative = 0.0;
    for r in (2..=max).rev() {
        cumulative += runs_probability(n1, n2, r);
        if cumulative <= tail + 1e-12 {
            upper = r;
        } else {
            break;
        }
    }
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_means() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    }

    #[test]
    fn the_runs_distribution_sums_to_one() {
        for (n1, n2) in [(5, 5), (8, 12), (10, 10), (3, 17)] {
            let total: f64 = (0..=n1 + n2 + 1).map(|r| runs_probability(n1, n2, r)).sum();
            assert!((total - 1.0).abs() < 1e-9, "{n1} {n2}: {total}");
        }
    }
}
