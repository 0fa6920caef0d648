//! Every kind, filled in with a distinct marker in every field, renders every marker for
//! people and every field (at every depth) in JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_client::automerge::Automerge;
use nic_model::schema::describe::{Object, Shape};
use nic_model::schema::{self, Text, aim, driver, measure, network, pdsa, site_work};
use nic_model::{DocKind, DocMeta, fixtures};
use serde_json::Value;

fn doc<T: autosurgeon::Reconcile>(kind: DocKind, value: &T) -> Automerge {
    let mut am = schema::new_document(kind, value).unwrap();
    Automerge::load(&am.save()).unwrap()
}

fn t(s: &str) -> Text {
    Text::with_value(s)
}

fn s(v: &str) -> String {
    v.to_owned()
}

/// A document of `kind` with every field set, and the markers its text must show.
fn filled(kind: DocKind) -> (Automerge, Vec<&'static str>) {
    use driver::{Level, Link, Node};
    match kind {
        DocKind::NetworkProfile => (
            doc(
                kind,
                &network::NetworkProfile {
                    name: t("P-name"),
                    description: t("P-desc"),
                    sites: vec![s("P-site")],
                    aim_id: Some(s("P-aim")),
                    equity_focus_groups: vec![s("P-group")],
                    equity_focus: t("P-why"),
                    equity_codes: vec![network::EquityCode {
                        id: s("P-code"),
                        dimension: s("P-dim"),
                        label: t("P-label"),
                    }],
                },
            ),
            vec![
                "P-name", "P-desc", "P-site", "P-aim", "P-group", "P-why", "P-code", "P-dim",
                "P-label",
            ],
        ),
        DocKind::Aim => (
            doc(
                kind,
                &aim::Aim {
                    statement: t("A-st"),
                    what: t("A-what"),
                    baseline: Some(31.0),
                    target: Some(82.0),
                    unit: s("A-unit"),
                    by_when: Some(s("2027-06-01")),
                    for_whom: vec![s("A-for")],
                    outcome_measure_id: Some(s("A-meas")),
                    equity_codes: vec![s("A-code")],
                },
            ),
            vec![
                "A-st",
                "A-what",
                "31",
                "82",
                "A-unit",
                "2027-06-01",
                "A-for",
                "A-meas",
                "A-code",
            ],
        ),
        DocKind::DriverDiagram => {
            let node = |id: &str, level, text: &str, description: &str| Node {
                id: s(id),
                level,
                text: t(text),
                description: t(description),
            };
            let link = |from: &str, to: &str| Link {
                from: s(from),
                to: s(to),
            };
            (
                doc(
                    kind,
                    &driver::DriverDiagram {
                        nodes: vec![
                            node("aim", Level::Aim, "D-aim", ""),
                            node("p1", Level::Primary, "D-pri", "D-pdesc"),
                            node("s1", Level::Secondary, "D-sec", ""),
                            node("c1", Level::Change, "D-chg", ""),
                            node("x1", Level::Secondary, "D-loose", ""),
                        ],
                        links: vec![link("p1", "aim"), link("s1", "p1"), link("c1", "s1")],
                    },
                ),
                vec!["D-aim", "D-pri", "D-pdesc", "D-sec", "D-chg", "D-loose"],
            )
        }
        DocKind::ChangeIdea => (
            doc(
                kind,
                &driver::ChangeIdea {
                    title: t("I-title"),
                    description: t("I-desc"),
                    drivers: vec![s("I-drv")],
                    origin_site: Some(s("I-site")),
                    tags: vec![s("I-tag")],
                    equity_codes: vec![s("I-code")],
                },
            ),
            vec!["I-title", "I-desc", "I-drv", "I-site", "I-tag", "I-code"],
        ),
        DocKind::PdsaCycle => {
            let mut c = pdsa::PdsaCycle {
                change_idea_id: s("C-idea"),
                cycle_number: 7,
                previous_cycle_id: Some(s("C-prev")),
                planned_start: Some(s("2026-09-14")),
                planned_end: Some(s("2026-09-25")),
                voices: vec![s("C-voice")],
                ..Default::default()
            };
            c.plan = pdsa::Plan {
                objective: t("C-obj"),
                questions: vec![pdsa::LearningQuestion {
                    id: s("q1"),
                    question: t("C-q"),
                    prediction: t("C-pred"),
                    ..Default::default()
                }],
                who: t("C-who"),
                what: t("C-what"),
                when: t("C-when"),
                where_: t("C-where"),
                population: t("C-pop"),
                data_collection: t("C-data"),
            };
            c.do_ = pdsa::Do {
                as_planned: Some(false),
                what_happened: t("C-did"),
                observations: vec![pdsa::Observation {
                    id: s("o1"),
                    at_ms: 1_790_000_000_000,
                    text: t("C-obs"),
                }],
                adjustments: t("C-adj"),
            };
            c.study = pdsa::Study {
                results: vec![pdsa::QuestionResult {
                    question_id: s("q1"),
                    result: t("C-found"),
                }],
                learning: t("C-learn"),
            };
            c.act = pdsa::Act {
                decision: Some(pdsa::Decision::Adapt),
                rationale: t("C-why"),
                next_cycle_id: Some(s("C-next")),
            };
            c.equity_pauses = vec![pdsa::EquityPause {
                id: s("e1"),
                phase: s("study"),
                prompt: t("C-prompt"),
                by: s("C-by"),
                reflection: t("C-refl"),
            }];
            (
                doc(kind, &c),
                vec![
                    "C-idea",
                    "cycle 7",
                    "C-prev",
                    "2026-09-14",
                    "2026-09-25",
                    "C-obj",
                    "C-q",
                    "C-pred",
                    "C-who",
                    "C-what",
                    "C-when",
                    "C-where",
                    "C-pop",
                    "C-data",
                    "not as planned",
                    "C-did",
                    "C-obs",
                    "C-adj",
                    "C-found",
                    "C-learn",
                    "adapt",
                    "C-why",
                    "C-next",
                    "C-prompt",
                    "C-by",
                    "C-refl",
                    "C-voice",
                ],
            )
        }
        DocKind::MeasureDefinition => (
            doc(
                kind,
                &measure::MeasureDefinition {
                    name: t("M-name"),
                    measure_type: measure::MeasureType::Balancing,
                    definition: measure::OperationalDefinition {
                        numerator: t("M-num"),
                        denominator: t("M-den"),
                        exclusions: t("M-excl"),
                        data_source: t("M-src"),
                        frequency: s("M-freq"),
                        collected_by: t("M-by"),
                    },
                    scoring: measure::Scoring::Ratio,
                    unit: s("M-unit"),
                    direction: measure::Direction::Down,
                    group_dimensions: vec![s("M-dim")],
                    baseline_end: Some(s("2026-01-05")),
                    rebases: vec![measure::Rebase {
                        from: s("2026-02-02"),
                        baseline_end: Some(s("2026-03-02")),
                        reason: t("M-reason"),
                    }],
                },
            ),
            vec![
                "M-name",
                "Balancing",
                "Ratio",
                "Down",
                "M-unit",
                "M-num",
                "M-den",
                "M-excl",
                "M-src",
                "M-freq",
                "M-by",
                "M-dim",
                "2026-01-05",
                "2026-02-02",
                "2026-03-02",
                "M-reason",
            ],
        ),
        DocKind::MeasureData => (
            doc(
                kind,
                &measure::MeasureData {
                    measure_id: s("MD-meas"),
                    points: vec![measure::Point {
                        id: s("p1"),
                        period: s("2026-01-05"),
                        group: s("MD-grp=yes"),
                        numerator: Some(3.0),
                        denominator: Some(11.0),
                        value: None,
                        n: 11,
                        note: t("MD-note"),
                    }],
                },
            ),
            vec![
                "MD-meas",
                "2026-01-05",
                "MD-grp=yes",
                "3 of 11",
                "n=11",
                "MD-note",
            ],
        ),
        DocKind::EmpathyInterview => (
            doc(
                kind,
                &site_work::EmpathyInterview {
                    interviewee_role: s("E-role"),
                    interviewee_groups: vec![s("E-grp")],
                    interviewer: s("E-intv"),
                    date: Some(s("2026-09-01")),
                    questions: vec![t("E-q")],
                    notes: t("E-notes\nE-quote"),
                    themes: vec![s("E-theme")],
                },
            ),
            vec![
                "E-role",
                "E-grp",
                "E-intv",
                "2026-09-01",
                "E-q",
                "E-notes",
                "E-quote",
                "E-theme",
            ],
        ),
        DocKind::RootCauseAnalysis => (
            doc(
                kind,
                &site_work::RootCauseAnalysis {
                    problem: t("R-prob"),
                    categories: vec![site_work::Category {
                        id: s("instr"),
                        name: s("R-cat"),
                        causes: vec![site_work::Cause {
                            id: s("c1"),
                            text: t("R-cause"),
                            evidence: t("R-ev"),
                            causes: vec![site_work::Cause {
                                id: s("c2"),
                                text: t("R-deep"),
                                evidence: t("R-deepev"),
                                causes: Vec::new(),
                            }],
                        }],
                    }],
                    why_chains: vec![site_work::WhyChain {
                        id: s("w1"),
                        whys: vec![t("R-why1"), t("R-why2")],
                    }],
                    equity_codes: vec![s("R-code")],
                },
            ),
            vec![
                "R-prob", "R-cat", "R-cause", "R-ev", "R-deep", "R-deepev", "R-why1", "R-why2",
                "R-code",
            ],
        ),
        DocKind::EquityAudit => (
            doc(
                kind,
                &site_work::EquityAudit {
                    area: s("Q-area"),
                    findings: vec![site_work::GroupFinding {
                        id: s("f1"),
                        group: s("Q-grp=yes"),
                        finding: t("Q-find"),
                    }],
                    sources: t("Q-src"),
                },
            ),
            vec!["Q-area", "Q-grp=yes", "Q-find", "Q-src"],
        ),
        DocKind::ImprovementPlan => (
            doc(
                kind,
                &site_work::ImprovementPlan {
                    problem: t("L-prob"),
                    data_summary: t("L-data"),
                    root_cause_analysis_id: Some(s("L-rca")),
                    aim_ids: vec![s("L-aim")],
                    driver_ids: vec![s("L-drv")],
                    cycle_ids: vec![s("L-cyc")],
                },
            ),
            vec!["L-prob", "L-data", "L-rca", "L-aim", "L-drv", "L-cyc"],
        ),
        DocKind::CoachingLog => (
            doc(
                kind,
                &network::CoachingLog {
                    visits: vec![network::Visit {
                        id: s("v1"),
                        date: s("2026-10-01"),
                        focus: t("G-focus"),
                        commitments: t("G-commit"),
                        follow_up: t("G-follow"),
                    }],
                    threads: vec![network::Thread {
                        id: s("t1"),
                        doc_id: s("G-doc"),
                        anchor: s("G-anchor"),
                        feedback_requested: true,
                        resolved: false,
                        comments: vec![network::Comment {
                            id: s("k1"),
                            author: s("G-author"),
                            role: s("G-role"),
                            at_ms: 1_790_000_000_000,
                            text: t("G-text"),
                        }],
                    }],
                },
            ),
            vec![
                "2026-10-01",
                "G-focus",
                "G-commit",
                "G-follow",
                "G-doc",
                "G-anchor",
                "feedback requested",
                "G-author",
                "G-role",
                "G-text",
            ],
        ),
    }
}

