//! What an analysis says, checked as a sceptical coach would: no judgement where none is
//! possible, one signal per episode, astronomical candidates that are not level changes,
//! each rule set with its own numbers, words that match the rule, and baselines and rebases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_insight::rules::{PhaseStart, Request, Verdict, analyse_request};
use nic_insight::series::{Options, Phasing, Series, SeriesPoint};
use nic_insight::suppress::Suppressed;
use nic_insight::{Rule, RuleSet, analyse};
use nic_model::schema::measure::Direction;
use proptest::prelude::*;

const ALL_SETS: [RuleSet; 3] = [RuleSet::Ihi, RuleSet::Anhoj, RuleSet::Xmr];

fn rules_of(a: &nic_insight::Analysis, rule: Rule) -> Vec<&nic_insight::Signal> {
    a.signals.iter().filter(|s| s.rule == rule).collect()
}

#[test]
fn no_judgement_where_none_is_possible() {
    for set in ALL_SETS {
        let one = analyse(&[42.0], Direction::Up, set);
        assert!(
            matches!(
                one.verdict,
                Verdict::TooFewPoints { .. } | Verdict::NoVariation
            ),
            "{set:?}: {:?}",
            one.verdict
        );
        assert!(!one.findings().iter().any(|f| f.contains("common-cause")));
        let flat = analyse(&[50.0; 20], Direction::Up, set);
        assert_eq!(flat.verdict, Verdict::NoVariation, "{set:?}");
        assert!(
            flat.findings()
                .iter()
                .any(|f| f.starts_with("no variation"))
        );
    }
    // An XmR chart with 11 quiet points: too few (12 needed), not "common cause".
    let quiet = [5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.0];
    let a = analyse(&quiet, Direction::Up, RuleSet::Xmr);
    assert_eq!(
        a.verdict,
        Verdict::TooFewPoints {
            have: 11,
            needed: 12,
            phase: None
        }
    );
    assert_eq!(
        a.verdict.describe(),
        "too few points to judge (12 needed, 11 here)"
    );
    let mut twelve = quiet.to_vec();
    twelve.push(6.0);
    assert_eq!(
        analyse(&twelve, Direction::Up, RuleSet::Xmr).verdict,
        Verdict::CommonCause
    );
    // A run chart of 9 useful observations without signals cannot be judged either.
    let short = analyse(&quiet[..9], Direction::Up, RuleSet::Ihi);
    assert!(matches!(
        short.verdict,
        Verdict::TooFewPoints { needed: 10, .. }
    ));
}

#[test]
fn two_of_three_beyond_two_sigma_is_one_signal_per_episode() {
    // A quiet series with one stretch of five high points: overlapping windows fire
    // three times, but it is one episode.
    let mut v: Vec<f64> = (0..30)
        .map(|i| if i % 2 == 0 { 10.0 } else { 11.0 })
        .collect();
    for x in &mut v[12..17] {
        *x = 14.0;
    }
    let a = analyse(&v, Direction::Up, RuleSet::Xmr);
    let l = a.limits.unwrap();
    assert!(14.0 > l.upper_two_sigma, "{l:?}");
    let episodes = rules_of(&a, Rule::TwoOfThreeBeyondTwoSigma);
    assert_eq!(episodes.len(), 1, "{:?}", a.signals);
    assert_eq!(episodes[0].points, vec![12, 13, 14, 15, 16]);
    // Two episodes far apart stay two.
    let mut w = v.clone();
    for x in &mut w[12..17] {
        *x = 10.0;
    }
    w[3] = 14.0;
    w[5] = 14.0;
    w[24] = 14.0;
    w[25] = 14.0;
    let a = analyse(&w, Direction::Up, RuleSet::Xmr);
    let episodes: Vec<Vec<usize>> = rules_of(&a, Rule::TwoOfThreeBeyondTwoSigma)
        .iter()
        .map(|s| s.points.clone())
        .collect();
    assert_eq!(episodes, vec![vec![3, 5], vec![24, 25]], "{:?}", a.limits);
}

