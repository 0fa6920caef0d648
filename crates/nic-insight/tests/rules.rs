//! The chart rules against worked examples with known answers: Anhøj's thresholds as
//! qicharts2 publishes them, a shift of exactly 6 against 5, points on the median, equal
//! neighbours in a trend, the Swed–Eisenhart critical values the runs rule uses beyond
//! Perla's table, and an XmR series against limits computed by hand. Perla's Table 1 row by
//! row is in `runs_table.rs`; P and U charts in `attribute.rs`; baselines in `phases.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_insight::stats::runs_critical_values;
use nic_insight::{Label, Rule, RuleSet, analyse, anhoj_limits};
use nic_model::schema::measure::Direction;

fn rules(values: &[f64], set: RuleSet) -> Vec<Rule> {
    analyse(values, Direction::Up, set)
        .signals
        .iter()
        .map(|s| s.rule)
        .collect()
}

#[test]
fn anhoj_thresholds_match_the_worked_values() {
    // n → (a run longer than this signals, fewer crossings than this signal).
    for (n, run, crossings) in [
        (10, 6, 2),
        (20, 7, 6),
        (24, 8, 8),
        (30, 8, 10),
        (50, 9, 19),
        (100, 10, 41),
    ] {
        assert_eq!(anhoj_limits(n), (run, crossings), "n = {n}");
    }
}

#[test]
fn a_shift_is_six_points_not_five() {
    // Median 5 (the series is symmetric): six points above, then below.
    let six = [1.0, 2.0, 1.0, 2.0, 8.0, 9.0, 8.0, 9.0, 8.0, 9.0, 1.0, 2.0];
    let found = analyse(&six, Direction::Up, RuleSet::Ihi);
    let shifts: Vec<_> = found
        .signals
        .iter()
        .filter(|s| s.rule == Rule::Shift)
        .collect();
    assert_eq!(shifts.len(), 1, "{:?}", found.signals);
    assert_eq!(shifts[0].points, vec![4, 5, 6, 7, 8, 9]);
    assert_eq!(shifts[0].label, Label::Improvement);

    let five = [1.0, 2.0, 1.0, 2.0, 1.0, 8.0, 9.0, 8.0, 9.0, 8.0, 1.0, 2.0];
    assert!(!rules(&five, RuleSet::Ihi).contains(&Rule::Shift));
}

#[test]
fn points_on_the_median_neither_add_to_nor_break_a_shift() {
    // Median 5: three above, one on the median, three above = a shift of six.
    let values = [
        1.0, 2.0, 1.0, 7.0, 8.0, 7.0, 5.0, 8.0, 7.0, 8.0, 2.0, 1.0, 2.0, 5.0, 1.0,
    ];
    let found = analyse(&values, Direction::Up, RuleSet::Ihi);
    assert_eq!(found.centre, Some(5.0));
    let shift = found
        .signals
        .iter()
        .find(|s| s.rule == Rule::Shift)
        .expect("a shift");
    assert_eq!(
        shift.points,
        vec![3, 4, 5, 7, 8, 9],
        "index 6 is on the median"
    );
    assert_eq!(found.runs().unwrap().useful_observations, values.len() - 2);
    // Five above with one on the median: not a shift.
    let short = [
        1.0, 2.0, 1.0, 7.0, 8.0, 5.0, 8.0, 7.0, 2.0, 1.0, 2.0, 5.0, 1.0,
    ];
    assert!(!rules(&short, RuleSet::Ihi).contains(&Rule::Shift));
}

