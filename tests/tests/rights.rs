//! Rights on the sync stream, end to end: an observer's changes are refused with nothing
//! stored, a member whose rights shrink or who is removed stops receiving at once, and a
//! site member never receives another site's `site`-visible documents.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use nic_client::{Client, Target};
use nic_e2e::{TestHub, put};
use nic_model::{DocumentId, PeerId};
use nic_proto::v1;
use nic_proto::v1::hub_frame::Frame as H;
use nic_sync::automerge;
use nic_sync::automerge::{ROOT, ReadDoc};
use nic_sync::{ErrorCode, Notification};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(20);

/// The hub with network `algebra` (sites lincoln and adams) and members: lena (lead), sam
/// (site member at lincoln), otto (observer); returns their tokens.
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

/// Creates a typed PDSA cycle at lincoln as the hub admin.
async fn typed_cycle(
    hub: &TestHub,
    value: &nic_model::schema::pdsa::PdsaCycle,
    visibility: v1::Visibility,
) -> DocumentId {
    let mut typed = nic_model::schema::new_document(nic_model::DocKind::PdsaCycle, value).unwrap();
    let reply = hub
        .documents()
        .await
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::PdsaCycle as i32,
            network_id: "algebra".into(),
            site_id: "lincoln".into(),
            visibility: visibility as i32,
            title: format!("{}, cycle {}", value.change_idea_id, value.cycle_number),
            initial: Some(typed.save()),
            doc_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    reply.meta.unwrap().doc_id.parse().unwrap()
}

/// Creates a worksheet as the hub admin.
async fn create(hub: &TestHub, site: &str, visibility: v1::Visibility) -> DocumentId {
    let reply = hub
        .documents()
        .await
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::PdsaCycle as i32,
            network_id: "algebra".into(),
            site_id: site.into(),
            visibility: visibility as i32,
            title: format!("{site} cycle"),
            initial: Some(nic_e2e::worksheet().save()),
            doc_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    reply.meta.unwrap().doc_id.parse().unwrap()
}

