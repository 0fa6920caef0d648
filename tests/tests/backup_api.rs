//! `nic.v1.Admin/Backup` over gRPC: the hub admin gets a whole, checked file in pieces and
//! the backup is audited; anyone else is refused; a hub on PostgreSQL points to pg_dump.
//! (`server/tests/backup.rs` runs `nic-hub backup` and `nic-hub restore` under load.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_e2e::TestHub;
use nic_proto::v1::{self, admin_client::AdminClient};
use nic_store::backup::BackupReader;

/// The whole stream of a backup, or the status that refused it.
async fn backup(hub: &TestHub, token: &str) -> Result<Vec<u8>, tonic::Status> {
    let mut stream = AdminClient::new(hub.authed_as(token).await)
        .backup(v1::BackupRequest {})
        .await?
        .into_inner();
    let mut file = Vec::new();
    while let Some(piece) = stream.message().await? {
        assert!(!piece.data.is_empty(), "an empty piece");
        file.extend_from_slice(&piece.data);
    }
    Ok(file)
}

#[tokio::test]
async fn the_hub_admin_gets_a_checked_backup_and_no_one_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.create_worksheet("algebra").await;
    let lead = hub
        .member("lead", v1::Role::NetworkLead, "algebra", "")
        .await;

    let file = backup(&hub, &hub.token.clone()).await.unwrap();
    let (_, summary) = BackupReader::new(&file[..]).unwrap().verify().unwrap();
    assert_eq!(summary.files, ["admin-token"]);
    assert!(summary.entries > 0);

    let refused = backup(&hub, &lead).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused}");
    assert!(refused.message().contains("hub admin"), "{refused}");

    let log = hub
        .directory()
        .await
        .list_audit_log(v1::ListAuditLogRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    let backups: Vec<_> = log.iter().filter(|e| e.action == "backup").collect();
    assert_eq!(backups.len(), 1, "{log:?}");
    assert!(
        backups[0]
            .detail
            .starts_with(&format!("{} bytes", file.len())),
        "{:?}",
        backups[0]
    );
    hub.stop().await;
}

#[tokio::test]
async fn a_hub_on_postgresql_points_to_the_databases_own_tools() {
    let cluster =
        nic_store::pg_cluster::PgCluster::shared().expect("a throwaway PostgreSQL server");
    let url = cluster.new_database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| {
        c.store = nic_hub::StoreChoice::Postgres(url);
    })
    .await;
    let refused = backup(&hub, &hub.token.clone()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused}");
    assert!(refused.message().contains("pg_dump"), "{refused}");
    let log = hub
        .directory()
        .await
        .list_audit_log(v1::ListAuditLogRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(
        log.iter().all(|e| e.action != "backup"),
        "a refused backup is not recorded"
    );
    hub.stop().await;
}
