//! P and U charts against worked textbook examples, their limits computed by hand here.
//!
//! - P chart, varying subgroup sizes: Pyzdek & Keller, *The Handbook for Quality
//!   Management*, 2nd ed. (McGraw-Hill 2013), Table 9.6 — bruised peaches in 25 shipments of
//!   one or two 250-peach crates.
//! - P chart, equal subgroups: Example 16.6 of *An Introduction to Business Statistics*
//!   (10 samples of 200 items; p̄ = 0.16, UCL 0.2378, LCL 0.0822 as the book rounds them).
//! - U chart: Montgomery & Runger, *Applied Statistics and Probability for Engineers*,
//!   the injection-moulded cover cases exercise (25 samples of 5 cases).
//! - Laney's P′: a four-period example worked step by step below (Laney 2002).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_insight::rules::{Counts, Lines, Request, analyse_request};
use nic_insight::{Rule, RuleSet};
use nic_model::schema::measure::Direction;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn run(counts: &[(f64, f64)], scale: f64, rule_set: RuleSet) -> nic_insight::Analysis {
    let counts: Vec<Counts> = counts
        .iter()
        .map(|&(numerator, denominator)| Counts {
            numerator,
            denominator,
        })
        .collect();
    let values: Vec<f64> = counts
        .iter()
        .map(|c| scale * c.numerator / c.denominator)
        .collect();
    analyse_request(&Request {
        values: &values,
        counts: Some(&counts),
        scale,
        direction: Direction::Down,
        rule_set,
        phases: &[],
    })
}

fn lines(a: &nic_insight::Analysis, i: usize) -> Lines {
    a.lines[i].expect("analysed")
}

#[test]
fn p_chart_with_varying_subgroups_pyzdek_table_9_6() {
    let bruised = [
        47.0, 42.0, 55.0, 51.0, 46.0, 61.0, 39.0, 44.0, 41.0, 51.0, 88.0, 101.0, 101.0, 40.0, 48.0,
        47.0, 50.0, 48.0, 57.0, 45.0, 43.0, 105.0, 98.0, 100.0, 96.0,
    ];
    let crates = [
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0,
    ];
    let data: Vec<(f64, f64)> = bruised
        .iter()
        .zip(crates)
        .map(|(&b, c)| (b, 250.0 * c))
        .collect();
    // By hand: 1544 bruised of 8000 peaches, p̄ = 0.193.
    // One crate (n = 250): σ = √(0.193 × 0.807 / 250) = √0.000623004 = 0.0249600;
    //   limits 0.193 ∓ 0.0748801 = 0.1181199 and 0.2678801.
    // Two crates (n = 500): σ = √0.000311502 = 0.0176494; limits 0.1400517 and 0.2459483.
    let a = run(&data, 1.0, RuleSet::P);
    assert!(close(a.centre.unwrap(), 0.193, 1e-12));
    let one = lines(&a, 0);
    assert!(close(one.lower.unwrap(), 0.118_119_9, 1e-6), "{one:?}");
    assert!(close(one.upper.unwrap(), 0.267_880_1, 1e-6));
    assert!(close(
        one.upper_two_sigma.unwrap(),
        0.193 + 2.0 * 0.024_960_05,
        1e-6
    ));
    let two = lines(&a, 10);
    assert!(close(two.lower.unwrap(), 0.140_051_7, 1e-6), "{two:?}");
    assert!(close(two.upper.unwrap(), 0.245_948_3, 1e-6));
    // The book's conclusion: every shipment within its limits.
    assert!(
        !a.signals.iter().any(|s| s.rule == Rule::OutsideLimits),
        "{:?}",
        a.signals
    );
    // In % (a proportion measure shown in %), every line scales by 100.
    let pct = run(&data, 100.0, RuleSet::P);
    assert!(close(pct.centre.unwrap(), 19.3, 1e-9));
    assert!(close(lines(&pct, 10).upper.unwrap(), 24.594_83, 1e-4));
}

