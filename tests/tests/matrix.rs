//! The authorization matrix: every RPC and the sync stream × every role × own/other site ×
//! own/other network × visibility, each cell asserted allowed or refused. The expectations
//! are written out here, independently of `nic_model::Grants`, and every `rpc` in `proto/`
//! must have rows: a new RPC without them fails `every_rpc_has_rows`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::{BTreeMap, BTreeSet};

use nic_e2e::{RawStream, TestHub, hello};
use nic_model::DocumentId;
use nic_proto::auth::AuthedChannel;
use nic_proto::v1::{
    self, directory_client::DirectoryClient, documents_client::DocumentsClient,
    hub_frame::Frame as H,
};
use nic_sync::automerge;
use tonic::Code;

/// The callers, by role and place.
const ROLES: [&str; 7] = [
    "admin",        // hub admin
    "lead",         // network lead of algebra
    "lincoln",      // site member of algebra/lincoln
    "adams",        // site member of algebra/adams (another site)
    "observer",     // observer of algebra
    "other-lead",   // network lead of literacy (another network)
    "other-member", // site member of literacy/hoover
];

/// The documents: (name, network, site, visibility).
const DOCS: [(&str, &str, &str, v1::Visibility); 4] = [
    (
        "lincoln-shared",
        "algebra",
        "lincoln",
        v1::Visibility::Network,
    ),
    (
        "lincoln-private",
        "algebra",
        "lincoln",
        v1::Visibility::Site,
    ),
    ("network-level", "algebra", "", v1::Visibility::Network),
    ("other-network", "literacy", "hoover", v1::Visibility::Site),
];

/// Who may read each document, by role (in `ROLES` order).
const READ: [[bool; 7]; 4] = [
    [true, true, true, true, true, false, false],
    [true, true, true, false, false, false, false],
    [true, true, true, true, true, false, false],
    [true, false, false, false, false, true, true],
];

/// Who may write (and create, and archive) each document, by role.
const WRITE: [[bool; 7]; 4] = [
    [true, true, true, false, false, false, false],
    [true, true, true, false, false, false, false],
    [true, true, false, false, false, false, false],
    [true, false, false, false, false, true, true],
];

/// Who may do each directory action aimed at network algebra, by role.
const DIRECTORY: [(&str, [bool; 7]); 15] = [
    (
        "CreateNetwork",
        [true, false, false, false, false, false, false],
    ),
    ("ListNetworks", [true, true, true, true, true, false, false]), // sees algebra
    (
        "CreateSite",
        [true, true, false, false, false, false, false],
    ),
    ("ListSites", [true, true, true, true, true, false, false]),
    ("AddMember", [true, true, false, false, false, false, false]),
    ("ListMembers", [true, true, true, true, true, false, false]),
    ("SetRole", [true, true, false, false, false, false, false]),
    (
        "IssueToken",
        [true, true, false, false, false, false, false],
    ), // for another member
    (
        "ListTokens",
        [true, true, false, false, false, false, false],
    ), // another member's
    (
        "RevokeToken",
        [true, true, false, false, false, false, false],
    ), // another member's
    ("WhoAmI", [true; 7]),
    ("IssueSocketTicket", [true; 7]), // for oneself; the socket's rights are the member's
    (
        "ListAuditLog",
        [true, true, false, false, false, false, false],
    ), // algebra's entries
    (
        "SetPublicDashboard",
        [true, true, false, false, false, false, false],
    ),
    // Last: it takes the target away.
    (
        "RemoveMember",
        [true, true, false, false, false, false, false],
    ),
];

/// Who may ask for insight about network algebra (its cycles, its measure — a network-level
/// definition with data kept `site`-visible at lincoln), by role. Reading a suppressed view
/// needs a role in the network; what each role then sees is `tests/insight.rs`'s business.
const INSIGHT: [(&str, [bool; 7]); 6] = [
    (
        "CompareCycles",
        [true, true, true, true, true, false, false],
    ),
    (
        "MeasureSeries",
        [true, true, true, true, true, false, false],
    ),
    (
        "NetworkOverview",
        [true, true, true, true, true, false, false],
    ),
    ("DistrictOverview", [true; 7]), // each sees only their own networks
    ("Chart", [true, true, true, true, true, false, false]),
    ("Export", [true, true, true, true, true, false, false]),
];

