//! Series that line up wherever they are read, end to end through a real hub: a school's
//! measure with a period too small to show to other schools, in the middle of a shift, read
//! by another school's member through MeasureSeries and the Export rpc (JSON and CSV). Every
//! signal names shown points by period and by index into the exported `points`, and the CSV
//! says per point what the JSON says. Also: P charts with limits by denominator, a rebase
//! stored on the measure that every reader sees, and the aim's target line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::time::Duration;

use nic_client::NewDocument;
use nic_e2e::TestHub;
use nic_model::schema::Text;
use nic_model::schema::aim::Aim;
use nic_model::schema::measure::{
    Direction, MeasureData, MeasureDefinition, Point, Rebase, Scoring,
};
use nic_model::{DocumentId, NetworkId, SiteId, Visibility};
use nic_proto::v1::{self, insight_client::InsightClient};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

/// The period that is too small to show outside lincoln (4 students).
const SMALL: usize = 10;
/// Periods in the series.
const PERIODS: usize = 15;

fn algebra() -> NetworkId {
    NetworkId::new("algebra").unwrap()
}

fn period(k: usize) -> String {
    // Weekly from 2026-09-07 (a Monday), as calendar dates.
    let days = [30, 31, 30, 31]; // September to December
    let mut day = 7 + 7 * k;
    let mut month = 0;
    while day > days[month] {
        day -= days[month];
        month += 1;
    }
    format!("2026-{:02}-{day:02}", 9 + month)
}

/// Lincoln's weekly share on track: about 40% for 7 weeks, then about 62% (a shift of 8
/// points, one of them — week 10 — from 4 students only). Denominators vary (40, 50, 60) so
/// that P-chart limits vary by point.
fn lincoln(measure: DocumentId) -> MeasureData {
    let low = [0.40, 0.42, 0.40, 0.44, 0.38, 0.42, 0.41];
    let high = [0.60, 0.62, 0.61, 0.5, 0.64, 0.60, 0.63, 0.66];
    let points = (0..PERIODS)
        .map(|k| {
            let rate = if k < 7 { low[k] } else { high[k - 7] };
            let den = if k == SMALL {
                4
            } else {
                40 + 10 * (k as u32 % 3)
            };
            Point {
                id: format!("w{k}"),
                period: period(k),
                group: "all".into(),
                numerator: Some((rate * f64::from(den)).round()),
                denominator: Some(f64::from(den)),
                n: den,
                ..Point::default()
            }
        })
        .collect();
    MeasureData {
        measure_id: measure.to_string(),
        points,
    }
}

struct Nic {
    hub: TestHub,
    lena: String,
    ada: String,
    measure: DocumentId,
    /// Scored as a continuous value: no P chart, and its aim's unit differs.
    minutes: DocumentId,
    aim: DocumentId,
}

