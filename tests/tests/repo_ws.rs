//! The automerge-repo WebSocket endpoint (`/automerge`), end to end, with a WebSocket client
//! that speaks the protocol message by message (the JavaScript and samod suites use the
//! real libraries): credentials, the handshake, sync both ways with a gRPC replica, rights
//! (unavailable documents, refused writes, authorship, revocation), ephemeral relaying, and
//! bad input that must never take the hub down.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use nic_e2e::{TestHub, put};
use nic_model::DocumentId;
use nic_proto::v1;
use nic_repo_wire::{Limits, Message};
use nic_sync::automerge::sync::{self, SyncDoc};
use nic_sync::automerge::{Automerge, ROOT, ReadDoc};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message as Ws};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(20);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn ws_url(hub: &TestHub, query: &str) -> String {
    format!("{}/automerge{query}", hub.url.replace("http://", "ws://"))
}

async fn ticket(hub: &TestHub, token: &str) -> String {
    hub.directory_as(token)
        .await
        .issue_socket_ticket(v1::IssueSocketTicketRequest {})
        .await
        .unwrap()
        .into_inner()
        .ticket
}

/// A socket opened with a fresh ticket for `token`.
async fn open(hub: &TestHub, token: &str) -> Socket {
    let url = ws_url(hub, &format!("?ticket={}", ticket(hub, token).await));
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The HTTP status an upgrade was refused with.
fn refused_with(
    result: Result<(Socket, tungstenite::handshake::client::Response), tungstenite::Error>,
) -> u16 {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected a refusal, the upgrade succeeded"),
    }
}