/// Every field of `shape` is in `v`, at every depth the value reaches.
fn assert_complete(shape: &Shape, v: &Value, path: &str) {
    match shape {
        Shape::Object(o) => object(o, v, path),
        Shape::List(inner) => {
            for (i, item) in v.as_array().unwrap_or(&Vec::new()).iter().enumerate() {
                assert_complete(inner, item, &format!("{path}[{i}]"));
            }
        }
        Shape::Optional(inner) if !v.is_null() => assert_complete(inner, v, path),
        _ => {}
    }
}

fn object(o: &Object, v: &Value, path: &str) {
    for f in &o.fields {
        let field = v
            .get(f.name)
            .unwrap_or_else(|| panic!("{path}.{} is missing from {v}", f.name));
        assert_complete(&(f.shape)(), field, &format!("{path}.{}", f.name));
    }
}

#[test]
fn every_kind_shows_every_field_to_people_and_in_json() {
    for kind in DocKind::ALL {
        let (am, markers) = filled(kind);
        let meta = DocMeta {
            kind,
            site: Some(fixtures::site("lincoln")),
            ..fixtures::meta(1, "algebra")
        };
        let json = super::full_json(&meta, &am).unwrap();
        object(&schema::shape_of(kind), &json, kind.as_str());
        assert_eq!(json["kind"], kind.as_str());
        assert_eq!(json["meta"]["site"], "lincoln");
        let text = super::body(kind, &am, &json);
        for m in markers {
            assert!(
                text.contains(m),
                "{}: {m:?} not shown in\n{text}",
                kind.as_str()
            );
            if m.contains('-') && !m.contains(' ') {
                assert!(json.to_string().contains(m), "{m} not in the JSON");
            }
        }
        assert!(!text.contains("does not read"), "{text}");
    }
}

