//! [`Message`] to bytes: one CBOR map with text keys, as automerge-repo writes it.

use ciborium::Value;

use crate::{Message, PeerMetadata};

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn texts(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| text(s)).collect())
}

fn metadata(m: &PeerMetadata) -> Value {
    let mut entries = vec![(text("isEphemeral"), Value::Bool(m.is_ephemeral))];
    if let Some(id) = &m.storage_id {
        entries.push((text("storageId"), text(id)));
    }
    Value::Map(entries)
}

/// Encodes one message for a WebSocket binary frame.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut entries = vec![(text("type"), text(message.type_name()))];
    let mut put = |key: &str, value: Value| entries.push((text(key), value));
    match message {
        Message::Join {
            sender,
            supported_versions,
            metadata: meta,
        } => {
            put("senderId", text(sender));
            put("supportedProtocolVersions", texts(supported_versions));
            if let Some(m) = meta {
                put("peerMetadata", metadata(m));
            }
        }
        Message::Peer {
            sender,
            selected_version,
            target,
            metadata: meta,
        } => {
            put("senderId", text(sender));
            put("selectedProtocolVersion", text(selected_version));
            put("targetId", text(target));
            if let Some(m) = meta {
                put("peerMetadata", metadata(m));
            }
        }
        Message::Leave { sender } => put("senderId", text(sender)),
        Message::Request {
            document,
            sender,
            target,
            data,
        }
        | Message::Sync {
            document,
            sender,
            target,
            data,
        } => {
            put("documentId", text(&document.to_string()));
            put("senderId", text(sender));
            put("targetId", text(target));
            put("data", Value::Bytes(data.clone()));
        }
        Message::DocUnavailable {
            document,
            sender,
            target,
        } => {
            put("documentId", text(&document.to_string()));
            put("senderId", text(sender));
            put("targetId", text(target));
        }
        Message::Ephemeral {
            document,
            sender,
            target,
            count,
            session,
            data,
        } => {
            put("documentId", text(&document.to_string()));
            put("senderId", text(sender));
            put("targetId", text(target));
            put("count", Value::Integer((*count).into()));
            put("sessionId", text(session));
            put("data", Value::Bytes(data.clone()));
        }
        Message::Error { message } => put("message", text(message)),
        Message::RemoteSubscriptionChange {
            sender,
            target,
            add,
            remove,
        } => {
            put("senderId", text(sender));
            put("targetId", text(target));
            put("add", texts(add));
            put("remove", texts(remove));
        }
        Message::RemoteHeadsChanged {
            document,
            sender,
            target,
            new_heads,
        } => {
            put("documentId", text(&document.to_string()));
            put("senderId", text(sender));
            put("targetId", text(target));
            let heads = new_heads
                .iter()
                .map(|(storage, h)| {
                    (
                        text(storage),
                        Value::Map(vec![
                            (text("heads"), texts(&h.heads)),
                            (text("timestamp"), Value::Integer(h.timestamp.into())),
                        ]),
                    )
                })
                .collect();
            put("newHeads", Value::Map(heads));
        }
    }
    let mut out = Vec::new();
    // Writing a Value into a Vec cannot fail: no I/O, and every key is text.
    if ciborium::ser::into_writer(&Value::Map(entries), &mut out).is_err() {
        out.clear();
    }
    out
}
