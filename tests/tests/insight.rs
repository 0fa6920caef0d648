//! Cross-site insight end to end: a small NIC — three schools testing one change idea in
//! several cycles each, and a measure by student group over 24 weeks — built through the
//! client library, then read back through `nic.v1.Insight` as a site member, another
//! school's member and an observer. A group of 9 students at one school is never visible
//! outside it: not in series, gaps, charts or exports, and not by subtraction.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use nic_client::NewDocument;
use nic_e2e::TestHub;
use nic_model::schema::Text;
use nic_model::schema::measure::{Direction, MeasureData, MeasureDefinition, Point, Scoring};
use nic_model::schema::pdsa::{Decision, LearningQuestion, PdsaCycle, QuestionResult};
use nic_model::{DocumentId, NetworkId, SiteId, Visibility};
use nic_proto::auth::AuthedChannel;
use nic_proto::v1::{self, documents_client::DocumentsClient, insight_client::InsightClient};

const WAIT: Duration = Duration::from_secs(30);

fn algebra() -> NetworkId {
    NetworkId::new("algebra").unwrap()
}

struct Nic {
    hub: TestHub,
    measure: DocumentId,
    /// Tokens: sam (lincoln), ada (adams), otto (observer).
    sam: String,
    ada: String,
    otto: String,
}

fn cycle(n: u32, start: &str, decision: Decision) -> PdsaCycle {
    let mut c = PdsaCycle {
        change_idea_id: "number-talks".into(),
        cycle_number: n,
        planned_start: Some(start.into()),
        ..PdsaCycle::default()
    };
    c.plan.questions.push(LearningQuestion {
        id: "q1".into(),
        question: Text::with_value("How many finish the exit ticket?"),
        prediction: Text::with_value(format!("{} of 28", 18 + n)),
        ..LearningQuestion::default()
    });
    c.do_.what_happened = Text::with_value("Ran it.");
    c.study.results.push(QuestionResult {
        question_id: "q1".into(),
        result: Text::with_value(format!("{} of 28", 19 + 2 * n)),
    });
    c.act.decision = Some(decision);
    c
}

/// 24 weekly points; `el` English learners out of 100 students; the all-students rate
/// rises after week 12 (the change took hold).
fn data(measure: DocumentId, el: u32, lift: f64) -> MeasureData {
    let mut points = Vec::new();
    for week in 0..24u32 {
        // Four weeks a month from September, into the new year.
        let month = 8 + week / 4;
        let period = format!(
            "{}-{:02}-{:02}",
            2026 + month / 12,
            month % 12 + 1,
            1 + (week % 4) * 7
        );
        let base = 40.0 + f64::from(week % 3);
        let rate = if week >= 12 { base + lift } else { base };
        let el_on = (f64::from(el) * (rate - 10.0) / 100.0).round();
        let all_on = rate.round();
        let mut push = |group: &str, on: f64, n: u32| {
            points.push(Point {
                id: format!("{period}/{group}"),
                period: period.clone(),
                group: group.into(),
                numerator: Some(on),
                denominator: Some(f64::from(n)),
                n,
                ..Point::default()
            });
        };
        push("all", all_on, 100);
        push("english_learner=yes", el_on, el);
        push("english_learner=no", all_on - el_on, 100 - el);
    }
    MeasureData {
        measure_id: measure.to_string(),
        points,
    }
}