#[test]
fn a_level_change_is_a_shift_not_astronomical_points() {
    // Ten points around 40, then ten around 60: the old rule (XmR limits of the whole
    // series) called points of both levels astronomical.
    let v: Vec<f64> = (0..20)
        .map(|i| if i < 10 { 40.0 } else { 60.0 } + [0.0, 1.0, -1.0, 0.5][i % 4])
        .collect();
    let a = analyse(&v, Direction::Up, RuleSet::Ihi);
    assert!(!rules_of(&a, Rule::Shift).is_empty());
    assert!(
        rules_of(&a, Rule::AstronomicalPoint).is_empty(),
        "{:?}",
        a.signals
    );
    // One spike that comes back is a candidate, labelled by direction.
    let mut spike = v[..10].to_vec();
    spike.extend(v[..10].iter());
    spike[7] = 70.0;
    let a = analyse(&spike, Direction::Up, RuleSet::Ihi);
    let astro = rules_of(&a, Rule::AstronomicalPoint);
    assert_eq!(astro.len(), 1, "{:?}", a.signals);
    assert_eq!(astro[0].points, vec![7]);
    assert!(astro[0].detail.contains("stands above both neighbours"));
}

#[test]
fn each_rule_set_reports_its_own_numbers() {
    let v: Vec<f64> = (0..24).map(|i| f64::from(i % 5) + 10.0).collect();
    for set in [RuleSet::Ihi, RuleSet::Anhoj] {
        let a = analyse(&v, Direction::Up, set);
        assert!(a.limits.is_none(), "{set:?} carries no XmR limits");
        assert!(a.runs().is_some());
        assert!(
            a.lines
                .iter()
                .flatten()
                .all(|l| l.upper.is_none() && l.lower.is_none())
        );
        assert_eq!(a.centre, Some(12.0), "the median");
    }
    let x = analyse(&v, Direction::Up, RuleSet::Xmr);
    assert!(x.runs().is_none(), "XmR reports no runs about the median");
    assert_eq!(x.centre, Some(v.iter().sum::<f64>() / 24.0), "the mean");
    assert!(x.limits.is_some());
    // Anhøj reports its limits, not IHI's table; IHI the reverse.
    let anhoj = *analyse(&v, Direction::Up, RuleSet::Anhoj).runs().unwrap();
    assert!(anhoj.expected_runs.is_none() && anhoj.longest_run_limit.is_some());
    let ihi = *analyse(&v, Direction::Up, RuleSet::Ihi).runs().unwrap();
    assert!(ihi.expected_runs.is_some() && ihi.longest_run_limit.is_none());
}

#[test]
fn whole_series_signals_name_every_point_of_their_phase() {
    // Anhøj's few crossings on a series with points on the median: every point is named.
    let v = [
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0,
    ];
    let a = analyse(&v, Direction::Up, RuleSet::Anhoj);
    let few = rules_of(&a, Rule::FewCrossings);
    assert_eq!(few[0].points, (0..v.len()).collect::<Vec<_>>());
    assert!(
        few[0]
            .detail
            .starts_with("too few crossings: 1, where at least")
    );
}

#[test]
fn a_frozen_baseline_extends_its_median_and_judges_what_follows() {
    // Twelve baseline points around 40; then twelve around 46. Frozen at the twelfth, the
    // median stays 40 and the later points make a shift above it.
    let v: Vec<f64> = (0..24)
        .map(|i| if i < 12 { 40.0 } else { 46.0 } + [1.0, -1.0, 2.0, -2.0][i % 4])
        .collect();
    let frozen = analyse_request(&Request {
        values: &v,
        counts: None,
        scale: 1.0,
        direction: Direction::Up,
        rule_set: RuleSet::Ihi,
        phases: &[PhaseStart {
            start: 0,
            baseline: Some(12),
        }],
    });
    assert_eq!(frozen.phases.len(), 1);
    assert_eq!(frozen.phases[0].baseline_last, 11);
    assert_eq!(frozen.centre, Some(40.0));
    assert!(frozen.lines.iter().flatten().all(|l| l.centre == 40.0));
    let shift = rules_of(&frozen, Rule::Shift);
    assert!(
        shift
            .iter()
            .any(|s| s.points == (12..24).collect::<Vec<_>>()),
        "{:?}",
        frozen.signals
    );
    // A rebase at point 12 starts a new median, from its own points.
    let rebased = analyse_request(&Request {
        phases: &[
            PhaseStart {
                start: 0,
                baseline: Some(12),
            },
            PhaseStart {
                start: 12,
                baseline: None,
            },
        ],
        ..Request {
            values: &v,
            counts: None,
            scale: 1.0,
            direction: Direction::Up,
            rule_set: RuleSet::Xmr,
            phases: &[],
        }
    });
    assert_eq!(rebased.phases.len(), 2);
    // A quiet series rebased 7 points before its end: the verdict names the short phase.
    let quiet: Vec<f64> = (0..19)
        .map(|i| if i % 2 == 0 { 10.0 } else { 11.0 })
        .collect();
    let short_second = analyse_request(&Request {
        values: &quiet,
        counts: None,
        scale: 1.0,
        direction: Direction::Up,
        rule_set: RuleSet::Xmr,
        phases: &[PhaseStart {
            start: 12,
            baseline: None,
        }],
    });
    assert!(
        short_second.signals.is_empty(),
        "{:?}",
        short_second.signals
    );
    assert_eq!(
        short_second.verdict.describe(),
        "too few points to judge (12 needed, 7 in phase 2)"
    );
    assert_eq!(rebased.phases[0].centre, 40.0);
    assert_eq!(rebased.phases[1].centre, 46.0);
    assert_eq!(rebased.lines[11].unwrap().centre, 40.0);
    assert_eq!(rebased.lines[12].unwrap().centre, 46.0);
    assert_eq!(rebased.centre, Some(46.0), "the latest phase's");
}

