//! Rights are read when they are used. A stream authenticated when its call arrived may say
//! Hello much later; if a lead removed the member, revoked the token or narrowed the role
//! meanwhile, the stream must get the rights of the moment it is welcomed — never the ones
//! captured when it opened — and must not widen the member's other streams. Tokens expire
//! while streams are open too.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_e2e::{RawStream, TestHub, changes_message, hello, put};
use nic_model::DocumentId;
use nic_proto::v1;
use nic_proto::v1::hub_frame::Frame as H;
use nic_sync::automerge::{ActorId, ROOT, ReadDoc};

/// The hub with network `algebra` (sites lincoln and adams), a lead mia; returns mia's
/// token, a `site`-visible document of adams and a `network`-visible one.
async fn setup(hub: &TestHub) -> (String, DocumentId, DocumentId) {
    hub.ensure_network("algebra", &["lincoln", "adams"]).await;
    let mia = hub
        .member("mia", v1::Role::NetworkLead, "algebra", "")
        .await;
    let sheet = nic_e2e::worksheet();
    let private = hub
        .create_doc("algebra", "adams", v1::Visibility::Site, &sheet)
        .await;
    let shared = hub
        .create_doc("algebra", "adams", v1::Visibility::Network, &sheet)
        .await;
    (mia, private, shared)
}

/// The first thing the hub says on a stream: its Welcome, or the status it ended with.
async fn first_word(raw: &mut RawStream) -> Result<v1::Welcome, tonic::Status> {
    raw.until(|f| match f {
        H::Welcome(w) => Some(w.clone()),
        _ => None,
    })
    .await
}