#[test]
fn equal_neighbours_count_once_in_a_trend() {
    // 3, 4, 4, 5, 6: four distinct rising values, not five.
    let four = [9.0, 3.0, 4.0, 4.0, 5.0, 6.0, 2.0, 9.0];
    assert!(!rules(&four, RuleSet::Ihi).contains(&Rule::Trend));
    // 3, 4, 4, 5, 6, 7: five.
    let five = [9.0, 3.0, 4.0, 4.0, 5.0, 6.0, 7.0, 2.0];
    let found = analyse(&five, Direction::Down, RuleSet::Ihi);
    let trend = found
        .signals
        .iter()
        .find(|s| s.rule == Rule::Trend)
        .expect("a trend");
    assert_eq!(trend.points, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(
        trend.label,
        Label::Concern,
        "rising is worse when lower is better"
    );
}

#[test]
fn runs_limits_match_the_published_swed_eisenhart_table() {
    // Critical values at 5% two-tailed (reject if runs ≤ first or ≥ second), from the
    // published table (Swed & Eisenhart 1943, as reprinted e.g. in Triola's Table A-10).
    let table: &[(u64, &[(u64, u64)])] = &[
        (
            5,
            &[
                (1, 6),
                (1, 8),
                (2, 9),
                (2, 10),
                (3, 10),
                (3, 11),
                (3, 11),
                (3, 12),
                (3, 12),
            ],
        ),
        (
            8,
            &[
                (1, 6),
                (2, 8),
                (3, 10),
                (3, 11),
                (3, 12),
                (4, 13),
                (4, 14),
                (5, 14),
                (5, 15),
            ],
        ),
        (
            9,
            &[
                (1, 6),
                (2, 8),
                (3, 10),
                (3, 12),
                (4, 13),
                (4, 14),
                (5, 14),
                (5, 15),
                (5, 16),
            ],
        ),
        (
            10,
            &[
                (1, 6),
                (2, 8),
                (3, 10),
                (3, 12),
                (4, 13),
                (5, 14),
                (5, 15),
                (5, 16),
                (6, 16),
            ],
        ),
    ];
    for (n1, row) in table {
        for (i, expected) in row.iter().enumerate() {
            let n2 = i as u64 + 2;
            assert_eq!(
                runs_critical_values(*n1, n2, 0.05),
                *expected,
                "n1 = {n1}, n2 = {n2}"
            );
        }
    }
    // The rest of the n1 = 10 row.
    for (n2, expected) in [(11, (6, 17)), (12, (7, 17)), (16, (8, 19)), (20, (9, 20))] {
        assert_eq!(runs_critical_values(10, n2, 0.05), expected, "n2 = {n2}");
    }
}

#[test]
fn too_few_and_too_many_runs() {
    // 20 points alternating in blocks of 5: 4 runs, with 10 above and 10 below (limit 6).
    let blocks: Vec<f64> = (0..20)
        .map(|i| if (i / 5) % 2 == 0 { 1.0 } else { 9.0 })
        .collect();
    let found = analyse(&blocks, Direction::Up, RuleSet::Ihi);
    let runs = found.runs().unwrap();
    let expected = runs.expected_runs.unwrap();
    assert_eq!((runs.runs, expected.lower, expected.upper), (4, 6, 16));
    assert!(
        found
            .signals
            .iter()
            .any(|s| s.rule == Rule::TooFewRuns && s.label == Label::Neutral)
    );
    // Strict alternation: 20 runs, too many.
    let zigzag: Vec<f64> = (0..20)
        .map(|i| if i % 2 == 0 { 1.0 } else { 9.0 })
        .collect();
    assert!(rules(&zigzag, RuleSet::Ihi).contains(&Rule::TooManyRuns));
}

#[test]
fn anhoj_long_run_and_few_crossings() {
    // 20 distinct points, 10 low and 10 high (none on the median): 8 low, then
    // high ×2, low, high, low, high ×7 → runs 8, 2, 1, 1, 1, 7: 5 crossings.
    let pattern = "LLLLLLLLHHLHLHHHHHHH";
    let values: Vec<f64> = pattern
        .chars()
        .enumerate()
        .map(|(i, c)| if c == 'L' { 1.0 } else { 9.0 } + i as f64 / 100.0)
        .collect();
    let found = analyse(&values, Direction::Up, RuleSet::Anhoj);
    let runs = *found.runs().unwrap();
    assert_eq!(runs.useful_observations, 20);
    assert_eq!(
        (runs.longest_run_limit, runs.crossings_limit),
        (Some(7), Some(6))
    );
    let long: Vec<_> = found
        .signals
        .iter()
        .filter(|s| s.rule == Rule::LongRun)
        .collect();
    assert_eq!(long.len(), 1, "the run of 7 is not longer than 7");
    assert_eq!(long[0].points, (0..8).collect::<Vec<_>>());
    assert_eq!(long[0].label, Label::Concern);
    assert_eq!(runs.crossings, 5);
    assert!(found.signals.iter().any(|s| s.rule == Rule::FewCrossings));
    // Alternating in pairs: 9 crossings, no long run: nothing.
    let pairs: Vec<f64> = (0..20)
        .map(|i| if (i / 2) % 2 == 0 { 1.0 } else { 9.0 } + f64::from(i) / 100.0)
        .collect();
    let found = analyse(&pairs, Direction::Up, RuleSet::Anhoj);
    assert_eq!(found.runs().unwrap().crossings, 9);
    assert!(found.signals.is_empty(), "{:?}", found.signals);
}

#[test]
fn an_xmr_series_against_limits_computed_by_hand() {
    let values = [
        10.0, 12.0, 11.0, 13.0, 12.0, 14.0, 13.0, 15.0, 14.0, 30.0, 13.0, 12.0,
    ];
    // By hand: mean = 169 / 12; moving ranges 2,1,2,1,2,1,2,1,16,17,1 → AMR = 46 / 11.
    let mean = 169.0 / 12.0;
    let amr = 46.0 / 11.0;
    let found = analyse(&values, Direction::Up, RuleSet::Xmr);
    let limits = found.limits.unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(limits.mean, mean));
    assert!(close(limits.average_moving_range, amr));
    assert!(close(limits.upper, mean + 2.66 * amr), "{}", limits.upper); // 25.207
    assert!(close(limits.lower, mean - 2.66 * amr)); // 2.960
    assert!(close(limits.upper_two_sigma, mean + 2.0 / 3.0 * 2.66 * amr)); // 21.499
    assert_eq!(found.centre, Some(limits.mean));
    // 30 is outside (an improvement: higher is better); the first seven sit below the mean.
    let outside: Vec<_> = found
        .signals
        .iter()
        .filter(|s| s.rule == Rule::OutsideLimits)
        .collect();
    assert_eq!(outside.len(), 1);
    assert_eq!(
        (outside[0].points.clone(), outside[0].label),
        (vec![9], Label::Improvement)
    );
    let seven = found
        .signals
        .iter()
        .find(|s| s.rule == Rule::RunOfSeven)
        .expect("seven below the mean");
    assert_eq!(seven.points, (0..7).collect::<Vec<_>>());
    assert_eq!(seven.label, Label::Concern);
    assert!(!found.signals.iter().any(|s| s.rule == Rule::TrendOfSeven));
    assert!(found.warnings.is_empty(), "12 points is enough");
}

