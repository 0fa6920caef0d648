//! `nic` against a hub that serves TLS, with certificates made in the test: it signs in
//! when told which CA to trust (and, for mutual TLS, with its own certificate), records
//! through its replica over TLS, and otherwise fails with the exit code and a message that
//! names the fix.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::Env;
use nic_e2e::certs::Ca;

#[tokio::test]
async fn nic_works_over_tls_once_told_which_ca_to_trust() {
    let server_ca = Ca::new("district CA");
    let env = Env::start_tls(&server_ca, None).await;
    let token = env.token_file();
    let token = token.to_str().unwrap();
    let https = env.https();

    // The hub's CA is private: this machine's CAs do not vouch for it.
    let untrusted = env
        .fails(&["login", "--hub", &https, "--token-file", token], 4)
        .await;
    assert!(
        untrusted.contains("certificate") && untrusted.contains("--ca-file"),
        "{untrusted}"
    );
    // Plain text to a TLS hub does not get through either.
    env.fails(&["login", "--hub", &env.hub.url, "--token-file", token], 4)
        .await;
    // TLS files with a plain address are a mistake, said as such.
    let ca = env.file("district-ca.pem", &server_ca.pem);
    let plain = env
        .fails(
            &[
                "login",
                "--hub",
                &env.hub.url,
                "--token-file",
                token,
                "--ca-file",
                &ca,
            ],
            3,
        )
        .await;
    assert!(plain.contains("https://"), "{plain}");
    // A file that is not a certificate is named.
    let key = env.file("not-a-ca.pem", &server_ca.leaf(&["x"]).1);
    let wrong_file = env
        .fails(
            &[
                "login",
                "--hub",
                &https,
                "--token-file",
                token,
                "--ca-file",
                &key,
            ],
            3,
        )
        .await;
    assert!(wrong_file.contains("not-a-ca.pem"), "{wrong_file}");

    // Trusting the CA, everything works: directory calls through the library…
    env.ok(&[
        "login",
        "--hub",
        &https,
        "--token-file",
        token,
        "--ca-file",
        &ca,
    ])
    .await;
    let me = env.json(&["whoami"]).await;
    assert_eq!(me["member"], "admin");
    env.ok(&["networks", "create", "algebra", "--name", "Algebra"])
        .await;
    env.ok(&["use", "algebra"]).await;
    env.ok(&["sites", "create", "lincoln", "--name", "Lincoln"])
        .await;
    // …and the replica syncing over TLS (the command waits for the hub's ack).
    let aim = env.json(&["aim", "create", "70% on track by June"]).await;
    let id = aim["id"].as_str().unwrap().to_owned();
    let listed = env.json(&["docs", "list", "--kind", "aim"]).await;
    assert_eq!(listed[0]["id"], id.as_str());
    // Named by the start of its id.
    let shown = env.ok(&["docs", "show", &id[..8]]).await;
    assert!(shown.contains("70% on track by June"), "{shown}");
}

#[tokio::test]
async fn a_hub_asking_for_client_certificates_gets_one_from_nic() {
    let server_ca = Ca::new("district CA");
    let clients_ca = Ca::new("district devices CA");
    let env = Env::start_tls(&server_ca, Some(&clients_ca)).await;
    let token = env.token_file();
    let token = token.to_str().unwrap();
    let https = env.https();
    let ca = env.file("district-ca.pem", &server_ca.pem);
    let (cert, key) = clients_ca.leaf(&["lincoln-laptop"]);
    let cert = env.file("laptop.pem", &cert);
    let key = env.file("laptop.key", &key);

    // Without a certificate the hub ends the handshake.
    env.fails(
        &[
            "login",
            "--hub",
            &https,
            "--token-file",
            token,
            "--ca-file",
            &ca,
        ],
        4,
    )
    .await;
    // A certificate from another CA is refused too.
    let (forged_cert, forged_key) = Ca::new("someone else").leaf(&["lincoln-laptop"]);
    let forged_cert = env.file("forged.pem", &forged_cert);
    let forged_key = env.file("forged.key", &forged_key);
    env.fails(
        &[
            "login",
            "--hub",
            &https,
            "--token-file",
            token,
            "--ca-file",
            &ca,
            "--cert",
            &forged_cert,
            "--key",
            &forged_key,
        ],
        4,
    )
    .await;
    env.ok(&[
        "login",
        "--hub",
        &https,
        "--token-file",
        token,
        "--ca-file",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
    ])
    .await;
    env.ok(&["networks", "create", "algebra", "--name", "Algebra"])
        .await;
    env.ok(&["use", "algebra"]).await;
    let aim = env.json(&["aim", "create", "Every student heard"]).await;
    assert!(aim["id"].is_string());
}
