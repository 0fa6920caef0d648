//! The Directory service end to end: a hub admin sets up networks and sites, a lead manages
//! their network's members and tokens, members manage their own tokens — and each is refused
//! precisely where their role ends. Every change lands in the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_e2e::TestHub;
use nic_proto::auth::AuthedChannel;
use nic_proto::v1::{self, directory_client::DirectoryClient};
use nic_store::{Directory, SledStore};
use tonic::Code;

type Dir = DirectoryClient<AuthedChannel>;

async fn as_token(hub: &TestHub, token: &str) -> Dir {
    hub.directory_as(token).await
}

fn member(id: &str, role: v1::Role, networks: &[&str], site: &str) -> v1::AddMemberRequest {
    v1::AddMemberRequest {
        member: Some(v1::Member {
            member_id: id.into(),
            display_name: id.to_uppercase(),
            role: role as i32,
            network_ids: networks.iter().map(|n| (*n).to_owned()).collect(),
            site_id: site.into(),
        }),
    }
}

async fn token_for(dir: &mut Dir, member: &str) -> String {
    dir.issue_token(v1::IssueTokenRequest {
        member_id: member.into(),
        label: "test".into(),
        expires_at_ms: 0,
    })
    .await
    .unwrap()
    .into_inner()
    .secret
}

fn code<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> Code {
    r.unwrap_err().code()
}