#[test]
fn p_chart_with_equal_subgroups_business_statistics_16_6() {
    let defectives = [40.0, 44.0, 22.0, 34.0, 24.0, 32.0, 28.0, 32.0, 34.0, 30.0];
    let data: Vec<(f64, f64)> = defectives.iter().map(|&d| (d, 200.0)).collect();
    // By hand: 320 / 2000 = 0.16; σ = √(0.16 × 0.84 / 200) = 0.0259230; ±3σ = 0.0777689.
    let a = run(&data, 1.0, RuleSet::P);
    assert!(close(a.centre.unwrap(), 0.16, 1e-12));
    for i in 0..defectives.len() {
        let l = lines(&a, i);
        assert!(close(l.upper.unwrap(), 0.2378, 5e-5), "{l:?}");
        assert!(close(l.lower.unwrap(), 0.0822, 5e-5));
    }
    assert!(!a.signals.iter().any(|s| s.rule == Rule::OutsideLimits));
}

#[test]
fn u_chart_cover_cases_montgomery_runger() {
    let defects = [
        3.0, 2.0, 0.0, 1.0, 4.0, 3.0, 2.0, 4.0, 1.0, 0.0, 2.0, 3.0, 2.0, 8.0, 0.0, 2.0, 4.0, 3.0,
        5.0, 0.0, 2.0, 1.0, 9.0, 3.0, 2.0,
    ];
    let data: Vec<(f64, f64)> = defects.iter().map(|&d| (d, 5.0)).collect();
    // By hand: 66 defects in 125 cases, ū = 0.528; σ = √(0.528 / 5) = 0.3249615;
    // UCL = 0.528 + 0.9748846 = 1.5028846; the LCL (−0.447) is set to 0.
    let a = run(&data, 1.0, RuleSet::U);
    assert!(close(a.centre.unwrap(), 0.528, 1e-12));
    let l = lines(&a, 0);
    assert!(close(l.upper.unwrap(), 1.502_884_6, 1e-6), "{l:?}");
    assert_eq!(l.lower, Some(0.0), "a rate's limit stops at zero");
    // Samples 14 (8 / 5 = 1.6) and 23 (9 / 5 = 1.8) are above the UCL, as the exercise finds.
    let outside: Vec<Vec<usize>> = a
        .signals
        .iter()
        .filter(|s| s.rule == Rule::OutsideLimits)
        .map(|s| s.points.clone())
        .collect();
    assert_eq!(outside, vec![vec![13], vec![22]]);
}

#[test]
fn laney_p_prime_worked_by_hand() {
    // Four periods of 1000: 100, 130, 90, 120 → p = 0.10, 0.13, 0.09, 0.12.
    let data = [
        (100.0, 1000.0),
        (130.0, 1000.0),
        (90.0, 1000.0),
        (120.0, 1000.0),
    ];
    // p̄ = 440 / 4000 = 0.11; σp = √(0.11 × 0.89 / 1000) = √0.0000979 = 0.00989444.
    // z = (p − p̄)/σp = −1.010667, 2.021334, −2.021334, 1.010667.
    // Moving ranges of z: 3.032001, 4.042668, 3.032001; average 3.368890; σz = 2.986604.
    // Limits: 0.11 ± 3 × 0.00989444 × 2.986604 = 0.11 ± 0.0886524.
    let a = run(&data, 1.0, RuleSet::PPrime);
    let sigma_z = a.phases[0].sigma_z.unwrap();
    assert!(close(sigma_z, 2.986_604, 1e-5), "{sigma_z}");
    let l = lines(&a, 0);
    assert!(close(l.upper.unwrap(), 0.11 + 0.088_652_4, 1e-6), "{l:?}");
    assert!(close(l.lower.unwrap(), 0.11 - 0.088_652_4, 1e-6));
    // The plain P chart's limits are σz times tighter: 0.11 ± 0.0296833.
    let p = run(&data, 1.0, RuleSet::P);
    assert!(close(lines(&p, 0).upper.unwrap(), 0.11 + 0.029_683_3, 1e-6));
    assert_eq!(p.phases[0].sigma_z, None);
}

#[test]
fn without_counts_a_p_chart_says_what_it_needs() {
    let a = nic_insight::analyse(&[1.0, 2.0, 3.0], Direction::Up, RuleSet::P);
    assert!(a.signals.is_empty() && a.centre.is_none());
    assert!(a.warnings[0].contains("numerator and denominator"));
}
