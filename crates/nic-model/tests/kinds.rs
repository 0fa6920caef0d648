//! The aim, driver diagram and change idea: round trips, validation rules, and each site's
//! status with a change idea derived from its cycles.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use autosurgeon::Text;
use nic_model::DocKind;
use nic_model::schema::aim::Aim;
use nic_model::schema::driver::{
    ChangeIdea, DriverDiagram, Level, Link, Node, SiteStatus, site_statuses,
};
use nic_model::schema::pdsa::{Decision, PdsaCycle};
use nic_model::schema::{self, findings::Severity};

fn round_trip<T>(kind: DocKind, value: &T) -> T
where
    T: autosurgeon::Reconcile + autosurgeon::Hydrate,
{
    let mut doc = schema::new_document(kind, value).unwrap();
    let loaded = automerge::Automerge::load(&doc.save()).unwrap();
    schema::read(&loaded, kind).unwrap()
}

fn node(id: &str, level: Level) -> Node {
    Node {
        id: id.into(),
        level,
        text: Text::with_value(id),
        ..Node::default()
    }
}

fn link(from: &str, to: &str) -> Link {
    Link {
        from: from.into(),
        to: to.into(),
    }
}

#[test]
fn an_aim_without_when_or_whom_is_flagged() {
    let aim = Aim {
        statement: Text::with_value(
            "Increase from 30% to 80% the share of 9th-grade English learners who pass Algebra I by June 2027.",
        ),
        baseline: Some(30.0),
        target: Some(80.0),
        unit: "%".into(),
        by_when: Some("2027-06-30".into()),
        for_whom: vec!["english_learner".into()],
        outcome_measure_id: Some("algebra-pass".into()),
        ..Aim::default()
    };
    assert_eq!(round_trip(DocKind::Aim, &aim), aim);
    assert!(aim.validate().is_empty(), "{:?}", aim.validate());
    let vague = Aim {
        statement: Text::with_value("Improve algebra."),
        ..Aim::default()
    };
    let fields: Vec<String> = vague.validate().into_iter().map(|f| f.field).collect();
    for field in ["by_when", "for_whom", "target", "outcome_measure_id"] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not flagged: {fields:?}"
        );
    }
    assert_eq!(Aim::default().validate()[0].severity, Severity::Error);
}

#[test]
fn a_change_idea_must_move_a_driver() {
    let diagram = DriverDiagram {
        nodes: vec![
            node("aim", Level::Aim),
            node("p1", Level::Primary),
            node("s1", Level::Secondary),
            node("talks", Level::Change),
            node("orphan", Level::Change),
        ],
        links: vec![
            link("s1", "p1"),
            link("p1", "aim"),
            link("talks", "s1"),
            link("orphan", "p1"),
            link("talks", "gone"),
        ],
    };
    assert_eq!(round_trip(DocKind::DriverDiagram, &diagram), diagram);
    let found = diagram.validate();
    assert!(
        found.iter().any(|f| f.field == "nodes[orphan]"),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|f| f.field == "nodes[talks]"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.severity == Severity::Error && f.message.contains("gone"))
    );

    let idea = ChangeIdea {
        title: Text::with_value("Daily number talk"),
        ..ChangeIdea::default()
    };
    assert_eq!(round_trip(DocKind::ChangeIdea, &idea), idea);
    assert!(idea.validate().iter().any(|f| f.field == "drivers"));
}

