//! The series CSV against the series it is written from, for random series under every rule
//! set, with suppressed points anywhere and random baselines and rebases: one row per point
//! in order; a suppressed point's row carries no number, line, phase or signal; every
//! signal's points are exactly the rows that name it; the lines, phase and baseline columns
//! are the analysis's. Read back with the `csv` crate. proptest prints a failing case (and
//! shrinks it); `PROPTEST_CASES` runs more.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_insight::chart::Target;
use nic_insight::export::{SERIES_COLUMNS, series_csv};
use nic_insight::series::{Options, Phasing, Series, SeriesPoint};
use nic_insight::suppress::Suppressed;
use nic_insight::{Rule, RuleSet};
use nic_model::schema::measure::Direction;
use proptest::prelude::*;

const RULE_SETS: [RuleSet; 7] = [
    RuleSet::Ihi,
    RuleSet::Anhoj,
    RuleSet::Xmr,
    RuleSet::P,
    RuleSet::PPrime,
    RuleSet::U,
    RuleSet::UPrime,
];

fn period(k: usize) -> String {
    format!("2026-{:02}-{:02}", 1 + k / 28, 1 + k % 28)
}

/// A series from (numerator, denominator, hidden) per period.
fn build(
    cells: &[(u32, u32, bool)],
    rule_set: RuleSet,
    baseline: Option<usize>,
    rebase: Option<usize>,
) -> Series {
    let points = cells
        .iter()
        .enumerate()
        .map(|(k, &(num, den, hidden))| {
            if hidden {
                SeriesPoint::hidden(period(k), Suppressed::SmallCell { min: 10 })
            } else {
                let (num, den) = (f64::from(num.min(den)), f64::from(den));
                SeriesPoint {
                    numerator: Some(num),
                    denominator: Some(den),
                    ..SeriesPoint::shown(period(k), 100.0 * num / den, den as u32)
                }
            }
        })
        .collect();
    let options = Options {
        direction: Direction::Up,
        rule_set,
        scale: 100.0,
        phasing: Phasing {
            baseline_end: baseline.map(period),
            rebases: rebase.map(|r| (period(r), None)).into_iter().collect(),
        },
    };
    Series::analysed("lincoln", "all", points, &options)
}

fn number(field: &str) -> Option<f64> {
    (!field.is_empty()).then(|| field.parse().unwrap())
}

fn check(series: &Series, target: Option<&Target>) {
    let text = series_csv(std::slice::from_ref(series), target);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers, SERIES_COLUMNS.map(String::from));
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let a = &series.analysis;
    assert_eq!(rows.len(), series.points.len());
    for (i, (row, p)) in rows.iter().zip(&series.points).enumerate() {
        assert_eq!(&row[at("period")], p.period);
        let lines = a.lines[i];
        if p.value.is_none() {
            // Nothing about a hidden point but that it is hidden.
            for c in [
                "value",
                "n",
                "centre",
                "lower_limit",
                "upper_limit",
                "lower_two_sigma",
                "upper_two_sigma",
                "phase",
                "baseline",
                "signals",
                "signal_labels",
                "phase_signals",
            ] {
                assert_eq!(&row[at(c)], "", "row {i}, {c}");
            }
            assert!(row[at("suppressed")].starts_with("suppressed"));
            assert!(lines.is_none());
            continue;
        }
        assert_eq!(number(&row[at("value")]), p.value);
        let l = lines.expect("a shown point is analysed");
        assert_eq!(number(&row[at("centre")]), Some(l.centre));
        assert_eq!(number(&row[at("lower_limit")]), l.lower);
        assert_eq!(number(&row[at("upper_limit")]), l.upper);
        assert_eq!(number(&row[at("lower_two_sigma")]), l.lower_two_sigma);
        assert_eq!(number(&row[at("upper_two_sigma")]), l.upper_two_sigma);
        let k = a
            .phases
            .iter()
            .position(|ph| ph.first <= i && i <= ph.last)
            .unwrap();
        assert_eq!(row[at("phase")], (k + 1).to_string());
        let base = if i <= a.phases[k].baseline_last {
            "yes"
        } else {
            "no"
        };
        assert_eq!(&row[at("baseline")], base);
        assert_eq!(
            number(&row[at("target")]),
            target.map(|t| t.value),
            "row {i}"
        );
    }
    // Each signal is named on exactly its points' rows, in the right column.
    for (n, g) in a.signals.iter().enumerate() {
        let column = if g.rule.is_whole_series() {
            "phase_signals"
        } else {
            "signals"
        };
        let name = nic_insight::export::snake(g.rule);
        let same_rule_elsewhere = |i: usize| {
            a.signals
                .iter()
                .enumerate()
                .any(|(m, h)| m != n && h.rule == g.rule && h.points.contains(&i))
        };
        for (i, row) in rows.iter().enumerate() {
            let named = row[at(column)].split(';').any(|r| r == name);
            if g.points.contains(&i) {
                assert!(named, "{:?} not on row {i}: {row:?}", g.rule);
            } else if !same_rule_elsewhere(i) {
                assert!(!named, "{:?} on row {i} outside it: {row:?}", g.rule);
            }
        }
    }
    // And the columns name nothing that is not a signal of that point.
    for (i, row) in rows.iter().enumerate() {
        let rules: Vec<&str> = row[at("signals")]
            .split(';')
            .filter(|r| !r.is_empty())
            .collect();
        let labels: Vec<&str> = row[at("signal_labels")]
            .split(';')
            .filter(|r| !r.is_empty())
            .collect();
        assert_eq!(rules.len(), labels.len(), "row {i}");
        let own: Vec<&nic_insight::Signal> = a
            .signals
            .iter()
            .filter(|g| !g.rule.is_whole_series() && g.points.contains(&i))
            .collect();
        assert_eq!(rules.len(), own.len(), "row {i}");
        for (g, (r, l)) in own.iter().zip(rules.iter().zip(&labels)) {
            assert_eq!(nic_insight::export::snake(g.rule), *r);
            assert_eq!(nic_insight::export::snake(g.label), *l);
        }
    }
}

proptest! {
    #[test]
    fn the_csv_says_what_the_series_says(
        cells in prop::collection::vec((0u32..60, 1u32..80, prop::bool::weighted(0.2)), 1..45),
        rule_set in prop::sample::select(RULE_SETS.to_vec()),
        baseline in prop::option::of(0usize..45),
        rebase in prop::option::of(0usize..45),
        with_target in any::<bool>(),
    ) {
        let series = build(&cells, rule_set, baseline, rebase);
        let target = with_target.then(|| Target {
            value: 70.0,
            by_when: Some("2027-06-01".into()),
            label: "target 70%".into(),
        });
        check(&series, target.as_ref());
    }
}

/// A shift across a suppressed point: the hidden row is in no signal, the rows either side
/// are.
#[test]
fn a_shift_across_a_hidden_point() {
    let mut cells: Vec<(u32, u32, bool)> = (0..7).map(|k| (40 + k % 3, 100, false)).collect();
    cells.extend((0..8).map(|k| (60 + k % 3, 100, k == 3)));
    let s = build(&cells, RuleSet::Ihi, None, None);
    check(&s, None);
    let shift = s
        .analysis
        .signals
        .iter()
        .find(|g| g.rule == Rule::Shift && g.points.contains(&14))
        .unwrap();
    assert_eq!(shift.points, vec![7, 8, 9, 11, 12, 13, 14]);
}
