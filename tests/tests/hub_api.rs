//! The client library's typed hub API (`nic_client::Hub`) against a real hub: everything
//! the `nic` command does through it — directory, roles, tokens, the audit log, documents
//! with their verified history, insight — and refusals a program can act on.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_client::hub::{ExportFormat, ExportTable, Role, SeriesQuery};
use nic_client::{ClientError, Hub, Refusal};
use nic_e2e::TestHub;
use nic_model::{DocKind, DocMeta, DocumentId, Grant, MemberId, NetworkId, SiteId, Visibility};

fn ids() -> (NetworkId, SiteId, SiteId) {
    (
        NetworkId::new("algebra").unwrap(),
        SiteId::new("lincoln").unwrap(),
        SiteId::new("adams").unwrap(),
    )
}

fn refusal<T: std::fmt::Debug>(r: Result<T, ClientError>) -> Refusal {
    r.unwrap_err().refusal().expect("a refusal from the hub")
}

#[tokio::test]
async fn directory_roles_tokens_and_the_audit_log_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let hub_server = TestHub::start(dir.path()).await;
    let admin = Hub::new(&hub_server.url, &hub_server.token, None).unwrap();
    let (network, lincoln, adams) = ids();

    let me = admin.who_am_i().await.unwrap();
    assert_eq!(me.member.id.as_str(), "admin");
    assert!(me.member.grants.is_hub_admin());
    assert!(!me.hub_version.is_empty());

    admin
        .create_network(&network, "Algebra", "readiness", 0)
        .await
        .unwrap();
    assert_eq!(
        refusal(admin.create_network(&network, "Again", "", 0).await),
        Refusal::AlreadyExists
    );
    admin
        .create_site(&network, &lincoln, "Lincoln")
        .await
        .unwrap();
    admin.create_site(&network, &adams, "Adams").await.unwrap();
    let sites: Vec<String> = admin
        .sites(&network)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(sites, ["adams", "lincoln"]);

    let maria = MemberId::new("maria").unwrap();
    admin
        .add_member(
            &maria,
            "Maria",
            vec![Grant::SiteMember {
                network: network.clone(),
                site: lincoln.clone(),
            }],
        )
        .await
        .unwrap();
    let issued = admin.issue_token(&maria, "laptop", None).await.unwrap();
    assert!(
        !format!("{issued:?}").contains(&issued.secret),
        "Debug leaks the secret"
    );
    let as_maria = Hub::new(&hub_server.url, &issued.secret, None).unwrap();
    assert_eq!(as_maria.who_am_i().await.unwrap().member.id, maria);
    // A site member may not manage the network.
    assert_eq!(
        refusal(
            as_maria
                .create_site(&network, &SiteId::new("x").unwrap(), "X")
                .await
        ),
        Refusal::PermissionDenied
    );

    // Moved to Adams, then made the network's lead.
    let moved = admin
        .set_role(&maria, Role::SiteMember, Some(&adams))
        .await
        .unwrap();
    assert!(
        moved
            .grants
            .0
            .iter()
            .any(|g| matches!(g, Grant::SiteMember { site, .. } if *site == adams))
    );
    assert_eq!(
        refusal(admin.set_role(&maria, Role::SiteMember, None).await),
        Refusal::Invalid
    );
    let lead = admin
        .set_role(&maria, Role::NetworkLead, None)
        .await
        .unwrap();
    assert_eq!(Role::of(&lead.grants.0[0]), Role::NetworkLead);
    let members = admin.members(&network, None).await.unwrap();
    assert!(members.iter().any(|m| m.id == maria));

    // Revoked, the token is refused as unauthenticated: a program knows to sign in again.
    let tokens = admin.tokens(Some(&maria)).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(!tokens[0].revoked);
    let revoked = admin.revoke_token(&tokens[0].id).await.unwrap();
    assert!(revoked.revoked);
    assert_eq!(refusal(as_maria.who_am_i().await), Refusal::Unauthenticated);

    // Everything above is in the audit log, oldest first, paged.
    let mut actions = Vec::new();
    let mut after = 0;
    loop {
        let page = admin.audit_log(None, after, 2).await.unwrap();
        assert!(page.entries.len() <= 2);
        actions.extend(page.entries.iter().map(|e| e.action.clone()));
        match page.next_after {
            Some(next) => after = next,
            None => break,
        }
    }
    for expected in [
        "create_network",
        "add_member",
        "issue_token",
        "set_role",
        "revoke_token",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} not in {actions:?}"
        );
    }

    admin.remove_member(&maria).await.unwrap();
    assert_eq!(
        refusal(admin.remove_member(&maria).await),
        Refusal::NotFound
    );
}