/// Opens a socket with a ticket that should open nothing: the hub says why in an `error`
/// message (never `peer`, whatever is sent) and closes; the close code. (Not an HTTP 401:
/// automerge-repo's Node adapter throws on one when it reconnects with a spent ticket.)
async fn ticket_refused(hub: &TestHub, ticket: &str) -> u16 {
    let url = ws_url(hub, &format!("?ticket={ticket}"));
    let mut ws = tokio_tungstenite::connect_async(url).await.unwrap().0;
    let join = Message::Join {
        sender: "late".into(),
        supported_versions: vec!["1".into()],
        metadata: None,
    };
    let _ = ws
        .send(Ws::Binary(nic_repo_wire::encode(&join).into()))
        .await;
    let (code, reason, errors) = closed(&mut ws).await;
    assert!(reason.contains("unknown, spent or expired"), "{reason}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    code
}

async fn send(ws: &mut Socket, message: &Message) {
    ws.send(Ws::Binary(nic_repo_wire::encode(message).into()))
        .await
        .unwrap();
}

/// What the hub sent next.
#[derive(Debug)]
enum Got {
    Message(Message),
    Closed(u16, String),
}

async fn next(ws: &mut Socket) -> Got {
    let reading = async {
        loop {
            match ws.next().await {
                Some(Ok(Ws::Binary(bytes))) => {
                    return Got::Message(
                        nic_repo_wire::decode(&bytes, &Limits::default()).unwrap(),
                    );
                }
                Some(Ok(Ws::Close(frame))) => {
                    return match frame {
                        Some(f) => Got::Closed(f.code.into(), f.reason.to_string()),
                        None => Got::Closed(1005, String::new()),
                    };
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Got::Closed(1006, String::new()),
            }
        }
    };
    tokio::time::timeout(WAIT, reading)
        .await
        .expect("the hub sent nothing within the wait")
}

/// Reads until a message `pick` takes, failing if the socket closes first.
async fn until<T>(ws: &mut Socket, mut pick: impl FnMut(&Message) -> Option<T>) -> T {
    loop {
        match next(ws).await {
            Got::Message(m) => {
                if let Some(found) = pick(&m) {
                    return found;
                }
            }
            Got::Closed(code, reason) => panic!("closed ({code}: {reason}) before the message"),
        }
    }
}

/// Reads until the hub closes the socket: its code and reason, and the `error` messages
/// before it.
async fn closed(ws: &mut Socket) -> (u16, String, Vec<String>) {
    let mut errors = Vec::new();
    loop {
        match next(ws).await {
            Got::Message(Message::Error { message }) => errors.push(message),
            Got::Message(_) => {}
            Got::Closed(code, reason) => return (code, reason, errors),
        }
    }
}

/// Joins as `id`; the hub's peer id.
async fn join(ws: &mut Socket, id: &str) -> String {
    send(
        ws,
        &Message::Join {
            sender: id.into(),
            supported_versions: vec!["1".into()],
            metadata: None,
        },
    )
    .await;
    match next(ws).await {
        Got::Message(Message::Peer {
            sender,
            selected_version,
            target,
            ..
        }) => {
            assert_eq!(selected_version, "1");
            assert_eq!(target, id);
            assert!(sender.starts_with("nic-hub"), "{sender}");
            sender
        }
        other => panic!("expected peer, got {other:?}"),
    }
}

/// One side of an automerge-repo document sync, as a Repo's handle would run it.
struct Replica {
    doc: DocumentId,
    am: Automerge,
    state: sync::State,
    me: String,
    hub: String,
}

impl Replica {
    fn new(doc: DocumentId, me: &str, hub: &str) -> Self {
        Self {
            doc,
            am: Automerge::new(),
            state: sync::State::new(),
            me: me.into(),
            hub: hub.into(),
        }
    }

    /// Sends what the sync protocol has to say now (as `request` for the first message).
    async fn say(&mut self, ws: &mut Socket, first: bool) {
        if let Some(m) = self.am.generate_sync_message(&mut self.state) {
            let data = m.encode();
            let (document, sender, target) = (self.doc, self.me.clone(), self.hub.clone());
            let message = if first {
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
            };
            send(ws, &message).await;
        }
    }

    /// Sends a local change and keeps the sync going until the hub has stored what `done`
    /// looks for. The protocol holds a message back while an earlier one is in flight, so
    /// the hub's answer to that one (read and answered here) may be what lets this one go.
    async fn push(&mut self, ws: &mut Socket, hub: &TestHub, done: impl Fn(&Automerge) -> bool) {
        self.say(ws, false).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(&hub.saved(self.doc).await) {
            assert!(tokio::time::Instant::now() < deadline, "never stored");
            if let Ok(Got::Message(Message::Sync { document, data, .. })) =
                tokio::time::timeout(Duration::from_millis(50), next(ws)).await
                && document == self.doc
            {
                let message = sync::Message::decode(&data).unwrap();
                self.am
                    .receive_sync_message(&mut self.state, message)
                    .unwrap();
                self.say(ws, false).await;
            }
        }
    }

    /// Applies the hub's sync messages until `done` holds, answering each.
    async fn until(&mut self, ws: &mut Socket, mut done: impl FnMut(&Automerge) -> bool) {
        while !done(&self.am) {
            let data = until(ws, |m| match m {
                Message::Sync { document, data, .. } if *document == self.doc => Some(data.clone()),
                Message::DocUnavailable { document, .. } if *document == self.doc => {
                    panic!("document {document} unavailable")
                }
                _ => None,
            })
            .await;
            let message = sync::Message::decode(&data).unwrap();
            self.am
                .receive_sync_message(&mut self.state, message)
                .unwrap();
            self.say(ws, false).await;
        }
    }

    /// Requests the document and syncs until it holds the hub's heads.
    async fn fetch(&mut self, ws: &mut Socket, hub: &TestHub) {
        let want = hub.saved(self.doc).await.get_heads();
        self.say(ws, true).await;
        self.until(ws, |am| am.get_heads() == want).await;
    }
}

/// The network `algebra` (sites lincoln and adams) with lena (lead), sam (site member at
/// lincoln) and otto (observer); their tokens.
async fn network(hub: &TestHub) -> (String, String, String) {
    hub.ensure_network("algebra", &["lincoln", "adams"]).await;
    (
        hub.member("lena", v1::Role::NetworkLead, "algebra", "")
            .await,
        hub.member("sam", v1::Role::SiteMember, "algebra", "lincoln")
            .await,
        hub.member("otto", v1::Role::Observer, "algebra", "").await,
    )
}

#[tokio::test]
async fn credentials_are_required_and_a_ticket_opens_one_socket() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let connect = |url: String| tokio_tungstenite::connect_async(url);
    assert_eq!(refused_with(connect(ws_url(&hub, "")).await), 401);
    assert_eq!(ticket_refused(&hub, "made-up").await, 4401);

    let t = ticket(&hub, &hub.token).await;
    let mut ws = connect(ws_url(&hub, &format!("?ticket={t}")))
        .await
        .unwrap()
        .0;
    join(&mut ws, "tab-1").await;
    assert_eq!(
        ticket_refused(&hub, &t).await,
        4401,
        "a spent ticket opens nothing"
    );

    // The client library hands out the whole URL.
    let issued = nic_client::Hub::new(&hub.url, &hub.token, None)
        .unwrap()
        .socket_ticket()
        .await
        .unwrap();
    assert!(issued.url.starts_with("ws://127.0.0.1:"), "{}", issued.url);
    assert!(
        !format!("{issued:?}").contains(&issued.ticket),
        "Debug hides the ticket"
    );
    let mut ws = connect(issued.url).await.unwrap().0;
    join(&mut ws, "tab-2").await;

    // A client that can set headers may present its token instead.
    let mut request = ws_url(&hub, "").into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", hub.token).parse().unwrap(),
    );
    let mut ws = tokio_tungstenite::connect_async(request).await.unwrap().0;
    join(&mut ws, "tool-1").await;
    let mut request = ws_url(&hub, "").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer nic_not-a-token".parse().unwrap());
    assert_eq!(
        refused_with(tokio_tungstenite::connect_async(request).await),
        401
    );
    hub.stop().await;
}