/// Sends a change to `doc` under a fresh actor on `raw` and waits for the hub's verdict:
/// `Ok` when it acknowledged it, `Err(code)` when it refused it.
async fn force(hub: &TestHub, raw: &mut RawStream, doc: DocumentId, key: &str) -> Result<(), i32> {
    let mut change = hub.saved(doc).await.with_actor(ActorId::random());
    let before = change.get_heads();
    put(&mut change, key, 1);
    raw.subscribe(&[doc]).await;
    raw.send_sync(doc, changes_message(&change, &before)).await;
    let doc_id = doc.to_string();
    raw.until(|f| match f {
        H::DocAck(a) if a.doc_id == doc_id && !a.heads.is_empty() => Some(Ok(())),
        H::DocError(e) if e.doc_id == doc_id => Some(Err(e.code)),
        _ => None,
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_while_their_stream_waits_for_hello_is_not_welcomed() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (mia, _, _) = setup(&hub).await;
    let held = RawStream::held(&hub, &mia).await;
    hub.directory()
        .await
        .remove_member(v1::RemoveMemberRequest {
            member_id: "mia".into(),
        })
        .await
        .unwrap();
    let outcome = match held.hello("mia-laptop").await {
        Ok(mut raw) => first_word(&mut raw).await.map(|_| ()),
        Err(status) => Err(status),
    };
    let status = outcome.expect_err("a removed member was welcomed");
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status}");
    // Removal revokes the member's tokens too; either reason is right.
    assert!(
        status.message().contains("no longer") || status.message().contains("revoked"),
        "{status}"
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_while_its_stream_waits_for_hello_is_not_welcomed() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (mia, _, _) = setup(&hub).await;
    let mut directory = hub.directory_as(&mia).await;
    let token_id = directory
        .who_am_i(v1::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner()
        .token
        .unwrap()
        .token_id;
    let held = RawStream::held(&hub, &mia).await;
    hub.directory()
        .await
        .revoke_token(v1::RevokeTokenRequest {
            token_id: token_id.clone(),
        })
        .await
        .unwrap();
    let outcome = match held.hello("mia-laptop").await {
        Ok(mut raw) => first_word(&mut raw).await.map(|_| ()),
        Err(status) => Err(status),
    };
    let status = outcome.expect_err("a revoked token's stream was welcomed");
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status}");
    assert!(status.message().contains("revoked"), "{status}");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_demoted_while_their_stream_waits_for_hello_gets_the_narrower_role_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (mia, private, shared) = setup(&hub).await;
    // One stream open before the demotion (narrowed by it), one waiting for its Hello.
    let mut open = RawStream::open_as(&hub, &mia, hello("mia-desk"))
        .await
        .unwrap();
    first_word(&mut open).await.unwrap();
    let held = RawStream::held(&hub, &mia).await;
    hub.directory()
        .await
        .set_role(v1::SetRoleRequest {
            member_id: "mia".into(),
            role: v1::Role::Observer as i32,
            site_id: String::new(),
        })
        .await
        .unwrap();
    let mut late = held.hello("mia-laptop").await.unwrap();
    let welcome = first_word(&mut late).await.unwrap();
    assert_eq!(
        welcome.member.unwrap().role,
        v1::Role::Observer as i32,
        "the Welcome reported the role the stream opened with"
    );
    // The late stream gets nothing of another site's private document…
    late.subscribe(&[private]).await;
    let private_id = private.to_string();
    let subscribed = late
        .until(|f| match f {
            H::Subscribed(s) => Some(s.doc_ids.clone()),
            H::DocSync(d) if d.doc_id == private_id => Some(vec!["DELIVERED".into()]),
            _ => None,
        })
        .await
        .unwrap();
    assert!(
        !subscribed.contains(&private_id) && !subscribed.iter().any(|d| d == "DELIVERED"),
        "a demoted member's late stream was given {private} ({subscribed:?})"
    );
    // …and may not write, on either stream: the late one did not re-widen the early one.
    for (name, raw) in [("late", &mut late), ("early", &mut open)] {
        let key = format!("forced-by-{name}");
        let verdict = force(&hub, raw, shared, &key).await;
        assert_eq!(
            verdict,
            Err(v1::ErrorCode::PermissionDenied as i32),
            "the {name} stream's change was not refused"
        );
        assert!(
            hub.saved(shared)
                .await
                .get(ROOT, key.as_str())
                .unwrap()
                .is_none(),
            "the {name} stream's change was stored"
        );
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_token_expires() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &["lincoln"]).await;
    hub.member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    // A token that expires in a second and a half (the hub ticks every half second).
    let expires_at_ms = nic_hub::auth::now_ms() + 1_500;
    let secret = hub
        .directory()
        .await
        .issue_token(v1::IssueTokenRequest {
            member_id: "sam".into(),
            label: "short".into(),
            expires_at_ms,
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let mut raw = RawStream::open_as(&hub, &secret, hello("sam-laptop"))
        .await
        .unwrap();
    first_word(&mut raw).await.unwrap();
    // Reading on until the hub ends the stream (at most the helper's 10 s).
    let ended = raw.ended().await;
    assert_eq!(ended.code(), tonic::Code::Unauthenticated, "{ended}");
    assert!(ended.message().contains("expired"), "{ended}");
    assert!(nic_hub::auth::now_ms() >= expires_at_ms);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_always_expire_and_never_beyond_the_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &["lincoln"]).await;
    hub.member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    let mut directory = hub.directory().await;
    let now = nic_hub::auth::now_ms();
    let day = 24 * 60 * 60 * 1000;
    let default = directory
        .issue_token(v1::IssueTokenRequest {
            member_id: "sam".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .token
        .unwrap();
    let lifetime = default.expires_at_ms - now;
    assert!(
        (89 * day..=91 * day).contains(&lifetime),
        "a token issued without an expiry lives {lifetime} ms, not the default 90 days"
    );
    let forever = directory
        .issue_token(v1::IssueTokenRequest {
            member_id: "sam".into(),
            expires_at_ms: i64::MAX,
            ..Default::default()
        })
        .await
        .expect_err("a token beyond the maximum lifetime was issued");
    assert_eq!(forever.code(), tonic::Code::InvalidArgument, "{forever}");
    assert!(forever.message().contains("365 days"), "{forever}");
    hub.stop().await;
}
