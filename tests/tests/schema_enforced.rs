//! The hub stores only content that reads as its kind: a bad document of every kind is
//! refused on `Documents.Create` (INVALID_ARGUMENT naming the field) and through
//! `Sync.Connect` (a `DocError` INVALID_ARGUMENT naming the field, nothing stored), and the
//! hub stays healthy; good content of the kind goes through both ways.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_e2e::{RawStream, TestHub, changes_message, hello};
use nic_model::DocKind;
use nic_model::schema;
use nic_proto::convert;
use nic_proto::v1::{self, hub_frame::Frame as H};
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{Automerge, AutomergeError, ROOT, ScalarValue};
use tonic::Code;

/// A document of `kind` whose first field holds a counter, which no field of any kind
/// accepts; and that field's name.
fn bad(kind: DocKind) -> (Automerge, &'static str) {
    let field = schema::shape_of(kind).fields[0].name;
    let mut doc = Automerge::new();
    doc.transact::<_, _, AutomergeError>(|tx| {
        tx.put(ROOT, "kind", kind.as_str())?;
        tx.put(ROOT, field, ScalarValue::counter(3))?;
        Ok(())
    })
    .unwrap();
    (doc, field)
}

/// A document of `kind` with only its envelope: every field reads as its default.
fn good(kind: DocKind) -> Automerge {
    let mut doc = Automerge::new();
    doc.transact::<_, _, AutomergeError>(|tx| {
        tx.put(ROOT, "kind", kind.as_str())?;
        tx.put(ROOT, "schema", ScalarValue::Uint(1))?;
        Ok(())
    })
    .unwrap();
    doc
}

fn create(kind: DocKind, initial: Option<&Automerge>) -> v1::CreateDocumentRequest {
    v1::CreateDocumentRequest {
        kind: convert::kind_to_wire(kind) as i32,
        network_id: "algebra".into(),
        site_id: String::new(),
        visibility: v1::Visibility::Network as i32,
        title: format!("a {kind}"),
        initial: initial.map(Automerge::save),
        doc_id: String::new(),
    }
}

/// The next `DocError` the stream gets for `id`.
async fn doc_error(raw: &mut RawStream, id: nic_model::DocumentId) -> v1::DocError {
    raw.until(|f| match f {
        H::DocError(e) if e.doc_id == id.to_string() => Some(e.clone()),
        _ => None,
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn create_refuses_content_that_does_not_read_as_its_kind_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &[]).await;
    let mut docs = hub.documents().await;
    for kind in DocKind::ALL {
        let (doc, field) = bad(kind);
        let status = docs.create(create(kind, Some(&doc))).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{kind}: {status:?}");
        assert!(
            status.message().contains(&format!("field {field}:"))
                && status.message().contains("found a counter"),
            "{kind}: {}",
            status.message()
        );
        // Another kind's content is refused too, naming `kind`.
        let other = good(DocKind::ALL[(kind as usize + 1) % DocKind::ALL.len()]);
        let status = docs.create(create(kind, Some(&other))).await.unwrap_err();
        assert!(
            status.message().contains("field kind:"),
            "{}",
            status.message()
        );
        // Good content, and none at all, are accepted.
        docs.create(create(kind, Some(&good(kind)))).await.unwrap();
        docs.create(create(kind, None)).await.unwrap();
    }
    // Nothing of the refused ones was stored: two documents per kind.
    let listed = docs
        .list(v1::ListDocumentsRequest {
            network_id: "algebra".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.documents.len(), 2 * DocKind::ALL.len());
    hub.stop().await;
}

#[tokio::test]
async fn sync_refuses_a_change_that_leaves_unreadable_content_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    hub.ensure_network("algebra", &[]).await;
    let mut docs = hub.documents().await;
    let mut raw = RawStream::open(&hub, hello("integrator")).await.unwrap();
    for kind in DocKind::ALL {
        let created = docs.create(create(kind, None)).await.unwrap().into_inner();
        let id: nic_model::DocumentId = created.meta.unwrap().doc_id.parse().unwrap();
        raw.subscribe(&[id]).await;
        // A bad first write.
        let (doc, field) = bad(kind);
        raw.send_sync(id, changes_message(&doc, &[])).await;
        let e = doc_error(&mut raw, id).await;
        assert_eq!(
            e.code,
            v1::ErrorCode::InvalidArgument as i32,
            "{kind}: {e:?}"
        );
        assert!(
            e.message.contains(&format!("field {field}:"))
                && e.message.contains("nothing was stored"),
            "{kind}: {}",
            e.message
        );
        assert!(
            hub.saved(id).await.get_heads().is_empty(),
            "{kind}: the refused change was stored"
        );
        // A good write on the same stream is stored: the stream is healthy.
        let doc = good(kind);
        raw.send_sync(id, changes_message(&doc, &[])).await;
        let want = doc.get_heads();
        // The ack means durable on the hub.
        raw.until(|f| match f {
            H::DocAck(a) if a.doc_id == id.to_string() => Some(()),
            _ => None,
        })
        .await
        .unwrap();
        let stored = hub.saved(id).await;
        assert_eq!(
            stored.get_heads(),
            want,
            "{kind}: the good change was not stored"
        );
        // Breaking the stored document afterwards is refused as well.
        let mut broken = stored.clone();
        let before = broken.get_heads();
        broken
            .transact::<_, _, AutomergeError>(|tx| {
                tx.put(ROOT, field, ScalarValue::counter(1)).map(|_| ())
            })
            .unwrap();
        raw.send_sync(id, changes_message(&broken, &before)).await;
        let e = doc_error(&mut raw, id).await;
        assert!(
            e.message.contains(&format!("field {field}:")),
            "{}",
            e.message
        );
        assert_eq!(
            hub.saved(id).await.get_heads(),
            want,
            "{kind}: the breaking change was stored"
        );
    }
    // The hub still serves.
    assert!(RawStream::open(&hub, hello("after")).await.is_ok());
    hub.stop().await;
}
