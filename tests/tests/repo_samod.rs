//! samod 0.16, the Rust automerge-repo, against the hub's automerge-repo endpoint
//! (`ws://HOST:PORT/automerge`, a bearer token on the upgrade or a ticket in the URL): it
//! finds a hub document by id, two samod clients and a `nic-client` replica converge on it,
//! an observer's change is neither stored nor relayed, a document the member may not read
//! is as unavailable as one that does not exist, and revoking the token closes the socket.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use nic_e2e::{TestHub, put, worksheet};
use nic_load::samod_ws::{Refused, Seen, WsDialer};
use nic_model::{DocumentId, MemberId};
use nic_proto::v1;
use nic_repo_wire::Message;
use nic_sync::automerge::{Automerge, ROOT, ReadDoc};
use samod::{BackoffConfig, DialerEvent, DialerFailed, DialerHandle, DocHandle, Repo};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

/// A samod repo connected to the hub, and what its connection received.
struct SamodPeer {
    repo: Repo,
    dialer: DialerHandle<Refused>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl SamodPeer {
    /// A samod repo `name` that dials the hub's endpoint with `token` in the
    /// `Authorization` header (without waiting).
    async fn dial(hub: &TestHub, name: &str, token: &str) -> SamodPeer {
        let dialer = WsDialer::new(&ws_url(hub), Some(token.to_owned())).unwrap();
        Self::with_dialer(name, dialer).await
    }

    /// A samod repo `name` that dials the hub's endpoint with a fresh ticket in the URL for
    /// each connection, as a browser would, issued to `token`; connected.
    async fn connect_with_tickets(hub: &TestHub, name: &str, token: &str) -> SamodPeer {
        let issuer = nic_client::Hub::new(&hub.url, token, None).unwrap();
        let dialer = WsDialer::with_tickets(issuer, &ws_url(hub)).unwrap();
        let peer = Self::with_dialer(name, dialer).await;
        peer.established().await;
        peer
    }

    async fn with_dialer(name: &str, dialer: WsDialer) -> SamodPeer {
        let repo = Repo::build_tokio()
            .with_peer_id(samod::PeerId::from(name))
            .load()
            .await;
        let (tx, seen) = mpsc::unbounded_channel();
        let dialer = dialer.tapped(tx);
        let backoff = BackoffConfig {
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(500),
            max_retries: Some(5),
        };
        let dialer = repo.dial(backoff, Arc::new(dialer)).unwrap();
        SamodPeer { repo, dialer, seen }
    }

    /// As [`SamodPeer::dial`], connected.
    async fn connect(hub: &TestHub, name: &str, token: &str) -> SamodPeer {
        let peer = Self::dial(hub, name, token).await;
        peer.established().await;
        peer
    }

    async fn established(&self) {
        tokio::time::timeout(WAIT, self.dialer.established())
            .await
            .expect("the handshake never completed")
            .expect("the hub refused the connection");
    }

    /// `repo.find("automerge:<doc>")`: the document, or `None` if the hub says unavailable.
    async fn find(&self, doc: DocumentId) -> Option<DocHandle> {
        let id = samod::DocumentId::from_str(&doc.to_string()).unwrap();
        tokio::time::timeout(WAIT, self.repo.find(id))
            .await
            .expect("find never answered")
            .unwrap()
    }

    /// Reads what the connection received until `pick` returns something.
    async fn until<T>(&mut self, what: &str, mut pick: impl FnMut(&Seen) -> Option<T>) -> T {
        let reading = async {
            while let Some(seen) = self.seen.recv().await {
                if let Some(found) = pick(&seen) {
                    return found;
                }
            }
            panic!("the connection ended before {what}");
        };
        tokio::time::timeout(WAIT, reading)
            .await
            .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
    }

    /// Reads until a protocol message `pick` returns something for.
    async fn until_message<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&Message) -> Option<T>,
    ) -> T {
        self.until(what, |seen| match seen {
            Seen::Message(bytes) => {
                let message = nic_repo_wire::decode(bytes, &Default::default())
                    .expect("the hub sent a message the protocol does not have");
                pick(&message)
            }
            Seen::Closed { .. } => None,
        })
        .await
    }

    async fn stop(self) {
        self.dialer.close();
        self.repo.stop().await;
    }
}

