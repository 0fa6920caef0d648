//! What `sync.proto` promises, checked through a real hub over gRPC: a PDSA prediction
//! changed after Do is stored, acknowledged and recorded in the audit log (not refused);
//! a subscription's `CaughtUp` comes once the client holds everything it covered.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use nic_client::Target;
use nic_e2e::{RawStream, TestHub, changes_message, hello};
use nic_model::schema::{self, pdsa::PdsaCycle};
use nic_model::{DocKind, DocumentId, NetworkId, PeerId};
use nic_proto::v1;
use nic_proto::v1::hub_frame::Frame as H;
use nic_sync::automerge::transaction::Transactable;
use nic_sync::automerge::{self, ActorId, ROOT, ReadDoc};

const WAIT: Duration = Duration::from_secs(20);

/// Network `algebra` (site lincoln) with lena (lead) and sam (site member at lincoln);
/// their tokens.
async fn network(hub: &TestHub) -> (String, String) {
    hub.ensure_network("algebra", &["lincoln", "adams"]).await;
    (
        hub.member("lena", v1::Role::NetworkLead, "algebra", "")
            .await,
        hub.member("sam", v1::Role::SiteMember, "algebra", "lincoln")
            .await,
    )
}

/// Creates a typed PDSA cycle at `site` as the hub admin.
async fn cycle(hub: &TestHub, value: &PdsaCycle, site: &str, vis: v1::Visibility) -> DocumentId {
    let mut typed = schema::new_document(DocKind::PdsaCycle, value).unwrap();
    let reply = hub
        .documents()
        .await
        .create(v1::CreateDocumentRequest {
            kind: v1::DocKind::PdsaCycle as i32,
            network_id: "algebra".into(),
            site_id: site.into(),
            visibility: vis as i32,
            title: format!("{}, cycle {}", value.change_idea_id, value.cycle_number),
            initial: Some(typed.save()),
            doc_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    reply.meta.unwrap().doc_id.parse().unwrap()
}

/// A cycle whose Do phase has data, with question q1 predicting "At least 20 of 28".
fn cycle_under_way(number: u32) -> PdsaCycle {
    let mut value = PdsaCycle {
        change_idea_id: "talks".into(),
        cycle_number: number,
        ..PdsaCycle::default()
    };
    value.plan.questions.push(schema::pdsa::LearningQuestion {
        id: "q1".into(),
        prediction: schema::Text::with_value("At least 20 of 28"),
        ..Default::default()
    });
    value.do_.as_planned = Some(true);
    value
}

/// The text of question q1's prediction.
fn prediction(am: &automerge::Automerge) -> String {
    let plan = am.get(ROOT, "plan").unwrap().unwrap().1;
    let questions = am.get(&plan, "questions").unwrap().unwrap().1;
    let q1 = am.get(&questions, 0).unwrap().unwrap().1;
    let text = am.get(&q1, "prediction").unwrap().unwrap().1;
    am.text(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prediction_changed_after_do_over_a_raw_stream_is_acked_stored_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (lena_token, sam_token) = network(&hub).await;
    let doc = cycle(
        &hub,
        &cycle_under_way(1),
        "lincoln",
        v1::Visibility::Network,
    )
    .await;

    // Sam's tool edits the prediction with a raw Automerge change, bypassing the typed
    // rule, and sends it in a sync message of its own.
    let mut raw = RawStream::open_as(&hub, &sam_token, hello("sam-tool"))
        .await
        .unwrap();
    let mut am = hub
        .saved(doc)
        .await
        .with_actor(ActorId::from(b"sam-tool-actor".as_slice()));
    let before = am.get_heads();
    {
        let plan = am.get(ROOT, "plan").unwrap().unwrap().1;
        let questions = am.get(&plan, "questions").unwrap().unwrap().1;
        let q1 = am.get(&questions, 0).unwrap().unwrap().1;
        let text = am.get(&q1, "prediction").unwrap().unwrap().1;
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.splice_text(&text, 9, 2, "25").map(|_| ())
        })
        .unwrap();
    }
    let after = am.get_heads();
    raw.subscribe(&[doc]).await;
    raw.send_sync(doc, changes_message(&am, &before)).await;

    // Acknowledged, not refused: a DocAck for the new heads and no DocError on the way.
    let acked = raw
        .until(|f| match f {
            H::DocAck(a) if a.doc_id == doc.to_string() => Some(Ok(a.heads.clone())),
            H::DocError(e) => Some(Err(format!("{:?}: {}", e.code(), e.message))),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        acked,
        Ok(after.iter().map(|h| h.0.to_vec()).collect::<Vec<_>>())
    );
    // Durable: the hub's saved copy holds the new prediction.
    assert_eq!(prediction(&hub.saved(doc).await), "At least 25 of 28");

    // Reported: one audit entry, read as the proto says, by the network's lead.
    let entries = hub
        .directory_as(&lena_token)
        .await
        .list_audit_log(v1::ListAuditLogRequest {
            network_id: "algebra".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let edits: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "prediction_changed_after_do")
        .collect();
    assert_eq!(edits.len(), 1, "{entries:?}");
    let edit = edits[0];
    assert_eq!(edit.member_id, "sam");
    assert_eq!(edit.target, doc.to_string());
    assert_eq!(edit.network_id, "algebra");
    assert!(edit.at_ms > 0);
    assert_eq!(
        edit.detail,
        r#"question q1: "At least 20 of 28" -> "At least 25 of 28""#
    );
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_caught_up_the_replica_holds_every_document_of_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (_, sam_token) = network(&hub).await;
    let mut readable = Vec::new();
    for k in 1..=6 {
        readable.push(cycle(&hub, &cycle_under_way(k), "lincoln", v1::Visibility::Site).await);
    }
    // Adams's private cycle: not Sam's to read, so never waited for nor sent.
    let hidden = cycle(&hub, &cycle_under_way(9), "adams", v1::Visibility::Site).await;

    let sam = nic_client::Client::connect(&hub.url, PeerId::new("sam-laptop").unwrap(), &sam_token)
        .await
        .unwrap();
    let target = Target::Network(NetworkId::new("algebra").unwrap());
    sam.subscribe(target.clone()).await.unwrap();
    sam.wait_caught_up(target, WAIT).await.unwrap();
    // No other waiting: each document is here, at the hub's heads.
    for doc in &readable {
        let hub_heads = hub.saved(*doc).await.get_heads();
        assert_eq!(sam.heads(*doc).await.unwrap(), Some(hub_heads), "{doc}");
    }
    assert_eq!(
        sam.heads(hidden).await.unwrap().unwrap_or_default(),
        Vec::new()
    );
    sam.close().await.unwrap();
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caught_up_comes_on_the_wire_after_subscribed_for_a_client_that_answers() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(dir.path()).await;
    let (_, sam_token) = network(&hub).await;
    let doc = cycle(
        &hub,
        &cycle_under_way(1),
        "lincoln",
        v1::Visibility::Network,
    )
    .await;
    let mut raw = RawStream::open_as(&hub, &sam_token, hello("sam-raw"))
        .await
        .unwrap();
    raw.send(v1::client_frame::Frame::Subscribe(v1::Subscribe {
        target: Some(v1::subscribe::Target::NetworkId("algebra".into())),
        known: Vec::new(),
    }))
    .await;
    // A client built from the proto: answers each sync message with Automerge's own.
    let mut am = automerge::Automerge::new();
    let mut state = automerge::sync::State::new();
    let mut subscribed = false;
    let caught = loop {
        let frame = raw.until(|f| Some(f.clone())).await.unwrap();
        match frame {
            H::Subscribed(s) => {
                assert_eq!(s.doc_ids, vec![doc.to_string()]);
                subscribed = true;
            }
            H::DocSync(d) => {
                use automerge::sync::SyncDoc;
                let message = automerge::sync::Message::decode(&d.message).unwrap();
                am.receive_sync_message(&mut state, message).unwrap();
                if let Some(reply) = am.generate_sync_message(&mut state) {
                    raw.send_sync(doc, reply.encode()).await;
                }
            }
            H::CaughtUp(c) => break c,
            _ => {}
        }
    };
    assert!(subscribed, "Subscribed comes first");
    assert_eq!(
        caught.subscription.unwrap().target,
        Some(v1::subscribe::Target::NetworkId("algebra".into()))
    );
    assert_eq!(am.get_heads(), hub.saved(doc).await.get_heads());
    hub.stop().await;
}