#[test]
fn site_status_follows_each_sites_latest_decision() {
    let cycle = |idea: &str, n: u32, decision: Option<Decision>| {
        let mut c = PdsaCycle {
            change_idea_id: idea.into(),
            cycle_number: n,
            ..PdsaCycle::default()
        };
        c.act.decision = decision;
        c
    };
    let cycles = [
        ("lincoln", cycle("talks", 1, Some(Decision::Adapt))),
        ("lincoln", cycle("talks", 2, Some(Decision::Adopt))),
        ("adams", cycle("talks", 1, Some(Decision::Adapt))),
        ("adams", cycle("talks", 2, None)),
        ("hoover", cycle("talks", 1, Some(Decision::Abandon))),
        ("grant", cycle("other-idea", 1, Some(Decision::Adopt))),
        ("king", cycle("talks", 1, Some(Decision::Adapt))),
    ];
    let sites: Vec<String> = ["lincoln", "adams", "hoover", "grant", "king"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let status = site_statuses("talks", &sites, cycles.iter().map(|(s, c)| (*s, c)));
    assert_eq!(status["lincoln"], SiteStatus::Adopted);
    assert_eq!(status["adams"], SiteStatus::Testing);
    assert_eq!(status["hoover"], SiteStatus::Abandoned);
    assert_eq!(status["grant"], SiteStatus::NotStarted);
    assert_eq!(status["king"], SiteStatus::Adapted);
}

#[test]
fn a_measure_needs_an_operational_definition_and_points_must_add_up() {
    use nic_model::schema::measure::{
        MeasureData, MeasureDefinition, OperationalDefinition, Point,
    };
    let measure = MeasureDefinition {
        name: Text::with_value("Exit tickets completed"),
        definition: OperationalDefinition {
            numerator: Text::with_value("students who complete the exit ticket"),
            denominator: Text::with_value("students present"),
            data_source: Text::with_value("teacher tally"),
            frequency: "daily".into(),
            ..OperationalDefinition::default()
        },
        unit: "%".into(),
        group_dimensions: vec!["english_learner".into()],
        ..MeasureDefinition::default()
    };
    assert_eq!(round_trip(DocKind::MeasureDefinition, &measure), measure);
    assert!(measure.validate().is_empty(), "{:?}", measure.validate());
    let undefined = MeasureDefinition {
        name: Text::with_value("Engagement"),
        ..MeasureDefinition::default()
    };
    assert!(
        undefined
            .validate()
            .iter()
            .any(|f| f.field == "definition" && f.severity == Severity::Error)
    );

    let point = |id: &str, group: &str, num: f64, den: f64| Point {
        id: id.into(),
        period: "2026-11-23".into(),
        group: group.into(),
        numerator: Some(num),
        denominator: Some(den),
        n: 28,
        ..Point::default()
    };
    let data = MeasureData {
        measure_id: "exit-tickets".into(),
        points: vec![
            point("p1", "all", 20.0, 28.0),
            point("p2", "english_learner=yes", 7.0, 9.0),
        ],
    };
    assert_eq!(round_trip(DocKind::MeasureData, &data), data);
    assert!(data.validate().is_empty());
    let bad = MeasureData {
        measure_id: "exit-tickets".into(),
        points: vec![point("p3", "els", 30.0, 28.0)],
    };
    let found = bad.validate();
    assert_eq!(found[0].severity, Severity::Error);
    assert!(found.iter().any(|f| f.message.contains("dimension=value")));
}

#[test]
fn dates_that_are_not_dates_are_errors() {
    use nic_model::schema::aim::Aim;
    use nic_model::schema::findings::Severity;
    use nic_model::schema::pdsa::PdsaCycle;
    let aim = Aim {
        by_when: Some("June 2027".into()),
        ..Aim::default()
    };
    assert!(
        aim.validate()
            .iter()
            .any(|f| f.field == "by_when" && f.severity == Severity::Error),
        "{:?}",
        aim.validate()
    );
    let cycle = PdsaCycle {
        planned_start: Some("2026-02-30".into()),
        planned_end: Some("2026-03-15".into()),
        ..PdsaCycle::default()
    };
    let found = cycle.validate();
    assert!(found.iter().any(|f| f.field == "planned_start"
        && f.severity == Severity::Error
        && f.message.contains("February")));
    assert!(!found.iter().any(|f| f.field == "planned_end"));
}