fn ws_url(hub: &TestHub) -> String {
    format!("{}/automerge", hub.url.replace("http://", "ws://"))
}

/// The hub with network `algebra` (sites lincoln and adams) and members: lena and cara
/// (leads), sam (site member at lincoln), otto (observer); returns their tokens.
async fn network(hub: &TestHub) -> [String; 4] {
    hub.ensure_network("algebra", &["lincoln", "adams"]).await;
    [
        hub.member("lena", v1::Role::NetworkLead, "algebra", "")
            .await,
        hub.member("cara", v1::Role::NetworkLead, "algebra", "")
            .await,
        hub.member("sam", v1::Role::SiteMember, "algebra", "lincoln")
            .await,
        hub.member("otto", v1::Role::Observer, "algebra", "").await,
    ]
}

/// Sets `key` in one change made through samod.
fn samod_put(doc: &DocHandle, key: &str) {
    doc.with_document(|am| put(am, key, 1));
}

fn has(am: &Automerge, key: &str) -> bool {
    am.get(ROOT, key).ok().flatten().is_some()
}

/// Waits until the samod copy holds every key.
async fn until_has(doc: &DocHandle, keys: &[&str]) {
    let mut changes = doc.changes();
    let waiting = async {
        while !doc.with_document(|am| keys.iter().all(|k| has(am, k))) {
            changes.next().await.expect("the document was dropped");
        }
    };
    tokio::time::timeout(WAIT, waiting)
        .await
        .unwrap_or_else(|_| panic!("{keys:?} never all reached samod's copy"));
}