/// Who may act on the hub as a whole, by role.
const ADMIN: [(&str, [bool; 7]); 1] =
    [("Backup", [true, false, false, false, false, false, false])];

/// The Documents and Sync rows: each RPC's cells come from `READ` or `WRITE`.
const DOCUMENT_ROWS: [(&str, &str); 7] = [
    ("Documents/Create", "write"),
    ("Documents/List", "read"),
    ("Documents/Get", "read"),
    ("Documents/History", "read"),
    ("Documents/Archive", "write"),
    ("Sync/Connect", "read"),  // subscribing receives the content
    ("Sync/Connect", "write"), // a change sent is applied and stored
];

#[test]
fn every_rpc_has_rows() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/nic/v1");
    let mut rpcs = BTreeSet::new();
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let mut service = String::new();
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("service ") {
                service = rest.trim_end_matches('{').trim().to_owned();
            }
            if let Some(rest) = line.strip_prefix("rpc ") {
                let name = rest.split('(').next().unwrap().trim();
                rpcs.insert(format!("{service}/{name}"));
            }
        }
    }
    let mut covered: BTreeSet<String> =
        DOCUMENT_ROWS.iter().map(|(r, _)| (*r).to_owned()).collect();
    covered.extend(DIRECTORY.iter().map(|(r, _)| format!("Directory/{r}")));
    covered.extend(INSIGHT.iter().map(|(r, _)| format!("Insight/{r}")));
    covered.extend(ADMIN.iter().map(|(r, _)| format!("Admin/{r}")));
    let missing: Vec<&String> = rpcs.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "RPCs without rows in the authorization matrix: {missing:?}"
    );
    assert!(rpcs.len() >= 18, "{rpcs:?}");
}

struct World {
    hub: TestHub,
    tokens: BTreeMap<&'static str, String>,
    docs: Vec<DocumentId>,
}

fn member(id: &str, role: v1::Role, network: &str, site: &str) -> v1::Member {
    v1::Member {
        member_id: id.into(),
        display_name: id.into(),
        role: role as i32,
        network_ids: if network.is_empty() {
            Vec::new()
        } else {
            vec![network.into()]
        },
        site_id: site.into(),
    }
}

async fn channel(hub: &TestHub, token: &str) -> AuthedChannel {
    hub.authed_as(token).await
}

async fn issue(admin: &mut DirectoryClient<AuthedChannel>, member: &str) -> (String, String) {
    let t = admin
        .issue_token(v1::IssueTokenRequest {
            member_id: member.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (t.secret, t.token.unwrap().token_id)
}

async fn world(dir: &std::path::Path) -> World {
    let hub = TestHub::start(dir).await;
    hub.ensure_network("algebra", &["lincoln", "adams"]).await;
    hub.ensure_network("literacy", &["hoover"]).await;
    let mut admin = hub.directory().await;
    let people = [
        ("lead", v1::Role::NetworkLead, "algebra", ""),
        ("lincoln", v1::Role::SiteMember, "algebra", "lincoln"),
        ("adams", v1::Role::SiteMember, "algebra", "adams"),
        ("observer", v1::Role::Observer, "algebra", ""),
        ("other-lead", v1::Role::NetworkLead, "literacy", ""),
        ("other-member", v1::Role::SiteMember, "literacy", "hoover"),
    ];
    let mut tokens = BTreeMap::new();
    tokens.insert("admin", hub.token.clone());
    for (id, role, network, site) in people {
        admin
            .add_member(v1::AddMemberRequest {
                member: Some(member(id, role, network, site)),
            })
            .await
            .unwrap();
        let role_name = ROLES.iter().find(|r| **r == id).unwrap();
        tokens.insert(role_name, issue(&mut admin, id).await.0);
    }
    let mut docs = Vec::new();
    for (name, network, site, visibility) in DOCS {
        docs.push(
            create(&hub, &hub.token, name, network, site, visibility)
                .await
                .unwrap(),
        );
    }
    World { hub, tokens, docs }
}

async fn create(
    hub: &TestHub,
    token: &str,
    title: &str,
    network: &str,
    site: &str,
    visibility: v1::Visibility,
) -> Result<DocumentId, Code> {
    let reply = DocumentsClient::new(channel(hub, token).await)
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::PdsaCycle as i32,
            network_id: network.into(),
            site_id: site.into(),
            visibility: visibility as i32,
            title: title.into(),
            initial: Some(nic_e2e::worksheet().save()),
            doc_id: String::new(),
        })
        .await
        .map_err(|s| s.code())?;
    Ok(reply.into_inner().meta.unwrap().doc_id.parse().unwrap())
}

