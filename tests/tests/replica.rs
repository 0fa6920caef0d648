//! The client library as tools embed it: replicas on disk against a real hub. Two replicas
//! edit one PDSA cycle offline and converge; a replica killed right after an edit returns
//! still delivers it; status is pending until the hub's ack; the change stream names who
//! made a remote edit; documents created offline reach the hub; a dropped connection comes
//! back by itself.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use nic_client::{
    Backoff, ChangeEvent, Client, Connection, Origin, ReplicaConfig, Storage, SyncState,
};
use nic_e2e::{Proxy, TestHub, saved_at};
use nic_model::schema::pdsa::{Decision, LearningQuestion, PdsaCycle, Purpose};
use nic_model::schema::{self, Text};
use nic_model::{DocKind, DocumentId, NetworkId, SiteId};
use nic_proto::v1;
use tokio_stream::StreamExt;

const WAIT: Duration = Duration::from_secs(20);
const CHILD_ENV: &str = "NIC_E2E_REPLICA_CHILD";

fn algebra() -> NetworkId {
    NetworkId::new("algebra").unwrap()
}

fn lincoln() -> SiteId {
    SiteId::new("lincoln").unwrap()
}

fn cycle() -> PdsaCycle {
    let mut c = PdsaCycle {
        change_idea_id: "number-talks".into(),
        cycle_number: 1,
        purpose: Purpose::Test,
        ..PdsaCycle::default()
    };
    c.plan.objective = Text::with_value("Will a daily number talk raise exit-ticket scores?");
    c.plan.questions.push(LearningQuestion {
        id: "q1".into(),
        question: Text::with_value("How many finish the exit ticket?"),
        prediction: Text::with_value("20 of 28"),
        ..LearningQuestion::default()
    });
    c
}

/// A hub with network `algebra` (sites lincoln, adams), and tokens for sam (a lincoln site
/// member) and lena (the network's lead, the coach).
async fn hub(dir: &Path) -> (TestHub, String, String) {
    let hub = TestHub::start(dir).await;
    hub.ensure_network("algebra", &["lincoln", "adams"]).await;
    let sam = hub
        .member("sam", v1::Role::SiteMember, "algebra", "lincoln")
        .await;
    let lena = hub
        .member("lena", v1::Role::NetworkLead, "algebra", "")
        .await;
    (hub, sam, lena)
}

fn on_disk(url: &str, token: &str, dir: &Path) -> ReplicaConfig {
    ReplicaConfig::new(url, token).storage(Storage::Dir(dir.to_owned()))
}

/// Waits until the replica holds `doc` as a readable cycle for which `ok` holds.
async fn until_cycle(
    client: &Client,
    doc: DocumentId,
    ok: impl Fn(&PdsaCycle) -> bool + Send + Sync + Clone + 'static,
) {
    client
        .wait_for(doc, WAIT, move |am| {
            schema::read::<PdsaCycle, _>(am, DocKind::PdsaCycle).is_ok_and(|c| ok(&c))
        })
        .await
        .unwrap();
}

/// The cycle as the hub has stored it.
async fn cycle_on_hub(hub: &TestHub, doc: DocumentId) -> PdsaCycle {
    let saved = saved_at(&hub.url, &hub.token, doc).await;
    schema::read(&saved, DocKind::PdsaCycle).unwrap()
}

/// sam creates a cycle at lincoln and waits until the hub has it.
async fn cycle_at_lincoln(client: &Client) -> DocumentId {
    let network = client.network(algebra()).await.unwrap();
    let doc = network
        .create_at(lincoln(), "Number talks — cycle 1", &cycle())
        .await
        .unwrap();
    client.wait_synced(WAIT).await.unwrap();
    doc
}