/// Builds the NIC through the client library.
async fn nic(dir: &std::path::Path) -> Nic {
    let hub = TestHub::start(dir).await;
    hub.ensure_network("algebra", &["lincoln", "adams", "jefferson"])
        .await;
    let lena = hub
        .member("lena", v1::Role::NetworkLead, "algebra", "")
        .await;
    let sam = hub
        .member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    let ada = hub
        .member("ada", v1::Role::SiteMember, "algebra", "adams")
        .await;
    let jo = hub
        .member("jo", v1::Role::SiteMember, "algebra", "jefferson")
        .await;
    let otto = hub.member("otto", v1::Role::Observer, "algebra", "").await;

    let lead = hub.client(&lena).await;
    let network = lead.network(algebra()).await.unwrap();
    let measure = network
        .create(
            "On track for Algebra I",
            &MeasureDefinition {
                name: Text::with_value("On track for Algebra I"),
                scoring: Scoring::Proportion,
                unit: "%".into(),
                direction: Direction::Up,
                group_dimensions: vec!["english_learner".into()],
                ..MeasureDefinition::default()
            },
        )
        .await
        .unwrap();
    lead.wait_synced(WAIT).await.unwrap();

    // (site, member's token, English learners, lift after week 12, cycles)
    type School<'a> = (&'a str, &'a String, u32, f64, Vec<(u32, &'a str, Decision)>);
    let schools: [School<'_>; 3] = [
        (
            "lincoln",
            &sam,
            9,
            12.0,
            vec![
                (1, "2026-09-08", Decision::Adapt),
                (2, "2026-10-06", Decision::Adopt),
            ],
        ),
        (
            "adams",
            &ada,
            25,
            8.0,
            vec![
                (1, "2026-09-15", Decision::Adapt),
                (2, "2026-10-13", Decision::Adapt),
                (3, "2026-11-03", Decision::Adopt),
            ],
        ),
        (
            "jefferson",
            &jo,
            30,
            0.0,
            vec![
                (1, "2026-09-22", Decision::Adapt),
                (2, "2026-10-20", Decision::Abandon),
            ],
        ),
    ];
    for (site, token, el, lift, cycles) in schools {
        let client = hub.client(token).await;
        let network = client.network(algebra()).await.unwrap();
        let site_id = SiteId::new(site).unwrap();
        for (n, start, decision) in cycles {
            network
                .create_at(
                    site_id.clone(),
                    format!("Number talks {n}"),
                    &cycle(n, start, decision),
                )
                .await
                .unwrap();
        }
        client
            .create(
                NewDocument {
                    network: algebra(),
                    site: Some(site_id),
                    visibility: Visibility::Site,
                    title: format!("On track data, {site}"),
                },
                &data(measure, el, lift),
            )
            .await
            .unwrap();
        client.wait_synced(WAIT).await.unwrap();
        client.close().await.unwrap();
    }
    lead.close().await.unwrap();
    Nic {
        hub,
        measure,
        sam,
        ada,
        otto,
    }
}

async fn insight(hub: &TestHub, token: &str) -> InsightClient<AuthedChannel> {
    InsightClient::new(hub.authed_as(token).await)
}

