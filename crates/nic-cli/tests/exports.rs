//! `nic export`, `nic series` and `nic measure baseline|rebase` against a real hub: a
//! school's series with a period too small to show to other schools in the middle of a
//! shift, read by another school's member; P charts; a frozen baseline and a rebase stored
//! on the measure; the aim's target line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use serde_json::Value;

/// The week too small to show outside lincoln (4 students).
const SMALL: usize = 10;
const WEEKS: usize = 15;

mod common;

use common::Env;

fn week(k: usize) -> String {
    let days = [30, 31, 30, 31];
    let mut day = 7 + 7 * k;
    let mut month = 0;
    while day > days[month] {
        day -= days[month];
        month += 1;
    }
    format!("2026-{:02}-{day:02}", 9 + month)
}

/// Lincoln's weeks as a spreadsheet: about 40% for 7 weeks, then about 62% (week 10 from 4
/// students); denominators 40, 50, 60.
fn spreadsheet() -> String {
    let low = [0.40, 0.42, 0.40, 0.44, 0.38, 0.42, 0.41];
    let high = [0.60, 0.62, 0.61, 0.5, 0.64, 0.60, 0.63, 0.66];
    let mut csv = String::from("period,site,group,numerator,denominator,n,note\n");
    for k in 0..WEEKS {
        let rate = if k < 7 { low[k] } else { high[k - 7] };
        let den = if k == SMALL { 4 } else { 40 + 10 * (k % 3) };
        let num = (rate * den as f64).round();
        csv.push_str(&format!("{},lincoln,all,{num},{den},{den},\n", week(k)));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_line_up_and_baselines_rebases_and_targets_reach_another_school() {
    let env = Env::start().await;
    env.login().await;
    env.ok(&["networks", "create", "algebra", "--name", "Algebra"])
        .await;
    env.ok(&["use", "algebra"]).await;
    for site in ["lincoln", "adams"] {
        env.ok(&["sites", "create", site, "--name", site]).await;
    }
    let measure = env
        .json(&[
            "measure",
            "create",
            "On track",
            "--numerator",
            "On track",
            "--denominator",
            "Students",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let minutes = env
        .json(&[
            "measure",
            "create",
            "Minutes",
            "--numerator",
            "Minutes practised",
            "--scoring",
            "continuous",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let aim = env
        .json(&[
            "aim",
            "create",
            "70% on track by June",
            "--target",
            "70",
            "--unit",
            "%",
            "--by-when",
            "2027-06-01",
            "--outcome-measure",
            &measure,
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        env.json(&["docs", "show", &aim]).await["outcome_measure_id"],
        measure
    );
    let file = env.dir.path().join("lincoln.csv");
    std::fs::write(&file, spreadsheet()).unwrap();
    env.ok(&[
        "import",
        "measures",
        file.to_str().unwrap(),
        "--measure",
        &measure,
    ])
    .await;

    // A frozen baseline, shown by `docs show`, and cleared again.
    let set = env
        .json(&["measure", "baseline", &measure, "--end", &week(6)])
        .await;
    assert_eq!(set["baseline_end"], week(6));
    let shown = env.ok(&["docs", "show", &measure]).await;
    assert!(
        shown.contains(&format!("baseline: frozen, up to {}", week(6))),
        "{shown}"
    );
    assert_eq!(
        env.json(&["docs", "show", &measure]).await["baseline_end"],
        week(6)
    );
    let cleared = env
        .json(&["measure", "baseline", &measure, "--clear"])
        .await;
    assert!(cleared["baseline_end"].is_null());
    let bad = env
        .fails(&["measure", "rebase", &measure, "--from", "2026-13"], 8)
        .await;
    assert!(bad.contains("YYYY-MM-DD"), "{bad}");

    // Adams's member reads lincoln's series: week 10 is suppressed for them.
    env.ok(&[
        "members",
        "add",
        "ada",
        "--role",
        "site-member",
        "--site",
        "adams",
    ])
    .await;
    let token = env.json(&["members", "token", "ada"]).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&["login", "--hub", &env.hub.url, "--token", &token])
        .await;

    let text = env
        .ok(&[
            "export",
            "series",
            "--measure",
            &measure,
            "--format",
            "json",
        ])
        .await;
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["name"], "On track");
    assert_eq!(json["unit"], "%");
    assert_eq!(json["direction"], "up");
    assert_eq!(json["rule_set"], "ihi");
    assert_eq!(json["target"]["value"], 70.0);
    assert_eq!(json["target"]["aim_id"], aim);
    let s = &json["series"][0];
    assert_eq!(s["site"], "lincoln");
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), WEEKS);
    assert!(points[SMALL]["value"].is_null());
    let signals = s["analysis"]["signals"].as_array().unwrap();
    let mut across = None;
    for g in signals {
        let idx: Vec<usize> = g["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() as usize)
            .collect();
        let periods = g["periods"].as_array().unwrap();
        assert_eq!(idx.len(), periods.len(), "{g}");
        for (&i, p) in idx.iter().zip(periods) {
            assert_eq!(points[i]["period"], *p, "{g}");
            assert!(points[i]["value"].is_number(), "{g} marks a hidden point");
        }
        if g["rule"] == "shift" && idx.contains(&(SMALL - 1)) {
            across = Some(idx);
        }
    }
    let want: Vec<usize> = (7..WEEKS).filter(|&k| k != SMALL).collect();
    assert_eq!(across, Some(want), "{signals:?}");

    let csv_text = env.ok(&["export", "series", "--measure", &measure]).await;
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), WEEKS);
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(&row[at("period")], week(k));
        assert_eq!(&row[at("target")], "70");
        let marked = row[at("signals")].split(';').any(|r| r == "shift");
        assert_eq!(marked, k != SMALL, "week {k}: {row:?}");
    }
    assert_eq!(&rows[SMALL][at("value")], "");
    assert_eq!(&rows[SMALL][at("centre")], "");

    // P chart: limits by denominator; refused on a continuous measure.
    let p = env
        .json(&["series", &measure, "--rules", "p", "--site", "lincoln"])
        .await;
    let pts = p["series"][0]["points"].as_array().unwrap();
    let width = |k: usize| pts[k]["upper"].as_f64().unwrap() - pts[k]["lower"].as_f64().unwrap();
    assert!(width(0) > width(1) && width(1) > width(2), "{p}");
    assert!(
        (width(0) - width(3)).abs() < 1e-9,
        "same denominator, same limits"
    );
    assert!(pts[SMALL]["upper"].is_null());
    assert_eq!(p["target"]["by_when"], "2027-06-01");
    let human = env.ok(&["series", &measure, "--rules", "p-prime"]).await;
    assert!(
        human.contains("p_prime") && human.contains("target: 70 %"),
        "{human}"
    );
    let refused = env.fails(&["series", &minutes, "--rules", "p"], 8).await;
    assert!(refused.contains("P chart needs a proportion"), "{refused}");

    // The lead rebases at week 7; adams's member sees two phases.
    env.login().await;
    env.json(&[
        "measure",
        "rebase",
        &measure,
        "--from",
        &week(7),
        "--reason",
        "adopted number talks",
    ])
    .await;
    let shown = env.ok(&["docs", "show", &measure]).await;
    assert!(shown.contains("adopted number talks"), "{shown}");
    env.ok(&["login", "--hub", &env.hub.url, "--token", &token])
        .await;
    let r = env.json(&["series", &measure, "--rules", "xmr"]).await;
    let phases = r["series"][0]["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2, "{r}");
    let (before, after) = (
        phases[0]["centre"].as_f64().unwrap(),
        phases[1]["centre"].as_f64().unwrap(),
    );
    assert!(before < 45.0 && after > 58.0, "{r}");
    let csv_text = env
        .ok(&["export", "series", "--measure", &measure, "--rules", "xmr"])
        .await;
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let phase = headers.iter().position(|h| h == "phase").unwrap();
    let phases: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[phase].to_owned())
        .collect();
    assert_eq!(phases[0], "1");
    assert_eq!(phases[WEEKS - 1], "2");

    env.login().await;
    let removed = env
        .json(&[
            "measure",
            "rebase",
            &measure,
            "--from",
            &week(7),
            "--remove",
        ])
        .await;
    assert_eq!(removed["rebases"].as_array().unwrap().len(), 0);
    env.hub.stop().await;
}
