//! Each limit refuses with RESOURCE_EXHAUSTED and names itself and its value: documents per
//! subscription, streams per member, changes per sync message, and requests without a valid
//! token (a flood of bad tokens is throttled, while valid tokens from the same address
//! pass). Message size: `bad_input.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_e2e::{RawStream, TestHub, changes_message, hello, put};
use nic_proto::v1::{self, client_frame::Frame as C, hub_frame::Frame as H};
use tonic::Code;

fn exhausted(frame: &H) -> Option<String> {
    match frame {
        H::DocError(e) if e.code == v1::ErrorCode::ResourceExhausted as i32 => {
            Some(e.message.clone())
        }
        _ => None,
    }
}

#[tokio::test]
async fn documents_per_subscription() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| c.max_docs_per_subscription = 2).await;
    let mut docs = Vec::new();
    for _ in 0..3 {
        docs.push(hub.create_worksheet("algebra").await.to_string());
    }
    let mut s = RawStream::open(&hub, hello("many")).await.unwrap();
    s.send(C::Subscribe(v1::Subscribe {
        target: Some(v1::subscribe::Target::Docs(v1::DocIds {
            doc_ids: docs.clone(),
        })),
        known: Vec::new(),
    }))
    .await;
    let message = s.until(exhausted).await.unwrap();
    assert!(
        message.contains("limit of documents per subscription is 2"),
        "{message}"
    );
    s.send(C::Subscribe(v1::Subscribe {
        target: Some(v1::subscribe::Target::NetworkId("algebra".into())),
        known: Vec::new(),
    }))
    .await;
    let message = s.until(exhausted).await.unwrap();
    assert!(
        message.contains("network algebra has 3 documents"),
        "{message}"
    );
    // Within the limit, it works.
    s.send(C::Subscribe(v1::Subscribe {
        target: Some(v1::subscribe::Target::Docs(v1::DocIds {
            doc_ids: docs[..2].to_vec(),
        })),
        known: Vec::new(),
    }))
    .await;
    s.until(|f| matches!(f, H::DocSync(_)).then_some(()))
        .await
        .unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn streams_per_member() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| c.max_streams_per_member = 2).await;
    let first = RawStream::open(&hub, hello("one")).await.unwrap();
    let _second = RawStream::open(&hub, hello("two")).await.unwrap();
    let refused = RawStream::open(&hub, hello("three"))
        .await
        .err()
        .expect("refused");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(
        refused.message().contains("limit per member is 2"),
        "{refused}"
    );
    // Closing one frees its place.
    drop(first);
    let mut again = None;
    for _ in 0..100 {
        if let Ok(s) = RawStream::open(&hub, hello("three")).await {
            again = Some(s);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(
        again.is_some(),
        "a closed stream's place was never given back"
    );
    hub.stop().await;
}

#[tokio::test]
async fn changes_per_sync_message() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| c.max_changes_per_message = 1).await;
    let doc = hub.create_worksheet("algebra").await;
    let mut am = hub.saved(doc).await;
    let before = am.get_heads();
    put(&mut am, "a", 1);
    put(&mut am, "b", 2);
    let mut s = RawStream::open(&hub, hello("bulk")).await.unwrap();
    s.subscribe(&[doc]).await;
    s.send_sync(doc, changes_message(&am, &before)).await;
    let message = s.until(exhausted).await.unwrap();
    assert!(
        message.contains("carries 2 changes; the limit is 1"),
        "{message}"
    );
    assert_eq!(hub.saved(doc).await.get_heads(), before);
    hub.stop().await;
}

#[tokio::test]
async fn a_flood_of_bad_tokens_is_throttled_without_locking_out_valid_users_behind_it() {
    // A school's NAT: the flooder and the valid users share 127.0.0.1. The default limit.
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let list = |token: String| {
        let hub = &hub;
        async move {
            hub.documents_as(&token)
                .await
                .list(v1::ListDocumentsRequest::default())
                .await
        }
    };
    let max = nic_hub::Config::default().max_auth_failures_per_minute;
    for i in 0..max {
        let e = list(format!("nic_guess{i}")).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{e}");
    }
    for i in 0..5 {
        let cut = list(format!("nic_more{i}")).await.unwrap_err();
        assert_eq!(cut.code(), Code::ResourceExhausted, "{cut}");
        assert!(
            cut.message()
                .contains(&format!("the limit is {max} a minute")),
            "{cut}"
        );
        // A valid token from the same address, in the same minute, still works...
        list(hub.token.clone()).await.unwrap();
    }
    // ...as does a member's token that was never used before.
    hub.ensure_network("algebra", &[]).await;
    let member = hub.member("lee", v1::Role::Observer, "algebra", "").await;
    list(member).await.unwrap();
    // And bad tokens are still refused as throttled.
    let cut = list("nic_again".into()).await.unwrap_err();
    assert_eq!(cut.code(), Code::ResourceExhausted, "{cut}");
    hub.stop().await;
}
