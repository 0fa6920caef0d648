//! Frames survive an encode/decode round trip, and enum numbers mean what the comments say.

use nic_proto::v1::{
    ClientFrame, DocAck, DocAnnounce, DocError, DocIds, DocKind, DocSync, DocumentMeta, ErrorCode,
    Hello, HubFrame, KnownDoc, Limits, Member, Role, Subscribe, Subscribed, Visibility, Welcome,
    client_frame, hub_frame, subscribe,
};
use prost::Message;

fn round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(msg: &M) {
    let bytes = msg.encode_to_vec();
    let back = M::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(&back, msg);
}

fn meta() -> DocumentMeta {
    DocumentMeta {
        doc_id: "2xZf1cKqQj3RwJv9Zr5bUuVb4Vt".into(),
        kind: DocKind::PdsaCycle.into(),
        network_id: "algebra-nic".into(),
        site_id: "lincoln-high".into(),
        visibility: Visibility::Site.into(),
        title: "Cycle 3: warm-up problems in English and Spanish".into(),
        created_at_ms: 1_767_225_600_000,
        updated_at_ms: 1_767_312_000_000,
        archived: false,
    }
}

#[test]
fn client_frames_round_trip() {
    let frames = [
        client_frame::Frame::Hello(Hello {
            peer_id: "laptop-7f3a".into(),
            client_name: "nic-cli".into(),
            client_version: "0.1.0".into(),
            protocol_version: nic_proto::PROTOCOL_VERSION,
        }),
        client_frame::Frame::Subscribe(Subscribe {
            target: Some(subscribe::Target::NetworkId("algebra-nic".into())),
            known: vec![KnownDoc {
                doc_id: "k".into(),
                heads: vec![vec![7; 32]],
                meta_digest: 42,
            }],
        }),
        client_frame::Frame::Subscribe(Subscribe {
            target: Some(subscribe::Target::Docs(DocIds {
                doc_ids: vec!["a".into(), "b".into()],
            })),
            known: Vec::new(),
        }),
        client_frame::Frame::DocSync(DocSync {
            doc_id: "2xZf1cKqQj3RwJv9Zr5bUuVb4Vt".into(),
            message: vec![0x42, 0, 1, 2, 255],
        }),
    ];
    for frame in frames {
        round_trip(&ClientFrame { frame: Some(frame) });
    }
    // An empty frame is representable (and refused by the hub), and still round-trips.
    round_trip(&ClientFrame { frame: None });
}

#[test]
fn hub_frames_round_trip() {
    let frames = [
        hub_frame::Frame::Welcome(Welcome {
            member: Some(Member {
                member_id: "anna".into(),
                display_name: "Anna Ortiz".into(),
                role: Role::SiteMember.into(),
                network_ids: vec!["algebra-nic".into()],
                site_id: "lincoln-high".into(),
            }),
            hub_version: "0.1.0".into(),
            peer_id: "hub-1".into(),
            limits: Some(Limits {
                max_message_bytes: 4 << 20,
                max_docs_per_subscription: 1000,
                max_changes_per_sync_message: 10_000,
                max_streams_per_member: 8,
                max_document_bytes: 16 << 20,
                max_document_ops: 1_000_000,
            }),
        }),
        hub_frame::Frame::DocSync(DocSync {
            doc_id: "d".into(),
            message: vec![1; 100],
        }),
        hub_frame::Frame::DocAck(DocAck {
            doc_id: "d".into(),
            heads: vec![vec![7; 32], vec![9; 32]],
        }),
        hub_frame::Frame::DocAnnounce(DocAnnounce { meta: Some(meta()) }),
        hub_frame::Frame::DocError(DocError {
            doc_id: String::new(),
            code: ErrorCode::PermissionDenied.into(),
            message: "member anna does not belong to network other-nic".into(),
        }),
        hub_frame::Frame::Subscribed(Subscribed {
            subscription: Some(Subscribe {
                target: Some(subscribe::Target::NetworkId("algebra-nic".into())),
                known: Vec::new(),
            }),
            doc_ids: vec!["d".into()],
        }),
    ];
    for frame in frames {
        round_trip(&HubFrame { frame: Some(frame) });
    }
}

#[test]
fn error_codes_are_grpc_codes() {
    let pairs = [
        (ErrorCode::InvalidArgument, tonic::Code::InvalidArgument),
        (ErrorCode::NotFound, tonic::Code::NotFound),
        (ErrorCode::PermissionDenied, tonic::Code::PermissionDenied),
        (ErrorCode::ResourceExhausted, tonic::Code::ResourceExhausted),
        (
            ErrorCode::FailedPrecondition,
            tonic::Code::FailedPrecondition,
        ),
        (ErrorCode::Internal, tonic::Code::Internal),
        (ErrorCode::Unavailable, tonic::Code::Unavailable),
    ];
    for (ours, grpc) in pairs {
        assert_eq!(i32::from(ours), grpc as i32, "{ours:?}");
        assert_eq!(tonic::Code::from_i32(ours.into()), grpc);
    }
}

#[test]
fn enum_names_follow_the_protobuf_style() {
    assert_eq!(DocKind::Unspecified.as_str_name(), "DOC_KIND_UNSPECIFIED");
    assert_eq!(DocKind::CoachingLog.as_str_name(), "DOC_KIND_COACHING_LOG");
    assert_eq!(i32::from(DocKind::CoachingLog), 12);
    assert_eq!(Visibility::Network.as_str_name(), "VISIBILITY_NETWORK");
    assert_eq!(Role::Observer.as_str_name(), "ROLE_OBSERVER");
    assert_eq!(
        ErrorCode::from_str_name("ERROR_CODE_NOT_FOUND"),
        Some(ErrorCode::NotFound)
    );
}

#[test]
fn unknown_enum_values_survive_decoding() {
    // A newer hub may send a kind this client does not know: it decodes as a raw number,
    // and the typed accessor falls back to the default.
    let mut m = meta();
    m.kind = 99;
    let back = DocumentMeta::decode(m.encode_to_vec().as_slice()).expect("decodes");
    assert_eq!(back.kind, 99);
    assert_eq!(back.kind(), DocKind::Unspecified);
}
