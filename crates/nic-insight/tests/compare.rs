//! Cycles across sites, measure series with suppression, and gaps.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;

use nic_insight::cycles::{CycleInput, compare};
use nic_insight::series::{ALL, Reference, SiteData, gaps, measure_series};
use nic_insight::suppress::{MinCell, Suppressed};
use nic_insight::{Rule, RuleSet};
use nic_model::schema::Text;
use nic_model::schema::measure::{Direction, MeasureData, MeasureDefinition, Point, Scoring};
use nic_model::schema::pdsa::{Decision, LearningQuestion, PdsaCycle, QuestionResult};

fn cycle(number: u32, start: &str, end: Option<&str>, decision: Option<Decision>) -> PdsaCycle {
    let mut c = PdsaCycle {
        change_idea_id: "number-talks".into(),
        cycle_number: number,
        planned_start: Some(start.into()),
        planned_end: end.map(Into::into),
        ..PdsaCycle::default()
    };
    c.plan.questions.push(LearningQuestion {
        id: "q1".into(),
        question: Text::with_value("How many finish?"),
        prediction: Text::with_value(format!("{} of 28", 18 + number)),
        ..LearningQuestion::default()
    });
    if decision.is_some() {
        c.study.results.push(QuestionResult {
            question_id: "q1".into(),
            result: Text::with_value(format!("{} of 28", 20 + number)),
        });
    }
    c.act.decision = decision;
    c
}

