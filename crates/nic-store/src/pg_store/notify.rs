//! Telling the other hubs on one database what this one made durable, and hearing what
//! they did (PostgreSQL's `LISTEN`/`NOTIFY`).
//!
//! Each write records a [`Note`] once it commits; the next flush sends every note recorded
//! so far in its own transaction, whose synchronous commit is what makes those writes
//! durable. PostgreSQL delivers a notification only when the transaction that sent it
//! commits, so another hub hears of a chunk only once it is durable: it never relays a
//! change that a crash of the database could still take back. A hub that dies between a
//! write and its flush tells nobody; nothing of that write was acknowledged, and its
//! authors send it again.
//!
//! Notifications are not stored: a hub whose listening connection breaks reconnects and
//! is told [`StoreEvent::Resync`], so it reads again what it holds.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nic_model::{DocumentId, MemberId, TokenId};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Transaction};
use serde::{Deserialize, Serialize};

use crate::{ChunkSeq, StoreError, StoreEvent};

/// The `application_name` of a hub's listening connection.
pub(super) const LISTENER_NAME: &str = "nic-hub listener";
/// The channel every hub of a database listens on.
pub(super) const CHANNEL: &str = "nic_hub";
/// PostgreSQL refuses payloads of 8000 bytes or more: notes are split well below.
const MAX_PAYLOAD: usize = 7000;
/// How long the listener waits for a notification before checking it should go on.
const POLL: Duration = Duration::from_millis(250);
/// How often an idle listening connection is checked (a broken one may look idle).
const HEALTH_CHECK: Duration = Duration::from_secs(5);

/// Something this hub made durable that the others must hear of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Note {
    Chunk(DocumentId, ChunkSeq),
    Meta(DocumentId),
    Member(MemberId),
    Token(TokenId),
}

/// A notification's payload: the sender, then what it made durable, by kind.
#[derive(Default, Serialize, Deserialize)]
struct Payload {
    /// The sending store (so it can skip its own).
    o: String,
    /// Chunks: document id (text) and sequence number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    c: Vec<(String, i64)>,
    /// Documents whose metadata changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    m: Vec<String>,
    /// Members that changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    u: Vec<String>,
    /// Tokens that changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    t: Vec<String>,
}

impl Payload {
    fn add(&mut self, note: &Note) {
        match note {
            Note::Chunk(doc, seq) => self.c.push((doc.to_string(), seq.0)),
            Note::Meta(doc) => self.m.push(doc.to_string()),
            Note::Member(m) => self.u.push(m.as_str().to_owned()),
            Note::Token(t) => self.t.push(t.as_str().to_owned()),
        }
    }
}

/// A name for this store among the database's hubs: random per process and per store.
pub(super) fn new_origin() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// The payloads that carry `notes`, each small enough for PostgreSQL.
fn payloads(origin: &str, notes: &[Note]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = Payload {
        o: origin.to_owned(),
        ..Payload::default()
    };
    let mut size = 0;
    for note in notes {
        // A generous bound on a note's encoded size (ids are short).
        let cost = 96;
        if size + cost > MAX_PAYLOAD {
            out.push(encode(&current));
            current = Payload {
                o: origin.to_owned(),
                ..Payload::default()
            };
            size = 0;
        }
        current.add(note);
        size += cost;
    }
    if size > 0 {
        out.push(encode(&current));
    }
    out
}

fn encode(p: &Payload) -> String {
    // Strings and integers only: encoding cannot fail.
    serde_json::to_string(p).unwrap_or_default()
}

/// Sends `notes` within `tx` (delivered when it commits).
pub(super) fn send(
    tx: &mut Transaction<'_>,
    origin: &str,
    notes: &[Note],
) -> Result<(), StoreError> {
    for payload in payloads(origin, notes) {
        tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])?;
    }
    Ok(())
}