#[tokio::test]
async fn sockets_and_streams_count_together_against_the_members_limit() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| c.max_streams_per_member = 2).await;
    let mut first = open(&hub, &hub.token).await;
    join(&mut first, "tab-1").await;
    let doc = hub.create_worksheet("algebra").await;
    let _replica = hub.replica("laptop", &hub.token, doc).await;
    let url = ws_url(&hub, &format!("?ticket={}", ticket(&hub, &hub.token).await));
    assert_eq!(
        refused_with(tokio_tungstenite::connect_async(url).await),
        429
    );
    // Closing one frees its place.
    first.close(None).await.unwrap();
    let _ = closed(&mut first).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let url = ws_url(&hub, &format!("?ticket={}", ticket(&hub, &hub.token).await));
        match tokio_tungstenite::connect_async(url).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the place was never freed: {e}"),
        }
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_document_syncs_both_ways_with_a_grpc_replica() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (lena, _, _) = network(&hub).await;
    let doc = hub.create_worksheet("algebra").await;

    let mut ws = open(&hub, &lena).await;
    let hub_id = join(&mut ws, "browser-tab").await;
    let mut tab = Replica::new(doc, "browser-tab", &hub_id);
    tab.fetch(&mut ws, &hub).await;
    assert_eq!(
        tab.am
            .get(ROOT, "kind")
            .unwrap()
            .unwrap()
            .0
            .into_string()
            .ok(),
        Some("pdsa_cycle".to_owned())
    );

    // gRPC → WebSocket.
    let replica = hub.replica("lena-laptop", &lena, doc).await;
    replica
        .edit(doc, |am| put(am, "from-grpc", 7))
        .await
        .unwrap();
    tab.until(&mut ws, |am| am.get(ROOT, "from-grpc").unwrap().is_some())
        .await;

    // WebSocket → hub storage → gRPC.
    put(&mut tab.am, "from-browser", 8);
    tab.push(&mut ws, &hub, |am| {
        am.get(ROOT, "from-browser").unwrap().is_some()
    })
    .await;
    replica
        .wait_for(doc, WAIT, |am| {
            am.get(ROOT, "from-browser").unwrap().is_some()
        })
        .await
        .unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn unknown_and_unreadable_documents_are_equally_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (_, sam, _) = network(&hub).await;
    // adams' own document: sam, at lincoln, may not read it.
    let hidden = hub
        .create_doc(
            "algebra",
            "adams",
            v1::Visibility::Site,
            &nic_e2e::worksheet(),
        )
        .await;
    let unknown = DocumentId::random(&mut rand::rng());

    let mut ws = open(&hub, &sam).await;
    let hub_id = join(&mut ws, "sam-tab").await;
    let mut answers = Vec::new();
    for doc in [hidden, unknown] {
        let mut r = Replica::new(doc, "sam-tab", &hub_id);
        r.say(&mut ws, true).await;
        let answer = until(&mut ws, |m| match m {
            Message::DocUnavailable { document, .. } if *document == doc => Some(m.clone()),
            Message::Sync { document, .. } if *document == doc => panic!("{doc} was served"),
            _ => None,
        })
        .await;
        answers.push(answer);
    }
    // Nothing but the id tells the two apart.
    let strip = |m: &Message| match m {
        Message::DocUnavailable { sender, target, .. } => (sender.clone(), target.clone()),
        _ => unreachable!(),
    };
    assert_eq!(strip(&answers[0]), strip(&answers[1]));
    hub.stop().await;
}

