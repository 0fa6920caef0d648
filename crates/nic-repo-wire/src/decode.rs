//! Bytes to [`Message`]: CBOR into a generic value (bounded in size and depth), then each
//! field read by name with its type checked.

use std::collections::BTreeMap;

use ciborium::Value;
use nic_model::DocumentId;

use crate::{DecodeError, Limits, Message, PeerMetadata, RemoteHeads};

/// Decodes one WebSocket message. Fields the protocol does not define are ignored, as the
/// JavaScript implementation ignores them.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: limits.max_message_bytes,
        });
    }
    let value: Value = ciborium::de::from_reader_with_recursion_limit(bytes, limits.max_depth)
        .map_err(|e| DecodeError::NotCbor(e.to_string()))?;
    let Value::Map(entries) = value else {
        return Err(DecodeError::NotAMap);
    };
    let fields = Fields { entries: &entries };
    let kind = fields.text_any("message", "type")?;
    match kind.as_str() {
        "join" => {
            let k = "join";
            Ok(Message::Join {
                sender: fields.text(k, "senderId")?,
                supported_versions: fields.texts(k, "supportedProtocolVersions")?,
                metadata: fields.metadata(k)?,
            })
        }
        "peer" => {
            let k = "peer";
            Ok(Message::Peer {
                sender: fields.text(k, "senderId")?,
                selected_version: fields.text(k, "selectedProtocolVersion")?,
                target: fields.text(k, "targetId")?,
                metadata: fields.metadata(k)?,
            })
        }
        "leave" => Ok(Message::Leave {
            sender: fields.text("leave", "senderId")?,
        }),
        "request" | "sync" => {
            let k = if kind == "request" { "request" } else { "sync" };
            let document = fields.document(k)?;
            let sender = fields.text(k, "senderId")?;
            let target = fields.text(k, "targetId")?;
            let data = fields.bytes(k, "data")?;
            Ok(if k == "request" {
                Message::Request {
                    document,
                    sender,
                    target,
                    data,
                }
            } else {
                Message::Sync {
                    document,
                    sender,
                    target,
                    data,
                }
            })
        }
        "doc-unavailable" => {
            let k = "doc-unavailable";
            Ok(Message::DocUnavailable {
                document: fields.document(k)?,
                sender: fields.text(k, "senderId")?,
                target: fields.text(k, "targetId")?,
            })
        }
        "ephemeral" => {
            let k = "ephemeral";
            Ok(Message::Ephemeral {
                document: fields.document(k)?,
                sender: fields.text(k, "senderId")?,
                target: fields.text(k, "targetId")?,
                count: fields.uint(k, "count")?,
                session: fields.text(k, "sessionId")?,
                data: fields.bytes(k, "data")?,
            })
        }
        "error" => Ok(Message::Error {
            message: fields.text("error", "message")?,
        }),
        "remote-subscription-change" => {
            let k = "remote-subscription-change";
            Ok(Message::RemoteSubscriptionChange {
                sender: fields.text(k, "senderId")?,
                target: fields.text(k, "targetId")?,
                add: fields.optional_texts(k, "add")?,
                remove: fields.optional_texts(k, "remove")?,
            })
        }
        "remote-heads-changed" => {
            let k = "remote-heads-changed";
            Ok(Message::RemoteHeadsChanged {
                document: fields.document(k)?,
                sender: fields.text(k, "senderId")?,
                target: fields.text(k, "targetId")?,
                new_heads: fields.new_heads(k)?,
            })
        }
        _ => Err(DecodeError::UnknownType(kind)),
    }
}

/// A map's entries, read by text key.
struct Fields<'a> {
    entries: &'a [(Value, Value)],
}

fn invalid(kind: &'static str, field: &'static str, problem: impl Into<String>) -> DecodeError {
    DecodeError::Invalid {
        kind,
        field,
        problem: problem.into(),
    }
}

