//! A network's public family and community dashboard (`GET /public/{network}/dashboard.json`,
//! no sign-in): the same 404 for an unknown network and one whose lead has not turned it on;
//! only leads and hub admins turn it on; its JSON holds no document id and no value the
//! Insight service suppresses for any reader; and, as a property over random small groups,
//! nothing it withholds can be recovered by subtraction from what it publishes (together with
//! what each kind of member sees through Insight).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use nic_e2e::TestHub;
use nic_insight::RuleSet;
use nic_insight::series::{SiteData, measure_series};
use nic_insight::suppress::MinCell;
use nic_model::schema::Text;
use nic_model::schema::aim::Aim;
use nic_model::schema::driver::ChangeIdea;
use nic_model::schema::measure::{Direction, MeasureData, MeasureDefinition, Point, Scoring};
use nic_model::schema::pdsa::{Decision, PdsaCycle};
use nic_model::{DocKind, DocumentId, schema};
use nic_proto::auth::AuthedChannel;
use nic_proto::v1::{self, documents_client::DocumentsClient, insight_client::InsightClient};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;

const WAIT: Duration = Duration::from_secs(20);
const SITES: [&str; 3] = ["lincoln", "adams", "jefferson"];

/// One HTTP/1.1 GET without credentials: (status, lowercased head, body).
async fn get(hub: &TestHub, path: &str) -> (u16, String, Vec<u8>) {
    let (head, body) = hub.http_get(path, "").await;
    let status = head[9..12].parse().unwrap();
    (status, head, body)
}