#[test]
fn a_series_indexes_its_exported_points_and_dates_its_phases() {
    // Points by period; the fourth is suppressed inside a shift of six above the median.
    let values = [
        50.0, 51.0, 52.0, 0.0, 60.0, 61.0, 62.0, 63.0, 64.0, 40.0, 41.0, 42.0, 43.0, 44.0,
    ];
    let points: Vec<SeriesPoint> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let period = format!("2026-{:02}-01", i % 12 + 1) + if i >= 12 { "x" } else { "" };
            if i == 6 {
                SeriesPoint::hidden(period, Suppressed::SmallCell { min: 10 })
            } else {
                SeriesPoint::shown(period, v, 30)
            }
        })
        .collect();
    let s = Series::analysed(
        "lincoln",
        "all",
        points,
        &Options {
            direction: Direction::Up,
            rule_set: RuleSet::Ihi,
            scale: 1.0,
            phasing: Phasing::default(),
        },
    );
    for signal in &s.analysis.signals {
        assert_eq!(signal.points.len(), signal.periods.len());
        for (&i, period) in signal.points.iter().zip(&signal.periods) {
            assert_eq!(&s.points[i].period, period);
            if !signal.rule.is_whole_series() {
                assert!(
                    s.points[i].value.is_some(),
                    "{signal:?} marks a hidden point"
                );
            }
        }
    }
    assert!(s.analysis.lines[6].is_none(), "no lines at a hidden point");
    assert_eq!(s.analysis.lines.len(), s.points.len());
}

proptest! {
    /// Whatever the series: signals index inside it; 2-of-3 episodes of one side never
    /// overlap or touch (they would be one); level changes alone (a staircase of levels,
    /// each at least three points long) are never astronomical candidates.
    #[test]
    fn signals_are_well_formed(
        values in proptest::collection::vec(0.0f64..100.0, 0..120),
        levels in proptest::collection::vec((-100.0f64..100.0, 3usize..15), 1..6),
    ) {
        for set in [RuleSet::Ihi, RuleSet::Anhoj, RuleSet::Xmr] {
            let a = analyse(&values, Direction::Up, set);
            for s in &a.signals {
                prop_assert!(s.points.iter().all(|&i| i < values.len()));
                prop_assert!(!s.detail.is_empty());
            }
            prop_assert_eq!(a.lines.len(), values.len());
            let twos: Vec<_> = a
                .signals
                .iter()
                .filter(|s| s.rule == Rule::TwoOfThreeBeyondTwoSigma)
                .collect();
            for (x, y) in twos.iter().zip(twos.iter().skip(1)) {
                if x.label == y.label {
                    let gap = y.points[0].saturating_sub(*x.points.last().unwrap());
                    prop_assert!(gap > 2, "{:?} and {:?} are one episode", x.points, y.points);
                }
            }
        }
        let staircase: Vec<f64> = levels
            .iter()
            .flat_map(|&(level, len)| std::iter::repeat_n(level, len))
            .collect();
        let a = analyse(&staircase, Direction::Up, RuleSet::Ihi);
        prop_assert!(
            !a.signals.iter().any(|s| s.rule == Rule::AstronomicalPoint),
            "{:?}",
            a.signals
        );
    }
}