async fn nic(dir: &std::path::Path) -> Nic {
    let hub = TestHub::start(dir).await;
    hub.ensure_network("algebra", &["lincoln", "adams"]).await;
    let lena = hub
        .member("lena", v1::Role::NetworkLead, "algebra", "")
        .await;
    let sam = hub
        .member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    let ada = hub
        .member("ada", v1::Role::SiteMember, "algebra", "adams")
        .await;
    let lead = hub.client(&lena).await;
    let network = lead.network(algebra()).await.unwrap();
    let measure = network
        .create(
            "On track",
            &MeasureDefinition {
                name: Text::with_value("On track"),
                scoring: Scoring::Proportion,
                unit: "%".into(),
                direction: Direction::Up,
                ..MeasureDefinition::default()
            },
        )
        .await
        .unwrap();
    let minutes = network
        .create(
            "Minutes of practice",
            &MeasureDefinition {
                name: Text::with_value("Minutes of practice"),
                scoring: Scoring::Continuous,
                unit: "min".into(),
                ..MeasureDefinition::default()
            },
        )
        .await
        .unwrap();
    let aim = network
        .create(
            "70% on track by June",
            &Aim {
                statement: Text::with_value("70% on track by June"),
                target: Some(70.0),
                unit: "%".into(),
                by_when: Some("2027-06-01".into()),
                outcome_measure_id: Some(measure.to_string()),
                ..Aim::default()
            },
        )
        .await
        .unwrap();
    network
        .create(
            "Practice more",
            &Aim {
                statement: Text::with_value("Practice more"),
                target: Some(80.0),
                unit: "%".into(),
                outcome_measure_id: Some(minutes.to_string()),
                ..Aim::default()
            },
        )
        .await
        .unwrap();
    lead.wait_synced(WAIT).await.unwrap();
    lead.close().await.unwrap();

    let school = hub.client(&sam).await;
    for (m, data) in [
        (measure, lincoln(measure)),
        (minutes, {
            let mut d = lincoln(minutes);
            for p in &mut d.points {
                p.value = p.numerator;
            }
            d
        }),
    ] {
        school
            .create(
                NewDocument {
                    network: algebra(),
                    site: Some(SiteId::new("lincoln").unwrap()),
                    visibility: Visibility::Site,
                    title: format!("lincoln data {m}"),
                },
                &data,
            )
            .await
            .unwrap();
    }
    school.wait_synced(WAIT).await.unwrap();
    school.close().await.unwrap();
    Nic {
        hub,
        lena,
        ada,
        measure,
        minutes,
        aim,
    }
}

