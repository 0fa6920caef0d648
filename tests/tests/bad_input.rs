//! Bad input gets a clear status or `DocError`; the stream or hub stays healthy and no
//! document changes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use nic_e2e::{RawStream, TestHub, hello};
use nic_proto::v1::{self, client_frame::Frame as C, hub_frame::Frame as H};
use tonic::Code;

fn subscribe(ids: &[String]) -> C {
    C::Subscribe(v1::Subscribe {
        target: Some(v1::subscribe::Target::Docs(v1::DocIds {
            doc_ids: ids.to_vec(),
        })),
        known: Vec::new(),
    })
}

fn doc_error(frame: &H) -> Option<v1::DocError> {
    match frame {
        H::DocError(e) => Some(e.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn a_frame_before_hello_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let refused = RawStream::open(
        &hub,
        v1::ClientFrame {
            frame: Some(subscribe(&[])),
        },
    )
    .await;
    let status = refused.err().expect("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("Hello"), "{status}");
    // A bad Hello too.
    let status = RawStream::open(&hub, hello("not a valid id!"))
        .await
        .err()
        .expect("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("peer_id"), "{status}");
    // The hub is still serving.
    assert!(RawStream::open(&hub, hello("fine")).await.is_ok());
    hub.stop().await;
}

#[tokio::test]
async fn unknown_and_malformed_document_ids_get_doc_errors() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let real = hub.create_worksheet("algebra").await;
    let mut s = RawStream::open(&hub, hello("prober")).await.unwrap();

    let unknown = nic_model::DocumentId::from_bytes([42; 16]).to_string();
    s.send(subscribe(std::slice::from_ref(&unknown))).await;
    let e = s.until(doc_error).await.unwrap();
    assert_eq!(
        (e.code, e.doc_id.as_str()),
        (v1::ErrorCode::NotFound as i32, unknown.as_str())
    );

    s.send(C::DocSync(v1::DocSync {
        doc_id: "not-an-id".into(),
        message: vec![0x42],
    }))
    .await;
    let e = s.until(doc_error).await.unwrap();
    assert_eq!(e.code, v1::ErrorCode::InvalidArgument as i32);
    assert!(e.message.contains("doc_sync.doc_id"), "{}", e.message);

    // The stream is still healthy: a real subscription works.
    s.send(subscribe(&[real.to_string()])).await;
    let synced = s
        .until(|f| matches!(f, H::DocSync(d) if d.doc_id == real.to_string()).then_some(()))
        .await;
    assert!(synced.is_ok());
    hub.stop().await;
}

#[tokio::test]
async fn malformed_sync_bytes_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let doc = hub.create_worksheet("algebra").await;
    let before = hub.saved(doc).await.get_heads();
    let mut s = RawStream::open(&hub, hello("fuzzer")).await.unwrap();
    s.send(subscribe(&[doc.to_string()])).await;
    for garbage in [
        vec![],
        vec![0x42],
        vec![0x43, 0xff, 0xff, 0xff],
        b"hello world".to_vec(),
    ] {
        s.send(C::DocSync(v1::DocSync {
            doc_id: doc.to_string(),
            message: garbage,
        }))
        .await;
        let e = s.until(doc_error).await.unwrap();
        assert_eq!(
            e.code,
            v1::ErrorCode::InvalidArgument as i32,
            "{}",
            e.message
        );
        assert_eq!(e.doc_id, doc.to_string());
    }
    assert_eq!(hub.saved(doc).await.get_heads(), before);
    hub.stop().await;
}

#[tokio::test]
async fn an_oversized_message_ends_only_its_stream() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| c.max_message_bytes = 64 * 1024).await;
    let doc = hub.create_worksheet("algebra").await;
    let before = hub.saved(doc).await.get_heads();
    let mut big = RawStream::open(&hub, hello("flooder")).await.unwrap();
    big.send(C::DocSync(v1::DocSync {
        doc_id: doc.to_string(),
        message: vec![0x42; 100 * 1024],
    }))
    .await;
    let status = big
        .until(|_| None::<()>)
        .await
        .expect_err("the stream ends");
    assert!(
        matches!(status.code(), Code::OutOfRange | Code::ResourceExhausted),
        "oversized frame ended with {status}"
    );
    assert!(
        status.message().contains("message length") || status.message().contains("larger"),
        "{status}"
    );
    // Others are unaffected.
    let mut other = RawStream::open(&hub, hello("bystander")).await.unwrap();
    other.send(subscribe(&[doc.to_string()])).await;
    assert!(
        other
            .until(|f| matches!(f, H::DocSync(_)).then_some(()))
            .await
            .is_ok()
    );
    assert_eq!(hub.saved(doc).await.get_heads(), before);
    hub.stop().await;
}

#[tokio::test]
async fn shutdown_closes_open_streams_with_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let doc = hub.create_worksheet("algebra").await;
    let mut s = RawStream::open(&hub, hello("lingerer")).await.unwrap();
    s.send(subscribe(&[doc.to_string()])).await;
    s.until(|f| matches!(f, H::DocSync(_)).then_some(()))
        .await
        .unwrap();
    // The client keeps its side open; the hub must still stop, and say why.
    tokio::time::timeout(std::time::Duration::from_secs(10), hub.stop())
        .await
        .expect("the hub stops although a client holds a stream open");
    let status = s.until(|_| None::<()>).await.expect_err("the stream ends");
    assert_eq!(status.code(), Code::Unavailable, "{status}");
}

#[tokio::test]
async fn a_second_hello_or_an_empty_frame_ends_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let again = hello("twice");
    let empty = v1::ClientFrame { frame: None };
    for (what, frame) in [("second Hello", again), ("empty frame", empty)] {
        let mut raw = RawStream::open(&hub, hello("twice")).await.unwrap();
        raw.tx.send(frame).await.unwrap();
        let status = raw.ended().await;
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status}");
    }
    hub.stop().await;
}

/// Sends bytes as they are, for requests no protobuf encoder would make.
#[derive(Clone, Default)]
struct RawBytes;

struct RawEncoder;
struct Discard;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Discard {
    type Item = ();
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        let n = bytes::Buf::remaining(src);
        bytes::Buf::advance(src, n);
        Ok(Some(()))
    }
}

impl tonic::codec::Codec for RawBytes {
    type Encode = Vec<u8>;
    type Decode = ();
    type Encoder = RawEncoder;
    type Decoder = Discard;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> Discard {
        Discard
    }
}

#[tokio::test]
async fn an_undecodable_request_is_invalid_argument() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let mut grpc = tonic::client::Grpc::new(hub.authed().await);
    for path in [
        "/nic.v1.Directory/IssueToken",
        "/nic.v1.Documents/Create",
        "/nic.v1.Insight/CompareCycles",
    ] {
        grpc.ready().await.unwrap();
        // Field 1 as a length-delimited string that claims more bytes than follow.
        let garbage = vec![0x0a, 0xff, 0xff, 0x03, 0x01];
        let status = grpc
            .unary(
                tonic::Request::new(garbage),
                tonic::codegen::http::uri::PathAndQuery::from_static(path),
                RawBytes,
            )
            .await
            .expect_err("garbage was accepted");
        assert_eq!(status.code(), Code::InvalidArgument, "{path}: {status}");
    }
    hub.stop().await;
}
