//! `nic members`: roles change, the audit log says who did what, and a token is handed over
//! in a file only its owner can read.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::Env;

#[tokio::test]
async fn roles_change_the_log_records_it_and_tokens_go_into_owner_only_files() {
    let env = Env::start().await;
    env.with_network().await;
    env.ok(&["sites", "create", "adams", "--name", "Adams"])
        .await;
    env.ok(&[
        "members",
        "add",
        "maria",
        "--role",
        "site-member",
        "--site",
        "lincoln",
    ])
    .await;

    // Moved to another school, then made a lead; a site member without a site is refused.
    let moved = env
        .json(&[
            "members",
            "role",
            "maria",
            "--role",
            "site-member",
            "--site",
            "adams",
        ])
        .await;
    assert_eq!(moved["site"], "adams");
    env.fails(&["members", "role", "maria", "--role", "site-member"], 8)
        .await;
    env.fails(&["members", "role", "nobody", "--role", "observer"], 6)
        .await;
    let lead = env
        .json(&["members", "role", "maria", "--role", "lead"])
        .await;
    assert_eq!(lead["role"], "network_lead");
    let listed = env.json(&["members", "list"]).await;
    let maria = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["member"] == "maria")
        .unwrap();
    assert_eq!(maria["role"], "network lead");

    // The token goes into a new file readable by its owner only, never onto the screen.
    let file = env.dir.path().join("maria-token");
    let handed = env
        .ok(&[
            "members",
            "token",
            "maria",
            "--to-file",
            file.to_str().unwrap(),
        ])
        .await;
    let secret = std::fs::read_to_string(&file).unwrap();
    assert!(!handed.contains(secret.trim()), "{handed}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // It never overwrites a file, and issues nothing then.
    let before = env.json(&["members", "tokens", "maria"]).await;
    env.fails(
        &[
            "members",
            "token",
            "maria",
            "--to-file",
            file.to_str().unwrap(),
        ],
        8,
    )
    .await;
    let after = env.json(&["members", "tokens", "maria"]).await;
    assert_eq!(before, after);
    // Maria signs in with the file, on her own machine (her own config).
    let mut login = std::process::Command::new(env!("CARGO_BIN_EXE_nic"));
    login
        .args(["--json", "login", "--hub", &env.hub.url, "--token-file"])
        .arg(&file)
        .env(
            "NIC_CONFIG",
            env.dir.path().join("maria").join("config.toml"),
        )
        .env("NIC_REPLICA", env.dir.path().join("maria").join("replica"));
    // Off the runtime the hub runs on.
    let signed_in = tokio::task::spawn_blocking(move || login.output().unwrap())
        .await
        .unwrap();
    assert!(signed_in.status.success(), "{signed_in:?}");
    let signed_in: serde_json::Value = serde_json::from_slice(&signed_in.stdout).unwrap();
    assert_eq!(signed_in["member"], "maria");

    // The log says who did what, oldest first, paged.
    let log = env.json(&["members", "audit"]).await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in ["add_member", "set_role", "issue_token"] {
        assert!(actions.contains(&expected), "{expected} not in {actions:?}");
    }
    let page = env.json(&["members", "audit", "--limit", "1"]).await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    let text = env.ok(&["members", "audit", "--limit", "1"]).await;
    assert!(text.contains("(more: --after"), "{text}");
}