#[tokio::test]
async fn an_observers_change_is_refused_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (_, _, otto) = network(&hub).await;
    let doc = hub.create_worksheet("algebra").await;
    let before = hub.saved(doc).await.get_heads();

    let mut ws = open(&hub, &otto).await;
    let hub_id = join(&mut ws, "otto-tab").await;
    let mut tab = Replica::new(doc, "otto-tab", &hub_id);
    tab.fetch(&mut ws, &hub).await;
    // The hub told the observer's sync state it takes no changes: a cooperative client
    // (automerge-repo, samod) does not even send them.
    assert!(tab.state.is_peer_read_only());
    put(&mut tab.am, "observer-was-here", 1);
    tab.say(&mut ws, false).await;
    // A client that sends them anyway is refused.
    let forced = Message::Sync {
        document: doc,
        sender: "otto-tab".into(),
        target: hub_id.clone(),
        data: nic_e2e::changes_message(&tab.am, &before),
    };
    send(&mut ws, &forced).await;
    let refusal = until(&mut ws, |m| match m {
        Message::Error { message } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert!(refusal.contains("may not change"), "{refusal}");
    assert_eq!(hub.saved(doc).await.get_heads(), before, "nothing stored");

    // The socket goes on: the observer still reads what others write.
    let lena = hub
        .member("lena2", v1::Role::NetworkLead, "algebra", "")
        .await;
    let writer = hub.replica("lena2-laptop", &lena, doc).await;
    writer
        .edit(doc, |am| put(am, "lead-wrote", 2))
        .await
        .unwrap();
    let mut reader = Replica::new(doc, "otto-tab-2", &hub_id);
    let mut ws2 = open(&hub, &otto).await;
    join(&mut ws2, "otto-tab-2").await;
    reader.fetch(&mut ws2, &hub).await;
    assert!(reader.am.get(ROOT, "lead-wrote").unwrap().is_some());
    assert!(reader.am.get(ROOT, "observer-was-here").unwrap().is_none());
    hub.stop().await;
}

#[tokio::test]
async fn a_change_by_another_members_actor_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (lena, sam, _) = network(&hub).await;
    // At lincoln, where both lena (the lead) and sam (a site member) may write.
    let doc = hub
        .create_doc(
            "algebra",
            "lincoln",
            v1::Visibility::Network,
            &nic_e2e::worksheet(),
        )
        .await;

    // lena writes through a socket: her actor id is bound to her.
    let mut ws = open(&hub, &lena).await;
    let hub_id = join(&mut ws, "lena-tab").await;
    let mut lena_tab = Replica::new(doc, "lena-tab", &hub_id);
    lena_tab.fetch(&mut ws, &hub).await;
    put(&mut lena_tab.am, "by-lena", 1);
    lena_tab
        .push(&mut ws, &hub, |am| {
            am.get(ROOT, "by-lena").unwrap().is_some()
        })
        .await;

    // sam forges a change under lena's actor id.
    let mut ws2 = open(&hub, &sam).await;
    join(&mut ws2, "sam-tab").await;
    let mut forged = Replica::new(doc, "sam-tab", &hub_id);
    forged.fetch(&mut ws2, &hub).await;
    assert!(
        !forged.state.is_peer_read_only(),
        "sam may write at lincoln"
    );
    let since = forged.am.get_heads();
    forged.am.set_actor(lena_tab.am.get_actor().clone());
    put(&mut forged.am, "forged", 1);
    let message = Message::Sync {
        document: doc,
        sender: "sam-tab".into(),
        target: hub_id.clone(),
        data: nic_e2e::changes_message(&forged.am, &since),
    };
    send(&mut ws2, &message).await;
    let refusal = until(&mut ws2, |m| match m {
        Message::Error { message } => Some(message.clone()),
        _ => None,
    })
    .await;
    assert!(refusal.contains("belong to another member"), "{refusal}");
    assert!(hub.saved(doc).await.get(ROOT, "forged").unwrap().is_none());
    hub.stop().await;
}

