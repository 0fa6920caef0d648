//! What a district's security reviewer checks on a running hub: its data folder and a
//! replica's folder are owner-only, and security events are counted at /metrics.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::time::Duration;

use nic_client::{Client, ReplicaConfig, Storage, Target};
use nic_e2e::TestHub;
use nic_model::PeerId;
use nic_proto::v1;
use tonic::Code;

/// Every folder and file under `root` (root included) that others may read or enter.
#[cfg(unix)]
fn open_to_others(root: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let mut out = Vec::new();
    if mode(root) & 0o077 != 0 {
        out.push((root.to_owned(), mode(root)));
    }
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(open_to_others(&path));
        } else if mode(&path) & 0o077 != 0 {
            out.push((path.clone(), mode(&path)));
        }
    }
    out
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_and_a_replica_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // An operator's folder made beforehand with the usual 0755.
    let data = dir.path().join("nic-data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let hub = TestHub::start(&data).await;
    let doc = hub.create_worksheet("algebra").await;

    let replica = dir.path().join("cfg").join("replica");
    let client = Client::open(
        ReplicaConfig::new(&hub.url, &hub.token)
            .storage(Storage::Dir(replica.clone()))
            .peer(PeerId::new("laptop").unwrap()),
    )
    .await
    .unwrap();
    client.subscribe(Target::Docs(vec![doc])).await.unwrap();
    client
        .wait_for(doc, Duration::from_secs(20), |am| {
            nic_sync::automerge::ReadDoc::get(am, nic_sync::automerge::ROOT, "notes")
                .ok()
                .flatten()
                .is_some()
        })
        .await
        .unwrap();
    for folder in [&data, &replica] {
        let open = open_to_others(folder);
        assert!(open.is_empty(), "readable by others: {open:?}");
    }
    drop(client);
    hub.stop().await;
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// The value of a metrics row (`name` with its labels, exactly as rendered).
fn metric(body: &str, row: &str) -> u64 {
    body.lines()
        .find_map(|l| l.strip_prefix(row).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("{row} missing from:\n{body}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn failed_sign_ins_lockouts_and_denials_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let hub = TestHub::start_with(dir.path(), |c| {
        c.metrics_listen = Some(metrics_port);
        c.max_auth_failures_per_minute = 2;
    })
    .await;
    let list = |token: &'static str| {
        let hub = &hub;
        async move {
            hub.documents_as(token)
                .await
                .list(v1::ListDocumentsRequest::default())
                .await
        }
    };
    for _ in 0..3 {
        assert!(list("nic_guess").await.is_err());
    }
    hub.ensure_network("algebra", &[]).await;
    let observer = hub.member("obs", v1::Role::Observer, "algebra", "").await;
    let denied = hub
        .directory_as(&observer)
        .await
        .create_network(v1::CreateNetworkRequest {
            network_id: "mine".into(),
            name: "Mine".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied}");

    let body = http_get(metrics_port, "/metrics").await;
    assert_eq!(
        metric(&body, "nic_hub_auth_failures_total{reason=\"unknown\"}"),
        3
    );
    assert_eq!(metric(&body, "nic_hub_auth_throttled_total"), 1);
    assert_eq!(metric(&body, "nic_hub_auth_lockouts_total"), 1);
    assert!(metric(&body, "nic_hub_permission_denied_total") >= 1);
    assert!(metric(&body, "nic_hub_connections_accepted_total") >= 5);
    metric(&body, "nic_hub_connections");
    hub.stop().await;
}