/// The events in a payload another store sent; `None` for our own, or one we cannot read
/// (from a newer hub, say: it is logged, and skipped).
fn events(origin: &str, payload: &str) -> Option<Vec<StoreEvent>> {
    let p: Payload = match serde_json::from_str(payload) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "an unreadable notification from another hub was skipped");
            return None;
        }
    };
    if p.o == origin {
        return None;
    }
    let mut chunks: BTreeMap<DocumentId, Vec<ChunkSeq>> = BTreeMap::new();
    for (doc, seq) in &p.c {
        if let Ok(doc) = doc.parse::<DocumentId>() {
            chunks.entry(doc).or_default().push(ChunkSeq(*seq));
        }
    }
    let mut out: Vec<StoreEvent> = chunks
        .into_iter()
        .map(|(doc, seqs)| StoreEvent::Chunks { doc, seqs })
        .collect();
    out.extend(
        p.m.iter()
            .filter_map(|d| d.parse().ok())
            .map(StoreEvent::Meta),
    );
    out.extend(
        p.u.into_iter()
            .filter_map(|m| MemberId::new(m).ok())
            .map(StoreEvent::Member),
    );
    out.extend(
        p.t.into_iter()
            .filter_map(|t| TokenId::new(t).ok())
            .map(StoreEvent::Token),
    );
    Some(out)
}

/// A listening connection.
fn listening(url: &str) -> Result<Client, StoreError> {
    let mut config: postgres::Config = url.parse()?;
    // So an operator (or a test) can tell it apart in pg_stat_activity.
    config.application_name(LISTENER_NAME);
    let mut client = config.connect(postgres::NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(client)
}

/// The listener thread's loop: hears notifications until `stop` is set or `on_event` says
/// stop; reconnects (with growing pauses, up to two seconds) when the connection is lost,
/// then tells [`StoreEvent::Resync`].
pub(super) fn listen_loop(
    url: &str,
    origin: &str,
    mut client: Client,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(StoreEvent) -> bool,
) {
    let mut checked = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let mut lost = false;
        {
            let mut notes = client.notifications();
            let mut iter = notes.timeout_iter(POLL);
            loop {
                match iter.next() {
                    Ok(Some(n)) => {
                        for event in events(origin, n.payload()).into_iter().flatten() {
                            if !on_event(event) {
                                return;
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        lost = true;
                        break;
                    }
                }
            }
        }
        if !lost && checked.elapsed() >= HEALTH_CHECK {
            checked = Instant::now();
            lost = client.simple_query("SELECT 1").is_err();
        }
        if !lost && !client.is_closed() {
            continue;
        }
        tracing::warn!("lost the connection that hears the other hubs; reconnecting");
        let mut pause = Duration::from_millis(50);
        client = loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match listening(url) {
                Ok(c) => break c,
                Err(_) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        };
        tracing::info!("hearing the other hubs again; re-reading what was missed");
        if !on_event(StoreEvent::Resync) {
            return;
        }
    }
}

/// Connects the listening connection (so a bad URL fails at once, in the caller).
pub(super) fn connect_listener(url: &str) -> Result<Client, StoreError> {
    listening(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_stay_under_the_limit() {
        let doc = DocumentId::from_bytes([7; 16]);
        let notes: Vec<Note> = (0..500)
            .map(|i| Note::Chunk(doc, ChunkSeq(i)))
            .chain([
                Note::Meta(doc),
                Note::Member(MemberId::new("ana").unwrap()),
                Note::Token(TokenId::new("t1").unwrap()),
            ])
            .collect();
        let sent = payloads("a", &notes);
        assert!(sent.len() > 1, "500 chunks need several payloads");
        let mut seqs = Vec::new();
        let mut rest = Vec::new();
        for p in &sent {
            assert!(p.len() < 8000, "{} bytes", p.len());
            assert_eq!(events("a", p), None, "our own are skipped");
            for e in events("b", p).unwrap() {
                match e {
                    StoreEvent::Chunks { seqs: s, .. } => seqs.extend(s),
                    other => rest.push(other),
                }
            }
        }
        assert_eq!(seqs, (0..500).map(ChunkSeq).collect::<Vec<_>>());
        assert_eq!(
            rest,
            [
                StoreEvent::Meta(doc),
                StoreEvent::Member(MemberId::new("ana").unwrap()),
                StoreEvent::Token(TokenId::new("t1").unwrap()),
            ]
        );
        assert_eq!(events("b", "not json"), None);
    }
}