/// The head without its date line (which changes from one second to the next).
fn stable(head: &str) -> String {
    head.lines()
        .filter(|l| !l.starts_with("date:"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn create(
    docs: &mut DocumentsClient<AuthedChannel>,
    kind: DocKind,
    site: &str,
    visibility: v1::Visibility,
    title: &str,
    initial: Vec<u8>,
) -> DocumentId {
    let made = docs
        .create(v1::CreateDocumentRequest {
            kind: nic_proto::convert::kind_to_wire(kind) as i32,
            network_id: "algebra".into(),
            site_id: site.into(),
            visibility: visibility as i32,
            title: title.into(),
            initial: Some(initial),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    made.meta.unwrap().doc_id.parse().unwrap()
}

/// A new document's bytes, written the schema's way.
macro_rules! doc {
    ($kind:expr, $value:expr $(,)?) => {
        schema::new_document($kind, $value).unwrap().save()
    };
}

/// Six monthly points: `el` English learners of 100 students (the rest not).
fn data(measure: DocumentId, el: u32, rate: f64) -> MeasureData {
    let mut points = Vec::new();
    for month in 0..6u32 {
        let period = format!("2026-{:02}-01", month + 3);
        let all_on = (rate + f64::from(month)).round();
        let el_on = (f64::from(el) * (rate - 10.0) / 100.0).round();
        for (group, on, n) in [
            ("all", all_on, 100),
            ("english_learner=yes", el_on, el),
            ("english_learner=no", all_on - el_on, 100 - el),
        ] {
            points.push(Point {
                id: format!("{period}/{group}"),
                period: period.clone(),
                group: group.into(),
                numerator: Some(on),
                denominator: Some(f64::from(n)),
                n,
                ..Point::default()
            });
        }
    }
    MeasureData {
        measure_id: measure.to_string(),
        points,
    }
}

fn cycle(n: u32, decision: Option<Decision>) -> PdsaCycle {
    let mut c = PdsaCycle {
        change_idea_id: "number-talks".into(),
        cycle_number: n,
        ..PdsaCycle::default()
    };
    c.act.decision = decision;
    c
}

async fn set_public(
    hub: &TestHub,
    token: &str,
    network: &str,
    enabled: bool,
) -> Result<v1::Network, tonic::Status> {
    hub.directory_as(token)
        .await
        .set_public_dashboard(v1::SetPublicDashboardRequest {
            network_id: network.into(),
            enabled,
        })
        .await
        .map(|r| r.into_inner().network.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_dashboard_is_opt_in_and_shows_nothing_insight_suppresses() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &SITES).await;
    hub.ensure_network("literacy", &["hoover"]).await;
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
    let lu = hub
        .member("lu", v1::Role::NetworkLead, "literacy", "")
        .await;

    let mut docs = hub.documents().await;
    let net = v1::Visibility::Network;
    create(
        &mut docs,
        DocKind::Aim,
        "",
        net,
        "Our aim",
        doc!(
            DocKind::Aim,
            &Aim {
                statement: Text::with_value(
                    "By June 2027, 80% of 9th graders are on track for Algebra I.",
                ),
                ..Aim::default()
            },
        ),
    )
    .await;
    create(
        &mut docs,
        DocKind::ChangeIdea,
        "",
        net,
        "Number talks",
        doc!(
            DocKind::ChangeIdea,
            &ChangeIdea {
                title: Text::with_value("Number talks"),
                tags: vec!["number-talks".into()],
                ..ChangeIdea::default()
            },
        ),
    )
    .await;
    let measure = create(
        &mut docs,
        DocKind::MeasureDefinition,
        "",
        net,
        "On track",
        doc!(
            DocKind::MeasureDefinition,
            &MeasureDefinition {
                name: Text::with_value("On track for Algebra I"),
                scoring: Scoring::Proportion,
                unit: "%".into(),
                direction: Direction::Up,
                group_dimensions: vec!["english_learner".into()],
                ..MeasureDefinition::default()
            },
        ),
    )
    .await;
    // Lincoln's 9 English learners are below the network's minimum of 10.
    for ((site, el, rate), decisions) in [
        ("lincoln", 9, 40.0),
        ("adams", 25, 50.0),
        ("jefferson", 30, 45.0),
    ]
    .into_iter()
    .zip([
        vec![Some(Decision::Adapt), Some(Decision::Adopt)],
        vec![Some(Decision::Adapt), None],
        vec![Some(Decision::Abandon)],
    ]) {
        create(
            &mut docs,
            DocKind::MeasureData,
            site,
            v1::Visibility::Site,
            &format!("data {site}"),
            doc!(DocKind::MeasureData, &data(measure, el, rate)),
        )
        .await;
        for (i, d) in decisions.into_iter().enumerate() {
            create(
                &mut docs,
                DocKind::PdsaCycle,
                site,
                v1::Visibility::Site,
                &format!("cycle {site} {i}"),
                doc!(DocKind::PdsaCycle, &cycle(u32::try_from(i).unwrap() + 1, d),),
            )
            .await;
        }
    }

    // Not on yet: the same 404 as for a network that does not exist, or a malformed id.
    let (status, off_head, off_body) = get(&hub, "/public/algebra/dashboard.json").await;
    assert_eq!(status, 404);
    for path in [
        "/public/nosuch/dashboard.json",
        "/public/al%2Fgebra/dashboard.json",
        &format!("/public/{}/dashboard.json", "x".repeat(300)),
    ] {
        let (status, head, body) = get(&hub, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(stable(&head), stable(&off_head), "{path}");
        assert_eq!(body, off_body, "{path}");
    }

    // Only the network's leads and hub admins may turn it on.
    for (who, token) in [("sam", &sam), ("otto", &otto), ("lu", &lu)] {
        let refused = set_public(&hub, token, "algebra", true).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{who}");
    }
    let missing = set_public(&hub, &hub.token.clone(), "nosuch", true)
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let on = set_public(&hub, &lena, "algebra", true).await.unwrap();
    assert!(on.public_dashboard);
    let listed = hub
        .directory_as(&otto)
        .await
        .list_networks(v1::ListNetworksRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed
            .networks
            .iter()
            .any(|n| n.network_id == "algebra" && n.public_dashboard)
    );
    let audit = hub
        .directory_as(&lena)
        .await
        .list_audit_log(v1::ListAuditLogRequest {
            network_id: "algebra".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        audit
            .entries
            .iter()
            .any(|e| e.action == "set_public_dashboard" && e.member_id == "lena")
    );

    let (status, head, body) = get(&hub, "/public/algebra/dashboard.json").await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let text = String::from_utf8(body).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();

    // No document id of the network, and no site's id, anywhere in it.
    let listed = docs
        .list(v1::ListDocumentsRequest {
            network_id: "algebra".into(),
            include_archived: true,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.documents.len() >= 10);
    for d in &listed.documents {
        assert!(
            !text.contains(&d.doc_id),
            "document id {} in {text}",
            d.doc_id
        );
    }
    for site in SITES {
        assert!(!text.contains(site), "site {site} in {text}");
    }
    assert_eq!(
        json["aims"][0],
        "By June 2027, 80% of 9th graders are on track for Algebra I."
    );
    let idea = &json["change_ideas"][0];
    assert_eq!(idea["title"], "Number talks");
    assert_eq!(
        ["testing", "adopted", "adapted", "abandoned"].map(|k| idea[k].as_u64().unwrap()),
        [1, 1, 0, 1],
        "{idea}"
    );

    // Against the Insight service: every view of every reader (admin as an outsider, each
    // site's member, the observer).
    let mut views = Vec::new();
    for token in [&hub.token.clone(), &sam, &ada, &jo, &otto] {
        views.push(
            InsightClient::new(hub.authed_as(token).await)
                .measure_series(v1::MeasureSeriesRequest {
                    measure_id: measure.to_string(),
                    rule_set: v1::RuleSet::Ihi as i32,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner(),
        );
    }
    // (period, group) → hidden in some view; and the outsider's shown (value, n) per site.
    let mut hidden: BTreeSet<(String, String)> = BTreeSet::new();
    let mut shown: BTreeMap<(String, String), Vec<(f64, u32)>> = BTreeMap::new();
    for (i, view) in views.iter().enumerate() {
        for s in &view.series {
            for p in &s.points {
                let key = (p.period.clone(), s.group.clone());
                if p.suppressed.is_empty() {
                    if i == 0 {
                        shown
                            .entry(key)
                            .or_default()
                            .push((p.value.unwrap(), p.n.unwrap()));
                    }
                } else {
                    hidden.insert(key);
                }
            }
        }
    }
    assert!(
        hidden.iter().any(|(_, g)| g == "english_learner=yes"),
        "the test's data has a small group"
    );
    let m = &json["measures"][0];
    assert_eq!(m["name"], "On track for Algebra I");
    let mut published = 0;
    for s in m["series"].as_array().unwrap() {
        let group = s["group"].as_str().unwrap();
        for p in s["points"].as_array().unwrap() {
            let key = (p["period"].as_str().unwrap().to_owned(), group.to_owned());
            if p["withheld"] == true {
                assert!(p["value"].is_null() && p["n"].is_null(), "{p}");
                continue;
            }
            assert!(
                !hidden.contains(&key),
                "{key:?} is suppressed by Insight but published: {p}"
            );
            // The value is the outsider's shown values, all sites together.
            let cells = &shown[&key];
            let n: u32 = cells.iter().map(|c| c.1).sum();
            let value = cells.iter().map(|c| c.0 * f64::from(c.1)).sum::<f64>() / f64::from(n);
            assert_eq!(p["n"], n, "{key:?}");
            assert!(
                (p["value"].as_f64().unwrap() - value).abs() < 1e-9,
                "{key:?}: {p} vs {value}"
            );
            published += 1;
        }
        if group == "english_learner=yes" {
            assert!(
                s["points"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|p| p["withheld"] == true)
            );
        }
    }
    assert!(published >= 6, "all students are published: {m}");
    // Not recoverable by subtraction: with English learners withheld, so is one more cell
    // of the all = yes + no line.
    for p in 0..6 {
        let at = |g: usize| m["series"][g]["points"][p]["withheld"] == true;
        let withheld = (0..3).filter(|g| at(*g)).count();
        assert_ne!(
            withheld, 1,
            "period {p}: one withheld cell is a difference: {m}"
        );
    }

    // Off again: the 404 once more, at once.
    set_public(&hub, &hub.token.clone(), "algebra", false)
        .await
        .unwrap();
    let (status, head, body) = get(&hub, "/public/algebra/dashboard.json").await;
    assert_eq!(status, 404);
    assert_eq!(stable(&head), stable(&off_head));
    assert_eq!(body, off_body);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unauthenticated_requests_does_not_take_the_hub_down() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &["lincoln"]).await;
    set_public(&hub, &hub.token.clone(), "algebra", true)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let url = hub.url.clone();
        let path = if i % 2 == 0 {
            "/public/algebra/dashboard.json".to_owned()
        } else {
            format!("/public/n{i}/dashboard.json")
        };
        tasks.push(tokio::spawn(async move {
            let addr = url.trim_start_matches("http://").to_owned();
            // The connection cap may turn some away: that is the hub protecting itself.
            let Ok(mut tcp) = TcpStream::connect(&addr).await else {
                return String::new();
            };
            let request =
                format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
            if tcp.write_all(request.as_bytes()).await.is_err() {
                return String::new();
            }
            let mut response = Vec::new();
            let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut response)).await;
            String::from_utf8_lossy(&response[..12.min(response.len())]).to_string()
        }));
    }
    for t in tasks {
        let line = t.await.unwrap();
        assert!(
            line.is_empty()
                || line.ends_with("200")
                || line.ends_with("404")
                || line.ends_with("503"),
            "{line}"
        );
    }
    // Still answering.
    let (status, _, _) = get(&hub, "/public/algebra/dashboard.json").await;
    assert_eq!(status, 200);
    hub.directory()
        .await
        .who_am_i(v1::WhoAmIRequest {})
        .await
        .unwrap();
    hub.stop().await;
}

// ---- The property: nothing withheld can be recovered by subtraction. ----

/// One random network's data for one measure: per site, per period, n for `all` and for
/// each group of each dimension; every dimension's groups add up to `all` exactly (the
/// attacker knows it: the strongest case).
#[derive(Clone, Debug)]
struct Case {
    min: u32,
    /// [site][period] → (group, n, numerator)
    sites: Vec<Vec<Vec<(String, u32, f64)>>>,
}

fn cell() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..8, 0u32..40]
}

fn period() -> impl Strategy<Value = Vec<(String, u32, f64)>> {
    (
        proptest::collection::vec(cell(), 2..=3),
        proptest::option::of(0u32..=100),
        0.0f64..=1.0,
    )
        .prop_map(|(race, split, rate)| {
            let all: u32 = race.iter().sum();
            let mut out = vec![("all".to_owned(), all)];
            for (i, n) in race.iter().enumerate() {
                out.push((
                    format!("race={}", (b'a' + u8::try_from(i).unwrap()) as char),
                    *n,
                ));
            }
            if let Some(split) = split {
                let yes = all * split / 100;
                out.push(("el=yes".to_owned(), yes));
                out.push(("el=no".to_owned(), all - yes));
            }
            out.into_iter()
                .map(|(g, n)| (g, n, (f64::from(n) * rate).floor()))
                .collect()
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(5u32), Just(10), Just(11)],
        1usize..=2,
        2usize..=4,
    )
        .prop_flat_map(|(min, periods, sites)| {
            proptest::collection::vec(proptest::collection::vec(period(), periods), sites)
                .prop_map(move |sites| Case { min, sites })
        })
}

/// Variables: every site cell (site, period, group).
type Var = (usize, usize, String);

/// The span of some rows, kept in reduced row echelon form: each basis row is 1 at its
/// pivot column and 0 at every other row's pivot. The entries are small integers, so f64
/// with a tolerance far above rounding is exact enough.
struct Span(Vec<(usize, Vec<f64>)>);

impl Span {
    fn of(rows: &[Vec<f64>]) -> Span {
        let mut span = Span(Vec::new());
        for row in rows {
            span.add(row.clone());
        }
        span
    }

    /// What is left of `v` outside the span.
    fn reduce(&self, mut v: Vec<f64>) -> Vec<f64> {
        for (pc, b) in &self.0 {
            let f = v[*pc];
            if f != 0.0 {
                for (x, y) in v.iter_mut().zip(b) {
                    *x -= f * y;
                }
            }
        }
        v
    }

    fn add(&mut self, v: Vec<f64>) {
        let mut v = self.reduce(v);
        let Some(pc) = (0..v.len()).max_by(|a, b| v[*a].abs().total_cmp(&v[*b].abs())) else {
            return;
        };
        if v[pc].abs() < 1e-9 {
            return;
        }
        let p = v[pc];
        for x in &mut v {
            *x /= p;
        }
        for (_, b) in &mut self.0 {
            let f = b[pc];
            if f != 0.0 {
                for (x, y) in b.iter_mut().zip(&v) {
                    *x -= f * y;
                }
            }
        }
        self.0.push((pc, v));
    }

    /// Whether `target` is a combination of the rows: known to whoever knows them.
    fn determines(&self, target: &[f64]) -> bool {
        self.reduce(target.to_vec()).iter().all(|x| x.abs() < 1e-9)
    }
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let min = MinCell::new(case.min).unwrap();
    let def = MeasureDefinition {
        name: Text::with_value("m"),
        scoring: Scoring::Proportion,
        unit: "%".into(),
        direction: Direction::Up,
        ..MeasureDefinition::default()
    };
    let periods = case.sites[0].len();
    let datas: Vec<MeasureData> = case
        .sites
        .iter()
        .map(|site| MeasureData {
            measure_id: "m".into(),
            points: site
                .iter()
                .enumerate()
                .flat_map(|(p, cells)| {
                    cells.iter().map(move |(g, n, num)| Point {
                        id: format!("{p}/{g}"),
                        period: format!("2026-0{}-01", p + 1),
                        group: g.clone(),
                        numerator: Some(*num),
                        denominator: Some(f64::from(*n)),
                        n: *n,
                        ..Point::default()
                    })
                })
                .collect(),
        })
        .collect();
    let sites: Vec<SiteData<'_>> = datas
        .iter()
        .enumerate()
        .map(|(i, d)| SiteData {
            site: format!("s{i}"),
            network_level: false,
            data: d,
        })
        .collect();
    let public = nic_hub::public_dashboard::aggregate(&def, &sites, min);

    let mut vars: Vec<Var> = Vec::new();
    for (s, site) in case.sites.iter().enumerate() {
        for (p, cells) in site.iter().enumerate() {
            for (g, _, _) in cells {
                vars.push((s, p, g.clone()));
            }
        }
    }
    let index = |v: &Var| vars.iter().position(|w| w == v).unwrap();
    let unit = |v: &Var| {
        let mut row = vec![0.0; vars.len()];
        row[index(v)] = 1.0;
        row
    };
    let period_of = |name: &str| {
        (0..periods)
            .find(|p| format!("2026-0{}-01", p + 1) == name)
            .unwrap()
    };
    // The lines every attacker knows: each dimension's groups add up to all, per site.
    let mut lines: Vec<Vec<f64>> = Vec::new();
    for (s, site) in case.sites.iter().enumerate() {
        for (p, cells) in site.iter().enumerate() {
            let mut dims: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
            for (g, _, _) in cells {
                if let Some((d, _)) = g.split_once('=') {
                    dims.entry(d).or_default().push(g);
                }
            }
            for groups in dims.values() {
                let mut row = unit(&(s, p, "all".to_owned()));
                for g in groups {
                    row[index(&(s, p, (*g).clone()))] -= 1.0;
                }
                lines.push(row);
            }
        }
    }
    // What the dashboard publishes: network-wide sums; and what it withholds.
    let sum_row = |p: usize, g: &str| {
        let mut row = vec![0.0; vars.len()];
        for s in 0..case.sites.len() {
            if let Some(i) = vars.iter().position(|w| *w == (s, p, g.to_owned())) {
                row[i] = 1.0;
            }
        }
        row
    };
    let mut published = Vec::new();
    let mut withheld = Vec::new();
    for series in &public {
        for point in &series.points {
            let p = period_of(&point.period);
            if point.withheld {
                prop_assert!(point.value.is_none() && point.n.is_none());
                withheld.push((p, series.group.clone()));
            } else {
                published.push(sum_row(p, &series.group));
            }
        }
    }
    // Insight's views: an outsider's, and each site's own members'.
    let hidden_in = |raw: BTreeSet<String>| -> BTreeMap<Var, bool> {
        let mut out = BTreeMap::new();
        for s in measure_series(&def, &sites, &raw, min, RuleSet::Ihi) {
            let site: usize = s.site[1..].parse().unwrap();
            for point in &s.points {
                out.insert(
                    (site, period_of(&point.period), s.group.clone()),
                    point.suppressed.is_some(),
                );
            }
        }
        out
    };
    let outsider = hidden_in(BTreeSet::new());

    // 1. The public: the lines and the dashboard. No site cell Insight hides, and no
    //    network-wide value the dashboard withholds, may follow.
    let mut rows = lines.clone();
    rows.extend(published.iter().cloned());
    let public_span = Span::of(&rows);
    for (v, hidden) in &outsider {
        prop_assert!(
            !(*hidden && public_span.determines(&unit(v))),
            "the public recovers site cell {v:?} (hidden by Insight) from the dashboard"
        );
    }
    for (p, g) in &withheld {
        prop_assert!(
            !public_span.determines(&sum_row(*p, g)),
            "the public recovers the withheld network-wide {g} at period {p} by subtraction"
        );
    }
    // 2. An observer: also every cell Insight shows an outsider. What they could work out
    //    from Insight alone is Insight's business (noted, not blamed on the dashboard).
    let mut rows_o = lines.clone();
    rows_o.extend(outsider.iter().filter(|(_, h)| !**h).map(|(v, _)| unit(v)));
    let insight_only = Span::of(&rows_o);
    rows_o.extend(published.iter().cloned());
    let observer_span = Span::of(&rows_o);
    for (v, hidden) in outsider.iter().filter(|(_, h)| **h) {
        if insight_only.determines(&unit(v)) {
            eprintln!("note: Insight alone gives an observer {v:?} in {case:?}");
        }
        prop_assert!(
            !(*hidden && observer_span.determines(&unit(v)) && !insight_only.determines(&unit(v))),
            "an observer recovers site cell {v:?} with the dashboard's help"
        );
    }
    // 3. Each site's members: their own cells and what Insight shows them.
    for s in 0..case.sites.len() {
        let view = hidden_in(BTreeSet::from([format!("s{s}")]));
        let mut rows_s = lines.clone();
        rows_s.extend(
            view.iter()
                .filter(|(v, h)| !**h || v.0 == s)
                .map(|(v, _)| unit(v)),
        );
        let insight_only = Span::of(&rows_s);
        rows_s.extend(published.iter().cloned());
        let site_span = Span::of(&rows_s);
        for (v, hidden) in &view {
            let theirs = *hidden && v.0 != s;
            if theirs && insight_only.determines(&unit(v)) {
                eprintln!("note: Insight alone gives site s{s}'s members {v:?} in {case:?}");
            }
            prop_assert!(
                !(theirs && site_span.determines(&unit(v)) && !insight_only.determines(&unit(v))),
                "site s{s}'s members recover {v:?} with the dashboard's help"
            );
        }
    }
    Ok(())
}

#[test]
fn nothing_withheld_can_be_recovered_by_subtraction() {
    let seed: u64 = std::env::var("PUBLIC_DASHBOARD_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_d45b);
    let cases: u32 = std::env::var("PUBLIC_DASHBOARD_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    if let Err(e) = runner.run(&case(), |c| check(&c)) {
        panic!("{e}\n(seed {seed}; rerun with PUBLIC_DASHBOARD_SEED={seed})");
    }
}
