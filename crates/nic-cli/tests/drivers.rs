//! `nic driver …` against a real hub: a diagram built box by box, change ideas linked to
//! drivers (the diagram and the change idea agree), renamed and removed boxes, and the
//! errors' exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
mod member;

use common::Env;
use member::Member;
use nic_model::schema::driver::{ChangeIdea, DriverDiagram, Level};
use nic_model::{DocKind, DocumentId};
use serde_json::Value;

async fn on_hub<T: autosurgeon::Hydrate>(env: &Env, id: &str, kind: DocKind) -> T {
    let id: DocumentId = id.parse().unwrap();
    nic_model::schema::read(&env.hub.saved(id).await, kind).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_diagram_built_edited_and_linked_to_change_ideas() {
    let env = Env::start().await;
    env.with_network().await;
    let empty = env.ok(&["driver", "show"]).await;
    assert!(empty.contains("nic driver add aim"), "{empty}");
    env.ok(&["driver", "add", "aim", "70% on track for Algebra I by June"])
        .await;
    let p1 = env
        .json(&[
            "driver",
            "add",
            "primary",
            "Students' sense of belonging in math",
        ])
        .await;
    assert_eq!(p1["node"], "p1");
    env.ok(&[
        "driver",
        "add",
        "primary",
        "Teachers' use of formative data",
    ])
    .await;
    let s1 = env
        .json(&[
            "driver",
            "add",
            "secondary",
            "Student talk in class",
            "--to",
            "p1",
        ])
        .await;
    assert_eq!(s1["node"], "s1");
    // --to by the start of the box's text.
    env.ok(&[
        "driver",
        "add",
        "secondary",
        "Weekly data meetings",
        "--to",
        "teachers'",
    ])
    .await;
    let idea = env
        .json(&[
            "idea",
            "create",
            "Number talks",
            "--description",
            "5 minutes a day",
        ])
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&["driver", "link", &idea[..6], "s1"]).await;
    env.ok(&["driver", "link", &idea, "Weekly"]).await;
    env.ok(&[
        "driver",
        "rename",
        "p2",
        "Teachers' use of exit-ticket data",
    ])
    .await;

    let shown = env.json(&["driver", "show"]).await;
    assert_eq!(ids(&shown), ["aim", "p1", "p2", "s1", "s2", &idea]);
    assert_eq!(shown["findings"], serde_json::json!([]), "{shown}");
    let text = env.ok(&["driver", "show"]).await;
    assert!(
        text.contains("aim [aim] 70% on track")
            && text.contains("  primary [p2] Teachers' use of exit-ticket data")
            && text.contains("      change ["),
        "{text}"
    );
    let c: ChangeIdea = on_hub(&env, &idea, DocKind::ChangeIdea).await;
    assert_eq!(c.drivers, ["s1", "s2"]);

    env.ok(&["driver", "unlink", &idea, "s2"]).await;
    env.ok(&["driver", "remove", "s1"]).await;
    let c: ChangeIdea = on_hub(&env, &idea, DocKind::ChangeIdea).await;
    assert!(c.drivers.is_empty(), "{:?}", c.drivers);
    let shown = env.json(&["driver", "show"]).await;
    assert_eq!(ids(&shown), ["aim", "p1", "p2", "s2", &idea]);
    assert!(
        shown["links"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["from"] != "s1" && l["to"] != "s1")
    );
    // The change box stays (the diagram flags it: it moves no secondary driver now).
    let diagram_id = env
        .json(&["docs", "list", "--kind", "driver_diagram"])
        .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d: DriverDiagram = on_hub(&env, &diagram_id, DocKind::DriverDiagram).await;
    assert!(d.nodes.iter().any(|n| n.level == Level::Change));
    assert!(
        d.validate()
            .iter()
            .any(|f| f.message.contains("no secondary driver"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn driver_errors_keep_the_exit_code_contract() {
    let env = Env::start().await;
    env.with_network().await;
    env.fails(&["driver", "rename", "p1", "x"], 6).await;
    env.ok(&["driver", "add", "aim", "The aim"]).await;
    env.fails(&["driver", "add", "aim", "A second aim"], 8)
        .await;
    let no_parent = env.fails(&["driver", "add", "secondary", "x"], 8).await;
    assert!(no_parent.contains("--to"), "{no_parent}");
    env.fails(&["driver", "add", "secondary", "x", "--to", "aim"], 8)
        .await;
    env.fails(&["driver", "add", "secondary", "x", "--to", "p9"], 6)
        .await;
    env.ok(&["driver", "add", "primary", "Belonging"]).await;
    env.ok(&["driver", "add", "primary", "Belief"]).await;
    let ambiguous = env.fails(&["driver", "rename", "Bel", "x"], 8).await;
    assert!(
        ambiguous.contains("p1") && ambiguous.contains("p2"),
        "{ambiguous}"
    );
    env.fails(&["driver", "link", "zzzzzz", "p1"], 6).await;
    env.fails(&["driver", "add", "tertiary", "x"], 2).await;
    // A site member reads the diagram but may not change it (network-level: leads only).
    let sam = Member::add(&env, "sam", "site-member", Some("lincoln")).await;
    let shown = sam.json(&["driver", "show"]).await;
    assert_eq!(ids(&shown), ["aim", "p1", "p2"]);
    let refused = sam.fails(&["driver", "add", "primary", "Mine"], 7).await;
    assert!(refused.contains("may read but not change"), "{refused}");
}