#[test]
fn an_empty_document_of_every_kind_still_shows() {
    for kind in DocKind::ALL {
        let am = Automerge::new();
        let meta = DocMeta {
            kind,
            ..fixtures::meta(1, "algebra")
        };
        let json = super::full_json(&meta, &am).unwrap();
        // Not readable as its kind (no envelope): still shown, as an outline with a note
        // (`show` then exits 8, so a script hears of it).
        let text = super::body(kind, &am, &json);
        assert!(text.contains("does not read as one"), "{text}");
    }
}

#[test]
fn a_category_made_twice_while_apart_shows_once_with_every_cause() {
    let cause = |id: &str, text: &str| site_work::Cause {
        id: s(id),
        text: t(text),
        ..Default::default()
    };
    let home = |c| site_work::Category {
        id: s("home"),
        name: s("home"),
        causes: vec![c],
    };
    let rca = site_work::RootCauseAnalysis {
        problem: t("Homework is rarely turned in"),
        categories: vec![
            home(cause("c1-aaaa", "No quiet place")),
            home(cause("c1-bbbb", "Work goes home unfinished")),
        ],
        ..Default::default()
    };
    let text = super::site::rca(&rca);
    assert_eq!(text.matches("home [home]").count(), 1, "{text}");
    assert!(text.contains("[c1-aaaa]: No quiet place"), "{text}");
    assert!(
        text.contains("[c1-bbbb]: Work goes home unfinished"),
        "{text}"
    );
}

