//! `nic coaching …` and `nic feedback …` against a real hub: visits with commitments and
//! follow-ups, a site team asking for feedback on its cycle, the coach's inbox across
//! sites, replies and resolving, and the errors' exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
mod member;

use common::Env;
use member::Member;
use nic_model::schema::network::CoachingLog;
use nic_model::{DocKind, DocumentId};
use serde_json::Value;

fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visits_commitments_and_follow_ups() {
    let env = Env::start().await;
    env.with_network().await;
    env.ok(&["sites", "create", "adams", "--name", "Adams"])
        .await;
    let v = env
        .json(&[
            "coaching",
            "visit",
            "lincoln",
            "--date",
            "2026-11-03",
            "--focus",
            "Number talks",
            "--commitments",
            "Run two cycles before the next visit",
        ])
        .await;
    let visit = s(&v, "visit");
    env.ok(&[
        "coaching",
        "visit",
        "adams",
        "--date",
        "2026-11-04",
        "--focus",
        "Data meeting",
    ])
    .await;
    env.ok(&[
        "coaching",
        "edit",
        &visit[..5],
        "--follow-up",
        "Both cycles run; moved to Study",
    ])
    .await;
    let shown = env.json(&["coaching", "show", "--site", "lincoln"]).await;
    let visits = shown["visits"].as_array().unwrap();
    assert_eq!(visits.len(), 1, "{shown}");
    assert_eq!(
        visits[0]["commitments"],
        "Run two cycles before the next visit"
    );
    assert_eq!(visits[0]["follow_up"], "Both cycles run; moved to Study");
    let all = env.json(&["coaching", "show"]).await;
    assert_eq!(all["visits"].as_array().unwrap().len(), 2);

    // The hub holds it in the site's own coaching log.
    let log: DocumentId = s(&v, "log").parse().unwrap();
    let l: CoachingLog =
        nic_model::schema::read(&env.hub.saved(log).await, DocKind::CoachingLog).unwrap();
    assert_eq!(l.visits[0].date, "2026-11-03");

    env.fails(
        &[
            "coaching", "visit", "lincoln", "--date", "3 Nov", "--focus", "x",
        ],
        8,
    )
    .await;
    env.fails(&["coaching", "edit", "vzzzzzzz", "--focus", "x"], 6)
        .await;
    env.fails(&["coaching", "visit", "lincoln", "--focus", "x"], 2)
        .await;
    // Adams's team does not see Lincoln's coaching log, and may not write in it.
    let ada = Member::add(&env, "ada", "site-member", Some("adams")).await;
    let theirs = ada.json(&["coaching", "show"]).await;
    assert!(
        theirs["visits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["site"] == "adams"),
        "{theirs}"
    );
    ada.fails(
        &[
            "coaching",
            "visit",
            "lincoln",
            "--date",
            "2026-11-05",
            "--focus",
            "x",
        ],
        7,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_requested_answered_and_resolved_through_the_coach_inbox() {
    let env = Env::start().await;
    env.with_network().await;
    env.ok(&["sites", "create", "adams", "--name", "Adams"])
        .await;
    let sam = Member::add(&env, "sam", "site-member", Some("lincoln")).await;
    let ada = Member::add(&env, "ada", "site-member", Some("adams")).await;
    let cycle = s(
        &sam.json(&[
            "cycle",
            "create",
            "lincoln",
            "--idea",
            "number-talks",
            "--objective",
            "o",
            "--question",
            "How many finish?",
            "--prediction",
            "20 of 28",
        ])
        .await,
        "id",
    );
    let asked = sam
        .json(&[
            "feedback",
            "request",
            &cycle[..6],
            "Is this prediction testable?",
            "--anchor",
            "plan.questions[q1].prediction",
        ])
        .await;
    let thread = s(&asked, "thread");
    let adams_cycle = s(
        &ada.json(&[
            "cycle",
            "create",
            "adams",
            "--idea",
            "x",
            "--objective",
            "o",
            "--question",
            "q",
            "--prediction",
            "p",
        ])
        .await,
        "id",
    );
    let other = s(
        &ada.json(&["feedback", "request", &adams_cycle, "Too big a cycle?"])
            .await,
        "thread",
    );

    // The coach (a network lead) sees both sites' open requests, oldest first.
    let coach = Member::add(&env, "cora", "lead", None).await;
    let inbox = coach.json(&["feedback", "inbox"]).await;
    let rows = inbox.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{inbox}");
    assert_eq!(
        (s(&rows[0], "thread"), s(&rows[0], "site")),
        (thread.clone(), "lincoln".into())
    );
    assert_eq!(
        (s(&rows[0], "from"), s(&rows[0], "waiting_on")),
        ("sam".into(), "coach".into())
    );
    assert_eq!(s(&rows[1], "thread"), other);
    // Each team sees only its own.
    let theirs = ada.json(&["feedback", "inbox"]).await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "{theirs}");

    coach
        .ok(&[
            "feedback",
            "reply",
            &thread[..5],
            "Say how you will count 'finish'",
        ])
        .await;
    let inbox = coach.json(&["feedback", "inbox"]).await;
    assert_eq!(s(&inbox[0], "waiting_on"), "team");
    sam.ok(&[
        "feedback",
        "reply",
        &thread,
        "Counted at the bell, blank = not finished",
    ])
    .await;
    coach.ok(&["feedback", "resolve", &thread]).await;
    let shown = sam.json(&["feedback", "show", &thread]).await;
    assert_eq!(shown["resolved"], true);
    assert_eq!(shown["anchor"], "plan.questions[q1].prediction");
    let said: Vec<(String, String)> = shown["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (s(c, "author"), s(c, "role")))
        .collect();
    assert_eq!(
        said,
        [
            ("sam".into(), "site_member".into()),
            ("cora".into(), "coach".into()),
            ("sam".into(), "site_member".into())
        ]
    );
    let inbox = coach.json(&["feedback", "inbox"]).await;
    assert_eq!(
        inbox.as_array().unwrap().len(),
        1,
        "resolved leaves the inbox: {inbox}"
    );

    // Errors: an unknown document or thread is not found; empty text is invalid; a team
    // cannot answer in another site's log (it cannot even read it).
    sam.fails(&["feedback", "request", "zzzzzz", "x"], 6).await;
    sam.fails(&["feedback", "request", &cycle, " "], 8).await;
    sam.fails(&["feedback", "reply", "tzzzzzzz", "x"], 6).await;
    sam.fails(&["feedback", "reply", &other, "x"], 6).await;
    // Feedback on the network's aim (network-level) goes to the asking team's own log.
    let aim = s(&env.json(&["aim", "create", "70% on track"]).await, "id");
    let on_aim = sam
        .json(&["feedback", "request", &aim, "Is June realistic?"])
        .await;
    let lincoln_log = s(&asked, "log");
    assert_eq!(s(&on_aim, "log"), lincoln_log);
    let inbox = coach.json(&["feedback", "inbox"]).await;
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|r| s(r, "thread") == s(&on_aim, "thread")
                && s(r, "site") == "lincoln"
                && s(r, "doc").contains("70% on track")),
        "{inbox}"
    );
    // An observer reads the network's cycle but may not open a thread on it.
    let ana = Member::add(&env, "ana", "observer", None).await;
    ana.fails(&["feedback", "request", &cycle, "x"], 7).await;
}
