//! Every document kind round-trips save → load → hydrate unchanged, and is refused when read
//! as another kind.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use autosurgeon::{Hydrate, Reconcile, Text};
use nic_model::DocKind;
use nic_model::schema;
use nic_model::schema::aim::Aim;
use nic_model::schema::driver::{ChangeIdea, DriverDiagram, Level, Node};
use nic_model::schema::measure::{MeasureData, MeasureDefinition, Point};
use nic_model::schema::network::{CoachingLog, Comment, EquityCode, NetworkProfile, Thread, Visit};
use nic_model::schema::pdsa::PdsaCycle;
use nic_model::schema::site_work::{
    Category, Cause, EmpathyInterview, EquityAudit, GroupFinding, ImprovementPlan,
    RootCauseAnalysis, WhyChain,
};

fn check<T: Reconcile + Hydrate + PartialEq + std::fmt::Debug>(kind: DocKind, value: T) -> DocKind {
    let mut doc = schema::new_document(kind, &value).unwrap();
    let loaded = automerge::Automerge::load(&doc.save()).unwrap();
    let back: T = schema::read(&loaded, kind).unwrap();
    assert_eq!(back, value, "{kind}");
    let other = if kind == DocKind::Aim {
        DocKind::PdsaCycle
    } else {
        DocKind::Aim
    };
    assert!(
        schema::read::<T, _>(&loaded, other).is_err(),
        "{kind} read as {other}"
    );
    kind
}

fn t(s: &str) -> Text {
    Text::with_value(s)
}

#[test]
fn every_kind_round_trips() {
    let mut checked = vec![
        check(
            DocKind::NetworkProfile,
            NetworkProfile {
                name: t("Algebra readiness"),
                sites: vec!["lincoln".into()],
                equity_focus_groups: vec!["english_learner".into()],
                equity_codes: vec![EquityCode {
                    id: "sys".into(),
                    dimension: "solution".into(),
                    label: t("changes the system"),
                }],
                ..NetworkProfile::default()
            },
        ),
        check(
            DocKind::Aim,
            Aim {
                statement: t("Pass Algebra I"),
                for_whom: vec!["english_learner".into()],
                ..Aim::default()
            },
        ),
        check(
            DocKind::DriverDiagram,
            DriverDiagram {
                nodes: vec![Node {
                    id: "aim".into(),
                    level: Level::Aim,
                    text: t("aim"),
                    ..Node::default()
                }],
                links: Vec::new(),
            },
        ),
        check(
            DocKind::ChangeIdea,
            ChangeIdea {
                title: t("Number talks"),
                drivers: vec!["s1".into()],
                ..ChangeIdea::default()
            },
        ),
        check(
            DocKind::PdsaCycle,
            PdsaCycle {
                change_idea_id: "talks".into(),
                cycle_number: 1,
                ..PdsaCycle::default()
            },
        ),
        check(
            DocKind::MeasureDefinition,
            MeasureDefinition {
                name: t("Exit tickets"),
                ..MeasureDefinition::default()
            },
        ),
        check(
            DocKind::MeasureData,
            MeasureData {
                measure_id: "m".into(),
                points: vec![Point {
                    id: "p".into(),
                    period: "2026-11-23".into(),
                    group: "all".into(),
                    value: Some(1.5),
                    n: 12,
                    ..Point::default()
                }],
            },
        ),
        check(
            DocKind::EmpathyInterview,
            EmpathyInterview {
                interviewee_role: "student".into(),
                questions: vec![t("What helps you in math class?")],
                notes: t("Likes working with a partner."),
                ..EmpathyInterview::default()
            },
        ),
        check(
            DocKind::RootCauseAnalysis,
            RootCauseAnalysis {
                problem: t("EL students fail Algebra I"),
                categories: vec![Category {
                    id: "instruction".into(),
                    name: "instruction".into(),
                    causes: vec![Cause {
                        id: "c1".into(),
                        text: t("little discourse"),
                        evidence: t("walkthroughs"),
                        causes: vec![Cause {
                            id: "c2".into(),
                            ..Cause::default()
                        }],
                    }],
                }],
                why_chains: vec![WhyChain {
                    id: "w1".into(),
                    whys: vec![t("why 1"), t("why 2")],
                }],
                ..RootCauseAnalysis::default()
            },
        ),
        check(
            DocKind::EquityAudit,
            EquityAudit {
                area: "course enrolment".into(),
                findings: vec![GroupFinding {
                    id: "f1".into(),
                    group: "english_learner=yes".into(),
                    finding: t("under-enrolled in honours"),
                }],
                sources: t("SIS"),
            },
        ),
        check(
            DocKind::ImprovementPlan,
            ImprovementPlan {
                problem: t("EL algebra"),
                aim_ids: vec!["a".into()],
                ..ImprovementPlan::default()
            },
        ),
        check(
            DocKind::CoachingLog,
            CoachingLog {
                visits: vec![Visit {
                    id: "v1".into(),
                    date: "2026-11-20".into(),
                    focus: t("predictions"),
                    ..Visit::default()
                }],
                threads: vec![Thread {
                    id: "t1".into(),
                    doc_id: "d".into(),
                    anchor: "plan.questions[q1].prediction".into(),
                    feedback_requested: true,
                    resolved: false,
                    comments: vec![Comment {
                        id: "c".into(),
                        author: "lena".into(),
                        role: "coach".into(),
                        at_ms: 1,
                        text: t("Make it measurable?"),
                    }],
                }],
            },
        ),
    ];
    checked.sort();
    let mut all = DocKind::ALL.to_vec();
    all.sort();
    assert_eq!(
        checked, all,
        "every kind has a typed schema and a round-trip check"
    );
}

#[test]
fn site_work_validation() {
    let rca = RootCauseAnalysis {
        problem: t("EL students fail Algebra I"),
        categories: vec![Category {
            id: "instruction".into(),
            name: "instruction".into(),
            causes: vec![Cause {
                id: "c1".into(),
                text: t("little discourse"),
                ..Cause::default()
            }],
        }],
        ..RootCauseAnalysis::default()
    };
    assert!(rca.validate().iter().any(|f| f.field == "causes[c1]"));
    let plan = ImprovementPlan {
        problem: t("EL algebra"),
        ..ImprovementPlan::default()
    };
    let fields: Vec<String> = plan.validate().into_iter().map(|f| f.field).collect();
    assert!(
        fields.contains(&"aim_ids".to_owned())
            && fields.contains(&"root_cause_analysis_id".to_owned())
    );
    assert!(
        EmpathyInterview::default()
            .validate()
            .iter()
            .any(|f| f.field == "interviewee_role")
    );
}