#[tokio::test]
async fn two_samod_clients_and_a_replica_converge_on_a_hub_document() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let [lena, cara, sam, _] = network(&hub).await;
    let doc = hub
        .create_doc("algebra", "lincoln", v1::Visibility::Network, &worksheet())
        .await;

    let mut a = SamodPeer::connect(&hub, "samod-lena", &lena).await;
    let hub_peer = a
        .until_message("the hub's peer message", |m| match m {
            Message::Peer { sender, .. } => Some(sender.clone()),
            _ => None,
        })
        .await;
    assert!(hub_peer.starts_with("nic-hub"), "{hub_peer}");
    // The other through a ticket in the URL, the way browsers and JS adapters connect.
    let b = SamodPeer::connect_with_tickets(&hub, "samod-sam", &sam).await;
    let in_a = a.find(doc).await.expect("lena's samod found the document");
    let in_b = b.find(doc).await.expect("sam's samod found the document");
    // What the hub created is what samod found.
    in_a.with_document(|am| assert!(has(am, "notes")));

    samod_put(&in_a, "from_lena");
    samod_put(&in_b, "from_sam");
    let replica = hub.replica("replica-cara", &cara, doc).await;
    replica
        .edit(doc, |am| put(am, "from_cara", 1))
        .await
        .unwrap();

    let all = ["from_lena", "from_sam", "from_cara"];
    until_has(&in_a, &all).await;
    until_has(&in_b, &all).await;
    replica
        .wait_for(doc, WAIT, move |am| all.iter().all(|k| has(am, k)))
        .await
        .unwrap();
    let saved = hub.saved(doc).await;
    assert!(
        all.iter().all(|k| has(&saved, k)),
        "the hub stored them all"
    );
    a.stop().await;
    b.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn an_observers_change_is_neither_stored_nor_relayed() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let [lena, _, _, otto] = network(&hub).await;
    let doc = hub
        .create_doc("algebra", "lincoln", v1::Visibility::Network, &worksheet())
        .await;
    let editor = SamodPeer::connect(&hub, "samod-lena", &lena).await;
    let in_editor = editor.find(doc).await.unwrap();
    let mut observer = SamodPeer::connect(&hub, "samod-otto", &otto).await;
    let in_observer = observer.find(doc).await.expect("an observer reads");

    // The hub marks an observer's sync state read-only, so samod keeps the change local
    // (a client that sends one anyway gets an `error`: see repo_ws.rs).
    samod_put(&in_observer, "from_otto");
    // Then the editor writes, and the observer receives it: sync ran both ways since.
    samod_put(&in_editor, "from_lena");
    until_has(&in_observer, &["from_lena"]).await;
    let replica = hub.replica("replica-lena", &lena, doc).await;
    replica
        .wait_for(doc, WAIT, |am| has(am, "from_lena"))
        .await
        .unwrap();
    replica
        .read(doc, |am| assert!(!has(am, "from_otto"), "it was relayed"))
        .await
        .unwrap();
    assert!(!has(&hub.saved(doc).await, "from_otto"), "it was stored");
    in_editor.with_document(|am| assert!(!has(am, "from_otto"), "it was relayed"));
    // The socket stayed open throughout: no error, no close.
    while let Ok(seen) = observer.seen.try_recv() {
        if let Seen::Message(bytes) = &seen {
            let m = nic_repo_wire::decode(bytes, &Default::default()).unwrap();
            assert!(!matches!(m, Message::Error { .. }), "{m:?}");
        } else {
            panic!("the observer's socket closed: {seen:?}");
        }
    }
    observer.stop().await;
    editor.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn a_document_the_member_may_not_read_is_unavailable_like_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let [lena, _, sam, _] = network(&hub).await;
    // Visible at adams only: sam is at lincoln.
    let private = hub
        .create_doc("algebra", "adams", v1::Visibility::Site, &worksheet())
        .await;
    let missing = DocumentId::random(&mut rand::rng());

    let mut s = SamodPeer::connect(&hub, "samod-sam", &sam).await;
    for doc in [private, missing] {
        assert!(s.find(doc).await.is_none(), "{doc} was found");
        let unavailable = s
            .until_message("doc-unavailable", |m| match m {
                Message::DocUnavailable { document, .. } => Some(*document),
                _ => None,
            })
            .await;
        assert_eq!(unavailable, doc);
    }
    // The lead, who may read it, finds it: it exists.
    let l = SamodPeer::connect(&hub, "samod-lena", &lena).await;
    assert!(l.find(private).await.is_some());
    s.stop().await;
    l.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn revoking_the_token_closes_the_socket_and_the_next_upgrade_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    network(&hub).await;
    let doc = hub
        .create_doc("algebra", "lincoln", v1::Visibility::Network, &worksheet())
        .await;
    let admin = nic_client::Hub::new(&hub.url, &hub.token, None).unwrap();
    let issued = admin
        .issue_token(&MemberId::new("lena").unwrap(), "samod", None)
        .await
        .unwrap();
    let mut peer = SamodPeer::connect(&hub, "samod-lena", &issued.secret).await;
    let dialer = peer.dialer.clone();
    let mut events = dialer.events();
    assert!(peer.find(doc).await.is_some());

    admin.revoke_token(&issued.token.id).await.unwrap();
    let (code, reason) = peer
        .until("the hub's close frame", |seen| match seen {
            Seen::Closed { code, reason } => Some((*code, reason.clone())),
            Seen::Message(_) => None,
        })
        .await;
    assert!(code == 4401 || code == 4403, "close code {code} ({reason})");
    assert!(!reason.is_empty());
    // samod dials again, and the revoked token is refused before the upgrade.
    let failed = async {
        while let Some(event) = events.next().await {
            if matches!(event, DialerEvent::PermanentFailure) {
                return;
            }
        }
        panic!("the dialer's events ended");
    };
    tokio::time::timeout(WAIT, failed)
        .await
        .expect("the revoked token was not refused on reconnecting");
    drop(events);
    peer.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn a_bad_token_is_refused_before_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let peer = SamodPeer::dial(&hub, "samod-nobody", "not-a-token").await;
    let refused = tokio::time::timeout(WAIT, peer.dialer.established())
        .await
        .expect("no answer to the upgrade");
    match refused {
        Err(DialerFailed::PermanentFailure(r)) => assert_eq!(r.status, 401),
        other => panic!("expected a 401 refusal, got {other:?}"),
    }
    peer.stop().await;
    hub.stop().await;
}