/// Waits for a document error with `code` about `doc`.
async fn doc_error(
    events: &mut broadcast::Receiver<Notification>,
    doc: DocumentId,
    code: ErrorCode,
) {
    let waiting = async {
        loop {
            if let Ok(Notification::DocError {
                doc: Some(d),
                code: c,
                ..
            }) = events.recv().await
                && d == doc
                && c == code
            {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, waiting).await.unwrap();
}

/// The admin edits, and `witness` (who may read) receives it: after that the hub has sent
/// the edit to everyone it would send it to.
async fn admin_edit_seen_by(
    hub: &TestHub,
    admin: &Client,
    witness: &Client,
    doc: DocumentId,
    key: &str,
) {
    let owned = key.to_owned();
    admin.edit(doc, move |am| put(am, &owned, 1)).await.unwrap();
    let owned = key.to_owned();
    witness
        .wait_for(doc, WAIT, move |am| {
            am.get(ROOT, owned.as_str()).ok().flatten().is_some()
        })
        .await
        .unwrap();
    assert!(hub.saved(doc).await.get(ROOT, key).unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_cannot_write_and_nothing_of_its_change_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (_, _, otto_token) = network(&hub).await;
    let doc = create(&hub, "lincoln", v1::Visibility::Network).await;

    // A well-behaved client knows its roles (from the hub's Welcome) and refuses the change
    // itself: nothing is written, nothing waits.
    let otto = hub.replica("otto-laptop", &otto_token, doc).await;
    let refused = otto
        .edit(doc, |am| put(am, "observer-note", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, nic_client::ClientError::NotAllowed(_)),
        "{refused}"
    );
    assert_eq!(otto.pending(doc).await.unwrap(), Some(0));

    // A client that sends a change anyway is refused.
    let mut raw = hub
        .force_change(
            &otto_token,
            "otto-script",
            doc,
            &automerge::ActorId::random(),
            "forced-note",
        )
        .await;
    let refused = raw
        .until(|f| match f {
            H::DocError(e) if e.code == v1::ErrorCode::PermissionDenied as i32 => Some(e.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(refused.doc_id, doc.to_string());

    // Refused means neither applied nor stored: the hub's copy lacks both changes, even after
    // a restart (it is read from disk).
    for key in ["observer-note", "forced-note"] {
        assert!(
            hub.saved(doc).await.get(ROOT, key).unwrap().is_none(),
            "{key}"
        );
    }
    drop(raw);
    drop(otto);
    hub.stop().await;
    let hub = TestHub::start(dir.path()).await;
    for key in ["observer-note", "forced-note"] {
        assert!(
            hub.saved(doc).await.get(ROOT, key).unwrap().is_none(),
            "{key}"
        );
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_removed_or_narrowed_mid_stream_receives_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (lena_token, sam_token, _) = network(&hub).await;
    let shared = create(&hub, "lincoln", v1::Visibility::Network).await;
    let private = create(&hub, "lincoln", v1::Visibility::Site).await;
    let admin = Client::connect(&hub.url, PeerId::new("admin-desk").unwrap(), &hub.token)
        .await
        .unwrap();
    admin
        .subscribe(Target::Docs(vec![shared, private]))
        .await
        .unwrap();
    let lena = hub.replica("lena-laptop", &lena_token, shared).await;
    lena.subscribe(Target::Docs(vec![private])).await.unwrap();
    let sam = hub.replica("sam-laptop", &sam_token, shared).await;
    sam.subscribe(Target::Docs(vec![private])).await.unwrap();
    sam.wait_for(private, WAIT, |am| {
        am.get(ROOT, "notes").ok().flatten().is_some()
    })
    .await
    .unwrap();
    for c in [&admin, &lena] {
        c.wait_for(private, WAIT, |am| {
            am.get(ROOT, "notes").ok().flatten().is_some()
        })
        .await
        .unwrap();
    }

    // Sam becomes an observer: the site-visible document stops at once, the shared one goes on.
    let mut events = sam.events();
    let mut lead = hub.directory_as(&lena_token).await;
    lead.set_role(v1::SetRoleRequest {
        member_id: "sam".into(),
        role: v1::Role::Observer as i32,
        site_id: String::new(),
    })
    .await
    .unwrap();
    doc_error(&mut events, private, ErrorCode::PermissionDenied).await;
    admin_edit_seen_by(&hub, &admin, &lena, private, "after-narrowing").await;
    admin_edit_seen_by(&hub, &admin, &lena, shared, "shared-after-narrowing").await;
    sam.wait_for(shared, WAIT, |am| {
        am.get(ROOT, "shared-after-narrowing")
            .ok()
            .flatten()
            .is_some()
    })
    .await
    .unwrap();
    let sees = sam
        .read(private, |am| {
            am.get(ROOT, "after-narrowing").unwrap().is_some()
        })
        .await
        .unwrap();
    assert_eq!(
        sees,
        Some(false),
        "a narrowed member still received the private document"
    );

    // Sam is removed: the stream ends, and nothing more arrives.
    lead.remove_member(v1::RemoveMemberRequest {
        member_id: "sam".into(),
    })
    .await
    .unwrap();
    admin_edit_seen_by(&hub, &admin, &lena, shared, "after-removal").await;
    let sees = sam
        .read(shared, |am| {
            am.get(ROOT, "after-removal").unwrap().is_some()
        })
        .await
        .unwrap();
    assert_eq!(sees, Some(false), "a removed member still received changes");
    // And cannot come back: the token went with the membership.
    let again = Client::connect(&hub.url, PeerId::new("sam-laptop").unwrap(), &sam_token).await;
    let err = again.err().expect("a removed member's token is refused");
    assert!(
        err.to_string().contains("revoked") || err.to_string().contains("no longer"),
        "{err}"
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_member_never_receives_another_sites_private_document() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (_, sam_token, _) = network(&hub).await;
    let theirs = create(&hub, "adams", v1::Visibility::Site).await;
    let sam = Client::connect(&hub.url, PeerId::new("sam-laptop").unwrap(), &sam_token)
        .await
        .unwrap();
    let mut events = sam.events();
    sam.subscribe(Target::Docs(vec![theirs])).await.unwrap();
    doc_error(&mut events, theirs, ErrorCode::PermissionDenied).await;
    let held = sam
        .read(theirs, |am| am.get(ROOT, "notes").unwrap().is_some())
        .await
        .unwrap();
    assert_ne!(
        held,
        Some(true),
        "another site's private document reached a site member"
    );
    // Nor does a Get or a List reveal it.
    let mut docs = hub.documents_as(&sam_token).await;
    let get = docs
        .get(v1::GetDocumentRequest {
            doc_id: theirs.to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(get.code(), tonic::Code::PermissionDenied);
    let listed = docs
        .list(v1::ListDocumentsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .documents;
    assert!(listed.iter().all(|m| m.doc_id != theirs.to_string()));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_id_belongs_to_the_member_who_first_used_it() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (lena_token, sam_token, _) = network(&hub).await;
    let doc = create(&hub, "lincoln", v1::Visibility::Network).await;
    let actor = automerge::ActorId::random();

    // Lena writes first under this actor id: it becomes hers.
    let mut lena = hub
        .force_change(&lena_token, "lena-script", doc, &actor, "by-lena")
        .await;
    lena.until(|f| matches!(f, H::DocAck(a) if a.doc_id == doc.to_string()).then_some(()))
        .await
        .unwrap();
    assert!(hub.saved(doc).await.get(ROOT, "by-lena").unwrap().is_some());

    // Sam, who may write the document, tries the same actor id: refused, nothing stored.
    let mut sam = hub
        .force_change(&sam_token, "sam-script", doc, &actor, "by-sam")
        .await;
    let refused = sam
        .until(|f| match f {
            H::DocError(e) if e.code == v1::ErrorCode::PermissionDenied as i32 => Some(e.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert!(
        refused.message.contains("another member"),
        "{}",
        refused.message
    );
    assert!(hub.saved(doc).await.get(ROOT, "by-sam").unwrap().is_none());

    // History names the member behind each actor id.
    let history = hub
        .documents()
        .await
        .history(v1::GetHistoryRequest {
            doc_id: doc.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let lenas = history
        .iter()
        .find(|e| e.actor_id == actor.to_hex_string())
        .expect("lena's change is in the history");
    assert_eq!(lenas.member_id, "lena");
    // The initial content was made by the creator, the hub admin.
    assert_eq!(history[0].member_id, "admin");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hindsight_edit_to_a_prediction_is_recorded_with_who_and_what() {
    use nic_model::schema::{self, pdsa::PdsaCycle};
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (lena_token, sam_token, _) = network(&hub).await;
    // A typed cycle at lincoln, its Do phase already under way.
    let mut value = PdsaCycle {
        change_idea_id: "talks".into(),
        cycle_number: 1,
        ..PdsaCycle::default()
    };
    value.plan.questions.push(schema::pdsa::LearningQuestion {
        id: "q1".into(),
        prediction: schema::Text::with_value("At least 20 of 28"),
        ..Default::default()
    });
    value.do_.as_planned = Some(true);
    let doc = typed_cycle(&hub, &value, v1::Visibility::Network).await;

    // Sam edits the prediction with raw Automerge, bypassing the typed API.
    let sam = Client::connect(&hub.url, PeerId::new("sam-laptop").unwrap(), &sam_token)
        .await
        .unwrap();
    sam.subscribe(Target::Docs(vec![doc])).await.unwrap();
    sam.wait_for(doc, WAIT, |am| {
        am.get(ROOT, "plan").ok().flatten().is_some()
    })
    .await
    .unwrap();
    sam.edit(doc, |am| {
        use nic_sync::automerge::transaction::Transactable;
        let plan = am.get(ROOT, "plan").unwrap().unwrap().1;
        let questions = am.get(&plan, "questions").unwrap().unwrap().1;
        let q1 = am.get(&questions, 0).unwrap().unwrap().1;
        let prediction = am.get(&q1, "prediction").unwrap().unwrap().1;
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.splice_text(&prediction, 9, 2, "25").map(|_| ())
        })
        .unwrap();
    })
    .await
    .unwrap();
    sam.wait_saved(doc, WAIT).await.unwrap();

    // The lead finds it in the network's audit log: who, which question, before and after.
    let mut lead = hub.directory_as(&lena_token).await;
    let entries = lead
        .list_audit_log(v1::ListAuditLogRequest {
            network_id: "algebra".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let edit = entries
        .iter()
        .find(|e| e.action == "prediction_changed_after_do" && e.target == doc.to_string())
        .expect("the hindsight edit is recorded");
    assert_eq!(edit.member_id, "sam");
    assert!(
        edit.detail.contains("q1")
            && edit.detail.contains("20 of 28")
            && edit.detail.contains("25 of 28"),
        "{}",
        edit.detail
    );
    hub.stop().await;
}

/// The hub keeps each loaded PDSA cycle's last value to spot hindsight edits; it must forget
/// a cycle when the engine evicts it, or memory grows with every cycle ever touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hindsight_memory_is_bounded_by_the_loaded_documents() {
    use nic_model::schema::pdsa::PdsaCycle;
    use std::sync::atomic::Ordering::Relaxed;
    const KEEP: usize = 4;
    const BATCH: usize = 8;
    const CYCLES: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_with(dir.path(), |c| c.max_loaded_docs = KEEP).await;
    let (_, sam_token, _) = network(&hub).await;
    let mut docs = Vec::new();
    for k in 0..CYCLES {
        let value = PdsaCycle {
            change_idea_id: "talks".into(),
            cycle_number: 1 + u32::try_from(k).unwrap(),
            ..PdsaCycle::default()
        };
        docs.push(typed_cycle(&hub, &value, v1::Visibility::Site).await);
    }
    // A batch at a time: a replica loads the batch on the hub, then leaves, so the hub may
    // evict them.
    for (b, batch) in docs.chunks(BATCH).enumerate() {
        let sam = Client::connect(
            &hub.url,
            PeerId::new(format!("sam-{b}")).unwrap(),
            &sam_token,
        )
        .await
        .unwrap();
        sam.subscribe(Target::Docs(batch.to_vec())).await.unwrap();
        for &doc in batch {
            sam.wait_for(doc, WAIT, |am| {
                am.get(ROOT, "plan").ok().flatten().is_some()
            })
            .await
            .unwrap();
        }
        // While they are open the hub holds every one of them.
        assert!(hub.metrics.hindsight_cycles.load(Relaxed) >= BATCH as u64);
        sam.close().await.unwrap();
        hub.until_metrics(WAIT, "the batch is evicted", |m| {
            m.loaded_docs.load(Relaxed) <= KEEP as u64
        })
        .await;
        hub.until_metrics(WAIT, "hindsight forgets evicted cycles", |m| {
            m.hindsight_cycles.load(Relaxed) <= KEEP as u64
        })
        .await;
    }
    hub.stop().await;
}
