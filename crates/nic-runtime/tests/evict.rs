//! The hub runtime evicts nothing while a failed flush may have left non-durable writes in
//! the store: a document loaded again from it could relay changes a crash would then lose.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use nic_model::fixtures::{doc_id, meta, peer};
use nic_model::{Grant, Grants, Member, MemberId, TokenId};
use nic_runtime::storage::{Committed, read};
use nic_runtime::{Current, HubRuntime, Output, Time};
use nic_store::{MemStore, Store};
use nic_sync::{EngineConfig, Frame, Target};

#[test]
fn no_document_is_evicted_between_a_failed_flush_and_the_next_good_one() {
    let store = MemStore::new();
    let doc = meta(1, "algebra");
    let id = doc.id;
    assert_eq!(id, doc_id(1));
    store.put_meta(&doc).unwrap();
    store
        .append(&id, &automerge::Automerge::new().save())
        .unwrap();
    let mut hub = HubRuntime::new(EngineConfig::hub());
    let t = Time::default();
    hub.catalogue(t, doc.clone());
    // A lead subscribes, so the document loads; then leaves, so it is idle.
    let lead = Member {
        id: MemberId::new("lead").unwrap(),
        name: "Lead".into(),
        grants: Grants(vec![Grant::NetworkLead {
            network: doc.network.clone(),
        }]),
        created_at_ms: 0,
    };
    let current = Current {
        member: lead,
        expires_at_ms: None,
    };
    hub.connect(t, peer("laptop"), TokenId::new("t1").unwrap(), current);
    let subscribe = Frame::Subscribe {
        target: Target::Docs(vec![id]),
        known: Vec::new(),
    };
    hub.receive(t, &peer("laptop"), subscribe);
    for output in hub.take_outputs() {
        if let Output::Read(r) = output {
            hub.read_done(t, read(&store, r, None));
        }
    }
    assert!(hub.engine().doc(&id).is_some(), "the document loaded");
    hub.disconnect(t, &peer("laptop"));

    hub.committed(
        t,
        Committed {
            flush_error: Some("disk full".into()),
            ..Committed::default()
        },
    );
    assert_eq!(hub.evict_idle(0), 0, "evicted after a failed flush");
    hub.committed(t, Committed::default());
    assert_eq!(
        hub.evict_idle(0),
        1,
        "a good flush lets idle documents go again"
    );
}
