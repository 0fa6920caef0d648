//! Equity lens codes against a real hub: defined on the network's profile, tagged on aims,
//! change ideas and cycles (on create and afterwards), refused when the network has not
//! defined them, and counted per code by the hub's district overview.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
mod member;

use std::collections::BTreeMap;

use common::Env;
use member::Member;

/// The district overview's count per code, as the hub exports it.
async fn district_counts(env: &Env) -> BTreeMap<String, u64> {
    let text = env.ok(&["export", "district", "--format", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["equity_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_defined_tagged_and_counted_in_the_district_view() {
    let env = Env::start().await;
    env.with_network().await;
    env.ok(&[
        "equity",
        "define",
        "el-access",
        "--dimension",
        "groups",
        "--label",
        "Names English learners",
    ])
    .await;
    env.ok(&[
        "equity",
        "define",
        "system-change",
        "--dimension",
        "solution",
        "--label",
        "Changes the system",
    ])
    .await;
    // Defining again changes the label, not the list's length.
    env.ok(&[
        "equity",
        "define",
        "system-change",
        "--dimension",
        "solution",
        "--label",
        "Changes the system, not students",
    ])
    .await;
    let list = env.json(&["equity", "list"]).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[1]["label"], "Changes the system, not students");

    let aim = env
        .json(&["aim", "create", "70% on track", "--code", "el-access"])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let idea = env
        .json(&[
            "idea",
            "create",
            "Number talks",
            "--code",
            "system-change",
            "--code",
            "el-access",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cycle = env
        .json(&[
            "cycle",
            "create",
            "lincoln",
            "--idea",
            "number-talks",
            "--objective",
            "o",
            "--question",
            "q",
            "--prediction",
            "p",
            "--code",
            "system-change",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let counts = district_counts(&env).await;
    assert_eq!(counts.get("el-access"), Some(&2), "{counts:?}");
    assert_eq!(counts.get("system-change"), Some(&2), "{counts:?}");

    let tagged = env.json(&["equity", "tag", &cycle[..6], "el-access"]).await;
    assert_eq!(
        tagged["equity_codes"],
        serde_json::json!(["system-change", "el-access"])
    );
    env.ok(&["equity", "untag", &idea, "el-access"]).await;
    env.ok(&["equity", "untag", &aim, "el-access"]).await;
    env.ok(&["equity", "tag", &aim, "system-change"]).await;
    let counts = district_counts(&env).await;
    assert_eq!(counts.get("el-access"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("system-change"), Some(&3), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undefined_codes_are_refused_and_roles_respected() {
    let env = Env::start().await;
    env.with_network().await;
    let none = env
        .fails(&["idea", "create", "x", "--code", "el-access"], 8)
        .await;
    assert!(
        none.contains("none yet") && none.contains("nic equity define"),
        "{none}"
    );
    env.ok(&[
        "equity",
        "define",
        "el-access",
        "--dimension",
        "groups",
        "--label",
        "EL",
    ])
    .await;
    let typo = env
        .fails(
            &[
                "cycle",
                "create",
                "lincoln",
                "--idea",
                "x",
                "--objective",
                "o",
                "--question",
                "q",
                "--prediction",
                "p",
                "--code",
                "el-acess",
            ],
            8,
        )
        .await;
    assert!(
        typo.contains("el-acess") && typo.contains("it defines: el-access"),
        "{typo}"
    );
    env.fails(
        &[
            "equity",
            "define",
            "two words",
            "--dimension",
            "groups",
            "--label",
            "x",
        ],
        8,
    )
    .await;
    env.fails(
        &[
            "equity",
            "define",
            "x",
            "--dimension",
            "colour",
            "--label",
            "x",
        ],
        2,
    )
    .await;
    let measure = env
        .json(&[
            "measure",
            "create",
            "m",
            "--numerator",
            "n",
            "--denominator",
            "d",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_kind = env
        .fails(&["equity", "tag", &measure, "el-access"], 8)
        .await;
    assert!(
        wrong_kind.contains("carries no equity lens codes"),
        "{wrong_kind}"
    );
    env.fails(&["equity", "tag", "zzzzzz", "el-access"], 6)
        .await;
    let aim = env.json(&["aim", "create", "The aim"]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A site member may not define codes (the profile is the leads'), nor tag the
    // network's aim; tagging their own site's cycle is theirs to do.
    let sam = Member::add(&env, "sam", "site-member", Some("lincoln")).await;
    sam.fails(
        &[
            "equity",
            "define",
            "mine",
            "--dimension",
            "groups",
            "--label",
            "x",
        ],
        7,
    )
    .await;
    sam.fails(&["equity", "tag", &aim, "el-access"], 7).await;
    let cycle = sam
        .json(&[
            "cycle",
            "create",
            "lincoln",
            "--idea",
            "x",
            "--objective",
            "o",
            "--question",
            "q",
            "--prediction",
            "p",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sam.ok(&["equity", "tag", &cycle, "el-access"]).await;
}