#[test]
fn xmr_trends_two_of_three_and_short_series() {
    let rising = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 6.0, 5.0, 6.0, 5.0, 6.0];
    let found = analyse(&rising, Direction::Down, RuleSet::Xmr);
    let trend = found
        .signals
        .iter()
        .find(|s| s.rule == Rule::TrendOfSeven)
        .expect("seven rising");
    assert_eq!((trend.points.len(), trend.label), (7, Label::Concern));
    // Two of three beyond 2 sigma: a flat series with two high points close together.
    let mut flat = vec![10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0];
    flat.extend([14.6, 10.0, 14.6, 10.0, 11.0]);
    let found = analyse(&flat, Direction::Up, RuleSet::Xmr);
    let limits = found.limits.unwrap();
    assert!(
        14.6 > limits.upper_two_sigma && 14.6 < limits.upper,
        "{limits:?}"
    );
    assert!(
        found
            .signals
            .iter()
            .any(|s| s.rule == Rule::TwoOfThreeBeyondTwoSigma && s.points == vec![10, 12]),
        "{:?}",
        found.signals
    );
    let short = analyse(&[1.0, 2.0, 3.0], Direction::Up, RuleSet::Xmr);
    assert!(short.warnings[0].contains("fewer than 12"));
}

proptest::proptest! {
    /// Any finite series, any rule set: no panic, signals point inside the series.
    #[test]
    fn any_series_is_analysed_without_panic(
        values in proptest::collection::vec(-1e6f64..1e6, 0..80),
        down in proptest::bool::ANY,
    ) {
        let direction = if down { Direction::Down } else { Direction::Up };
        for set in [RuleSet::Ihi, RuleSet::Anhoj, RuleSet::Xmr] {
            let found = analyse(&values, direction, set);
            for s in &found.signals {
                proptest::prop_assert!(s.points.iter().all(|&i| i < values.len()));
            }
        }
    }
}