/// Allowed, or refused with exactly the code a refusal should have.
fn outcome<T>(result: Result<T, tonic::Status>, refusal: Code) -> bool {
    match result {
        Ok(_) => true,
        Err(s) if s.code() == refusal => false,
        Err(s) => panic!("unexpected status {s}"),
    }
}

/// Whether `token`'s holder, subscribing over the sync stream, receives the document's
/// content (or is told PERMISSION_DENIED).
async fn sync_reads(hub: &TestHub, token: &str, peer: &str, doc: DocumentId) -> bool {
    let mut raw = RawStream::open_as(hub, token, hello(peer)).await.unwrap();
    raw.subscribe(&[doc]).await;
    let id = doc.to_string();
    raw.until(|f| match f {
        H::DocSync(s) if s.doc_id == id => Some(true),
        H::DocError(e) if e.doc_id == id => {
            assert_eq!(e.code, v1::ErrorCode::PermissionDenied as i32, "{e:?}");
            Some(false)
        }
        _ => None,
    })
    .await
    .unwrap()
}

/// Whether a change sent by `token`'s holder is applied and stored.
async fn sync_writes(hub: &TestHub, token: &str, peer: &str, doc: DocumentId, key: &str) -> bool {
    let actor = automerge::ActorId::random();
    let mut raw = hub.force_change(token, peer, doc, &actor, key).await;
    let id = doc.to_string();
    let acked = raw
        .until(|f| match f {
            H::DocAck(a) if a.doc_id == id => Some(true),
            H::DocError(e) if e.doc_id == id => {
                assert_eq!(e.code, v1::ErrorCode::PermissionDenied as i32, "{e:?}");
                Some(false)
            }
            _ => None,
        })
        .await
        .unwrap();
    let stored = nic_sync::automerge::ReadDoc::get(&hub.saved(doc).await, automerge::ROOT, key)
        .unwrap()
        .is_some();
    assert_eq!(
        acked, stored,
        "an ack must mean stored, a refusal nothing stored"
    );
    stored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_and_sync_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let mut failures = Vec::new();
    for (r, role) in ROLES.iter().enumerate() {
        let token = &w.tokens[role];
        let mut docs = DocumentsClient::new(channel(&w.hub, token).await);
        let listed: BTreeSet<String> = docs
            .list(v1::ListDocumentsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .documents
            .into_iter()
            .map(|m| m.doc_id)
            .collect();
        for (d, (name, network, site, visibility)) in DOCS.iter().enumerate() {
            let doc = w.docs[d];
            let (read, write) = (READ[d][r], WRITE[d][r]);
            let get = docs
                .get(v1::GetDocumentRequest {
                    doc_id: doc.to_string(),
                })
                .await;
            let history = docs
                .history(v1::GetHistoryRequest {
                    doc_id: doc.to_string(),
                    ..Default::default()
                })
                .await;
            let created = create(&w.hub, token, name, network, site, *visibility).await;
            let cells = [
                ("Documents/List", read, listed.contains(&doc.to_string())),
                ("Documents/Get", read, outcome(get, Code::PermissionDenied)),
                (
                    "Documents/History",
                    read,
                    outcome(history, Code::PermissionDenied),
                ),
                (
                    "Documents/Create",
                    write,
                    match created {
                        Ok(_) => true,
                        Err(Code::PermissionDenied) => false,
                        Err(code) => panic!("{role} create {name}: {code:?}"),
                    },
                ),
                (
                    "Sync/Connect read",
                    read,
                    sync_reads(&w.hub, token, &format!("{role}-r{d}"), doc).await,
                ),
                (
                    "Sync/Connect write",
                    write,
                    sync_writes(
                        &w.hub,
                        token,
                        &format!("{role}-w{d}"),
                        doc,
                        &format!("{role}-{d}"),
                    )
                    .await,
                ),
            ];
            for (rpc, expected, got) in cells {
                if expected != got {
                    failures.push(format!(
                        "{rpc} by {role} on {name}: expected {expected}, got {got}"
                    ));
                }
            }
        }
    }
    // Archive last: archived documents leave default listings.
    for (r, role) in ROLES.iter().enumerate() {
        let mut docs = DocumentsClient::new(channel(&w.hub, &w.tokens[role]).await);
        for (d, (name, ..)) in DOCS.iter().enumerate() {
            let archived = docs
                .archive(v1::ArchiveDocumentRequest {
                    doc_id: w.docs[d].to_string(),
                })
                .await;
            let got = outcome(archived, Code::PermissionDenied);
            if got != WRITE[d][r] {
                failures.push(format!(
                    "Documents/Archive by {role} on {name}: expected {}, got {got}",
                    WRITE[d][r]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    w.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let mut admin = w.hub.directory().await;
    let mut failures = Vec::new();
    for (r, role) in ROLES.iter().enumerate() {
        let mut d = DirectoryClient::new(channel(&w.hub, &w.tokens[role]).await);
        // A fresh member of algebra for the actions aimed at a member.
        let target = format!("target-{role}");
        admin
            .add_member(v1::AddMemberRequest {
                member: Some(member(&target, v1::Role::Observer, "algebra", "")),
            })
            .await
            .unwrap();
        let (_, target_token) = issue(&mut admin, &target).await;
        for (rpc, expected) in DIRECTORY {
            let got = match rpc {
                "CreateNetwork" => outcome(
                    d.create_network(v1::CreateNetworkRequest {
                        network_id: format!("net-{role}"),
                        name: "x".into(),
                        ..Default::default()
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "ListNetworks" => d
                    .list_networks(v1::ListNetworksRequest::default())
                    .await
                    .unwrap()
                    .into_inner()
                    .networks
                    .iter()
                    .any(|n| n.network_id == "algebra"),
                "CreateSite" => outcome(
                    d.create_site(v1::CreateSiteRequest {
                        network_id: "algebra".into(),
                        site_id: format!("site-{role}"),
                        name: "x".into(),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "ListSites" => outcome(
                    d.list_sites(v1::ListSitesRequest {
                        network_id: "algebra".into(),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "AddMember" => outcome(
                    d.add_member(v1::AddMemberRequest {
                        member: Some(member(
                            &format!("new-{role}"),
                            v1::Role::Observer,
                            "algebra",
                            "",
                        )),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "ListMembers" => outcome(
                    d.list_members(v1::ListMembersRequest {
                        network_id: "algebra".into(),
                        ..Default::default()
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "SetRole" => outcome(
                    d.set_role(v1::SetRoleRequest {
                        member_id: target.clone(),
                        role: v1::Role::SiteMember as i32,
                        site_id: "lincoln".into(),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "IssueToken" => outcome(
                    d.issue_token(v1::IssueTokenRequest {
                        member_id: target.clone(),
                        ..Default::default()
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "ListTokens" => outcome(
                    d.list_tokens(v1::ListTokensRequest {
                        member_id: target.clone(),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "RevokeToken" => outcome(
                    d.revoke_token(v1::RevokeTokenRequest {
                        token_id: target_token.clone(),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "RemoveMember" => outcome(
                    d.remove_member(v1::RemoveMemberRequest {
                        member_id: target.clone(),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "WhoAmI" => outcome(
                    d.who_am_i(v1::WhoAmIRequest {}).await,
                    Code::PermissionDenied,
                ),
                "IssueSocketTicket" => outcome(
                    d.issue_socket_ticket(v1::IssueSocketTicketRequest {}).await,
                    Code::PermissionDenied,
                ),
                "ListAuditLog" => outcome(
                    d.list_audit_log(v1::ListAuditLogRequest {
                        network_id: "algebra".into(),
                        ..Default::default()
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "SetPublicDashboard" => outcome(
                    d.set_public_dashboard(v1::SetPublicDashboardRequest {
                        network_id: "algebra".into(),
                        enabled: false,
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                other => panic!("no check for {other}"),
            };
            if got != expected[r] {
                failures.push(format!(
                    "Directory/{rpc} by {role}: expected {}, got {got}",
                    expected[r]
                ));
            }
        }
        // Everyone may issue, list and revoke their own tokens.
        let mine = d
            .issue_token(v1::IssueTokenRequest::default())
            .await
            .unwrap()
            .into_inner();
        d.revoke_token(v1::RevokeTokenRequest {
            token_id: mine.token.unwrap().token_id,
        })
        .await
        .unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    w.hub.stop().await;
}

/// The attacker's view of lincoln's race groups (the issue's subtraction): lincoln's
/// member sees them raw; everyone else sees none of race=a, race=b or race=c, so all minus
/// race=c no longer gives race=a. Returns what is wrong.
fn subtraction_view(role: &str, view: &v1::MeasureSeriesResponse) -> Vec<String> {
    let mut wrong = Vec::new();
    for group in ["race=a", "race=b", "race=c"] {
        let point = view
            .series
            .iter()
            .filter(|s| s.site_id == "lincoln" && s.group == group)
            .flat_map(|s| &s.points)
            .find(|p| p.period == "2025-12-01");
        let Some(p) = point else {
            wrong.push(format!("MeasureSeries by {role}: no lincoln {group}"));
            continue;
        };
        let shown = p.n.is_some() || p.value.is_some();
        if role == "lincoln" {
            let raw = match group {
                "race=a" => 4,
                "race=b" => 0,
                _ => 96,
            };
            if p.n != Some(raw) {
                wrong.push(format!("MeasureSeries by lincoln: {group} not raw: {p:?}"));
            }
        } else if shown || p.suppressed.is_empty() {
            wrong.push(format!(
                "MeasureSeries by {role}: lincoln {group} given: {p:?}"
            ));
        }
    }
    wrong
}

/// A measure for network algebra: the definition at network level, lincoln's data `site`
/// visible. Returns the definition's id.
async fn measure(hub: &TestHub) -> DocumentId {
    use nic_model::schema::measure::{MeasureData, MeasureDefinition, Point, Scoring};
    use nic_model::{DocKind, schema};
    let def = MeasureDefinition {
        name: nic_model::schema::Text::with_value("On track"),
        scoring: Scoring::Proportion,
        unit: "%".into(),
        ..MeasureDefinition::default()
    };
    let mut docs = hub.documents().await;
    let made = docs
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::MeasureDefinition as i32,
            network_id: "algebra".into(),
            visibility: v1::Visibility::Network as i32,
            title: "On track".into(),
            initial: Some(
                schema::new_document(DocKind::MeasureDefinition, &def)
                    .unwrap()
                    .save(),
            ),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id: DocumentId = made.meta.unwrap().doc_id.parse().unwrap();
    let data = MeasureData {
        measure_id: id.to_string(),
        points: (1..=12u32)
            .map(|m| Point {
                id: m.to_string(),
                period: format!("2026-{m:02}-01"),
                group: "all".into(),
                numerator: Some(f64::from(40 + m)),
                denominator: Some(100.0),
                n: 100,
                ..Point::default()
            })
            // The issue's subtraction: all 60/100, race=a 1/4, race=b 0/0, race=c 59/96.
            .chain(
                [
                    ("all", 60, 100),
                    ("race=a", 1, 4),
                    ("race=b", 0, 0),
                    ("race=c", 59, 96),
                ]
                .map(|(group, on, n)| Point {
                    id: format!("2025-12/{group}"),
                    period: "2025-12-01".into(),
                    group: group.into(),
                    numerator: Some(f64::from(on)),
                    denominator: Some(f64::from(n)),
                    n,
                    ..Point::default()
                }),
            )
            .collect(),
    };
    docs.create(v1::CreateDocumentRequest {
        kind: v1::DocKind::MeasureData as i32,
        network_id: "algebra".into(),
        site_id: "lincoln".into(),
        visibility: v1::Visibility::Site as i32,
        title: "On track data".into(),
        initial: Some(
            schema::new_document(DocKind::MeasureData, &data)
                .unwrap()
                .save(),
        ),
        ..Default::default()
    })
    .await
    .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_matrix() {
    use nic_proto::v1::admin_client::AdminClient;
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let mut failures = Vec::new();
    for (r, role) in ROLES.iter().enumerate() {
        let mut a = AdminClient::new(channel(&w.hub, &w.tokens[role]).await);
        for (rpc, expected) in ADMIN {
            let got = match rpc {
                "Backup" => {
                    // Refused either at once or as the stream's first answer.
                    let read = async {
                        let mut stream = a.backup(v1::BackupRequest {}).await?.into_inner();
                        while stream.message().await?.is_some() {}
                        Ok::<(), tonic::Status>(())
                    };
                    outcome(read.await, Code::PermissionDenied)
                }
                other => panic!("no call written for Admin/{other}"),
            };
            if got != expected[r] {
                failures.push(format!("Admin/{rpc} by {role}: allowed {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    w.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insight_matrix() {
    use nic_proto::v1::insight_client::InsightClient;
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let measure = measure(&w.hub).await.to_string();
    let mut failures = Vec::new();
    for (r, role) in ROLES.iter().enumerate() {
        let mut i = InsightClient::new(channel(&w.hub, &w.tokens[role]).await);
        for (rpc, expected) in INSIGHT {
            let series = || v1::MeasureSeriesRequest {
                measure_id: measure.clone(),
                ..Default::default()
            };
            let got = match rpc {
                "CompareCycles" => outcome(
                    i.compare_cycles(v1::CompareCyclesRequest {
                        network_id: "algebra".into(),
                        change_idea: "number-talks".into(),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "MeasureSeries" => {
                    let got = i.measure_series(series()).await;
                    if let Ok(view) = &got {
                        failures.extend(subtraction_view(role, view.get_ref()));
                    }
                    outcome(got, Code::PermissionDenied)
                }
                "NetworkOverview" => outcome(
                    i.network_overview(v1::NetworkOverviewRequest {
                        network_id: "algebra".into(),
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "DistrictOverview" => {
                    let d = i
                        .district_overview(v1::DistrictOverviewRequest {})
                        .await
                        .unwrap();
                    let sees_algebra = d
                        .get_ref()
                        .networks
                        .iter()
                        .any(|n| n.network_id == "algebra");
                    let expected_algebra = ROLES[r] != "other-lead" && ROLES[r] != "other-member";
                    if sees_algebra != expected_algebra {
                        failures.push(format!(
                            "DistrictOverview by {role}: algebra shown {sees_algebra}"
                        ));
                    }
                    true
                }
                "Chart" => outcome(
                    i.chart(v1::ChartRequest {
                        measure_id: measure.clone(),
                        ..Default::default()
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                "Export" => outcome(
                    i.export(v1::ExportRequest {
                        table: Some(v1::export_request::Table::Series(series())),
                        format: v1::ExportFormat::Json as i32,
                    })
                    .await,
                    Code::PermissionDenied,
                ),
                other => panic!("no call for {other}"),
            };
            if got != expected[r] {
                failures.push(format!(
                    "Insight/{rpc} by {role}: expected {}, got {got}",
                    expected[r]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    w.hub.stop().await;
}