impl<'a> Fields<'a> {
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_text() == Some(field))
            .map(|(_, v)| v)
    }

    fn required(&self, kind: &'static str, field: &'static str) -> Result<&'a Value, DecodeError> {
        self.get(field).ok_or(DecodeError::Missing { kind, field })
    }

    /// The `type` field, before the message's kind is known.
    fn text_any(&self, kind: &'static str, field: &'static str) -> Result<String, DecodeError> {
        self.text(kind, field)
    }

    fn text(&self, kind: &'static str, field: &'static str) -> Result<String, DecodeError> {
        as_text(kind, field, self.required(kind, field)?)
    }

    fn texts(&self, kind: &'static str, field: &'static str) -> Result<Vec<String>, DecodeError> {
        match self.required(kind, field)? {
            Value::Array(items) => items.iter().map(|v| as_text(kind, field, v)).collect(),
            // The README's CDDL allows a single version where the code sends a list.
            Value::Text(t) => Ok(vec![t.clone()]),
            _ => Err(invalid(kind, field, "must be a list of strings")),
        }
    }

    fn optional_texts(
        &self,
        kind: &'static str,
        field: &'static str,
    ) -> Result<Vec<String>, DecodeError> {
        match self.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(|v| as_text(kind, field, v)).collect(),
            Some(_) => Err(invalid(kind, field, "must be a list of strings")),
        }
    }

    fn bytes(&self, kind: &'static str, field: &'static str) -> Result<Vec<u8>, DecodeError> {
        match self.required(kind, field)? {
            Value::Bytes(b) => Ok(b.clone()),
            _ => Err(invalid(kind, field, "must be a byte string")),
        }
    }

    fn uint(&self, kind: &'static str, field: &'static str) -> Result<u64, DecodeError> {
        match self.required(kind, field)? {
            Value::Integer(i) => {
                u64::try_from(*i).map_err(|_| invalid(kind, field, "must be a whole number ≥ 0"))
            }
            _ => Err(invalid(kind, field, "must be a whole number ≥ 0")),
        }
    }

    fn document(&self, kind: &'static str) -> Result<DocumentId, DecodeError> {
        let text = self.text(kind, "documentId")?;
        text.parse().map_err(|e| {
            invalid(
                kind,
                "documentId",
                format!("{text:?} is not a document id: {e}"),
            )
        })
    }

    fn metadata(&self, kind: &'static str) -> Result<Option<PeerMetadata>, DecodeError> {
        let field = "peerMetadata";
        let value = match self.get(field).or_else(|| self.get("metadata")) {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let Value::Map(entries) = value else {
            return Err(invalid(kind, field, "must be a map"));
        };
        let inner = Fields { entries };
        let storage_id = match inner.get("storageId") {
            None | Some(Value::Null) => None,
            Some(v) => Some(as_text(kind, "peerMetadata.storageId", v)?),
        };
        let is_ephemeral = match inner.get("isEphemeral") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(invalid(
                    kind,
                    "peerMetadata.isEphemeral",
                    "must be true or false",
                ));
            }
        };
        Ok(Some(PeerMetadata {
            storage_id,
            is_ephemeral,
        }))
    }

    fn new_heads(&self, kind: &'static str) -> Result<BTreeMap<String, RemoteHeads>, DecodeError> {
        let field = "newHeads";
        let Value::Map(entries) = self.required(kind, field)? else {
            return Err(invalid(kind, field, "must be a map from storage id"));
        };
        let mut out = BTreeMap::new();
        for (storage, entry) in entries {
            let storage = as_text(kind, field, storage)?;
            let Value::Map(inner) = entry else {
                return Err(invalid(kind, field, "each entry must be a map"));
            };
            let inner = Fields { entries: inner };
            out.insert(
                storage,
                RemoteHeads {
                    heads: inner.texts(kind, "heads")?,
                    timestamp: inner.uint(kind, "timestamp")?,
                },
            );
        }
        Ok(out)
    }
}

fn as_text(kind: &'static str, field: &'static str, v: &Value) -> Result<String, DecodeError> {
    v.as_text()
        .map(str::to_owned)
        .ok_or_else(|| invalid(kind, field, "must be a string"))
}
