//! A site team's inquiry through `nic` against a real hub: empathy interviews and their
//! themes, a root-cause analysis (fishbone causes, 5 whys), an equity audit and the school
//! improvement plan with planned vs. done; each created, edited and shown (text and
//! `--json`), named by id prefix, with `nic docs history` saying who changed what. Then
//! privacy (an interview stays with its site) and the errors' exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::process::{Command, Output};

use serde_json::Value;

mod common;

use common::Env;

/// The first characters of an id: how people name documents.
fn prefix(id: &Value) -> String {
    id.as_str().unwrap()[..8].to_owned()
}

/// Runs `nic ARGS` as another person: their own config and replica folders.
async fn nic_as(env: &Env, who: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nic"));
    cmd.args(args)
        .current_dir(env.dir.path())
        .env(
            "NIC_CONFIG",
            env.dir
                .path()
                .join(format!("cfg-{who}"))
                .join("config.toml"),
        )
        .env("NIC_REPLICA", env.dir.path().join(format!("replica-{who}")))
        .env_remove("NIC_TOKEN");
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// A site member `who` of `site`, signed in on their own config.
async fn member(env: &Env, who: &str, site: &str) {
    env.ok(&[
        "members",
        "add",
        who,
        "--role",
        "site-member",
        "--site",
        site,
    ])
    .await;
    let token = env.json(&["members", "token", who]).await;
    let out = nic_as(
        env,
        who,
        &[
            "login",
            "--hub",
            &env.hub.url,
            "--token",
            token["token"].as_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    assert!(nic_as(env, who, &["use", "algebra"]).await.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_team_records_interviews_root_causes_an_audit_and_a_plan() {
    let env = Env::start().await;
    env.with_network().await;

    // An empathy interview, then a theme and a quote added later by prefix.
    let interview = env
        .json(&[
            "interview",
            "create",
            "--site",
            "lincoln",
            "--role",
            "student",
            "--group",
            "english_learner",
            "--date",
            "2026-09-21",
            "--question",
            "When do you feel stuck in math class?",
            "--notes",
            "\"When everyone answers before I can think.\"",
            "--theme",
            "think time",
        ])
        .await;
    assert_eq!(interview["visibility"], "site");
    let iv = prefix(&interview["id"]);
    env.ok(&[
        "interview",
        "add",
        &iv,
        "--theme",
        "belonging",
        "--theme",
        "think time",
        "--note",
        "\"I like working with a partner first.\"",
    ])
    .await;
    let shown = env.json(&["interview", "show", &iv]).await;
    assert_eq!(shown["id"], interview["id"]);
    assert_eq!(shown["interviewee_role"], "student");
    assert_eq!(shown["interviewee_groups"][0], "english_learner");
    assert_eq!(shown["date"], "2026-09-21");
    assert_eq!(
        shown["themes"],
        serde_json::json!(["think time", "belonging"]),
        "a theme once"
    );
    assert_eq!(
        shown["notes"],
        "\"When everyone answers before I can think.\"\n\"I like working with a partner first.\""
    );
    assert_eq!(shown["meta"]["visibility"], "site");
    assert_eq!(shown["meta"]["site"], "lincoln");
    assert_eq!(
        env.json(&["docs", "show", interview["id"].as_str().unwrap()])
            .await,
        shown,
        "`docs show` and `interview show` print the same"
    );
    let text = env.ok(&["interview", "show", &iv]).await;
    for part in [
        "interviewed: student (english_learner)",
        "1: When do you feel stuck in math class?",
        "partner first",
        "themes: think time, belonging",
        "readable by the site's team and the network's leads",
    ] {
        assert!(text.contains(part), "{part:?} in\n{text}");
    }

    // Who changed what, and when.
    let history = env.json(&["docs", "history", &iv]).await;
    let told: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["message"].as_str().unwrap(),
                c["author"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        told,
        [
            ("Create empathy_interview", "admin"),
            ("Interview: added", "admin")
        ]
    );
    assert!(history[0]["time_ms"].as_i64().unwrap() > 0);
    let text = env.ok(&["docs", "history", &iv]).await;
    assert!(
        text.contains("admin") && text.contains("Interview: added") && text.contains(" UTC"),
        "{text}"
    );

    // A root-cause analysis: a fishbone with a cause under a cause, and two why chains.
    let rca = env
        .json(&[
            "rca",
            "create",
            "Our 9th-grade English learners fail Algebra I at twice the rate of their peers",
            "--site",
            "lincoln",
            "--category",
            "Instruction",
        ])
        .await;
    let r = prefix(&rca["id"]);
    let c1 = env
        .json(&[
            "rca",
            "cause",
            &r,
            "Little time to think before answering",
            "--category",
            "Instruction",
            "--evidence",
            "12 of 14 interviews",
        ])
        .await;
    let c1 = c1["cause"].as_str().unwrap().to_owned();
    assert!(c1.starts_with("c1-"), "{c1}");
    let c2 = env
        .json(&[
            "rca",
            "cause",
            &r,
            "The pacing guide leaves no room",
            "--under",
            &c1,
        ])
        .await;
    let c2 = c2["cause"].as_str().unwrap().to_owned();
    assert!(c2.starts_with("c2-"), "{c2}");
    env.ok(&[
        "rca",
        "cause",
        &r,
        "Placement by one test score",
        "--category",
        "Policies",
    ])
    .await;
    env.ok(&["rca", "why", &r, "Students do not answer in class"])
        .await;
    env.ok(&["rca", "why", &r, "Answers are taken from the first hand up"])
        .await;
    let w2 = env
        .json(&["rca", "why", &r, "Few sign up for honors", "--new-chain"])
        .await;
    assert!(w2["chain"].as_str().unwrap().starts_with("w2-"), "{w2}");
    let shown = env.json(&["rca", "show", &r]).await;
    assert_eq!(shown["categories"][0]["id"], "instruction");
    assert_eq!(
        shown["categories"][0]["causes"][0]["causes"][0]["text"],
        "The pacing guide leaves no room"
    );
    assert_eq!(shown["categories"][1]["name"], "Policies");
    assert_eq!(
        shown["why_chains"][0]["whys"],
        serde_json::json!([
            "Students do not answer in class",
            "Answers are taken from the first hand up"
        ])
    );
    assert_eq!(shown["meta"]["visibility"], "network");
    let text = env.ok(&["rca", "show", &r]).await;
    assert!(
        text.contains(&format!(
            "cause [{c1}]: Little time to think before answering"
        )) && text.contains("evidence: 12 of 14 interviews")
            && text.contains("why 2: Answers are taken from the first hand up")
            && text.contains(&format!("note: causes[{c2}]: a cause without the data")),
        "{text}"
    );

    // An equity audit: a finding for a group, and another source.
    let audit = env
        .json(&[
            "audit",
            "create",
            "course enrolment",
            "--site",
            "lincoln",
            "--sources",
            "SIS enrolment, fall 2026",
        ])
        .await;
    let a = prefix(&audit["id"]);
    let f = env
        .json(&[
            "audit",
            "add",
            &a,
            "--group",
            "english_learner=yes",
            "--finding",
            "3% in honors math, against 21% of all students",
        ])
        .await;
    let f = f["finding"].as_str().unwrap().to_owned();
    env.ok(&["audit", "add", &a, "--source", "Counselor placement notes"])
        .await;
    let shown = env.json(&["audit", "show", &a]).await;
    assert_eq!(shown["area"], "course enrolment");
    assert_eq!(shown["findings"][0]["group"], "english_learner=yes");
    assert_eq!(
        shown["sources"],
        "SIS enrolment, fall 2026\nCounselor placement notes"
    );
    let text = env.ok(&["audit", "show", &a]).await;
    assert!(
        text.contains(&format!("english_learner=yes [{f}]: 3% in honors math")),
        "{text}"
    );

    // The plan: problem → root causes → aim → cycles; one cycle done, one outside it.
    let aim = env
        .json(&[
            "aim",
            "create",
            "Raise EL Algebra I pass rates from 40% to 70% by June 2027",
        ])
        .await;
    let cycle = |n: &'static str| {
        let env = &env;
        async move {
            env.json(&[
                "cycle",
                "create",
                "lincoln",
                "--idea",
                "think-time",
                "--objective",
                "Does wait time help?",
                "--question",
                "How many answer?",
                "--prediction",
                "half",
                "--number",
                n,
                "--start",
                "2026-10-05",
                "--end",
                "2026-10-16",
            ])
            .await
        }
    };
    let planned = cycle("1").await;
    let other = cycle("2").await;
    let plan = env
        .json(&[
            "plan",
            "create",
            "EL students fail Algebra I at twice the rate",
            "--site",
            "lincoln",
            "--data",
            "Fall 2025: 38% of ELs passed, 77% of all",
            "--rca",
            &r,
            "--aim",
            &prefix(&aim["id"]),
            "--cycle",
            &prefix(&planned["id"]),
            "--driver",
            "discourse",
        ])
        .await;
    let p = prefix(&plan["id"]);
    env.ok(&["cycle", "do", &prefix(&planned["id"]), "Ran it all week"])
        .await;
    env.ok(&["cycle", "act", &prefix(&planned["id"]), "adopt"])
        .await;
    let shown = env.json(&["plan", "show", &p]).await;
    assert_eq!(shown["root_cause_analysis_id"], rca["id"]);
    assert_eq!(
        shown["aims"][0]["statement"],
        "Raise EL Algebra I pass rates from 40% to 70% by June 2027"
    );
    assert_eq!(shown["planned"][0]["id"], planned["id"]);
    assert_eq!(shown["planned"][0]["state"], "done: adopt");
    assert_eq!(shown["planned"][0]["what_happened"], "Ran it all week");
    assert_eq!(shown["done"], 1);
    assert_eq!(shown["unplanned"][0]["id"], other["id"]);
    assert_eq!(shown["unplanned"][0]["state"], "not started");
    let text = env.ok(&["plan", "show", &p]).await;
    for part in [
        "problem of practice: EL students fail Algebra I",
        "root causes: Root causes: Our 9th-grade",
        "2 fishbone categories, 3 causes, 2 why chains",
        "aim: Raise EL Algebra I",
        "drivers: discourse",
        "planned 2026-10-05 to 2026-10-16; done: adopt",
        "cycles run at the site outside the plan:",
        "1 of 1 planned cycles done",
    ] {
        assert!(text.contains(part), "{part:?} in\n{text}");
    }
    // The second cycle joins the plan.
    env.ok(&["plan", "link", &p, "--cycle", &prefix(&other["id"])])
        .await;
    let shown = env.json(&["plan", "show", &p]).await;
    assert_eq!(shown["planned"].as_array().unwrap().len(), 2);
    assert_eq!(shown["unplanned"], serde_json::json!([]));
    // `docs show` fetches from the hub by full id (its naming is the lead's part).
    let whole = env
        .json(&["docs", "show", plan["id"].as_str().unwrap()])
        .await;
    assert_eq!(whole["cycle_ids"][1], other["id"]);
    assert_eq!(whole["driver_ids"][0], "discourse");
    let history = env.json(&["docs", "history", &p]).await;
    assert_eq!(history[1]["message"], "Improvement plan: linked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interviews_stay_at_their_site_and_errors_keep_the_exit_codes() {
    let env = Env::start().await;
    env.with_network().await;
    env.ok(&["sites", "create", "adams", "--name", "Adams"])
        .await;
    member(&env, "sam", "lincoln").await;
    member(&env, "ana", "adams").await;

    // Sam records an interview at his site, and an analysis the network may learn from.
    let out = nic_as(
        &env,
        "sam",
        &[
            "--json",
            "interview",
            "create",
            "--site",
            "lincoln",
            "--role",
            "parent",
            "--theme",
            "homework",
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let interview: Value = serde_json::from_slice(&out.stdout).unwrap();
    let iv = interview["id"].as_str().unwrap().to_owned();
    let out = nic_as(
        &env,
        "sam",
        &[
            "--json",
            "rca",
            "create",
            "Homework is rarely turned in",
            "--site",
            "lincoln",
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let rca: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rca = rca["id"].as_str().unwrap().to_owned();
    // Sam may not write at another school (the hub refuses: exit 7), saved nowhere.
    let out = nic_as(
        &env,
        "sam",
        &["audit", "create", "discipline", "--site", "adams"],
    )
    .await;
    assert_eq!(out.status.code(), Some(7), "{out:?}");

    // Ana, at another school, reads the analysis but not the interview.
    let out = nic_as(&env, "ana", &["--json", "rca", "show", &rca]).await;
    assert!(out.status.success(), "{out:?}");
    let out = nic_as(&env, "ana", &["interview", "show", &iv]).await;
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let out = nic_as(&env, "ana", &["--json", "docs", "list"]).await;
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.contains(&rca) && !listed.contains(&iv), "{listed}");
    // The lead (the admin here) reads it, and sees who wrote it.
    let history = env.json(&["docs", "history", &iv]).await;
    assert_eq!(history[0]["author"], "sam");
    let shown = env.json(&["interview", "show", &iv]).await;
    assert_eq!(shown["interviewee_role"], "parent");

    // Errors: what is named must exist (6); bad input is 8, and names the fix.
    let unknown = env.fails(&["interview", "show", "zzzzzzzz"], 6).await;
    assert!(unknown.contains("nic docs list"), "{unknown}");
    env.fails(&["rca", "why", "zzzzzzzz", "why?"], 6).await;
    env.fails(&["docs", "history", "zzzzzzzz"], 6).await;
    let short = env.fails(&["plan", "show", "ab"], 8).await;
    assert!(short.contains("at least 4 characters"), "{short}");
    let wrong_kind = env.fails(&["rca", "show", &iv[..8]], 8).await;
    assert!(
        wrong_kind.contains("is a empathy_interview, not a root_cause_analysis"),
        "{wrong_kind}"
    );
    let bad_date = env
        .fails(
            &[
                "interview",
                "create",
                "--site",
                "lincoln",
                "--role",
                "student",
                "--date",
                "2026-02-30",
            ],
            8,
        )
        .await;
    assert!(
        bad_date.contains("YYYY") || bad_date.contains("no day 30"),
        "{bad_date}"
    );
    env.fails(
        &["interview", "create", "--site", "lincoln", "--role", " "],
        8,
    )
    .await;
    env.fails(&["interview", "add", &iv[..8]], 8).await;
    let no_cause = env
        .fails(&["rca", "cause", &rca[..8], "Deeper", "--under", "c9"], 8)
        .await;
    assert!(no_cause.contains("no cause \"c9\""), "{no_cause}");
    env.fails(&["rca", "why", &rca[..8], "why?", "--chain", "w7"], 8)
        .await;
    let audit = env
        .json(&["audit", "create", "discipline", "--site", "lincoln"])
        .await;
    let bad_group = env
        .fails(
            &[
                "audit",
                "add",
                &prefix(&audit["id"]),
                "--group",
                "english learners",
                "--finding",
                "more referrals",
            ],
            8,
        )
        .await;
    assert!(bad_group.contains("dimension=value"), "{bad_group}");
    env.fails(
        &[
            "plan",
            "create",
            "A problem",
            "--site",
            "lincoln",
            "--rca",
            &iv[..8],
        ],
        8,
    )
    .await;
    env.fails(&["plan", "create", "", "--site", "lincoln"], 8)
        .await;
    env.fails(
        &["interview", "create", "--site", "Not A Site", "--role", "x"],
        8,
    )
    .await;
    // Every new command explains itself, in the words of the people who use it.
    for (sub, words) in [
        (vec!["interview", "create"], "never by name"),
        (vec!["interview", "add"], "theme"),
        (vec!["rca", "cause"], "evidence"),
        (vec!["rca", "why"], "new-chain"),
        (vec!["audit", "add"], "dimension=value"),
        (vec!["plan", "create"], "problem of practice"),
        (vec!["plan", "show"], "planned beside what"),
        (vec!["docs", "history"], "Who changed"),
    ] {
        let mut args = sub.clone();
        args.push("--help");
        let help = env.ok(&args).await;
        assert!(help.contains(words), "{sub:?}: {help}");
    }
    // Usage mistakes are clap's (2): a cause needs a category or a parent.
    assert_eq!(
        env.nic(&["rca", "cause", &rca[..8], "text"])
            .await
            .status
            .code(),
        Some(2)
    );
}

/// `nic` as `who` on their own config and replica, expecting `code`; returns stdout.
async fn run_as(env: &Env, who: &str, args: &[&str], code: i32) -> String {
    let out = nic_as(env, who, args).await;
    assert_eq!(
        out.status.code(),
        Some(code),
        "nic {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Points `who`'s config at `hub` (the same token): how a laptop leaves and comes back.
fn hub_of(env: &Env, who: &str, hub: &str) {
    let path = env
        .dir
        .path()
        .join(format!("cfg-{who}"))
        .join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("hub = ") {
                format!("hub = {hub:?}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn additions_made_apart_are_all_kept_when_the_replicas_meet() {
    let env = Env::start().await;
    env.with_network().await;
    member(&env, "sam", "lincoln").await;
    member(&env, "kim", "lincoln").await;
    let rca: Value = serde_json::from_str(
        &run_as(
            &env,
            "sam",
            &[
                "--json",
                "rca",
                "create",
                "Homework is rarely turned in",
                "--site",
                "lincoln",
            ],
            0,
        )
        .await,
    )
    .unwrap();
    let r = prefix(&rca["id"]);
    let interview: Value = serde_json::from_str(
        &run_as(
            &env,
            "sam",
            &[
                "--json",
                "interview",
                "create",
                "--site",
                "lincoln",
                "--role",
                "parent",
            ],
            0,
        )
        .await,
    )
    .unwrap();
    let iv = prefix(&interview["id"]);
    // Kim's replica holds both, then her laptop loses the hub.
    run_as(&env, "kim", &["rca", "show", &r], 0).await;
    run_as(&env, "kim", &["interview", "show", &iv], 0).await;
    hub_of(&env, "kim", "http://127.0.0.1:9");

    // Both add to the same lists, each unaware of the other (Kim waits 30 s for the hub
    // on each, then is told it is saved locally only: exit 9).
    let kim_cause = run_as(
        &env,
        "kim",
        &[
            "--json",
            "rca",
            "cause",
            &r,
            "No quiet place at home",
            "--category",
            "home",
        ],
        9,
    )
    .await;
    run_as(
        &env,
        "kim",
        &[
            "interview",
            "add",
            &iv,
            "--theme",
            "space",
            "--note",
            "Kim heard this",
        ],
        9,
    )
    .await;
    let sam_cause = run_as(
        &env,
        "sam",
        &[
            "--json",
            "rca",
            "cause",
            &r,
            "Work goes home unfinished",
            "--category",
            "home",
        ],
        0,
    )
    .await;
    run_as(
        &env,
        "sam",
        &[
            "interview",
            "add",
            &iv,
            "--theme",
            "time",
            "--note",
            "Sam heard this",
        ],
        0,
    )
    .await;
    let kim_cause: Value = serde_json::from_str(&kim_cause).unwrap();
    let sam_cause: Value = serde_json::from_str(&sam_cause).unwrap();
    assert_ne!(
        kim_cause["cause"], sam_cause["cause"],
        "ids made apart differ"
    );

    // Kim is back: her next command sends what waited.
    hub_of(&env, "kim", &env.hub.url);
    run_as(
        &env,
        "kim",
        &["interview", "add", &iv, "--theme", "sleep"],
        0,
    )
    .await;
    let shown: Value =
        serde_json::from_str(&run_as(&env, "sam", &["--json", "rca", "show", &r], 0).await)
            .unwrap();
    // Each made the category `home`: both entries stay in the JSON (it is what the
    // document holds), and people see one category with both causes.
    let causes: Vec<&str> = shown["categories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "home")
        .flat_map(|c| c["causes"].as_array().unwrap())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(causes.len(), 2, "{shown}");
    assert!(causes.contains(&kim_cause["cause"].as_str().unwrap()));
    assert!(causes.contains(&sam_cause["cause"].as_str().unwrap()));
    let text = run_as(&env, "sam", &["rca", "show", &r], 0).await;
    assert_eq!(text.matches("home [home]").count(), 1, "{text}");
    let home = text.split("home [home]").nth(1).unwrap();
    assert!(
        home.contains("No quiet place at home") && home.contains("Work goes home unfinished"),
        "{text}"
    );
    let shown: Value =
        serde_json::from_str(&run_as(&env, "sam", &["--json", "interview", "show", &iv], 0).await)
            .unwrap();
    let mut themes: Vec<&str> = shown["themes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    themes.sort_unstable();
    assert_eq!(themes, ["sleep", "space", "time"]);
    let notes = shown["notes"].as_str().unwrap();
    assert!(
        notes.contains("Kim heard this") && notes.contains("Sam heard this"),
        "{notes}"
    );
}