/// The hub, sam's replica holding a cycle he created at lincoln, and lena's replica of
/// the network holding it too.
async fn sam_and_lena(dir: &Path) -> (TestHub, Client, Client, DocumentId) {
    let (hub, sam_token, lena_token) = hub(&dir.join("hub")).await;
    let sam = Client::open(on_disk(&hub.url, &sam_token, &dir.join("sam")))
        .await
        .unwrap();
    let doc = cycle_at_lincoln(&sam).await;
    let lena = Client::open(on_disk(&hub.url, &lena_token, &dir.join("lena")))
        .await
        .unwrap();
    lena.network(algebra()).await.unwrap();
    until_cycle(&lena, doc, |_| true).await;
    (hub, sam, lena, doc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_edit_the_same_cycle_offline_and_converge_with_both_edits() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam, lena, doc) = sam_and_lena(dir.path()).await;

    let mut sams_status = sam.watch_status();
    assert_eq!(sams_status.borrow().connection, Connection::Online);
    sam.go_offline().await.unwrap();
    lena.go_offline().await.unwrap();
    tokio::time::timeout(
        WAIT,
        sams_status.wait_for(|s| matches!(s.connection, Connection::Offline { .. })),
    )
    .await
    .unwrap()
    .unwrap();
    sam.change::<PdsaCycle>(doc, "Do: ran it", |c| {
        c.do_.what_happened = Text::with_value("Ran Monday to Thursday in period 2.");
    })
    .await
    .unwrap();
    lena.change::<PdsaCycle>(doc, "Plan: who", |c| {
        c.plan.who = Text::with_value("Ms. Rivera's period 2 class");
    })
    .await
    .unwrap();
    for client in [&sam, &lena] {
        let status = client.doc_status(doc).await.unwrap().unwrap();
        assert_eq!(status.state, SyncState::Offline(1));
        assert!(matches!(
            client.status().await.unwrap().connection,
            Connection::Offline {
                next_attempt: None,
                ..
            }
        ));
    }

    tokio::time::timeout(WAIT, sams_status.wait_for(|s| s.pending_changes == 1))
        .await
        .unwrap()
        .unwrap();
    sam.reconnect().await.unwrap();
    lena.reconnect().await.unwrap();
    tokio::time::timeout(
        WAIT,
        sams_status.wait_for(|s| s.connection == Connection::Online && s.is_synced()),
    )
    .await
    .unwrap()
    .unwrap();
    for client in [&sam, &lena] {
        until_cycle(client, doc, |c| {
            !c.do_.what_happened.as_str().is_empty() && !c.plan.who.as_str().is_empty()
        })
        .await;
        client.wait_synced(WAIT).await.unwrap();
    }
    assert_eq!(
        sam.heads(doc).await.unwrap(),
        lena.heads(doc).await.unwrap()
    );
    let c = cycle_on_hub(&hub, doc).await;
    assert_eq!(
        c.do_.what_happened.as_str(),
        "Ran Monday to Thursday in period 2."
    );
    assert_eq!(c.plan.who.as_str(), "Ms. Rivera's period 2 class");
}