#[tokio::test]
async fn roles_manage_the_directory_within_their_reach() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let mut admin = as_token(&hub, &hub.token).await;

    // The hub admin makes networks and sites.
    for (id, name) in [
        ("algebra", "Algebra readiness"),
        ("literacy", "Early literacy"),
    ] {
        admin
            .create_network(v1::CreateNetworkRequest {
                network_id: id.into(),
                name: name.into(),
                description: String::new(),
                min_cell_size: 0,
            })
            .await
            .unwrap();
    }
    let again = admin
        .create_network(v1::CreateNetworkRequest {
            network_id: "algebra".into(),
            name: "x".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(code(again), Code::AlreadyExists);
    let tiny = admin
        .create_network(v1::CreateNetworkRequest {
            network_id: "tiny".into(),
            name: "x".into(),
            min_cell_size: 2,
            ..Default::default()
        })
        .await;
    assert_eq!(code(tiny), Code::InvalidArgument);
    for site in ["lincoln", "adams"] {
        admin
            .create_site(v1::CreateSiteRequest {
                network_id: "algebra".into(),
                site_id: site.into(),
                name: site.into(),
            })
            .await
            .unwrap();
    }
    let taken = admin
        .create_site(v1::CreateSiteRequest {
            network_id: "literacy".into(),
            site_id: "lincoln".into(),
            name: "x".into(),
        })
        .await;
    assert_eq!(code(taken), Code::AlreadyExists);

    // A lead of algebra manages algebra's members, and nothing beyond.
    admin
        .add_member(member("lena", v1::Role::NetworkLead, &["algebra"], ""))
        .await
        .unwrap();
    let lena_token = token_for(&mut admin, "lena").await;
    let mut lena = as_token(&hub, &lena_token).await;
    lena.add_member(member("sam", v1::Role::SiteMember, &["algebra"], "lincoln"))
        .await
        .unwrap();
    lena.add_member(member("otto", v1::Role::Observer, &["algebra"], ""))
        .await
        .unwrap();
    let cases = [
        member("boss", v1::Role::HubAdmin, &[], ""),
        member("lit", v1::Role::Observer, &["literacy"], ""),
    ];
    for request in cases {
        assert_eq!(code(lena.add_member(request).await), Code::PermissionDenied);
    }
    let bad_site = lena
        .add_member(member("x", v1::Role::SiteMember, &["algebra"], "nowhere"))
        .await;
    assert_eq!(code(bad_site), Code::NotFound);
    let no_site = lena
        .add_member(member("x", v1::Role::SiteMember, &["algebra"], ""))
        .await;
    assert_eq!(code(no_site), Code::InvalidArgument);
    assert_eq!(
        code(
            lena.create_network(v1::CreateNetworkRequest {
                network_id: "mine".into(),
                name: "x".into(),
                ..Default::default()
            })
            .await
        ),
        Code::PermissionDenied
    );
    let sam_token = token_for(&mut lena, "sam").await;
    let otto_token = token_for(&mut lena, "otto").await;

    // A site member sees their network, manages their own tokens, and nothing more.
    let mut sam = as_token(&hub, &sam_token).await;
    let me = sam
        .who_am_i(v1::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    let m = me.member.unwrap();
    assert_eq!(
        (m.member_id.as_str(), m.site_id.as_str()),
        ("sam", "lincoln")
    );
    assert_eq!(m.role, v1::Role::SiteMember as i32);
    let networks = sam
        .list_networks(v1::ListNetworksRequest::default())
        .await
        .unwrap()
        .into_inner()
        .networks;
    assert_eq!(networks.len(), 1);
    let all = admin
        .list_networks(v1::ListNetworksRequest::default())
        .await
        .unwrap()
        .into_inner()
        .networks;
    assert_eq!(all.len(), 2);
    let members = sam
        .list_members(v1::ListMembersRequest {
            network_id: "algebra".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .members;
    let ids: Vec<&str> = members.iter().map(|m| m.member_id.as_str()).collect();
    assert_eq!(ids, ["lena", "otto", "sam"]);
    let lit = sam
        .list_sites(v1::ListSitesRequest {
            network_id: "literacy".into(),
        })
        .await;
    assert_eq!(code(lit), Code::PermissionDenied);
    assert_eq!(
        code(
            sam.add_member(member("y", v1::Role::Observer, &["algebra"], ""))
                .await
        ),
        Code::PermissionDenied
    );
    let own = token_for(&mut sam, "").await;
    assert!(own.starts_with("nic_"));
    let others = sam
        .issue_token(v1::IssueTokenRequest {
            member_id: "otto".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(code(others), Code::PermissionDenied);
    let listed = sam
        .list_tokens(v1::ListTokensRequest::default())
        .await
        .unwrap()
        .into_inner()
        .tokens;
    assert_eq!(listed.len(), 2);

    // The lead changes a role, revokes a token and removes a member: effective at once.
    let changed = lena
        .set_role(v1::SetRoleRequest {
            member_id: "sam".into(),
            role: v1::Role::Observer as i32,
            site_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(changed.role, v1::Role::Observer as i32);
    assert_eq!(changed.network_ids, ["algebra"]);
    let to_admin = lena
        .set_role(v1::SetRoleRequest {
            member_id: "sam".into(),
            role: v1::Role::HubAdmin as i32,
            site_id: String::new(),
        })
        .await;
    assert_eq!(code(to_admin), Code::PermissionDenied);
    let sams = lena
        .list_tokens(v1::ListTokensRequest {
            member_id: "sam".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens;
    for t in &sams {
        lena.revoke_token(v1::RevokeTokenRequest {
            token_id: t.token_id.clone(),
        })
        .await
        .unwrap();
    }
    let revoked = sam.who_am_i(v1::WhoAmIRequest {}).await;
    assert_eq!(code(revoked), Code::Unauthenticated);
    lena.remove_member(v1::RemoveMemberRequest {
        member_id: "otto".into(),
    })
    .await
    .unwrap();
    let mut otto = as_token(&hub, &otto_token).await;
    assert_eq!(
        code(otto.who_am_i(v1::WhoAmIRequest {}).await),
        Code::Unauthenticated
    );
    // The lead reads their network's audit log through the API.
    let entries = lena
        .list_audit_log(v1::ListAuditLogRequest {
            network_id: "algebra".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(
        entries
            .iter()
            .any(|e| e.member_id == "lena" && e.action == "remove_member" && e.target == "otto")
    );
    assert!(entries.iter().all(|e| e.network_id == "algebra"));
    // The last hub admin stays.
    let last = admin
        .remove_member(v1::RemoveMemberRequest {
            member_id: "admin".into(),
        })
        .await;
    assert_eq!(code(last), Code::FailedPrecondition);
    hub.stop().await;

    // Every change is in the audit log, with who did it.
    let store = SledStore::open(dir.path()).unwrap();
    let log = store.audit_log(0, 1000).unwrap();
    let actions: Vec<(String, String, String)> = log
        .iter()
        .map(|e| (e.by.to_string(), e.action.clone(), e.target.clone()))
        .collect();
    for expected in [
        ("admin", "create_network", "algebra"),
        ("admin", "create_site", "lincoln"),
        ("admin", "add_member", "lena"),
        ("lena", "add_member", "sam"),
        ("sam", "issue_token", ""),
        ("lena", "set_role", "sam"),
        ("lena", "revoke_token", ""),
        ("lena", "remove_member", "otto"),
    ] {
        assert!(
            actions.iter().any(|(by, action, target)| by == expected.0
                && action == expected.1
                && (expected.2.is_empty() || target == expected.2)),
            "{expected:?} missing from {actions:?}"
        );
    }
    // No secret in the log.
    assert!(
        !log.iter()
            .any(|e| e.detail.contains("nic_") || e.target.contains("nic_"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_members_id_is_never_given_again() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &["lincoln"]).await;
    let mut admin = as_token(&hub, &hub.token).await;
    admin
        .add_member(member("sam", v1::Role::SiteMember, &["algebra"], "lincoln"))
        .await
        .unwrap();
    admin
        .remove_member(v1::RemoveMemberRequest {
            member_id: "sam".into(),
        })
        .await
        .unwrap();
    // A new person under the old id would inherit sam's history, actor ids and peer ids.
    let again = admin
        .add_member(member("sam", v1::Role::NetworkLead, &["algebra"], ""))
        .await
        .expect_err("a removed member's id was given again");
    assert_eq!(again.code(), Code::AlreadyExists, "{again}");
    assert!(again.message().contains("choose another id"), "{again}");
    hub.stop().await;
}