async fn series(nic: &Nic, token: &str, focal: &str) -> v1::MeasureSeriesResponse {
    insight(&nic.hub, token)
        .await
        .measure_series(v1::MeasureSeriesRequest {
            measure_id: nic.measure.to_string(),
            rule_set: v1::RuleSet::Ihi as i32,
            focal_group: focal.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

fn find<'a>(r: &'a v1::MeasureSeriesResponse, site: &str, group: &str) -> &'a v1::Series {
    r.series
        .iter()
        .find(|s| s.site_id == site && s.group == group)
        .unwrap_or_else(|| panic!("no series {site} {group}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insight_compares_cycles_and_series_with_small_groups_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let nic = nic(dir.path()).await;

    // The comparison, as the observer sees it: three schools, their ramps and decisions.
    let cmp = insight(&nic.hub, &nic.otto)
        .await
        .compare_cycles(v1::CompareCyclesRequest {
            network_id: "algebra".into(),
            change_idea: "number-talks".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let statuses: Vec<(&str, &str, usize)> = cmp
        .sites
        .iter()
        .map(|s| (s.site_id.as_str(), s.status.as_str(), s.cycles.len()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("adams", "adopted", 3),
            ("jefferson", "abandoned", 2),
            ("lincoln", "adopted", 2)
        ]
    );
    let d = cmp.decisions.unwrap();
    assert_eq!((d.adopt, d.adapt, d.abandon, d.open), (2, 4, 1, 0));
    let lincoln = &cmp.sites[2];
    assert_eq!(lincoln.days_to_adoption, Some(28));
    assert_eq!(lincoln.cycles[1].predictions[0].prediction, "20 of 28");
    assert_eq!(lincoln.cycles[1].predictions[0].result, "23 of 28");

    // The series as the observer sees them: lincoln's 9 English learners are hidden, and
    // so is the rest of that breakdown (it would give them away); adams' 25 are shown.
    let seen = series(&nic, &nic.otto, "english_learner=yes").await;
    assert_eq!(seen.min_cell_size, 10);
    for p in &find(&seen, "lincoln", "english_learner=yes").points {
        assert!(p.value.is_none() && p.n.is_none(), "{p:?}");
        assert!(p.suppressed.contains("fewer than 10"), "{p:?}");
    }
    for p in &find(&seen, "lincoln", "english_learner=no").points {
        assert!(
            p.value.is_none() && p.suppressed.contains("subtraction"),
            "{p:?}"
        );
    }
    let all = find(&seen, "lincoln", "all");
    assert_eq!(all.points.len(), 24);
    assert!(all.points.iter().all(|p| p.value.is_some()));
    let adams = find(&seen, "adams", "english_learner=yes");
    assert!(
        adams
            .points
            .iter()
            .all(|p| p.value.is_some() && p.n == Some(25))
    );
    // Lincoln's lift after week 12 is a shift upwards: an improvement.
    let signals = &all.analysis.as_ref().unwrap().signals;
    assert!(
        signals
            .iter()
            .any(|s| s.rule == "shift" && s.label == "improvement"),
        "{signals:?}"
    );
    // Gaps: hidden for lincoln, shown for adams.
    let gap = |site: &str| seen.gaps.iter().find(|g| g.site_id == site).unwrap();
    assert!(
        gap("lincoln")
            .points
            .iter()
            .all(|p| p.gap.is_none() && !p.suppressed.is_empty())
    );
    assert!(gap("adams").points.iter().all(|p| p.gap.is_some()));

    // Another school's member sees the same suppressed view of lincoln.
    let ada = series(&nic, &nic.ada, "").await;
    assert!(
        find(&ada, "lincoln", "english_learner=yes")
            .points
            .iter()
            .all(|p| p.value.is_none())
    );
    // Lincoln's own member sees its raw counts.
    let sam = series(&nic, &nic.sam, "english_learner=yes").await;
    let raw = find(&sam, "lincoln", "english_learner=yes");
    assert!(
        raw.points
            .iter()
            .all(|p| p.value.is_some() && p.n == Some(9))
    );
    assert!(
        sam.gaps
            .iter()
            .find(|g| g.site_id == "lincoln")
            .unwrap()
            .points[0]
            .gap
            .is_some()
    );

    // No export or chart shows the observer a lincoln English-learner value either.
    let mut otto = insight(&nic.hub, &nic.otto).await;
    for format in [v1::ExportFormat::Csv, v1::ExportFormat::Json] {
        for focal in ["", "english_learner=yes"] {
            let file = otto
                .export(v1::ExportRequest {
                    table: Some(v1::export_request::Table::Series(
                        v1::MeasureSeriesRequest {
                            measure_id: nic.measure.to_string(),
                            focal_group: focal.into(),
                            ..Default::default()
                        },
                    )),
                    format: format as i32,
                })
                .await
                .unwrap()
                .into_inner();
            let text = String::from_utf8(file.data).unwrap();
            check_export_hides_lincoln(&text, format, focal);
        }
    }
    let chart = otto
        .chart(v1::ChartRequest {
            measure_id: nic.measure.to_string(),
            site_id: "lincoln".into(),
            group: "english_learner=yes".into(),
            rule_set: v1::RuleSet::Xmr as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .svg;
    assert!(
        !chart.contains("<circle"),
        "no point of a hidden series is drawn"
    );
    assert_eq!(chart.matches("class=\"suppressed\"").count(), 24);
    let multiples = otto
        .chart(v1::ChartRequest {
            measure_id: nic.measure.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .svg;
    // Each mark is labelled with its change idea and cycle; the tooltip has the decision.
    assert!(
        multiples.contains("lincoln")
            && multiples.contains("number-talks C2")
            && multiples.contains("PDSA number-talks: C2 (adopt)"),
        "{multiples}"
    );
    // Kept for `scripts/render-charts`, which opens them in a real browser.
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("insight-charts");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::write(keep.join("hidden-group.svg"), &chart).unwrap();
    std::fs::write(keep.join("by-school.svg"), &multiples).unwrap();

    // Overviews.
    let overview = otto
        .network_overview(v1::NetworkOverviewRequest {
            network_id: "algebra".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(overview.cycles, 7);
    assert_eq!(overview.change_ideas.len(), 1);
    assert_eq!(overview.measures.len(), 1);
    assert!(
        overview.measures[0]
            .improvement_sites
            .contains(&"lincoln".to_owned())
    );
    let district = otto
        .district_overview(v1::DistrictOverviewRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(district.networks.len(), 1);

    // Every other table exports too, in both formats.
    use v1::export_request::Table;
    let tables = [
        Table::Cycles(v1::CompareCyclesRequest {
            network_id: "algebra".into(),
            change_idea: "number-talks".into(),
        }),
        Table::Overview(v1::NetworkOverviewRequest {
            network_id: "algebra".into(),
        }),
        Table::District(v1::DistrictOverviewRequest {}),
    ];
    for table in tables {
        for format in [v1::ExportFormat::Csv, v1::ExportFormat::Json] {
            let file = otto
                .export(v1::ExportRequest {
                    table: Some(table.clone()),
                    format: format as i32,
                })
                .await
                .unwrap()
                .into_inner();
            let text = String::from_utf8(file.data).unwrap();
            if format == v1::ExportFormat::Json {
                serde_json::from_str::<serde_json::Value>(&text).unwrap();
                assert_eq!(file.content_type, "application/json");
            } else {
                assert_eq!(file.content_type, "text/csv");
                assert!(text.lines().count() > 1, "{}: {text}", file.filename);
            }
            assert!(text.contains("lincoln"), "{}: {text}", file.filename);
        }
    }
}

/// Lincoln's English-learner rows in an export carry no value and no count.
fn check_export_hides_lincoln(text: &str, format: v1::ExportFormat, focal: &str) {
    match format {
        v1::ExportFormat::Json => {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            for s in v["series"].as_array().unwrap() {
                if s["site"] == "lincoln" && s["group"] != "all" {
                    for p in s["points"].as_array().unwrap() {
                        assert!(p["value"].is_null() && p["n"].is_null(), "{p}");
                    }
                }
            }
            for g in v["gaps"].as_array().unwrap() {
                if g["site"] == "lincoln" {
                    assert!(
                        g["points"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .all(|p| p["gap"].is_null())
                    );
                }
            }
        }
        _ => {
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
            for line in lines {
                let cells: Vec<&str> = line.split(',').collect();
                if cells[col("site")] != "lincoln" {
                    continue;
                }
                if focal.is_empty() {
                    if cells[col("group")] != "all" {
                        assert!(
                            cells[col("value")].is_empty() && cells[col("n")].is_empty(),
                            "{line}"
                        );
                    }
                } else {
                    assert!(cells[col("gap")].is_empty(), "{line}");
                }
            }
        }
    }
}

/// The attacker's view of the example through the hub's RPCs and exports. One period
/// at lincoln: all 60/100; race=a 1/4; race=b 0/0; race=c 59/96. Subtracting race=c from
/// all gave race=a exactly; now an outsider is given neither race=a nor anything to subtract
/// (race=b and race=c are hidden with it), in every view: every group filter, every focal
/// group and reference, charts, CSV and JSON. Lincoln's own member sees it raw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subtraction_gives_an_outsider_nothing() {
    use nic_model::{DocKind, schema};
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &["lincoln", "adams"]).await;
    let sam = hub
        .member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    let ada = hub
        .member("ada", v1::Role::SiteMember, "algebra", "adams")
        .await;
    let otto = hub.member("otto", v1::Role::Observer, "algebra", "").await;
    let lena = hub
        .member("lena", v1::Role::NetworkLead, "algebra", "")
        .await;
    let mut docs = hub.documents().await;
    let def = MeasureDefinition {
        name: Text::with_value("On track"),
        scoring: Scoring::Proportion,
        unit: "%".into(),
        direction: Direction::Up,
        group_dimensions: vec!["race".into()],
        ..MeasureDefinition::default()
    };
    let measure = create(
        &mut docs,
        DocKind::MeasureDefinition,
        "",
        schema::new_document(DocKind::MeasureDefinition, &def)
            .unwrap()
            .save(),
    )
    .await;
    let point = |group: &str, on: f64, n: u32| Point {
        id: group.into(),
        period: "2026-09-01".into(),
        group: group.into(),
        numerator: Some(on),
        denominator: Some(f64::from(n)),
        n,
        ..Point::default()
    };
    for (site, cells) in [
        ("lincoln", [(60.0, 100), (1.0, 4), (0.0, 0), (59.0, 96)]),
        ("adams", [(50.0, 100), (20.0, 40), (10.0, 30), (20.0, 30)]),
    ] {
        let groups = ["all", "race=a", "race=b", "race=c"];
        let data = MeasureData {
            measure_id: measure.to_string(),
            points: groups
                .iter()
                .zip(cells)
                .map(|(g, (on, n))| point(g, on, n))
                .collect(),
        };
        let bytes = schema::new_document(DocKind::MeasureData, &data)
            .unwrap()
            .save();
        create(&mut docs, DocKind::MeasureData, site, bytes).await;
    }
    let groups = ["", "all", "race=a", "race=b", "race=c"];
    for (who, token) in [("observer", &otto), ("adams", &ada), ("lead", &lena)] {
        let mut i = insight(&hub, token).await;
        let mut views = Vec::new();
        for group in groups {
            for focal in ["", "race=a", "race=b", "race=c"] {
                for reference in [v1::GapReference::All, v1::GapReference::Best] {
                    let request = v1::MeasureSeriesRequest {
                        measure_id: measure.to_string(),
                        rule_set: v1::RuleSet::Xmr as i32,
                        group: group.into(),
                        focal_group: focal.into(),
                        gap_reference: reference as i32,
                    };
                    views.push(
                        i.measure_series(request.clone())
                            .await
                            .unwrap()
                            .into_inner(),
                    );
                    for format in [v1::ExportFormat::Csv, v1::ExportFormat::Json] {
                        let file = i
                            .export(v1::ExportRequest {
                                table: Some(v1::export_request::Table::Series(request.clone())),
                                format: format as i32,
                            })
                            .await
                            .unwrap()
                            .into_inner();
                        let text = String::from_utf8(file.data).unwrap();
                        check_export_gives_no_race(&text, format, focal, who);
                    }
                }
            }
        }
        for view in &views {
            for s in view.series.iter().filter(|s| s.site_id == "lincoln") {
                for p in &s.points {
                    if s.group == "all" {
                        assert_eq!((p.value, p.n), (Some(60.0), Some(100)), "{who}");
                    } else {
                        // Hidden: race=a as small, race=b (n = 0) protects nothing, so
                        // race=c goes too; all − race=c no longer gives race=a.
                        assert!(p.value.is_none() && p.n.is_none(), "{who}: {s:?}");
                        assert!(!p.suppressed.is_empty(), "{who}: {s:?}");
                    }
                }
            }
            for g in view.gaps.iter().filter(|g| g.site_id == "lincoln") {
                assert!(g.points.iter().all(|p| p.gap.is_none()), "{who}: {g:?}");
            }
            // Adams' groups are all big enough: shown.
            for s in view.series.iter().filter(|s| s.site_id == "adams") {
                assert!(s.points.iter().all(|p| p.n.is_some()), "{who}: {s:?}");
            }
        }
        for group in ["race=a", "race=b", "race=c"] {
            let svg = i
                .chart(v1::ChartRequest {
                    measure_id: measure.to_string(),
                    site_id: "lincoln".into(),
                    group: group.into(),
                    rule_set: v1::RuleSet::Xmr as i32,
                })
                .await
                .unwrap()
                .into_inner()
                .svg;
            assert!(!svg.contains("<circle"), "{who} {group}: a point is drawn");
        }
    }
    // Lincoln's own member sees every cell raw.
    let own = insight(&hub, &sam)
        .await
        .measure_series(v1::MeasureSeriesRequest {
            measure_id: measure.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let raw = |group: &str| {
        let p = &find(&own, "lincoln", group).points[0];
        (p.value, p.n)
    };
    assert_eq!(raw("race=a"), (Some(25.0), Some(4)));
    assert_eq!(raw("race=b").1, Some(0));
    assert_eq!(raw("race=c").1, Some(96));
    hub.stop().await;
}

/// Creates a document as the hub admin; `site` empty for a network-level one.
async fn create(
    docs: &mut DocumentsClient<AuthedChannel>,
    kind: nic_model::DocKind,
    site: &str,
    initial: Vec<u8>,
) -> DocumentId {
    let made = docs
        .create(v1::CreateDocumentRequest {
            kind: nic_proto::convert::kind_to_wire(kind) as i32,
            network_id: "algebra".into(),
            site_id: site.into(),
            visibility: if site.is_empty() {
                v1::Visibility::Network
            } else {
                v1::Visibility::Site
            } as i32,
            title: kind.as_str().into(),
            initial: Some(initial),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    made.meta.unwrap().doc_id.parse().unwrap()
}

/// A series export as `who` gets it: lincoln's race rows carry no value, n or gap.
fn check_export_gives_no_race(text: &str, format: v1::ExportFormat, focal: &str, who: &str) {
    if format == v1::ExportFormat::Json {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        for s in v["series"].as_array().unwrap() {
            if s["site"] == "lincoln" && s["group"] != "all" {
                for p in s["points"].as_array().unwrap() {
                    assert!(p["value"].is_null() && p["n"].is_null(), "{who}: {p}");
                }
            }
        }
        for g in v["gaps"].as_array().unwrap() {
            if g["site"] == "lincoln" {
                let points = g["points"].as_array().unwrap();
                assert!(points.iter().all(|p| p["gap"].is_null()), "{who}: {g}");
            }
        }
        return;
    }
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[col("site")] != "lincoln" {
            continue;
        }
        if !focal.is_empty() {
            assert!(cells[col("gap")].is_empty(), "{who}: {line}");
        } else if cells[col("group")] != "all" {
            let given = !cells[col("value")].is_empty() || !cells[col("n")].is_empty();
            assert!(!given, "{who}: {line}");
        }
    }
}