#[tokio::test]
async fn documents_and_insight_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let hub_server = TestHub::start(dir.path()).await;
    let admin = Hub::new(&hub_server.url, &hub_server.token, None).unwrap();
    let (network, lincoln, _) = ids();
    admin
        .create_network(&network, "Algebra", "", 0)
        .await
        .unwrap();
    admin
        .create_site(&network, &lincoln, "Lincoln")
        .await
        .unwrap();

    let meta = DocMeta {
        id: DocumentId::from_bytes([7; 16]),
        kind: DocKind::PdsaCycle,
        network: network.clone(),
        site: Some(lincoln.clone()),
        visibility: Visibility::Network,
        title: "Number talks, cycle 1".into(),
        created_at_ms: 0,
        archived: false,
    };
    let worksheet = nic_e2e::worksheet();
    let (stored, heads) = admin
        .create_document(&meta, Some(&worksheet.save()))
        .await
        .unwrap();
    assert_eq!(stored.id, meta.id, "a document made offline keeps its id");
    assert_eq!(heads, worksheet.get_heads());
    // Content that does not read as its kind is refused as invalid.
    let mut other = meta.clone();
    other.id = DocumentId::from_bytes([8; 16]);
    other.kind = DocKind::MeasureDefinition;
    assert_eq!(
        refusal(admin.create_document(&other, Some(&worksheet.save())).await),
        Refusal::Invalid
    );

    let listed = admin
        .list_documents(&network, None, Some(DocKind::PdsaCycle), false)
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|m| m.id).collect::<Vec<_>>(), [meta.id]);
    let got = admin.get_document(meta.id).await.unwrap();
    assert_eq!(got.heads, heads);
    assert_eq!(got.meta.title, meta.title);
    let history = admin.history(meta.id).await.unwrap();
    assert_eq!(history.len(), worksheet.get_changes(&[]).len());
    assert!(
        history
            .iter()
            .all(|e| e.member.as_ref().map(MemberId::as_str) == Some("admin"))
    );
    assert_eq!(
        refusal(admin.get_document(DocumentId::from_bytes([9; 16])).await),
        Refusal::NotFound
    );

    // Insight reads the same documents.
    let overview = admin.network_overview(&network).await.unwrap();
    assert_eq!(overview.network, network);
    let district = admin.district_overview().await.unwrap();
    assert_eq!(district.networks.len(), 1);
    let exported = admin
        .export(
            &ExportTable::Overview {
                network: network.clone(),
            },
            ExportFormat::Json,
        )
        .await
        .unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&exported.data).is_ok());
    // A series of something that is not a measure is a refusal, not a crash.
    assert!(
        admin
            .measure_series(meta.id, &SeriesQuery::default())
            .await
            .unwrap_err()
            .refusal()
            .is_some()
    );

    let archived = admin.archive_document(meta.id).await.unwrap();
    assert!(archived.archived);
    assert!(
        admin
            .list_documents(&network, None, None, false)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_hub_that_is_not_there_is_unreachable_not_a_refusal() {
    let hub = Hub::new("http://127.0.0.1:9", "token", None).unwrap();
    let err = hub.who_am_i().await.unwrap_err();
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
    assert!(err.refusal().is_none());
    // Malformed settings fail at once, before any connection.
    assert!(matches!(
        Hub::new("not a url", "t", None).unwrap_err(),
        ClientError::BadAddress { .. }
    ));
    assert!(matches!(
        Hub::new("http://127.0.0.1:9", "bad\ntoken", None).unwrap_err(),
        ClientError::BadToken
    ));
    assert!(matches!(
        Hub::new("http://127.0.0.1:9", "t", Some(&nic_client::Tls::default())).unwrap_err(),
        ClientError::BadAddress { .. }
    ));
}
