//! The IHI runs rule against Perla, Provost & Murray (BMJ Qual Saf 2011;20:46–51), Table 1,
//! row by row, with the table's own boundary rule: *fewer* runs than the lower limit are too
//! few, *more* than the upper limit too many; a count equal to a limit is not a signal.
//!
//! For every row a series is built with exactly that many useful observations (split about
//! the median as evenly as a median splits them, points on the median added when the count
//! is odd) and every possible number of runs, and the analysis must flag exactly the counts
//! outside the row's range.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_insight::rules::{RunsSource, expected_runs};
use nic_insight::stats::runs_critical_values;
use nic_insight::{Rule, RuleSet, analyse};
use nic_model::schema::measure::Direction;

/// Table 1 as published: (useful observations, lower limit, upper limit).
const TABLE_1: [(u64, u64, u64); 51] = [
    (10, 3, 9),
    (11, 3, 10),
    (12, 3, 11),
    (13, 4, 11),
    (14, 4, 12),
    (15, 5, 12),
    (16, 5, 13),
    (17, 5, 13),
    (18, 6, 14),
    (19, 6, 15),
    (20, 6, 16),
    (21, 7, 16),
    (22, 7, 17),
    (23, 7, 17),
    (24, 8, 18),
    (25, 8, 18),
    (26, 9, 19),
    (27, 10, 19),
    (28, 10, 20),
    (29, 10, 20),
    (30, 11, 21),
    (31, 11, 22),
    (32, 11, 22),
    (33, 11, 23),
    (34, 12, 23),
    (35, 13, 24),
    (36, 13, 24),
    (37, 13, 25),
    (38, 14, 26),
    (39, 14, 26),
    (40, 15, 27),
    (41, 16, 27),
    (42, 16, 28),
    (43, 17, 28),
    (44, 17, 29),
    (45, 17, 30),
    (46, 17, 31),
    (47, 18, 31),
    (48, 18, 32),
    (49, 19, 32),
    (50, 19, 33),
    (51, 20, 33),
    (52, 21, 33),
    (53, 21, 34),
    (54, 22, 34),
    (55, 22, 35),
    (56, 23, 35),
    (57, 23, 36),
    (58, 24, 36),
    (59, 24, 37),
    (60, 25, 37),
];

/// A series with `useful` observations off the median arranged in exactly `runs` runs, or
/// `None` when that many runs cannot be made. Below the median: ⌊useful/2⌋ points at 1;
/// above: the rest at 9; with an odd count two points sit on the median (5) at the end, so
/// the median is 5 and they are not useful.
fn series(useful: u64, runs: u64) -> Option<Vec<f64>> {
    let below = useful / 2;
    let above = useful - below;
    // Start with the side that has more points, so every feasible count can be made.
    let (first, second) = ((above, 9.0), (below, 1.0));
    let first_runs = runs.div_ceil(2);
    let second_runs = runs / 2;
    if runs < 2 || first_runs > first.0 || second_runs > second.0 || second_runs == 0 {
        return None;
    }
    let sizes = |total: u64, k: u64| -> Vec<u64> {
        let mut v = vec![1; k as usize];
        v[0] += total - k;
        v
    };
    let (a, b) = (sizes(first.0, first_runs), sizes(second.0, second_runs));
    let mut out = Vec::new();
    for r in 0..runs as usize {
        let (size, value) = if r % 2 == 0 {
            (a[r / 2], first.1)
        } else {
            (b[r / 2], second.1)
        };
        out.extend(std::iter::repeat_n(value, size as usize));
    }
    if useful % 2 == 1 {
        out.extend([5.0, 5.0]);
    }
    Some(out)
}

fn runs_signals(values: &[f64]) -> (bool, bool) {
    let found = analyse(values, Direction::Up, RuleSet::Ihi);
    let has = |rule| found.signals.iter().any(|s| s.rule == rule);
    (has(Rule::TooFewRuns), has(Rule::TooManyRuns))
}

#[test]
fn every_row_of_table_1_with_its_boundaries() {
    for (n, lower, upper) in TABLE_1 {
        let expected = expected_runs(n).expect("a row");
        assert_eq!(
            (expected.lower, expected.upper, expected.source),
            (lower, upper, RunsSource::PerlaTable),
            "row {n}"
        );
        let mut checked = 0;
        for runs in 2..=n {
            let Some(values) = series(n, runs) else {
                continue;
            };
            let found = analyse(&values, Direction::Up, RuleSet::Ihi);
            let summary = found.runs().unwrap();
            assert_eq!(
                (summary.useful_observations as u64, summary.runs as u64),
                (n, runs),
                "the series for row {n} with {runs} runs is built wrong"
            );
            let (few, many) = runs_signals(&values);
            assert_eq!(few, runs < lower, "row {n}: {runs} runs, too few?");
            assert_eq!(many, runs > upper, "row {n}: {runs} runs, too many?");
            checked += 1;
        }
        // Both boundaries, and one beyond each, are among the counts checked.
        assert!(checked as u64 >= upper - lower + 3, "row {n}");
    }
}

#[test]
fn twenty_useful_observations_expect_six_to_sixteen() {
    // The example in the rule's own words: 6 and 16 runs are not signals, 5 and 17 are.
    for (runs, few, many) in [
        (5, true, false),
        (6, false, false),
        (16, false, false),
        (17, false, true),
    ] {
        let values = series(20, runs).unwrap();
        assert_eq!(runs_signals(&values), (few, many), "{runs} runs");
    }
    let found = analyse(&series(20, 5).unwrap(), Direction::Up, RuleSet::Ihi);
    let detail = &found
        .signals
        .iter()
        .find(|s| s.rule == Rule::TooFewRuns)
        .unwrap()
        .detail;
    assert_eq!(
        detail,
        "too few runs: 5, where 6 to 16 runs are expected for 20 useful observations \
         (Perla, Provost & Murray 2011, Table 1)"
    );
}

#[test]
fn below_ten_the_rule_is_not_applied_and_says_so() {
    for n in 2..10 {
        assert!(expected_runs(n).is_none());
        let values = series(n, 2).unwrap();
        assert_eq!(runs_signals(&values), (false, false));
        let found = analyse(&values, Direction::Up, RuleSet::Ihi);
        assert!(
            found
                .warnings
                .iter()
                .any(|w| w.contains("runs rule starts at 10")),
            "{n}: {:?}",
            found.warnings
        );
    }
}

#[test]
fn beyond_the_table_the_swed_eisenhart_limits_are_used_and_named() {
    for n in [61_u64, 64, 75, 100, 151] {
        let e = expected_runs(n).unwrap();
        let (c_low, c_high) = runs_critical_values(n / 2, n - n / 2, 0.05);
        assert_eq!(
            (e.lower, e.upper, e.source),
            (c_low + 1, c_high - 1, RunsSource::SwedEisenhart)
        );
        for (runs, few, many) in [
            (e.lower - 1, true, false),
            (e.lower, false, false),
            (e.upper, false, false),
            (e.upper + 1, false, true),
        ] {
            let values = series(n, runs).unwrap();
            assert_eq!(runs_signals(&values), (few, many), "n {n}, {runs} runs");
        }
        let found = analyse(
            &series(n, e.lower - 1).unwrap(),
            Direction::Up,
            RuleSet::Ihi,
        );
        assert!(
            found.signals[0..]
                .iter()
                .any(|s| s.rule == Rule::TooFewRuns && s.detail.contains("Swed–Eisenhart")),
            "{:?}",
            found.signals
        );
    }
}
