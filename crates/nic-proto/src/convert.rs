//! Conversions between `nic.v1` wire types and the domain types of `nic-model` and
//! `nic-sync`. Every check on what arrives from the wire happens here, with errors that say
//! which field is wrong.

use nic_model::{
    DocKind, DocMeta, DocumentId, Grant, Grants, IdError, Member, MemberId, Network, NetworkId,
    Site, SiteId, TokenRecord, Visibility,
};
use nic_sync::automerge::ChangeHash;
use nic_sync::{ErrorCode, Frame, Known, Target};

use crate::v1;

/// Why a wire message does not make a valid domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// An identifier field is malformed.
    #[error("field {field}: {source}")]
    Id {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        source: IdError,
    },
    /// A required field is empty or unset.
    #[error("field {0} is required")]
    Missing(&'static str),
    /// An enum field holds an unknown or unspecified value.
    #[error("field {field} has unsupported value {value}")]
    BadEnum {
        /// The field.
        field: &'static str,
        /// The number received.
        value: i32,
    },
    /// A change hash is not 32 bytes.
    #[error("field {field}: a change hash must be 32 bytes, got {len}")]
    BadHash {
        /// The field.
        field: &'static str,
        /// The length received.
        len: usize,
    },
    /// The metadata is inconsistent.
    #[error(transparent)]
    Meta(#[from] nic_model::MetaError),
    /// A member's role, networks and site do not fit together.
    #[error("member {member}: {reason}")]
    BadMember {
        /// The member.
        member: String,
        /// What does not fit.
        reason: &'static str,
    },
}

/// A member as the wire describes it: role, networks and (for a site member) site.
pub fn member(wire: &v1::Member, created_at_ms: i64) -> Result<Member, ConvertError> {
    let id = MemberId::new(wire.member_id.as_str()).map_err(|source| ConvertError::Id {
        field: "member.member_id",
        source,
    })?;
    let grants = grants(&wire.member_id, wire.role, &wire.network_ids, &wire.site_id)?;
    Ok(Member {
        id,
        name: wire.display_name.clone(),
        grants,
        created_at_ms,
    })
}

/// The roles a wire role, network list and site stand for.
pub fn grants(
    member: &str,
    role: i32,
    network_ids: &[String],
    site: &str,
) -> Result<Grants, ConvertError> {
    let bad = |reason| ConvertError::BadMember {
        member: member.to_owned(),
        reason,
    };
    let networks = network_ids
        .iter()
        .map(|n| network_id("member.network_ids", n))
        .collect::<Result<Vec<_>, _>>()?;
    let site = site_id("member.site_id", site)?;
    let role = v1::Role::try_from(role).map_err(|_| ConvertError::BadEnum {
        field: "member.role",
        value: role,
    })?;
    let grants = match role {
        v1::Role::Unspecified => return Err(ConvertError::Missing("member.role")),
        v1::Role::HubAdmin if networks.is_empty() && site.is_none() => vec![Grant::HubAdmin],
        v1::Role::HubAdmin => {
            return Err(bad(
                "a hub admin spans every network: give no networks or site",
            ));
        }
        _ if networks.is_empty() => return Err(bad("name at least one network")),
        v1::Role::SiteMember => match (networks.as_slice(), site) {
            ([network], Some(site)) => vec![Grant::SiteMember {
                network: network.clone(),
                site,
            }],
            _ => {
                return Err(bad(
                    "a site member needs exactly one network and a site of it",
                ));
            }
        },
        _ if site.is_some() => return Err(bad("only a site member has a site")),
        v1::Role::NetworkLead => networks
            .into_iter()
            .map(|network| Grant::NetworkLead { network })
            .collect(),
        v1::Role::Observer => networks
            .into_iter()
            .map(|network| Grant::Observer { network })
            .collect(),
    };
    Ok(Grants(grants))
}

/// A member as the wire shows it. Roles given through the API are all of one kind; a mix
/// (which only direct storage edits could make) shows the first role's kind.
pub fn member_to_wire(member: &Member) -> v1::Member {
    let role = match member.grants.0.first() {
        Some(Grant::HubAdmin) => v1::Role::HubAdmin,
        Some(Grant::NetworkLead { .. }) => v1::Role::NetworkLead,
        Some(Grant::SiteMember { .. }) => v1::Role::SiteMember,
        Some(Grant::Observer { .. }) => v1::Role::Observer,
        None => v1::Role::Unspecified,
    };
    let mut network_ids: Vec<String> = member
        .grants
        .0
        .iter()
        .filter_map(|g| g.network().map(ToString::to_string))
        .collect();
    network_ids.dedup();
    let site_id = member
        .grants
        .0
        .iter()
        .find_map(|g| match g {
            Grant::SiteMember { site, .. } => Some(site.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    v1::Member {
        member_id: member.id.to_string(),
        display_name: member.name.clone(),
        role: role as i32,
        network_ids,
        site_id,
    }
}

/// A network as the wire shows it.
pub fn network_to_wire(n: &Network) -> v1::Network {
    v1::Network {
        network_id: n.id.to_string(),
        name: n.name.clone(),
        description: n.description.clone(),
        created_at_ms: n.created_at_ms,
        min_cell_size: n.min_cell_size,
        public_dashboard: n.public_dashboard,
    }
}

/// A site as the wire shows it.
pub fn site_to_wire(s: &Site) -> v1::Site {
    v1::Site {
        site_id: s.id.to_string(),
        network_id: s.network.to_string(),
        name: s.name.clone(),
    }
}

/// A token's public description (never its secret).
pub fn token_to_wire(t: &TokenRecord) -> v1::TokenInfo {
    v1::TokenInfo {
        token_id: t.id.to_string(),
        member_id: t.member.to_string(),
        label: t.label.clone(),
        created_at_ms: t.created_at_ms,
        expires_at_ms: t.expires_at_ms.unwrap_or(0),
        revoked: t.revoked_at_ms.is_some(),
    }
}

/// Parses a document id field.
pub fn doc_id(field: &'static str, s: &str) -> Result<DocumentId, ConvertError> {
    if s.is_empty() {
        return Err(ConvertError::Missing(field));
    }
    s.parse()
        .map_err(|source| ConvertError::Id { field, source })
}

/// Parses a network id field.
pub fn network_id(field: &'static str, s: &str) -> Result<NetworkId, ConvertError> {
    NetworkId::new(s).map_err(|source| ConvertError::Id { field, source })
}

/// Parses an optional site id field (empty means none).
pub fn site_id(field: &'static str, s: &str) -> Result<Option<SiteId>, ConvertError> {
    if s.is_empty() {
        return Ok(None);
    }
    SiteId::new(s)
        .map(Some)
        .map_err(|source| ConvertError::Id { field, source })
}

/// Parses change hashes.
pub fn heads(field: &'static str, raw: &[Vec<u8>]) -> Result<Vec<ChangeHash>, ConvertError> {
    raw.iter()
        .map(|b| {
            ChangeHash::try_from(b.as_slice()).map_err(|_| ConvertError::BadHash {
                field,
                len: b.len(),
            })
        })
        .collect()
}

/// Encodes change hashes.
pub fn heads_to_wire(heads: &[ChangeHash]) -> Vec<Vec<u8>> {
    heads.iter().map(|h| h.as_ref().to_vec()).collect()
}

/// The wire value of a document kind.
pub fn kind_to_wire(kind: DocKind) -> v1::DocKind {
    match kind {
        DocKind::NetworkProfile => v1::DocKind::NetworkProfile,
        DocKind::Aim => v1::DocKind::Aim,
        DocKind::DriverDiagram => v1::DocKind::DriverDiagram,
        DocKind::ChangeIdea => v1::DocKind::ChangeIdea,
        DocKind::PdsaCycle => v1::DocKind::PdsaCycle,
        DocKind::MeasureDefinition => v1::DocKind::MeasureDefinition,
        DocKind::MeasureData => v1::DocKind::MeasureData,
        DocKind::EmpathyInterview => v1::DocKind::EmpathyInterview,
        DocKind::RootCauseAnalysis => v1::DocKind::RootCauseAnalysis,
        DocKind::EquityAudit => v1::DocKind::EquityAudit,
        DocKind::ImprovementPlan => v1::DocKind::ImprovementPlan,
        DocKind::CoachingLog => v1::DocKind::CoachingLog,
    }
}

/// Parses a document kind (unspecified is an error).
pub fn kind(field: &'static str, value: i32) -> Result<DocKind, ConvertError> {
    let bad = ConvertError::BadEnum { field, value };
    let wire = v1::DocKind::try_from(value).map_err(|_| bad.clone())?;
    DocKind::ALL
        .into_iter()
        .find(|k| kind_to_wire(*k) == wire)
        .ok_or(bad)
}

/// Parses an optional document kind filter (unspecified means any).
pub fn kind_filter(field: &'static str, value: i32) -> Result<Option<DocKind>, ConvertError> {
    if value == 0 {
        Ok(None)
    } else {
        kind(field, value).map(Some)
    }
}

/// The wire value of a visibility.
pub fn visibility_to_wire(v: Visibility) -> v1::Visibility {
    match v {
        Visibility::Network => v1::Visibility::Network,
        Visibility::Site => v1::Visibility::Site,
    }
}

/// Parses a visibility (unspecified is an error).
pub fn visibility(field: &'static str, value: i32) -> Result<Visibility, ConvertError> {
    match v1::Visibility::try_from(value) {
        Ok(v1::Visibility::Network) => Ok(Visibility::Network),
        Ok(v1::Visibility::Site) => Ok(Visibility::Site),
        _ => Err(ConvertError::BadEnum { field, value }),
    }
}

/// The wire form of document metadata.
pub fn meta_to_wire(meta: &DocMeta) -> v1::DocumentMeta {
    v1::DocumentMeta {
        doc_id: meta.id.to_string(),
        kind: kind_to_wire(meta.kind) as i32,
        network_id: meta.network.to_string(),
        site_id: meta
            .site
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        visibility: visibility_to_wire(meta.visibility) as i32,
        title: meta.title.clone(),
        created_at_ms: meta.created_at_ms,
        updated_at_ms: meta.created_at_ms,
        archived: meta.archived,
    }
}

/// Parses document metadata.
pub fn meta(wire: &v1::DocumentMeta) -> Result<DocMeta, ConvertError> {
    let meta = DocMeta {
        id: doc_id("meta.doc_id", &wire.doc_id)?,
        kind: kind("meta.kind", wire.kind)?,
        network: network_id("meta.network_id", &wire.network_id)?,
        site: site_id("meta.site_id", &wire.site_id)?,
        visibility: visibility("meta.visibility", wire.visibility)?,
        title: wire.title.clone(),
        created_at_ms: wire.created_at_ms,
        archived: wire.archived,
    };
    meta.validate()?;
    Ok(meta)
}

fn error_code_to_wire(code: ErrorCode) -> v1::ErrorCode {
    match code {
        ErrorCode::InvalidArgument => v1::ErrorCode::InvalidArgument,
        ErrorCode::NotFound => v1::ErrorCode::NotFound,
        ErrorCode::PermissionDenied => v1::ErrorCode::PermissionDenied,
        ErrorCode::ResourceExhausted => v1::ErrorCode::ResourceExhausted,
        ErrorCode::Unavailable => v1::ErrorCode::Unavailable,
        ErrorCode::Internal => v1::ErrorCode::Internal,
    }
}

fn error_code(value: i32) -> ErrorCode {
    match v1::ErrorCode::try_from(value) {
        Ok(v1::ErrorCode::InvalidArgument) => ErrorCode::InvalidArgument,
        Ok(v1::ErrorCode::NotFound) => ErrorCode::NotFound,
        Ok(v1::ErrorCode::PermissionDenied) => ErrorCode::PermissionDenied,
        Ok(v1::ErrorCode::ResourceExhausted) => ErrorCode::ResourceExhausted,
        Ok(v1::ErrorCode::Unavailable) => ErrorCode::Unavailable,
        // Newer or unmapped codes are reported as internal rather than dropped.
        _ => ErrorCode::Internal,
    }
}

fn target_to_wire(target: &Target) -> Option<v1::subscribe::Target> {
    Some(match target {
        Target::Network(n) => v1::subscribe::Target::NetworkId(n.to_string()),
        Target::Docs(docs) => v1::subscribe::Target::Docs(v1::DocIds {
            doc_ids: docs.iter().map(ToString::to_string).collect(),
        }),
    })
}

fn doc_ids(field: &'static str, ids: &[String]) -> Result<Vec<DocumentId>, ConvertError> {
    ids.iter().map(|s| doc_id(field, s)).collect()
}

fn target(network: Option<&str>, docs: Option<&v1::DocIds>) -> Result<Target, ConvertError> {
    match (network, docs) {
        (Some(n), _) => Ok(Target::Network(network_id("subscribe.network_id", n)?)),
        (None, Some(d)) => Ok(Target::Docs(doc_ids("subscribe.docs.doc_ids", &d.doc_ids)?)),
        (None, None) => Err(ConvertError::Missing("subscribe.target")),
    }
}

fn subscribe_target(s: &v1::Subscribe) -> Result<Target, ConvertError> {
    match &s.target {
        Some(v1::subscribe::Target::NetworkId(n)) => target(Some(n), None),
        Some(v1::subscribe::Target::Docs(d)) => target(None, Some(d)),
        None => target(None, None),
    }
}

fn known(wire: &[v1::KnownDoc]) -> Result<Vec<Known>, ConvertError> {
    wire.iter()
        .map(|k| {
            Ok(Known {
                doc: doc_id("subscribe.known.doc_id", &k.doc_id)?,
                heads: heads("subscribe.known.heads", &k.heads)?,
                meta_digest: k.meta_digest,
            })
        })
        .collect()
}

fn known_to_wire(known: &[Known]) -> Vec<v1::KnownDoc> {
    known
        .iter()
        .map(|k| v1::KnownDoc {
            doc_id: k.doc.to_string(),
            heads: heads_to_wire(&k.heads),
            meta_digest: k.meta_digest,
        })
        .collect()
}

fn unsubscribe_target(s: &v1::Unsubscribe) -> Result<Target, ConvertError> {
    match &s.target {
        Some(v1::unsubscribe::Target::NetworkId(n)) => target(Some(n), None),
        Some(v1::unsubscribe::Target::Docs(d)) => target(None, Some(d)),
        None => target(None, None),
    }
}

/// What a client sent, in domain terms.
#[derive(Debug, Clone, PartialEq)]
pub enum FromClient {
    /// The introduction.
    Hello(v1::Hello),
    /// A frame for the engine.
    Frame(Frame),
}

/// Parses a client frame.
pub fn from_client(frame: v1::ClientFrame) -> Result<FromClient, ConvertError> {
    use v1::client_frame::Frame as F;
    match frame.frame.ok_or(ConvertError::Missing("frame"))? {
        F::Hello(h) => Ok(FromClient::Hello(h)),
        F::Subscribe(s) => Ok(FromClient::Frame(Frame::Subscribe {
            target: subscribe_target(&s)?,
            known: known(&s.known)?,
        })),
        F::Unsubscribe(u) => Ok(FromClient::Frame(Frame::Unsubscribe(unsubscribe_target(
            &u,
        )?))),
        F::DocSync(d) => Ok(FromClient::Frame(Frame::Sync {
            doc: doc_id("doc_sync.doc_id", &d.doc_id)?,
            message: d.message,
        })),
    }
}

/// The wire form of an engine frame for the hub to send; `None` for frames a hub never
/// sends to a client.
pub fn to_client(frame: Frame) -> Option<v1::HubFrame> {
    use v1::hub_frame::Frame as F;
    let frame = match frame {
        Frame::Sync { doc, message } => F::DocSync(v1::DocSync {
            doc_id: doc.to_string(),
            message,
        }),
        Frame::Ack { doc, heads } => F::DocAck(v1::DocAck {
            doc_id: doc.to_string(),
            heads: heads_to_wire(&heads),
        }),
        Frame::Announce(meta) => F::DocAnnounce(v1::DocAnnounce {
            meta: Some(meta_to_wire(&meta)),
        }),
        Frame::Error { doc, code, message } => F::DocError(v1::DocError {
            doc_id: doc.map(|d| d.to_string()).unwrap_or_default(),
            code: error_code_to_wire(code) as i32,
            message,
        }),
        Frame::Subscribed { target, docs } => F::Subscribed(v1::Subscribed {
            // The target only: echoing what the client knew would double the bytes.
            subscription: Some(v1::Subscribe {
                target: target_to_wire(&target),
                known: Vec::new(),
            }),
            doc_ids: docs.iter().map(ToString::to_string).collect(),
        }),
        Frame::CaughtUp { target } => F::CaughtUp(v1::CaughtUp {
            subscription: Some(v1::Subscribe {
                target: target_to_wire(&target),
                known: Vec::new(),
            }),
        }),
        Frame::Subscribe { .. } | Frame::Unsubscribe(_) => return None,
    };
    Some(v1::HubFrame { frame: Some(frame) })
}

/// What the hub sent, in domain terms.
#[derive(Debug, Clone, PartialEq)]
pub enum FromHub {
    /// The answer to Hello.
    Welcome(v1::Welcome),
    /// A frame for the engine.
    Frame(Frame),
}

/// Parses a hub frame.
pub fn from_hub(frame: v1::HubFrame) -> Result<FromHub, ConvertError> {
    use v1::hub_frame::Frame as F;
    let frame = match frame.frame.ok_or(ConvertError::Missing("frame"))? {
        F::Welcome(w) => return Ok(FromHub::Welcome(w)),
        F::DocSync(d) => Frame::Sync {
            doc: doc_id("doc_sync.doc_id", &d.doc_id)?,
            message: d.message,
        },
        F::DocAck(a) => Frame::Ack {
            doc: doc_id("doc_ack.doc_id", &a.doc_id)?,
            heads: heads("doc_ack.heads", &a.heads)?,
        },
        F::DocAnnounce(a) => Frame::Announce(meta(
            a.meta
                .as_ref()
                .ok_or(ConvertError::Missing("doc_announce.meta"))?,
        )?),
        F::DocError(e) => Frame::Error {
            doc: if e.doc_id.is_empty() {
                None
            } else {
                Some(doc_id("doc_error.doc_id", &e.doc_id)?)
            },
            code: error_code(e.code),
            message: e.message,
        },
        F::Subscribed(s) => Frame::Subscribed {
            target: subscribe_target(
                s.subscription
                    .as_ref()
                    .ok_or(ConvertError::Missing("subscribed.subscription"))?,
            )?,
            docs: doc_ids("subscribed.doc_ids", &s.doc_ids)?,
        },
        F::CaughtUp(c) => Frame::CaughtUp {
            target: subscribe_target(
                c.subscription
                    .as_ref()
                    .ok_or(ConvertError::Missing("caught_up.subscription"))?,
            )?,
        },
    };
    Ok(FromHub::Frame(frame))
}

/// The wire form of an engine frame for a client to send; `None` for frames a client never
/// sends to the hub.
pub fn to_hub(frame: Frame) -> Option<v1::ClientFrame> {
    use v1::client_frame::Frame as F;
    let frame = match frame {
        Frame::Subscribe { target, known } => F::Subscribe(v1::Subscribe {
            target: target_to_wire(&target),
            known: known_to_wire(&known),
        }),
        Frame::Unsubscribe(t) => F::Unsubscribe(v1::Unsubscribe {
            target: target_to_wire(&t).map(|t| match t {
                v1::subscribe::Target::NetworkId(n) => v1::unsubscribe::Target::NetworkId(n),
                v1::subscribe::Target::Docs(d) => v1::unsubscribe::Target::Docs(d),
            }),
        }),
        Frame::Sync { doc, message } => F::DocSync(v1::DocSync {
            doc_id: doc.to_string(),
            message,
        }),
        _ => return None,
    };
    Some(v1::ClientFrame { frame: Some(frame) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_meta() -> DocMeta {
        DocMeta {
            id: DocumentId::from_bytes([4; 16]),
            kind: DocKind::Aim,
            network: NetworkId::new("n1").unwrap(),
            site: Some(SiteId::new("s1").unwrap()),
            visibility: Visibility::Site,
            title: "Aim".into(),
            created_at_ms: 5,
            archived: false,
        }
    }

    #[test]
    fn every_kind_round_trips() {
        for k in DocKind::ALL {
            assert_eq!(kind("kind", kind_to_wire(k) as i32).unwrap(), k);
        }
        assert!(kind("kind", 0).is_err());
        assert!(kind("kind", 99).is_err());
    }

    #[test]
    fn meta_and_frames_round_trip() {
        let m = sample_meta();
        assert_eq!(meta(&meta_to_wire(&m)).unwrap(), m);
        let doc = m.id;
        let frames = vec![
            Frame::Sync {
                doc,
                message: vec![1, 2],
            },
            Frame::Ack {
                doc,
                heads: vec![ChangeHash([9; 32])],
            },
            Frame::Announce(m),
            Frame::Error {
                doc: Some(doc),
                code: ErrorCode::NotFound,
                message: "x".into(),
            },
            Frame::Error {
                doc: None,
                code: ErrorCode::ResourceExhausted,
                message: "y".into(),
            },
            Frame::Subscribed {
                target: Target::Network(NetworkId::new("n1").unwrap()),
                docs: vec![doc],
            },
            Frame::CaughtUp {
                target: Target::Docs(vec![doc]),
            },
            Frame::CaughtUp {
                target: Target::Network(NetworkId::new("n1").unwrap()),
            },
        ];
        for f in frames {
            let FromHub::Frame(back) = from_hub(to_client(f.clone()).unwrap()).unwrap() else {
                panic!()
            };
            assert_eq!(back, f);
        }
        for f in [
            Frame::Subscribe {
                target: Target::Docs(vec![doc]),
                known: vec![Known {
                    doc,
                    heads: vec![ChangeHash([4; 32])],
                    meta_digest: 0xfeed,
                }],
            },
            Frame::Unsubscribe(Target::Network(NetworkId::new("n1").unwrap())),
            Frame::Sync {
                doc,
                message: vec![3],
            },
        ] {
            let FromClient::Frame(back) = from_client(to_hub(f.clone()).unwrap()).unwrap() else {
                panic!()
            };
            assert_eq!(back, f);
        }
    }

    #[test]
    fn bad_fields_name_the_field() {
        let err = from_client(v1::ClientFrame {
            frame: Some(v1::client_frame::Frame::DocSync(v1::DocSync {
                doc_id: "nope".into(),
                message: vec![],
            })),
        })
        .unwrap_err();
        assert!(err.to_string().contains("doc_sync.doc_id"), "{err}");
        let err = from_client(v1::ClientFrame { frame: None }).unwrap_err();
        assert_eq!(err, ConvertError::Missing("frame"));
        let err = heads("doc_ack.heads", &[vec![1, 2, 3]]).unwrap_err();
        assert_eq!(
            err,
            ConvertError::BadHash {
                field: "doc_ack.heads",
                len: 3
            }
        );
    }
}
