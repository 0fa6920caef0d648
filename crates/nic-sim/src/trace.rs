//! One-line descriptions of frames, for `NIC_SIM_TRACE=1` and failure messages.

use automerge::Automerge;
use nic_model::DocumentId;
use nic_sync::Frame;

/// A one-line summary of a frame for traces.
pub(crate) fn describe(frame: &Frame) -> String {
    match frame {
        Frame::Sync { doc, message } => match automerge::sync::Message::decode(message) {
            Ok(m) => {
                format!(
                    "sync {} heads={} need={} have={} changes={} flags={:?}",
                    short(doc),
                    m.heads.len(),
                    m.need.len(),
                    m.have.len(),
                    m.changes.len(),
                    m.flags
                ) + &format!(
                    " actors={:?}",
                    m.changes.iter().map(debug_piece).collect::<Vec<_>>()
                )
            }
            Err(e) => format!("sync {} undecodable: {e}", short(doc)),
        },
        Frame::Ack { doc, heads } => format!("ack {} heads={}", short(doc), heads.len()),
        Frame::Announce(meta) => format!("announce {}", short(&meta.id)),
        Frame::Subscribe { target, known } => {
            format!("subscribe {target:?} knowing {}", known.len())
        }
        Frame::Unsubscribe(t) => format!("unsubscribe {t:?}"),
        Frame::Subscribed { docs, .. } => format!("subscribed to {} docs", docs.len()),
        Frame::CaughtUp { target } => format!("caught up with {target:?}"),
        Frame::Error { doc, code, message } => {
            format!("error {:?} {code:?} {message}", doc.as_ref().map(short))
        }
    }
}

pub(crate) fn short(doc: &DocumentId) -> String {
    doc.to_string().chars().take(6).collect()
}

/// A piece of a sync message: a change's actor and sequence number, or the changes an opaque
/// piece (a whole document) holds.
fn debug_piece(c: &[u8]) -> String {
    let list = |a: &Automerge| {
        a.get_changes(&[])
            .iter()
            .map(|c| {
                format!(
                    "{}#{}",
                    String::from_utf8_lossy(c.actor_id().to_bytes()),
                    c.seq()
                )
            })
            .collect::<Vec<_>>()
    };
    match automerge::Change::try_from(c) {
        Ok(ch) => format!(
            "{}#{}",
            String::from_utf8_lossy(ch.actor_id().to_bytes()),
            ch.seq()
        ),
        Err(_) => {
            let mut a = Automerge::new();
            let _ = a.load_incremental(c);
            format!("opaque{:?}", list(&a))
        }
    }
}