async fn series(nic: &Nic, token: &str, rule_set: v1::RuleSet) -> v1::MeasureSeriesResponse {
    InsightClient::new(nic.hub.authed_as(token).await)
        .measure_series(v1::MeasureSeriesRequest {
            measure_id: nic.measure.to_string(),
            rule_set: rule_set as i32,
            group: "all".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

async fn export(nic: &Nic, token: &str, format: v1::ExportFormat) -> String {
    let file = InsightClient::new(nic.hub.authed_as(token).await)
        .export(v1::ExportRequest {
            table: Some(v1::export_request::Table::Series(
                v1::MeasureSeriesRequest {
                    measure_id: nic.measure.to_string(),
                    rule_set: v1::RuleSet::Ihi as i32,
                    group: "all".into(),
                    ..Default::default()
                },
            )),
            format: format as i32,
        })
        .await
        .unwrap()
        .into_inner();
    String::from_utf8(file.data).unwrap()
}

/// One signal as every form gives it: rule, indices into the points, periods.
#[derive(Debug)]
struct Marked {
    rule: String,
    points: Vec<usize>,
    periods: Vec<String>,
}

/// The guarantee: each signal's `points[i]` is a shown point whose period is `periods[i]`,
/// the small period is in no signal, and the shift that spans it keeps its last point.
fn check_lines_up(what: &str, periods: &[String], shown: &[bool], signals: &[Marked]) {
    assert_eq!(periods.len(), PERIODS, "{what}: every period is exported");
    assert!(
        !shown[SMALL],
        "{what}: week {SMALL} is suppressed for adams"
    );
    assert!(!signals.is_empty(), "{what}: the shift is found");
    for s in signals {
        assert_eq!(s.points.len(), s.periods.len(), "{what}: {s:?}");
        for (&i, p) in s.points.iter().zip(&s.periods) {
            assert_eq!(&periods[i], p, "{what}: {s:?} index {i} is not {p}");
            assert!(shown[i], "{what}: {s:?} marks the hidden point {i}");
        }
        assert!(!s.periods.contains(&period(SMALL)), "{what}: {s:?}");
    }
    let across = signals
        .iter()
        .find(|s| s.rule == "shift" && s.points.contains(&(SMALL - 1)))
        .unwrap_or_else(|| panic!("{what}: no shift across week {SMALL}: {signals:?}"));
    let want: Vec<usize> = (7..PERIODS).filter(|&k| k != SMALL).collect();
    assert_eq!(
        across.points, want,
        "{what}: the shift is weeks 7–14 but 10"
    );
    assert_eq!(
        across.periods.last(),
        Some(&period(PERIODS - 1)),
        "{what}: the shift's last point is the series' last"
    );
}

fn from_wire(s: &v1::Series) -> (Vec<String>, Vec<bool>, Vec<Marked>) {
    let a = s.analysis.clone().unwrap();
    (
        s.points.iter().map(|p| p.period.clone()).collect(),
        s.points.iter().map(|p| p.value.is_some()).collect(),
        a.signals
            .iter()
            .map(|g| Marked {
                rule: g.rule.clone(),
                points: g.points.iter().map(|&i| i as usize).collect(),
                periods: g.periods.clone(),
            })
            .collect(),
    )
}

fn from_json(s: &Value) -> (Vec<String>, Vec<bool>, Vec<Marked>) {
    let points = s["points"].as_array().unwrap();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    };
    (
        points
            .iter()
            .map(|p| p["period"].as_str().unwrap().to_owned())
            .collect(),
        points.iter().map(|p| p["value"].is_number()).collect(),
        s["analysis"]["signals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| Marked {
                rule: g["rule"].as_str().unwrap().to_owned(),
                points: g["points"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| usize::try_from(i.as_u64().unwrap()).unwrap())
                    .collect(),
                periods: strings(&g["periods"]),
            })
            .collect(),
    )
}

/// A number written in the CSV against the JSON's (both from the same f64).
fn same_number(csv: &str, json: &Value, what: &str) {
    match json.as_f64() {
        Some(v) => {
            let c: f64 = csv.parse().unwrap_or_else(|_| panic!("{what}: {csv:?}"));
            assert!((c - v).abs() < 1e-9, "{what}: csv {c}, json {v}");
        }
        None => assert_eq!(csv, "", "{what}: json has none"),
    }
}

/// The CSV, parsed with the `csv` crate, against the JSON of the same request.
fn check_csv_against_json(csv_text: &str, json: &Value) {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    for column in [
        "site",
        "group",
        "period",
        "value",
        "n",
        "suppressed",
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
        "target",
        "target_by_when",
    ] {
        assert!(headers.iter().any(|h| h == column), "no column {column}");
    }
    let col = |row: &csv::StringRecord, name: &str| -> String {
        let i = headers.iter().position(|h| h == name).unwrap();
        row.get(i).unwrap().to_owned()
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let series = &json["series"][0];
    let points = series["points"].as_array().unwrap();
    let analysis = &series["analysis"];
    assert_eq!(rows.len(), points.len());
    for (i, (row, p)) in rows.iter().zip(points).enumerate() {
        assert_eq!(col(row, "site"), "lincoln");
        assert_eq!(col(row, "period"), p["period"].as_str().unwrap());
        same_number(&col(row, "value"), &p["value"], "value");
        same_number(&col(row, "n"), &p["n"], "n");
        assert_eq!(col(row, "suppressed").is_empty(), p["suppressed"].is_null());
        let lines = &analysis["lines"][i];
        same_number(&col(row, "centre"), &lines["centre"], "centre");
        same_number(&col(row, "lower_limit"), &lines["lower"], "lower");
        same_number(&col(row, "upper_limit"), &lines["upper"], "upper");
        let phase = analysis["phases"]
            .as_array()
            .unwrap()
            .iter()
            .position(|ph| {
                let (first, last) = (ph["first"].as_u64().unwrap(), ph["last"].as_u64().unwrap());
                (first..=last).contains(&(i as u64))
            });
        if lines.is_null() {
            assert_eq!(col(row, "phase"), "", "row {i}");
            assert_eq!(col(row, "baseline"), "", "row {i}");
        } else {
            assert_eq!(col(row, "phase"), (phase.unwrap() + 1).to_string());
            assert_eq!(
                col(row, "baseline"),
                "yes",
                "row {i}: one phase, all baseline"
            );
        }
        let marking = |whole: bool| -> (String, String) {
            let gs: Vec<&Value> = analysis["signals"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|g| {
                    g["points"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x.as_u64() == Some(i as u64))
                })
                .filter(|g| {
                    let rule = g["rule"].as_str().unwrap();
                    whole == matches!(rule, "too_few_runs" | "too_many_runs" | "few_crossings")
                })
                .collect();
            let join = |k: &str| {
                gs.iter()
                    .map(|g| g[k].as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(";")
            };
            (join("rule"), join("label"))
        };
        let (rules, labels) = marking(false);
        assert_eq!(col(row, "signals"), rules, "row {i}");
        assert_eq!(col(row, "signal_labels"), labels, "row {i}");
        assert_eq!(col(row, "phase_signals"), marking(true).0, "row {i}");
        assert_eq!(col(row, "target"), "70");
        assert_eq!(col(row, "target_by_when"), "2027-06-01");
    }
    let small = &rows[SMALL];
    assert!(col(small, "suppressed").starts_with("suppressed"));
    assert_eq!(col(small, "value"), "");
    assert_eq!(col(small, "signals"), "");
    assert_eq!(col(&rows[PERIODS - 1], "signals"), "shift");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_line_up_with_the_exported_points_around_a_suppressed_period() {
    let dir = tempfile::tempdir().unwrap();
    let nic = nic(dir.path()).await;

    let seen = series(&nic, &nic.ada, v1::RuleSet::Ihi).await;
    assert_eq!(seen.series.len(), 1);
    let (periods, shown, signals) = from_wire(&seen.series[0]);
    check_lines_up("MeasureSeries", &periods, &shown, &signals);

    let json_text = export(&nic, &nic.ada, v1::ExportFormat::Json).await;
    let json: Value = serde_json::from_str(&json_text).unwrap();
    let (periods, shown, signals) = from_json(&json["series"][0]);
    check_lines_up("Export JSON", &periods, &shown, &signals);

    // The file describes itself.
    assert_eq!(json["measure_id"], nic.measure.to_string());
    assert_eq!(json["name"], "On track");
    assert_eq!(json["unit"], "%");
    assert_eq!(json["direction"], "up");
    assert_eq!(json["scoring"], "proportion");
    assert_eq!(json["rule_set"], "ihi");
    assert_eq!(json["target"]["value"], 70.0);
    assert_eq!(json["target"]["by_when"], "2027-06-01");
    assert_eq!(json["target"]["aim_id"], nic.aim.to_string());
    assert!(json["phasing"]["rebases"].as_array().unwrap().is_empty());
    assert_eq!(
        json["series"][0]["analysis"]["phases"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let csv_text = export(&nic, &nic.ada, v1::ExportFormat::Csv).await;
    check_csv_against_json(&csv_text, &json);
    nic.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p_charts_rebases_and_the_target_line_reach_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let nic = nic(dir.path()).await;

    // A P chart: limits by denominator, the same for equal denominators.
    let p = series(&nic, &nic.ada, v1::RuleSet::P).await;
    let s = &p.series[0];
    let a = s.analysis.clone().unwrap();
    assert_eq!(a.rule_set, "p");
    let mut by_n: Vec<(u32, f64, f64)> = Vec::new();
    for (point, lines) in s.points.iter().zip(&a.lines) {
        if let Some(n) = point.n {
            by_n.push((n, lines.lower.unwrap(), lines.upper.unwrap()));
        } else {
            assert!(
                !lines.analysed && lines.upper.is_none(),
                "hidden: no limits"
            );
        }
    }
    let widths: BTreeSet<(u32, u64)> = by_n
        .iter()
        .map(|&(n, lo, up)| (n, ((up - lo) * 1e6).round() as u64))
        .collect();
    let sizes: BTreeSet<u32> = by_n.iter().map(|b| b.0).collect();
    assert_eq!(sizes.len(), 3, "denominators 40, 50, 60");
    assert_eq!(widths.len(), 3, "one width per denominator: {widths:?}");
    let width = |n: u32| widths.iter().find(|w| w.0 == n).unwrap().1;
    assert!(width(40) > width(50) && width(50) > width(60), "{widths:?}");

    // Not on a continuous measure.
    let refused = InsightClient::new(nic.hub.authed_as(&nic.ada).await)
        .measure_series(v1::MeasureSeriesRequest {
            measure_id: nic.minutes.to_string(),
            rule_set: v1::RuleSet::P as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("continuous")
            && refused.message().contains("P chart needs a proportion")
            && !refused.message().contains("  "),
        "{}",
        refused.message()
    );

    // The target line, and none where the aim's unit is not the measure's.
    let t = p.target.clone().expect("the aim's target");
    assert_eq!(t.value, 70.0);
    assert_eq!(t.by_when, "2027-06-01");
    assert_eq!(t.unit, "%");
    assert_eq!(t.aim_id, nic.aim.to_string());
    let minutes = InsightClient::new(nic.hub.authed_as(&nic.ada).await)
        .measure_series(v1::MeasureSeriesRequest {
            measure_id: nic.minutes.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(minutes.target.is_none());
    assert!(
        minutes
            .warnings
            .iter()
            .any(|w| w.contains("\"%\"") && w.contains("\"min\"")),
        "{:?}",
        minutes.warnings
    );

    // The lead rebases at week 7 (the change adopted); another school's member sees two
    // phases, each with its own centre line.
    let lead = nic.hub.client(&nic.lena).await;
    lead.network(algebra()).await.unwrap();
    lead.wait_for(nic.measure, WAIT, |am| {
        nic_client::automerge::ReadDoc::get(am, nic_client::automerge::ROOT, "kind")
            .ok()
            .flatten()
            .is_some()
    })
    .await
    .unwrap();
    lead.change::<MeasureDefinition>(nic.measure, "rebase", |m| {
        m.rebases.push(Rebase {
            from: period(7),
            baseline_end: None,
            reason: Text::with_value("adopted number talks"),
        });
    })
    .await
    .unwrap();
    lead.wait_synced(WAIT).await.unwrap();
    lead.close().await.unwrap();
    for rule_set in [v1::RuleSet::Ihi, v1::RuleSet::Xmr, v1::RuleSet::P] {
        let r = series(&nic, &nic.ada, rule_set).await;
        let phasing = r.phasing.clone().unwrap();
        assert_eq!(phasing.rebases.len(), 1);
        assert_eq!(phasing.rebases[0].from, period(7));
        let a = r.series[0].analysis.clone().unwrap();
        assert_eq!(a.phases.len(), 2, "{rule_set:?}");
        assert_eq!((a.phases[0].first, a.phases[0].last), (0, 6));
        assert_eq!((a.phases[1].first, a.phases[1].last), (7, 14));
        assert!(
            a.phases[0].centre < 45.0 && a.phases[1].centre > 58.0,
            "{a:?}"
        );
        assert_eq!(a.lines[0].centre, Some(a.phases[0].centre));
        assert_eq!(a.lines[14].centre, Some(a.phases[1].centre));
        assert!(!a.lines[SMALL].analysed);
    }
    // The export says the same.
    let json: Value =
        serde_json::from_str(&export(&nic, &nic.ada, v1::ExportFormat::Json).await).unwrap();
    assert_eq!(
        json["phasing"]["rebases"][0]["reason"],
        "adopted number talks"
    );
    let csv_text = export(&nic, &nic.ada, v1::ExportFormat::Csv).await;
    let phases: Vec<String> = csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().get(11).unwrap().to_owned())
        .collect();
    let mut want: Vec<String> = (0..PERIODS)
        .map(|k| if k < 7 { "1" } else { "2" }.to_owned())
        .collect();
    want[SMALL] = String::new();
    assert_eq!(phases, want);
    nic.hub.stop().await;
}