#[test]
fn a_change_idea_across_three_sites() {
    let l1 = cycle(1, "2026-09-01", None, Some(Decision::Adapt));
    let l2 = cycle(2, "2026-09-15", Some("2026-09-26"), Some(Decision::Adopt));
    let a1 = cycle(1, "2026-09-08", None, Some(Decision::Abandon));
    let j1 = cycle(1, "2026-10-01", None, None);
    let mut other = cycle(1, "2026-09-01", None, Some(Decision::Adopt));
    other.change_idea_id = "exit-tickets".into();
    let input = |doc: &str, site: &str, c| CycleInput {
        doc: doc.into(),
        site: Some(site.into()),
        cycle: c,
    };
    let cycles = [
        input("l2", "lincoln", &l2),
        input("a1", "adams", &a1),
        input("l1", "lincoln", &l1),
        input("j1", "jefferson", &j1),
        input("x", "lincoln", &other),
    ];
    let found = compare("number-talks", &cycles);
    let sites: Vec<&str> = found.sites.iter().map(|s| s.site.as_str()).collect();
    assert_eq!(sites, ["adams", "jefferson", "lincoln"]);
    let lincoln = &found.sites[2];
    assert_eq!(
        lincoln.cycles.iter().map(|c| c.number).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(lincoln.status, "adopted");
    assert_eq!(lincoln.days_to_adoption, Some(25));
    assert_eq!(lincoln.cycles[1].predictions[0].prediction, "20 of 28");
    assert_eq!(lincoln.cycles[1].predictions[0].result, "22 of 28");
    assert_eq!(found.sites[0].status, "abandoned");
    assert_eq!(found.sites[1].status, "testing");
    assert_eq!(found.sites[1].days_to_adoption, None);
    let d = found.decisions;
    assert_eq!((d.adopt, d.adapt, d.abandon, d.open), (1, 1, 1, 1));
}

fn on_track() -> MeasureDefinition {
    MeasureDefinition {
        name: Text::with_value("On track for Algebra I"),
        scoring: Scoring::Proportion,
        unit: "%".into(),
        direction: Direction::Up,
        group_dimensions: vec!["english_learner".into()],
        ..MeasureDefinition::default()
    }
}

fn point(period: &str, group: &str, num: f64, den: f64) -> Point {
    Point {
        id: format!("{period}/{group}"),
        period: period.into(),
        group: group.into(),
        numerator: Some(num),
        denominator: Some(den),
        n: den as u32,
        ..Point::default()
    }
}

/// Lincoln: 100 students, 9 of them English learners; 24 weeks.
fn lincoln() -> MeasureData {
    let mut points = Vec::new();
    for week in 0..24u32 {
        let period = format!("2026-{:02}-{:02}", 9 + week / 4, 1 + (week % 4) * 7);
        let el = 3.0 + f64::from(week / 4);
        points.push(point(&period, ALL, 50.0 + f64::from(week), 100.0));
        points.push(point(&period, "english_learner=yes", el, 9.0));
        points.push(point(
            &period,
            "english_learner=no",
            47.0 + f64::from(week) - el,
            91.0,
        ));
    }
    MeasureData {
        measure_id: "m".into(),
        points,
    }
}

#[test]
fn a_group_of_nine_is_hidden_outside_its_site_with_its_complement() {
    let data = lincoln();
    let sites = [SiteData {
        site: "lincoln".into(),
        network_level: false,
        data: &data,
    }];
    let outside = measure_series(
        &on_track(),
        &sites,
        &BTreeSet::new(),
        MinCell::default(),
        RuleSet::Ihi,
    );
    let by = |g: &str| outside.iter().find(|s| s.group == g).unwrap();
    for p in &by("english_learner=yes").points {
        assert_eq!((p.value, p.n), (None, None));
        assert_eq!(p.suppressed, Some(Suppressed::SmallCell { min: 10 }));
    }
    // Shown beside the total, the 91 would give the 9 away: hidden too.
    for p in &by("english_learner=no").points {
        assert_eq!(p.suppressed, Some(Suppressed::Complementary));
        assert_eq!(p.value, None);
    }
    let all = by(ALL);
    assert_eq!(all.points.len(), 24);
    assert_eq!(all.points[0].value, Some(50.0));
    assert_eq!(all.points[23].n, Some(100));
    // 24 points rising steadily: a shift on each side and a trend.
    let rules: Vec<Rule> = all.analysis.signals.iter().map(|s| s.rule).collect();
    assert!(
        rules.contains(&Rule::Trend) && rules.contains(&Rule::Shift),
        "{rules:?}"
    );

    // The site's own members see it raw.
    let own = measure_series(
        &on_track(),
        &sites,
        &BTreeSet::from(["lincoln".to_owned()]),
        MinCell::default(),
        RuleSet::Ihi,
    );
    let el = own
        .iter()
        .find(|s| s.group == "english_learner=yes")
        .unwrap();
    let v = el.points[0].value.unwrap();
    assert!((v - 100.0 / 3.0).abs() < 1e-9, "{v}");
    assert_eq!(el.points[0].n, Some(9));

    // Gaps: hidden outside, computed for the site.
    let outside_gaps = gaps(
        &outside,
        "english_learner=yes",
        Reference::All,
        Direction::Up,
    );
    assert!(
        outside_gaps[0]
            .points
            .iter()
            .all(|p| p.gap.is_none() && p.suppressed.is_some())
    );
    assert_eq!(outside_gaps[0].closing, None);
    let own_gaps = gaps(&own, "english_learner=yes", Reference::All, Direction::Up);
    let first = own_gaps[0].points[0].gap.unwrap();
    assert!((first - (50.0 - 100.0 / 3.0)).abs() < 1e-9, "{first}");
    // All students climb 1 point a week, English learners 11 points a month: closing? The
    // EL series climbs faster (11.1 a month vs 4): yes.
    assert_eq!(own_gaps[0].closing, Some(true));
}

#[test]
fn a_higher_threshold_hides_more() {
    let data = lincoln();
    let sites = [SiteData {
        site: "lincoln".into(),
        network_level: false,
        data: &data,
    }];
    let strict = measure_series(
        &on_track(),
        &sites,
        &BTreeSet::new(),
        MinCell::new(30).unwrap(),
        RuleSet::Xmr,
    );
    // 100 ≥ 30: all shown; 9 < 30 hidden, 91 hidden as its complement.
    let all = strict.iter().find(|s| s.group == ALL).unwrap();
    assert!(all.points.iter().all(|p| p.value.is_some()));
    let el = strict
        .iter()
        .find(|s| s.group == "english_learner=yes")
        .unwrap();
    assert_eq!(
        el.points[0].suppressed,
        Some(Suppressed::SmallCell { min: 30 })
    );
    assert!(
        el.analysis
            .warnings
            .iter()
            .any(|w| w.contains("suppressed"))
    );
}
