//! Authentication end to end, on the real `nic-hub` binary: the first start writes the hub
//! admin's token to a private file; every RPC without a valid token is UNAUTHENTICATED with
//! a reason; and the token appears nowhere else — not in the logs, not in the database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;
use std::process::{Command, Stdio};

use nic_hub::testing::{ChildHub, serve_args};
use nic_model::{MemberId, TokenRecord};
use nic_proto::auth::Bearer;
use nic_proto::v1::{self, documents_client::DocumentsClient};
use nic_store::{DirOp, Durability, SledStore, Store};
use tonic::Code;
use tonic::transport::Channel;

/// The `nic-hub` binary on `dir` with debug logging, its stderr collected.
fn start(dir: &Path) -> ChildHub {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nic-hub"));
    cmd.args(serve_args(dir))
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped());
    ChildHub::spawn(cmd).unwrap()
}

/// Stops the hub with SIGTERM and returns everything it printed.
fn stop(hub: ChildHub) -> String {
    let (status, out) = hub.stop().unwrap();
    assert!(status.success(), "{status}");
    out
}

async fn list(url: &str, token: Option<&str>) -> Result<usize, tonic::Status> {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let request = v1::ListDocumentsRequest::default();
    let reply = match token {
        Some(token) => {
            DocumentsClient::new(Bearer::new(token)?.on(channel))
                .list(request)
                .await?
        }
        None => DocumentsClient::new(channel).list(request).await?,
    };
    Ok(reply.into_inner().documents.len())
}

/// Every file under `dir` except the admin-token file, read whole.
fn stored_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(stored_bytes(&path));
        } else if path.file_name().is_some_and(|n| n != "admin-token") {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

// Multi-threaded: `Hub::stop` blocks one thread waiting for the hub, whose graceful
// shutdown needs this side's connections to be served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_needs_a_valid_token_and_tokens_stay_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let hub = start(&data);
    let file = data.join("admin-token");
    let token = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the token file must be private");
    }

    assert_eq!(list(&hub.url(), Some(&token)).await.unwrap(), 0);
    let refused = [
        (None, "send `authorization: Bearer <token>`"),
        (Some("nic_not-a-real-token"), "not known"),
    ];
    for (presented, why) in refused {
        let status = list(&hub.url(), presented).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status}");
        assert!(status.message().contains(why), "{status}");
    }
    // Malformed metadata is refused too.
    let channel = Channel::from_shared(hub.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut request = tonic::Request::new(v1::ListDocumentsRequest::default());
    request
        .metadata_mut()
        .insert("authorization", format!("Basic {token}").parse().unwrap());
    let status = DocumentsClient::new(channel)
        .list(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status}");
    let out = stop(hub);

    // Revoked and expired tokens, written while the hub is down, are refused after a restart.
    {
        let store = SledStore::open(&data).unwrap();
        let record = |id: &str, expires, revoked| TokenRecord {
            id: nic_model::TokenId::new(id).unwrap(),
            member: MemberId::new("admin").unwrap(),
            label: "test".into(),
            created_at_ms: 0,
            expires_at_ms: expires,
            revoked_at_ms: revoked,
        };
        nic_store::Directory::write_directory(
            &store,
            &[
                DirOp::PutToken {
                    hash: nic_hub::auth::token::hash("nic_revoked"),
                    record: record("tok-revoked", None, Some(1)),
                },
                DirOp::PutToken {
                    hash: nic_hub::auth::token::hash("nic_expired"),
                    record: record("tok-expired", Some(1), None),
                },
            ],
            None,
        )
        .unwrap();
        store.flush(Durability::PowerSafe).unwrap();
    }
    let hub = start(&data);
    for (presented, why) in [
        ("nic_revoked", "was revoked"),
        ("nic_expired", "has expired"),
    ] {
        let status = list(&hub.url(), Some(presented)).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status}");
        assert!(status.message().contains(why), "{status}");
    }
    // A restart keeps the admin and their token.
    assert_eq!(list(&hub.url(), Some(&token)).await.unwrap(), 0);
    let out = out + &stop(hub);

    // The secret is nowhere but its file: not in any log line, not in the database.
    assert!(
        out.contains("admin-token"),
        "the hub says where the token is:\n{out}"
    );
    assert!(!out.contains(&token), "a token was logged:\n{out}");
    assert!(
        !contains(&stored_bytes(&data), &token[4..]),
        "a token is stored in clear"
    );
}

/// Every listener is bound before the hub says it listens: a busy metrics port stops it
/// before the listening line, and the error names the flag that moves it.
#[test]
fn a_busy_metrics_port_fails_before_the_listening_line_and_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nic-hub"));
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        &addr,
        "--data-dir",
    ])
    .arg(dir.path())
    .stderr(std::process::Stdio::piped());
    let err = nic_hub::testing::ChildHub::spawn(cmd).expect_err("the hub must not say it listens");
    let said = err.to_string();
    assert!(said.contains("--metrics-listen"), "{said}");
    assert!(!said.contains(nic_hub::testing::LISTENING), "{said}");
}
