//! Decompression bombs: Automerge bytes that are small on the wire and enormous once
//! decoded are refused before the hub decodes them, naming the limit and the value, nothing
//! of them is stored, and the hub goes on serving everyone else.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_e2e::{RawStream, TestHub, hello, put};
use nic_proto::v1::{self, hub_frame::Frame as H};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, ROOT};
use tonic::Code;

/// Fifty megabytes of one letter, which deflate packs into some 50 KB.
fn fifty_megabytes() -> String {
    "a".repeat(50 << 20)
}

fn exhausted(frame: &H) -> Option<String> {
    match frame {
        H::DocError(e) if e.code == v1::ErrorCode::ResourceExhausted as i32 => {
            Some(e.message.clone())
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_create_holding_a_compressed_fifty_megabyte_string_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &[]).await;
    let mut bomb = Automerge::new();
    let mut tx = bomb.transaction();
    tx.put(ROOT, "notes", fifty_megabytes()).unwrap();
    tx.commit();
    let initial = bomb.save();
    assert!(
        initial.len() < 100_000,
        "{} bytes on the wire",
        initial.len()
    );
    let refused = hub
        .documents()
        .await
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::PdsaCycle as i32,
            network_id: "algebra".into(),
            visibility: v1::Visibility::Network as i32,
            title: "a bomb".into(),
            initial: Some(initial),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused}");
    assert!(
        refused
            .message()
            .contains("bytes once decompressed, more than the limit of 16777216 (max-doc-bytes)"),
        "{refused}"
    );
    let listed = hub
        .documents()
        .await
        .list(v1::ListDocumentsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.documents.is_empty(), "nothing was created");
    // The hub goes on serving others.
    let doc = hub.create_worksheet("algebra").await;
    assert!(!hub.saved(doc).await.get_heads().is_empty());
    hub.stop().await;
}

#[tokio::test]
async fn a_sync_message_carrying_a_compressed_fifty_megabyte_change_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let doc = hub.create_worksheet("algebra").await;
    let mut am = hub.saved(doc).await;
    let before = am.get_heads();
    let mut tx = am.transaction();
    tx.put(ROOT, "notes", fifty_megabytes()).unwrap();
    tx.commit();
    let mut change = am.get_changes(&before).pop().unwrap();
    let packed = change.bytes().to_vec();
    assert!(packed.len() < 100_000, "{} bytes on the wire", packed.len());
    let message = nic_sync::automerge::sync::Message {
        heads: am.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![packed].into(),
        flags: None,
        version: nic_sync::automerge::sync::MessageVersion::V1,
    };
    let mut s = RawStream::open(&hub, hello("bomber")).await.unwrap();
    // The limits are announced.
    let limits = s
        .until(|f| match f {
            H::Welcome(w) => w.limits,
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        (limits.max_document_bytes, limits.max_document_ops),
        (16 << 20, 250_000)
    );
    s.subscribe(&[doc]).await;
    s.send_sync(doc, message.encode()).await;
    let said = s.until(exhausted).await.unwrap();
    assert!(
        said.contains("bytes once decompressed, more than the limit of 16777216"),
        "{said}"
    );
    assert_eq!(
        hub.saved(doc).await.get_heads(),
        before,
        "nothing was stored"
    );
    // The same stream, and the document, go on: an ordinary change is taken.
    let mut fine = hub.saved(doc).await;
    put(&mut fine, "after", 1);
    s.send_sync(doc, nic_e2e::changes_message(&fine, &before))
        .await;
    s.until(|f| matches!(f, H::DocAck(_)).then_some(()))
        .await
        .unwrap();
    assert_eq!(hub.saved(doc).await.get_heads(), fine.get_heads());
    hub.stop().await;
}
