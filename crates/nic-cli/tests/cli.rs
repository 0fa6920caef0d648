//! The `nic` binary against a real hub: every command, `--json` output parsed back, the
//! import's error report, and errors that name the problem and the fix with their exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;

use serde_json::Value;

mod common;

use common::Env;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_manage_networks_sites_and_members() {
    let env = Env::start().await;
    env.login().await;
    let config = env.dir.path().join("cfg").join("config.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the config holds a secret");
    }
    let me = env.json(&["whoami"]).await;
    assert_eq!(
        (me["member"].as_str(), me["role"].as_str()),
        (Some("admin"), Some("hub admin"))
    );

    env.ok(&[
        "networks",
        "create",
        "algebra",
        "--name",
        "Algebra readiness",
    ])
    .await;
    let networks = env.json(&["networks", "list"]).await;
    assert_eq!(networks[0]["network"], "algebra");
    assert_eq!(networks[0]["min_cell_size"], "10");
    env.ok(&["use", "algebra"]).await;
    env.ok(&["sites", "create", "lincoln", "--name", "Lincoln High"])
        .await;
    let sites = env.json(&["sites", "list"]).await;
    assert_eq!(sites[0]["site"], "lincoln");
    env.ok(&[
        "members",
        "add",
        "sam",
        "--role",
        "site-member",
        "--site",
        "lincoln",
    ])
    .await;
    let members = env.json(&["members", "list"]).await;
    assert!(
        members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["member"] == "sam" && m["site"] == "lincoln")
    );
    let token = env.json(&["members", "token", "sam"]).await;
    let secret = token["token"].as_str().unwrap().to_owned();

    // Signed in as sam, the roles come back; a lead's action is refused with exit 7.
    env.ok(&["login", "--hub", &env.hub.url, "--token", &secret])
        .await;
    let me = env.json(&["whoami"]).await;
    assert_eq!(me["role"], "site member");
    assert_eq!(
        me["default_network"], "algebra",
        "the default survives a new sign-in"
    );
    let refused = env
        .fails(&["sites", "create", "adams", "--name", "Adams"], 7)
        .await;
    assert!(refused.contains("nic:"), "{refused}");

    // Back as the admin: sam's laptop is lost — revoke its token; then sam leaves.
    env.login().await;
    let tokens = env.json(&["members", "tokens", "sam"]).await;
    let token_id = tokens[0]["token"].as_str().unwrap().to_owned();
    assert_eq!(tokens[0]["state"], "active");
    env.ok(&["members", "revoke", &token_id]).await;
    let tokens = env.json(&["members", "tokens", "sam"]).await;
    assert_eq!(tokens[0]["state"], "revoked");
    env.fails(&["login", "--hub", &env.hub.url, "--token", &secret], 5)
        .await;
    env.login().await;
    env.ok(&["members", "remove", "sam"]).await;
    let members = env.json(&["members", "list"]).await;
    assert!(
        !members
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["member"] == "sam")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_a_cycle_compare_chart_export_import_and_status() {
    let env = Env::start().await;
    env.login().await;
    env.ok(&[
        "networks",
        "create",
        "algebra",
        "--name",
        "Algebra readiness",
    ])
    .await;
    env.ok(&["use", "algebra"]).await;
    env.ok(&["sites", "create", "lincoln", "--name", "Lincoln High"])
        .await;
    env.ok(&["sites", "create", "adams", "--name", "Adams Middle"])
        .await;

    let aim = env
        .json(&[
            "aim",
            "create",
            "70% on track by June",
            "--baseline",
            "48",
            "--target",
            "70",
            "--unit",
            "%",
        ])
        .await;
    let idea = env.json(&["idea", "create", "Daily number talks"]).await;
    assert!(aim["id"].is_string() && idea["id"].is_string());
    let cycle = env
        .json(&[
            "cycle",
            "create",
            "lincoln",
            "--idea",
            "number-talks",
            "--objective",
            "Will a daily number talk fit?",
            "--question",
            "How many share a strategy?",
            "--prediction",
            "18 of 28",
            "--start",
            "2026-09-14",
        ])
        .await;
    let id = cycle["id"].as_str().unwrap().to_owned();
    env.json(&["cycle", "do", &id, "Ran it eight of ten days"])
        .await;
    env.json(&[
        "cycle",
        "study",
        &id,
        "14 of 28",
        "--learning",
        "Quiet students need think time",
    ])
    .await;
    let act = env
        .json(&[
            "cycle",
            "act",
            &id,
            "adapt",
            "--rationale",
            "Add think time",
        ])
        .await;
    let next = act["next_cycle"]
        .as_str()
        .expect("adapt starts the next cycle")
        .to_owned();

    let shown = env.json(&["docs", "show", &id]).await;
    assert_eq!(shown["act"]["decision"], "adapt");
    assert_eq!(shown["study"]["learning"], "Quiet students need think time");
    let human = env.ok(&["docs", "show", &id]).await;
    assert!(
        human.contains("predicted: 18 of 28") && human.contains("found: 14 of 28"),
        "{human}"
    );
    let docs = env.json(&["docs", "list", "--kind", "pdsa_cycle"]).await;
    let ids: Vec<&str> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()) && ids.contains(&next.as_str()));

    let compare = env.json(&["compare", "number-talks"]).await;
    let rows = compare.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["predicted"], "18 of 28");
    assert_eq!(rows[0]["found"], "14 of 28");
    assert_eq!(rows[0]["decision"], "adapt");
    let table = env.ok(&["compare", "number-talks"]).await;
    assert!(
        table.contains("1 adapt") && table.contains("lincoln"),
        "{table}"
    );

    // A measure and its data, imported from a spreadsheet.
    let measure = env
        .json(&[
            "measure",
            "create",
            "On track",
            "--numerator",
            "Proficient on the check",
            "--denominator",
            "Took the check",
            "--group-dimension",
            "english_learner",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut csv = String::from("period,site,group,numerator,denominator,n,note\n");
    for week in 0..12 {
        let period = format!("2026-{:02}-{:02}", 9 + week / 4, 1 + (week % 4) * 7);
        csv.push_str(&format!("{period},lincoln,all,{},100,100,\n", 40 + week));
        csv.push_str(&format!(
            "{period},lincoln,english_learner=yes,{},9,9,\n",
            3 + week % 3
        ));
        csv.push_str(&format!(
            "{period},adams,all,{},80,80,\"a note, with a comma\"\n",
            50 + week
        ));
    }
    let file = write(env.dir.path(), "data.csv", &csv);
    let imported = env
        .json(&["import", "measures", &file, "--measure", &measure])
        .await;
    assert_eq!(imported["imported"], 36);
    assert_eq!(imported["documents"].as_array().unwrap().len(), 2);

    let svg = env.dir.path().join("chart.svg");
    env.ok(&["chart", &measure, "-o", svg.to_str().unwrap()])
        .await;
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.starts_with("<svg") && drawn.contains("lincoln") && drawn.contains("adams"));
    let one = env.dir.path().join("one.svg");
    env.ok(&[
        "chart",
        &measure,
        "--site",
        "lincoln",
        "--rules",
        "xmr",
        "-o",
        one.to_str().unwrap(),
    ])
    .await;
    assert!(
        std::fs::read_to_string(&one)
            .unwrap()
            .contains("class=\"limit\"")
    );

    let exported = env.ok(&["export", "series", "--measure", &measure]).await;
    assert!(
        exported.starts_with("site,group,period,value,n,suppressed"),
        "{exported}"
    );
    // The admin is no member of lincoln: its 9 English learners are suppressed here too.
    assert!(
        exported.contains("lincoln,english_learner=yes,2026-09-01,,,suppressed"),
        "{exported}"
    );
    let json_file = env.dir.path().join("cycles.json");
    env.ok(&[
        "export",
        "cycles",
        "--idea",
        "number-talks",
        "--format",
        "json",
        "-o",
        json_file.to_str().unwrap(),
    ])
    .await;
    let cycles: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    assert_eq!(cycles["change_idea"], "number-talks");
    env.ok(&["export", "overview"]).await;
    env.ok(&["export", "district", "--format", "json"]).await;

    let status = env.json(&["status"]).await;
    assert_eq!(status["connection"], "online");
    assert_eq!(status["synced"], true);
    assert!(
        env.ok(&["status"])
            .await
            .contains("everything made here is on the hub")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_bad_rows_reports_each_and_imports_nothing() {
    let env = Env::start().await;
    env.with_network().await;
    let measure = env
        .json(&[
            "measure",
            "create",
            "On track",
            "--numerator",
            "Proficient",
            "--denominator",
            "Took it",
            "--group-dimension",
            "english_learner",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let csv = "\
period,site,group,numerator,denominator,n
2026-09-07,lincoln,all,40,100,100
2026-02-30,lincoln,all,41,100,100
2026-09-21,hoover,all,42,100,100
2026-09-28,lincoln,all,120,100,100
2026-10-05,lincoln,race=asian,5,20,20
2026-10-12,lincoln,all,44,100,many
2026-10-19,lincoln,all,45,100,100
";
    let file = write(env.dir.path(), "bad.csv", csv);
    let report = env
        .fails(&["import", "measures", &file, "--measure", &measure], 8)
        .await;
    for expected in [
        "5 of 7 rows are bad; nothing was imported",
        "line 3: period \"2026-02-30\" is not a date",
        "line 4: site \"hoover\" is not a site of the network",
        "line 5: numerator 120 is outside 0..denominator",
        "line 6: group dimension \"race\" is not one the measure breaks down by",
        "line 7: n \"many\" is not a whole number",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
    let data = env.json(&["docs", "list", "--kind", "measure_data"]).await;
    assert_eq!(data.as_array().unwrap().len(), 0, "nothing imported");

    let partial = env
        .json(&[
            "import",
            "measures",
            &file,
            "--measure",
            &measure,
            "--skip-bad-rows",
        ])
        .await;
    assert_eq!(
        (partial["imported"].as_u64(), partial["skipped"].as_u64()),
        (Some(2), Some(5))
    );
    let header = write(env.dir.path(), "header.csv", "period,school,group,n\n");
    let bad_header = env
        .fails(&["import", "measures", &header, "--measure", &measure], 8)
        .await;
    assert!(
        bad_header.contains("unknown column(s) [\"school\"]"),
        "{bad_header}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_the_problem_and_the_fix() {
    let env = Env::start().await;
    let not_signed_in = env.fails(&["whoami"], 3).await;
    assert!(not_signed_in.contains("not signed in") && not_signed_in.contains("nic login"));
    let token = env.token_file();
    let token = token.to_str().unwrap();
    // Nothing listens on port 9: the hub cannot be reached.
    let unreachable = env
        .fails(
            &[
                "login",
                "--hub",
                "http://127.0.0.1:9",
                "--token-file",
                token,
            ],
            4,
        )
        .await;
    assert!(
        unreachable.contains("cannot reach the hub at http://127.0.0.1:9"),
        "{unreachable}"
    );
    let bad_url = env
        .fails(&["login", "--hub", "not a url", "--token-file", token], 3)
        .await;
    assert!(bad_url.contains("not a hub address"), "{bad_url}");
    let bad_token = env
        .fails(&["login", "--hub", &env.hub.url, "--token", "nope"], 5)
        .await;
    assert!(bad_token.contains("nic login"), "{bad_token}");
    env.login().await;
    let unknown = env.fails(&["use", "nowhere"], 6).await;
    assert!(
        unknown.contains("does not exist") && unknown.contains("nic networks list"),
        "{unknown}"
    );
    let no_network = env.fails(&["sites", "list"], 8).await;
    assert!(no_network.contains("nic use NETWORK"), "{no_network}");
    let usage = env.nic(&["cycle", "act"]).await;
    assert_eq!(usage.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_network_and_complete_help() {
    let env = Env::start().await;
    env.login().await;
    let demo = env.json(&["demo"]).await;
    assert_eq!(demo["network"], "algebra-readiness");
    assert_eq!(demo["cycles"], 11);
    let compare = env.json(&["compare", "number-talks"]).await;
    let sites: std::collections::BTreeSet<&str> = compare
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["site"].as_str().unwrap())
        .collect();
    assert_eq!(sites.len(), 4);
    let measure = demo["measure"].as_str().unwrap();
    let series = env
        .ok(&["export", "series", "--measure", measure, "--format", "json"])
        .await;
    let series: Value = serde_json::from_str(&series).unwrap();
    assert!(series["series"].as_array().unwrap().len() >= 12);
    assert_eq!(
        series["target"]["value"], 70.0,
        "the demo aim gives the target line"
    );
    let overview: Value =
        serde_json::from_str(&env.ok(&["export", "overview", "--format", "json"]).await).unwrap();
    let talks = overview["change_ideas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["change_idea"] == "number-talks")
        .unwrap();
    assert_eq!(
        talks["title"], "Daily number talks",
        "the change idea document is found"
    );
    // Again: the network exists; it says so and keeps it as the default.
    let again = env.json(&["demo"]).await;
    assert_eq!(again["created"], false);

    let help = env.ok(&["--help"]).await;
    assert!(help.contains("Exit codes:") && help.contains("demo"));
    for sub in [
        vec!["login"],
        vec!["whoami"],
        vec!["use"],
        vec!["networks", "create"],
        vec!["sites", "list"],
        vec!["members", "add"],
        vec!["docs", "show"],
        vec!["aim", "create"],
        vec!["idea", "create"],
        vec!["measure", "create"],
        vec!["measure", "baseline"],
        vec!["measure", "rebase"],
        vec!["series"],
        vec!["cycle", "create"],
        vec!["cycle", "act"],
        vec!["compare"],
        vec!["chart"],
        vec!["export"],
        vec!["import", "measures"],
        vec!["status"],
        vec!["demo"],
    ] {
        let mut args = sub.clone();
        args.push("--help");
        let text = env.ok(&args).await;
        assert!(
            text.contains("Usage:") && text.lines().count() > 3,
            "{sub:?}: {text}"
        );
    }
    // The help says how to keep a token off the command line, and why.
    let login_help = env.ok(&["login", "--help"]).await;
    for words in ["--token-file", "NIC_TOKEN", "`ps`"] {
        assert!(login_help.contains(words), "{words}: {login_help}");
    }
    // Each chart kind says what it is and when to use it.
    let chart_help = env.ok(&["chart", "--help"]).await;
    for words in [
        "p-prime",
        "u-prime",
        "Laney",
        "proportion",
        "ratio",
        "Perla",
    ] {
        assert!(chart_help.contains(words), "{words}: {chart_help}");
    }
    let import_help = env.ok(&["import", "measures", "--help"]).await;
    assert!(import_help.contains("numerator") && import_help.contains("YYYY-MM-DD"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_client_watches_an_edit_arrive() {
    use std::io::{BufRead, BufReader};
    let env = Env::start().await;
    env.with_network().await;
    let mut watcher = env
        .command(env!("CARGO_BIN_EXE_nic"), "second-client")
        .args(["watch", "--count", "1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = watcher.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().unwrap().unwrap();
        (first, lines)
    })
    .await
    .unwrap();
    assert!(lines.0.starts_with("watching algebra"), "{}", lines.0);
    let mut rest = lines.1;
    env.ok(&["idea", "create", "Exit tickets"]).await;
    let arrived = tokio::task::spawn_blocking(move || {
        let line = rest.next().unwrap().unwrap();
        watcher.wait().unwrap();
        line
    })
    .await
    .unwrap();
    assert!(
        arrived.contains("Exit tickets") && arrived.contains("changed by admin"),
        "{arrived}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_shows_progress_on_a_terminal() {
    let env = Env::start().await;
    env.with_network().await;
    env.json(&[
        "measure",
        "create",
        "On track",
        "--numerator",
        "Proficient",
        "--denominator",
        "Took it",
    ])
    .await;
    let mut csv = String::from("period,site,group,numerator,denominator,n\n");
    for day in 0..2000u32 {
        let (y, d) = (2000 + day / 28, day % 28 + 1);
        csv.push_str(&format!(
            "{y}-02-{d:02},lincoln,all,{},100,100\n",
            30 + day % 40
        ));
    }
    let file = write(env.dir.path(), "big.csv", &csv);
    // `script` gives the command a terminal, as a person running it has (util-linux).
    let nic = env!("CARGO_BIN_EXE_nic");
    let typescript = env.dir.path().join("typescript");
    let mut cmd = env.command("script", "replica");
    cmd.args([
        "-qec",
        &format!("{nic} import measures {file} --measure 'On track'"),
        typescript.to_str().unwrap(),
    ]);
    let Ok(out) = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
    else {
        eprintln!("no `script` command here: the terminal progress bar is not checked");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = std::fs::read_to_string(&typescript).unwrap();
    assert!(seen.contains("checking [####"), "{seen}");
    assert!(
        seen.contains("2000/2000 rows") && seen.contains("imported 2000 points"),
        "{seen}"
    );
    // The rate and the time left, as a long import needs.
    assert!(seen.contains("/s, ") && seen.contains(" left)"), "{seen}");
}
