//! What a replica does when the hub refuses it a document.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use common::{Net, meta};
use nic_sync::{AllowAll, Ctx, ErrorCode, Frame, Target};

/// A replica that subscribes by id to a document it may not read is told so once, and
/// stops asking: before, the link never settled and the subscription went out again on
/// every tick, forever (found by the simulation once it ran the hub's real rights).
#[test]
fn a_replica_refused_a_document_stops_asking_for_it() {
    let mut net = Net::new();
    let doc = meta(1, "algebra");
    let id = doc.id;
    net.create(doc);
    net.add_replica("outsider");
    net.rights.no_read.borrow_mut().insert("outsider".into());
    net.subscribe("outsider", Target::Docs(vec![id]));
    net.pump();
    assert!(
        net.errors_to("outsider")
            .contains(&ErrorCode::PermissionDenied),
        "the hub says why"
    );
    let asked = |net: &Net| {
        net.log
            .iter()
            .filter(|(from, _, f)| from == "outsider" && !matches!(f, Frame::Error { .. }))
            .count()
    };
    let before = asked(&net);
    for _ in 0..10 {
        net.now += 10_000;
        let replica = net.replicas.get_mut("outsider").unwrap();
        replica.tick(Ctx::new(net.now, &AllowAll));
        net.drain_replica("outsider");
        net.pump();
    }
    assert_eq!(
        asked(&net),
        before,
        "the replica kept asking for a refused document"
    );
    assert!(net.replicas["outsider"].is_settled());
    assert!(
        net.replicas["outsider"]
            .doc(&id)
            .is_none_or(|am| am.get_heads().is_empty())
    );
}