#[tokio::test]
async fn revoking_the_token_closes_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (lena, _, _) = network(&hub).await;
    let doc = hub.create_worksheet("algebra").await;
    let mut ws = open(&hub, &lena).await;
    let hub_id = join(&mut ws, "lena-tab").await;
    let mut tab = Replica::new(doc, "lena-tab", &hub_id);
    tab.fetch(&mut ws, &hub).await;
    // A ticket issued before the revocation and used after it.
    let unspent = ticket(&hub, &lena).await;

    let mut directory = hub.directory().await;
    let tokens = directory
        .list_tokens(v1::ListTokensRequest {
            member_id: "lena".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens;
    for token in tokens {
        directory
            .revoke_token(v1::RevokeTokenRequest {
                token_id: token.token_id,
            })
            .await
            .unwrap();
    }
    let (code, reason, _) = closed(&mut ws).await;
    assert_eq!(code, 4401, "{reason}");
    assert!(reason.contains("revoked"), "{reason}");

    // The older ticket opens a socket, but the hub never answers its join.
    let url = ws_url(&hub, &format!("?ticket={unspent}"));
    let mut late = tokio_tungstenite::connect_async(url).await.unwrap().0;
    send(
        &mut late,
        &Message::Join {
            sender: "late".into(),
            supported_versions: vec!["1".into()],
            metadata: None,
        },
    )
    .await;
    match next(&mut late).await {
        Got::Message(Message::Error { message }) => {
            assert!(message.contains("revoked"), "{message}")
        }
        other => panic!("expected the refusal, got {other:?}"),
    }
    let (code, _, _) = closed(&mut late).await;
    assert_eq!(code, 4401);
    hub.stop().await;
}

#[tokio::test]
async fn a_narrower_role_makes_a_document_unavailable_on_a_live_socket() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (_, sam, _) = network(&hub).await;
    let lincoln = hub
        .create_doc(
            "algebra",
            "lincoln",
            v1::Visibility::Site,
            &nic_e2e::worksheet(),
        )
        .await;
    let mut ws = open(&hub, &sam).await;
    let hub_id = join(&mut ws, "sam-tab").await;
    let mut tab = Replica::new(lincoln, "sam-tab", &hub_id);
    tab.fetch(&mut ws, &hub).await;

    // sam moves to adams: lincoln's own documents are no longer his to read.
    hub.directory()
        .await
        .set_role(v1::SetRoleRequest {
            member_id: "sam".into(),
            role: v1::Role::SiteMember as i32,
            site_id: "adams".into(),
        })
        .await
        .unwrap();
    until(&mut ws, |m| match m {
        Message::DocUnavailable { document, .. } if *document == lincoln => Some(()),
        Message::Sync { document, .. } if *document == lincoln => None,
        _ => None,
    })
    .await;
    // Asking again changes nothing.
    let mut again = Replica::new(lincoln, "sam-tab", &hub_id);
    again.say(&mut ws, true).await;
    until(&mut ws, |m| match m {
        Message::DocUnavailable { document, .. } if *document == lincoln => Some(()),
        Message::Sync { document, .. } if *document == lincoln => panic!("served after the move"),
        _ => None,
    })
    .await;
    hub.stop().await;
}