/// A crafted diagram: a chain of 20,000 boxes from the aim, each driving the next, and a
/// loop back. Drawn without overflowing the test thread's stack, each box once, at a
/// bounded indent.
#[test]
fn a_crafted_deep_diagram_is_drawn_without_overflow_or_endless_indent() {
    use driver::{Level, Link, Node};
    let n = 20_000;
    let nodes: Vec<Node> = (0..n)
        .map(|i| Node {
            id: format!("n{i}"),
            level: if i == 0 { Level::Aim } else { Level::Primary },
            text: t(&format!("box {i}")),
            description: t(""),
        })
        .collect();
    let mut links: Vec<Link> = (1..n)
        .map(|i| Link {
            from: format!("n{i}"),
            to: format!("n{}", i - 1),
        })
        .collect();
    links.push(Link {
        from: s("n0"),
        to: format!("n{}", n - 1),
    });
    let d = driver::DriverDiagram { nodes, links };
    let text = super::network::diagram(&d);
    let boxes = text.lines().filter(|l| l.contains(": box ")).count();
    assert_eq!(
        boxes,
        n + 1,
        "each box once, and the aim again as 'shown above'"
    );
    assert!(text.contains("(shown above)"));
    let widest = text
        .lines()
        .map(|l| l.len() - l.trim_start().len())
        .max()
        .unwrap();
    assert!(widest <= 16, "indent {widest}");
}