/// The child: opens the replica in the given folder with an unreachable hub, changes the
/// cycle, says so, and waits to be killed.
#[test]
fn replica_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, '|');
    let (dir, token, doc) = (
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().parse::<DocumentId>().unwrap(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // Port 9 (discard) on loopback refuses: the replica stays offline.
        let client = Client::open(on_disk("http://127.0.0.1:9", &token, Path::new(&dir)))
            .await
            .unwrap();
        client
            .change::<PdsaCycle>(doc, "Study: results", |c| {
                c.study.learning = Text::with_value("Written just before the crash.");
            })
            .await
            .unwrap();
        // A leading newline: libtest's "test replica_child ..." has none of its own.
        println!("\nedited");
        std::future::pending::<()>().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_right_after_an_edit_returns_with_it_and_delivers_it() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam_token, _) = hub(&dir.path().join("hub")).await;
    let replica_dir = dir.path().join("sam");
    let sam = Client::open(on_disk(&hub.url, &sam_token, &replica_dir))
        .await
        .unwrap();
    let doc = cycle_at_lincoln(&sam).await;
    sam.close().await.unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "replica_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{}|{sam_token}|{doc}", replica_dir.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("the child reported its edit").unwrap();
        if line == "edited" {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let sam = Client::open(on_disk(&hub.url, &sam_token, &replica_dir))
        .await
        .unwrap();
    let here = sam.get::<PdsaCycle>(doc).await.unwrap();
    assert_eq!(
        here.value.study.learning.as_str(),
        "Written just before the crash."
    );
    // Counted as waiting from the start, before any connection.
    assert!(!sam.status().await.unwrap().is_synced());
    sam.wait_synced(WAIT).await.unwrap();
    let c = cycle_on_hub(&hub, doc).await;
    assert_eq!(c.study.learning.as_str(), "Written just before the crash.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_pending_until_the_hubs_ack_then_synced() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam_token, _) = hub(&dir.path().join("hub")).await;
    let proxy = Proxy::start(&hub.url).await;
    let sam = Client::open(on_disk(&proxy.url, &sam_token, &dir.path().join("sam")))
        .await
        .unwrap();
    let doc = cycle_at_lincoln(&sam).await;
    let synced = sam.doc_status(doc).await.unwrap().unwrap();
    assert_eq!(synced.state, SyncState::Synced);
    synced.last_ack.expect("the creation was acknowledged");

    // Both sides in step first: the hub's announcement of the new cycle is what links it
    // here, and must not be among what is held back. Being up to date does not say the
    // announcement has come (under load it had not), so a first change is saved on the hub
    // both ways: then the cycle is linked.
    sam.wait_up_to_date(WAIT).await.unwrap();
    sam.change::<PdsaCycle>(doc, "Do: as planned", |c| {
        c.do_.as_planned = Some(true);
    })
    .await
    .unwrap();
    sam.wait_saved(doc, WAIT).await.unwrap();
    let first_ack = sam
        .doc_status(doc)
        .await
        .unwrap()
        .unwrap()
        .last_ack
        .expect("the first change was acknowledged");
    // Hold everything the hub sends: the change reaches it, the ack cannot come back.
    proxy.pause();
    sam.change::<PdsaCycle>(doc, "Do: ran it", |c| {
        c.do_.what_happened = Text::with_value("Ran it.");
    })
    .await
    .unwrap();
    let on_hub = async {
        loop {
            let c = cycle_on_hub(&hub, doc).await;
            if c.do_.what_happened.as_str() == "Ran it." {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    if tokio::time::timeout(WAIT, on_hub).await.is_err() {
        panic!(
            "the change never reached the hub: {:?} {:?} {:?} {:?}",
            sam.status().await.unwrap(),
            sam.doc_status(doc).await.unwrap(),
            sam.wire_stats().await.unwrap(),
            proxy.bytes()
        );
    }
    let pending = sam.doc_status(doc).await.unwrap().unwrap();
    assert_eq!(
        pending.state,
        SyncState::Pending(1),
        "durable on the hub, but not acked yet"
    );
    assert_eq!(pending.last_ack, Some(first_ack));
    let status = sam.status().await.unwrap();
    assert_eq!((status.pending_documents, status.pending_changes), (1, 1));

    proxy.resume();
    sam.wait_saved(doc, WAIT).await.unwrap();
    let synced = sam.doc_status(doc).await.unwrap().unwrap();
    assert_eq!(synced.state, SyncState::Synced);
    assert!(synced.last_ack.unwrap() >= first_ack);
    assert!(sam.status().await.unwrap().is_synced());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_stream_reports_remote_edits_with_their_author() {
    let dir = tempfile::tempdir().unwrap();
    let (_hub, sam, lena, doc) = sam_and_lena(dir.path()).await;
    let mut lena_sees = Box::pin(lena.changes());
    let mut sam_sees = Box::pin(sam.changes());

    sam.change::<PdsaCycle>(doc, "Study: what we learned", |c| {
        c.study.learning = Text::with_value("Most finished.");
    })
    .await
    .unwrap();

    let local: ChangeEvent = tokio::time::timeout(WAIT, sam_sees.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((local.doc, local.origin), (doc, Origin::Local));
    // Events about the cycle's arrival may still be on their way: find the edit's.
    let remote: ChangeEvent = tokio::time::timeout(WAIT, async {
        loop {
            let event = lena_sees.next().await.unwrap().unwrap();
            let message = event.changes.last().and_then(|c| c.message.clone());
            if message.as_deref() == Some("Study: what we learned") {
                return event;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!((remote.doc, remote.origin), (doc, Origin::Remote));
    assert_eq!(remote.changes.len(), 1);
    let change = &remote.changes[0];
    assert_eq!(change.author.as_ref().map(|m| m.as_str()), Some("sam"));
    assert_eq!(&change.actor, sam.actor());
    assert_eq!(change.message.as_deref(), Some("Study: what we learned"));
    assert_eq!(remote.heads, sam.heads(doc).await.unwrap().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_created_offline_reaches_the_hub_and_the_next_starts_from_adapt() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam_token, lena_token) = hub(&dir.path().join("hub")).await;
    let sam = Client::open(on_disk(&hub.url, &sam_token, &dir.path().join("sam")))
        .await
        .unwrap();
    let network = sam.network(algebra()).await.unwrap();
    sam.go_offline().await.unwrap();
    let first = network
        .create_at(lincoln(), "Number talks — cycle 1", &cycle())
        .await
        .unwrap();
    let refused = sam.start_next_cycle(first).await.unwrap_err();
    assert!(refused.to_string().contains("adapt"), "{refused}");
    sam.change::<PdsaCycle>(first, "Act: adapt", |c| {
        c.do_.what_happened = Text::with_value("Ran it.");
        c.act.decision = Some(Decision::Adapt);
    })
    .await
    .unwrap();
    // Predictions are fixed once Do has data.
    let late = sam
        .change::<PdsaCycle>(first, "rewrite", |c| {
            c.plan.questions[0].prediction = Text::with_value("27 of 28");
        })
        .await
        .unwrap_err();
    assert!(late.to_string().contains("is fixed"), "{late}");
    let second = sam.start_next_cycle(first).await.unwrap();
    let status = sam.status().await.unwrap();
    assert_eq!(status.unsent_documents, 2);
    assert!(matches!(status.connection, Connection::Offline { .. }));

    sam.reconnect().await.unwrap();
    sam.wait_synced(WAIT).await.unwrap();
    let lena = Client::open(on_disk(&hub.url, &lena_token, &dir.path().join("lena")))
        .await
        .unwrap();
    let lenas = lena.network(algebra()).await.unwrap();
    until_cycle(&lena, second, |_| true).await;
    until_cycle(&lena, first, |c| c.act.next_cycle_id.is_some()).await;
    let ramp = lenas.cycles_of("number-talks").await.unwrap();
    let numbers: Vec<u32> = ramp.iter().map(|c| c.value.cycle_number).collect();
    assert_eq!(numbers, vec![1, 2]);
    assert_eq!(ramp[0].value.act.next_cycle_id, Some(second.to_string()));
    assert_eq!(ramp[1].value.previous_cycle_id, Some(first.to_string()));
    assert!(
        ramp[1].value.plan.questions[0]
            .prediction
            .as_str()
            .is_empty()
    );
    assert_eq!(ramp[1].meta.site, Some(lincoln()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_comes_back_by_itself_and_delivers_what_was_made_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam_token, _) = hub(&dir.path().join("hub")).await;
    let proxy = Proxy::start(&hub.url).await;
    let fast = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(200),
    };
    let sam = Client::open(on_disk(&proxy.url, &sam_token, &dir.path().join("sam")).backoff(fast))
        .await
        .unwrap();
    let doc = cycle_at_lincoln(&sam).await;
    let connects = sam.wire_stats().await.unwrap().connects;

    proxy.cut();
    sam.change::<PdsaCycle>(doc, "Do: observations", |c| {
        c.do_.adjustments = Text::with_value("Shortened to 4 minutes.");
    })
    .await
    .unwrap();
    sam.wait_synced(WAIT).await.unwrap();
    assert!(sam.wire_stats().await.unwrap().connects > connects);
    let c = cycle_on_hub(&hub, doc).await;
    assert_eq!(c.do_.adjustments.as_str(), "Shortened to 4 minutes.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_reopened_without_its_hub_reads_what_it_had() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam_token, _) = hub(&dir.path().join("hub")).await;
    let replica_dir = dir.path().join("sam");
    let sam = Client::open(on_disk(&hub.url, &sam_token, &replica_dir))
        .await
        .unwrap();
    let doc = cycle_at_lincoln(&sam).await;
    let peer = sam.peer().clone();
    let actor = sam.actor().clone();
    sam.close().await.unwrap();
    hub.stop().await;

    let sam = Client::open(on_disk("http://127.0.0.1:9", &sam_token, &replica_dir))
        .await
        .unwrap();
    assert_eq!(
        (sam.peer(), sam.actor()),
        (&peer, &actor),
        "one identity per device"
    );
    let network = sam.network(algebra()).await.unwrap();
    let cycles = network.cycles().await.unwrap();
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].meta.id, doc);
    assert_eq!(cycles[0].value, cycle());
    let status = sam.status().await.unwrap();
    assert_eq!(status.documents, 1);
    assert!(status.is_synced(), "nothing made here waits");
    assert_ne!(status.connection, Connection::Online);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_after_a_short_offline_period_exchanges_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam_token, lena_token) = hub(&dir.path().join("hub")).await;
    let sam = Client::open(on_disk(&hub.url, &sam_token, &dir.path().join("sam")))
        .await
        .unwrap();
    let network = sam.network(algebra()).await.unwrap();
    let mut docs = Vec::new();
    for n in 0..10 {
        docs.push(
            network
                .create_at(lincoln(), format!("cycle {n}"), &cycle())
                .await
                .unwrap(),
        );
    }
    sam.wait_synced(WAIT).await.unwrap();
    sam.wait_up_to_date(WAIT).await.unwrap();
    let lena = Client::open(on_disk(&hub.url, &lena_token, &dir.path().join("lena")))
        .await
        .unwrap();
    lena.subscribe(nic_client::Target::Docs(vec![docs[3]]))
        .await
        .unwrap();
    until_cycle(&lena, docs[3], |_| true).await;

    sam.go_offline().await.unwrap();
    lena.change::<PdsaCycle>(docs[3], "Plan: who", |c| {
        c.plan.who = Text::with_value("Period 4");
    })
    .await
    .unwrap();
    lena.wait_synced(WAIT).await.unwrap();
    let before = sam.wire_stats().await.unwrap();
    sam.reconnect().await.unwrap();
    until_cycle(&sam, docs[3], |c| c.plan.who.as_str() == "Period 4").await;
    sam.wait_up_to_date(WAIT).await.unwrap();
    let after = sam.wire_stats().await.unwrap();
    let sent = after.frames_sent - before.frames_sent;
    let received = after.frames_received - before.frames_received;
    // Hello and Subscribe, Welcome, Subscribed and CaughtUp, and the one changed
    // document's exchange: nothing for the nine that did not change.
    assert!(sent <= 4, "{sent} frames sent");
    assert!(received <= 5, "{received} frames received");
    // Every link started quiet here (none changed here); the hub spoke up for the one it
    // changed.
    assert_eq!(sam.stats().await.unwrap().links_started_in_step, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_the_member_may_not_make_are_refused_here_or_reported_from_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam, _lena, doc) = sam_and_lena(dir.path()).await;
    let ada_token = hub
        .member("ada", v1::Role::SiteMember, "algebra", "adams")
        .await;
    let ada = Client::open(on_disk(&hub.url, &ada_token, &dir.path().join("ada")))
        .await
        .unwrap();
    let network = ada.network(algebra()).await.unwrap();
    until_cycle(&ada, doc, |_| true).await;

    // Known roles: refused here, with the reason, nothing written.
    let heads = ada.heads(doc).await.unwrap();
    let err = ada
        .change::<PdsaCycle>(doc, "edit", |c| c.voices.push("parents".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, nic_client::ClientError::NotAllowed(_)),
        "{err}"
    );
    assert!(err.to_string().contains("may read but not change"), "{err}");
    assert_eq!(ada.heads(doc).await.unwrap(), heads);
    let err = network
        .create_at(lincoln(), "not mine", &cycle())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("own site"), "{err}");
    network
        .create_at(
            SiteId::new("adams").unwrap(),
            "Number talks at Adams",
            &cycle(),
        )
        .await
        .unwrap();
    ada.wait_synced(WAIT).await.unwrap();

    // Roles that changed while the replica was away: the edit made on the old roles stays
    // here, the status says why it does not go through, and later edits are refused here.
    sam.go_offline().await.unwrap();
    hub.directory()
        .await
        .set_role(v1::SetRoleRequest {
            member_id: "sam".into(),
            role: v1::Role::Observer as i32,
            site_id: String::new(),
        })
        .await
        .unwrap();
    sam.change::<PdsaCycle>(doc, "edit after demotion", |c| {
        c.voices.push("families".into());
    })
    .await
    .unwrap();
    sam.reconnect().await.unwrap();
    let mut events = sam.events();
    let reported = async {
        loop {
            let status = sam.doc_status(doc).await.unwrap().unwrap();
            if let Some(problem) = status.problem {
                return (status.state, problem);
            }
            // The hub's read-only word changes the status without an event: look again
            // after a while too.
            let _ = tokio::time::timeout(Duration::from_millis(50), events.recv()).await;
        }
    };
    let (state, problem) = match tokio::time::timeout(WAIT, reported).await {
        Ok(found) => found,
        Err(_) => panic!(
            "no problem reported: {:?}",
            sam.doc_status(doc).await.unwrap()
        ),
    };
    assert_eq!(state, SyncState::Pending(1));
    assert!(problem.contains("may "), "{problem}");
    let err = sam
        .change::<PdsaCycle>(doc, "again", |c| c.voices.push("students".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, nic_client::ClientError::NotAllowed(_)),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_cut_short_by_a_crash_is_forgotten_not_offered_forever() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam_token, _) = hub(&dir.path().join("hub")).await;
    let replica_dir = dir.path().join("sam");
    let sam = Client::open(on_disk("http://127.0.0.1:9", &sam_token, &replica_dir))
        .await
        .unwrap();
    sam.close().await.unwrap();
    // The record says a document was being created; the crash came before it was stored.
    let record = replica_dir.join("replica.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    let ghost = DocumentId::from_bytes([7; 16]).to_string();
    json["unsent"] = serde_json::json!([ghost]);
    json["dirty"] = serde_json::json!([ghost]);
    std::fs::write(&record, json.to_string()).unwrap();

    let sam = Client::open(on_disk(&hub.url, &sam_token, &replica_dir))
        .await
        .unwrap();
    sam.wait_synced(WAIT).await.unwrap();
    assert_eq!(sam.status().await.unwrap().unsent_documents, 0);
}

/// A creation the hub refuses is the document's problem, with the hub's own reason, and
/// `wait_saved` says so at once instead of running to its timeout (it used to spin there,
/// and the event always said PERMISSION_DENIED).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_creation_is_the_documents_problem_with_the_hubs_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, _, _) = hub(&dir.path().join("hub")).await;
    // The hub admin may create anywhere, so the replica has no reason to refuse it itself;
    // the hub refuses because the network does not exist.
    let admin = Client::open(on_disk(&hub.url, &hub.token, &dir.path().join("admin")))
        .await
        .unwrap();
    admin.reconnect().await.unwrap();
    let nowhere = admin
        .network(NetworkId::new("no-such-network").unwrap())
        .await
        .unwrap();
    let mut events = admin.events();
    let doc = nowhere
        .create_at(lincoln(), "Cycle for a network that is not there", &cycle())
        .await
        .unwrap();
    let err = admin.wait_saved(doc, WAIT).await.unwrap_err();
    assert_eq!(err.refusal(), Some(nic_client::Refusal::NotFound), "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    // Asked again with the refusal already on record (as a caller who came after it would
    // be): the same answer at once, not a wait to the timeout. A CI run under load caught
    // the first call arriving after the refusal, and it waited.
    let again = admin.wait_saved(doc, WAIT).await.unwrap_err();
    assert_eq!(
        again.refusal(),
        Some(nic_client::Refusal::NotFound),
        "{again}"
    );
    let status = admin.doc_status(doc).await.unwrap().unwrap();
    assert_eq!(status.refusal, Some(nic_client::Refusal::NotFound));
    assert!(status.unsent && !status.in_step, "{status:?}");
    assert!(status.problem.unwrap().contains("does not exist"));
    let code = loop {
        match events.recv().await.unwrap() {
            nic_client::Notification::DocError {
                doc: Some(d), code, ..
            } if d == doc => break code,
            _ => {}
        }
    };
    assert_eq!(code, nic_client::ErrorCode::NotFound);
}

/// `in_step` says the replica and the hub hold the same heads, which `Synced` (own changes
/// saved) does not: a document can be synced and still behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_step_means_the_same_heads_as_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, sam, lena, doc) = sam_and_lena(dir.path()).await;
    sam.wait_saved(doc, WAIT).await.unwrap();
    lena.change::<PdsaCycle>(doc, "coach's note", |c| c.voices.push("coach".into()))
        .await
        .unwrap();
    lena.wait_saved(doc, WAIT).await.unwrap();
    let hub_heads = hub.saved(doc).await.get_heads();
    let heads = hub_heads.clone();
    sam.wait_for(doc, WAIT, move |am| am.get_heads() == heads)
        .await
        .unwrap();
    let in_step = async {
        loop {
            let s = sam.doc_status(doc).await.unwrap().unwrap();
            if s.in_step {
                return s;
            }
            tokio::task::yield_now().await;
        }
    };
    let s = tokio::time::timeout(WAIT, in_step).await.expect("in step");
    assert_eq!(s.state, SyncState::Synced);
    assert_eq!(sam.heads(doc).await.unwrap(), Some(hub_heads));
    // Offline, nobody is in step.
    sam.go_offline().await.unwrap();
    assert!(!sam.doc_status(doc).await.unwrap().unwrap().in_step);
}

/// `read_each` over more documents than one batch, reopened from disk: each answer is what
/// `read` gives for that document, in the order asked, duplicates and all, and `None` for a
/// document not held here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_each_answers_in_order_as_read_does() {
    let dir = tempfile::tempdir().unwrap();
    let offline = || on_disk("http://127.0.0.1:9", "token", &dir.path().join("replica"));
    let client = Client::open(offline()).await.unwrap();
    let network = client.network(algebra()).await.unwrap();
    let mut docs = Vec::new();
    for n in 0..150u32 {
        let mut c = cycle();
        c.cycle_number = n;
        docs.push(
            network
                .create_at(lincoln(), &format!("Cycle {n}"), &c)
                .await
                .unwrap(),
        );
    }
    client.close().await.unwrap();

    let client = Client::open(offline()).await.unwrap();
    let unknown = DocumentId::from_bytes([7; 16]);
    let mut asked = docs.clone();
    asked.insert(70, unknown);
    asked.push(docs[3]);
    let read = client
        .read_each(&asked, |meta, am| (meta.id, nic_client::document_json(am)))
        .await
        .unwrap();
    assert_eq!(read.len(), asked.len());
    for (doc, got) in asked.iter().zip(read) {
        let one = client.read(*doc, nic_client::document_json).await.unwrap();
        assert_eq!(got.as_ref().map(|(id, _)| *id), one.as_ref().map(|_| *doc));
        assert_eq!(got.map(|(_, json)| json), one);
    }
    let cycle_3 = client
        .read(docs[3], nic_client::document_json)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cycle_3["cycle_number"], 3);
}