#[tokio::test]
async fn ephemeral_messages_reach_the_documents_other_readers_only() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (lena, sam, _) = network(&hub).await;
    let lincoln = hub
        .create_doc(
            "algebra",
            "lincoln",
            v1::Visibility::Site,
            &nic_e2e::worksheet(),
        )
        .await;
    let adams = hub
        .create_doc(
            "algebra",
            "adams",
            v1::Visibility::Site,
            &nic_e2e::worksheet(),
        )
        .await;

    let mut a = open(&hub, &lena).await;
    let hub_id = join(&mut a, "lena-tab").await;
    let mut b = open(&hub, &sam).await;
    join(&mut b, "sam-tab").await;
    Replica::new(lincoln, "lena-tab", &hub_id)
        .fetch(&mut a, &hub)
        .await;
    Replica::new(adams, "lena-tab", &hub_id)
        .fetch(&mut a, &hub)
        .await;
    Replica::new(lincoln, "sam-tab", &hub_id)
        .fetch(&mut b, &hub)
        .await;
    // sam also asks for adams' document, and is refused.
    Replica::new(adams, "sam-tab", &hub_id)
        .say(&mut b, true)
        .await;
    until(&mut b, |m| {
        matches!(m, Message::DocUnavailable { document, .. } if *document == adams).then_some(())
    })
    .await;

    let ephemeral = |doc, count, sender: &str| Message::Ephemeral {
        document: doc,
        sender: sender.into(),
        target: hub_id.clone(),
        count,
        session: "s-1".into(),
        data: vec![0xa1, 0x61, 0x78, 0x01],
    };
    // First about adams (sam may not read it), then about lincoln: the hub relays in order,
    // so sam receiving the second without the first proves the first was withheld.
    send(&mut a, &ephemeral(adams, 1, "lena-tab")).await;
    send(&mut a, &ephemeral(lincoln, 2, "someone-else")).await;
    let got = until(&mut b, |m| match m {
        Message::Ephemeral { .. } => Some(m.clone()),
        _ => None,
    })
    .await;
    match got {
        Message::Ephemeral {
            document,
            sender,
            target,
            count,
            data,
            ..
        } => {
            assert_eq!(document, lincoln);
            assert_eq!(count, 2);
            assert_eq!(
                sender, "lena-tab",
                "the sender is who joined, not who it claims"
            );
            assert_eq!(target, "sam-tab");
            assert_eq!(data, vec![0xa1, 0x61, 0x78, 0x01]);
        }
        _ => unreachable!(),
    }
    hub.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_the_hub_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| c.max_message_bytes = 64 * 1024).await;
    let doc = hub.create_worksheet("algebra").await;

    // A message before join.
    let mut ws = open(&hub, &hub.token).await;
    Replica::new(doc, "early", "nic-hub")
        .say(&mut ws, true)
        .await;
    let (code, reason, _) = closed(&mut ws).await;
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("join"), "{reason}");

    // An unsupported protocol version.
    let mut ws = open(&hub, &hub.token).await;
    send(
        &mut ws,
        &Message::Join {
            sender: "v2".into(),
            supported_versions: vec!["2".into()],
            metadata: None,
        },
    )
    .await;
    let (code, reason, _) = closed(&mut ws).await;
    assert_eq!(code, 1008, "{reason}");

    // Garbage, an unknown type, a map without fields: told, and the socket stays.
    let mut ws = open(&hub, &hub.token).await;
    let hub_id = join(&mut ws, "fuzzy").await;
    let unknown = {
        let mut bytes = Vec::new();
        ciborium_like_map(
            &mut bytes,
            &[("type", "no-such-type"), ("senderId", "fuzzy")],
        );
        bytes
    };
    for junk in [
        vec![0xff, 0x00, 0x13],
        unknown,
        vec![0xa0],
        b"\x82\x01\x02".to_vec(),
    ] {
        ws.send(Ws::Binary(junk.into())).await.unwrap();
        let told = until(&mut ws, |m| match m {
            Message::Error { message } => Some(message.clone()),
            _ => None,
        })
        .await;
        assert!(told.starts_with("message ignored"), "{told}");
    }
    let mut r = Replica::new(doc, "fuzzy", &hub_id);
    r.fetch(&mut ws, &hub).await;

    // A text frame ends the socket.
    ws.send(Ws::Text("{\"type\":\"join\"}".into()))
        .await
        .unwrap();
    let (code, _, _) = closed(&mut ws).await;
    assert_eq!(code, 1003);

    // A message over the size limit ends the socket.
    let mut ws = open(&hub, &hub.token).await;
    join(&mut ws, "huge").await;
    let huge = Message::Sync {
        document: doc,
        sender: "huge".into(),
        target: hub_id.clone(),
        data: vec![0; 70 * 1024],
    };
    let _ = ws
        .send(Ws::Binary(nic_repo_wire::encode(&huge).into()))
        .await;
    let (code, _, _) = closed(&mut ws).await;
    assert_eq!(code, 1009);

    // The hub still serves both protocols.
    let mut ws = open(&hub, &hub.token).await;
    let hub_id = join(&mut ws, "after").await;
    Replica::new(doc, "after", &hub_id)
        .fetch(&mut ws, &hub)
        .await;
    hub.directory()
        .await
        .who_am_i(v1::WhoAmIRequest {})
        .await
        .unwrap();
    hub.stop().await;
}

#[tokio::test]
async fn grpc_web_answers_unary_calls_on_the_same_port() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let addr = hub.url.trim_start_matches("http://").to_owned();
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    // WhoAmIRequest is empty: one uncompressed frame of length 0.
    let request = format!(
        "POST /nic.v1.Directory/WhoAmI HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\nauthorization: Bearer {}\r\ncontent-length: 5\r\nconnection: close\r\n\r\n",
        hub.token
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    tcp.write_all(&[0, 0, 0, 0, 0]).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("application/grpc-web"), "{text}");
    assert!(text.contains("grpc-status:0"), "{text}");
    assert!(text.contains("admin"), "the member came back: {text}");
    hub.stop().await;
}

/// A CBOR map of text keys to text values, written by hand (so the test does not depend on
/// the encoder it checks).
fn ciborium_like_map(out: &mut Vec<u8>, pairs: &[(&str, &str)]) {
    out.push(0xa0 | u8::try_from(pairs.len()).unwrap());
    for (k, v) in pairs {
        for s in [k, v] {
            out.push(0x60 | u8::try_from(s.len()).unwrap());
            out.extend_from_slice(s.as_bytes());
        }
    }
}
