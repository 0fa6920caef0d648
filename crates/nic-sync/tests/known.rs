//! A replica resubscribing with what it knows: documents unchanged on both sides since the
//! last agreement exchange nothing, not even an announcement; those changed on either side,
//! or whose metadata changed, sync as usual; everything converges.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ROOT};
use nic_model::{DocMeta, DocumentId, NetworkId};
use nic_sync::{AllowAll, Ctx, Engine, Known, Target};

mod common;
use common::pair::Pair;

fn network() -> NetworkId {
    NetworkId::new("n").unwrap()
}

fn meta(n: u8) -> DocMeta {
    common::meta(n, "n")
}

fn put(engine: &mut Engine, doc: DocumentId, key: &str) {
    engine
        .edit(Ctx::new(0, &AllowAll), &doc, |am| {
            am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, key, 1).map(|_| ()))
                .unwrap();
        })
        .unwrap();
}

#[test]
fn a_resubscribing_replica_exchanges_only_what_changed() {
    let ctx = Ctx::new(0, &AllowAll);
    let mut pair = Pair::new();
    let [same, hub_changed, here_changed, archived] = [1, 2, 3, 4].map(meta);
    for m in [&same, &hub_changed, &here_changed, &archived] {
        let mut am = automerge::Automerge::new();
        am.transact::<_, _, AutomergeError>(|tx| {
            tx.put(ROOT, "title", m.title.as_str()).map(|_| ())
        })
        .unwrap();
        pair.hub.create(ctx, m.clone(), am).unwrap();
    }
    pair.connect(Target::Network(network()), Vec::new());
    pair.disconnect();

    // Offline: one changes on the hub, one here, one is archived on the hub.
    put(&mut pair.hub, hub_changed.id, "hub");
    put(&mut pair.replica, here_changed.id, "here");
    let mut archived_now = archived.clone();
    archived_now.archived = true;
    pair.hub.catalogue(ctx, archived_now);
    pair.settle();

    // The replica knows every document it did not change itself.
    let known = [same.id, hub_changed.id, archived.id].map(|d| pair.known(d));
    pair.wire.clear();
    pair.connect(Target::Network(network()), known.to_vec());

    assert_eq!(pair.about(same.id), (0, 0), "unchanged: not a word");
    assert_eq!(
        pair.about(archived.id),
        (0, 1),
        "new metadata: announced, no sync"
    );
    let (syncs, announces) = pair.about(hub_changed.id);
    assert!(syncs >= 1 && announces == 0, "{syncs} {announces}");
    let (syncs, announces) = pair.about(here_changed.id);
    assert!(syncs >= 1 && announces == 1, "{syncs} {announces}");
    for m in [&same, &hub_changed, &here_changed, &archived] {
        assert_eq!(
            pair.replica.doc(&m.id).unwrap().get_heads(),
            pair.hub.doc(&m.id).unwrap().get_heads(),
            "{}",
            m.title
        );
    }
    assert!(pair.replica.meta(&archived.id).unwrap().archived);
    assert!(pair.hub.is_settled() && pair.replica.is_settled());
    assert_eq!(pair.hub.stats().links_started_in_step, 2);
    assert_eq!(pair.replica.stats().links_started_in_step, 3);

    // Later changes flow on the links that started in step, both ways.
    pair.wire.clear();
    put(&mut pair.hub, same.id, "later");
    pair.settle();
    put(&mut pair.replica, archived.id, "later here");
    pair.settle();
    for m in [&same, &archived] {
        assert_eq!(
            pair.replica.doc(&m.id).unwrap().get_heads(),
            pair.hub.doc(&m.id).unwrap().get_heads()
        );
    }
}

#[test]
fn a_known_entry_that_does_not_match_the_replica_falls_back_to_a_full_exchange() {
    let ctx = Ctx::new(0, &AllowAll);
    let mut pair = Pair::new();
    let m = meta(9);
    pair.hub
        .create(ctx, m.clone(), automerge::Automerge::new())
        .unwrap();
    put(&mut pair.hub, m.id, "a");
    pair.settle();
    pair.connect(Target::Network(network()), Vec::new());
    pair.disconnect();
    // A wrong claim (heads neither side holds) costs an exchange, never a divergence.
    let wrong = Known {
        doc: m.id,
        heads: vec![automerge::ChangeHash([5; 32])],
        meta_digest: 0,
    };
    put(&mut pair.hub, m.id, "b");
    pair.wire.clear();
    pair.connect(Target::Network(network()), vec![wrong]);
    assert_eq!(
        pair.replica.doc(&m.id).unwrap().get_heads(),
        pair.hub.doc(&m.id).unwrap().get_heads()
    );
    assert!(pair.about(m.id).0 >= 2);
}

/// Found in `nic feedback show` reading a thread without its newest comment: the hub says
/// `Subscribed` before the first messages of documents it must load first, and a document
/// the replica knows started in step — so the replica looked settled before the hub's news
/// arrived. Settled must wait for `CaughtUp`.
#[test]
fn a_resubscribing_replica_is_not_settled_before_the_news_of_a_document_it_knows() {
    let ctx = Ctx::new(0, &AllowAll);
    let mut pair = Pair::new();
    let m = meta(7);
    pair.hub
        .create(ctx, m.clone(), automerge::Automerge::new())
        .unwrap();
    put(&mut pair.hub, m.id, "asked");
    pair.settle();
    pair.connect(Target::Network(network()), Vec::new());
    pair.disconnect();
    // The coach resolves the thread while this replica is away.
    put(&mut pair.hub, m.id, "resolved");
    pair.settle();
    let known = vec![pair.known(m.id)];
    pair.hub.peer_connected(ctx, common::peer("r"));
    pair.replica.peer_connected(ctx, common::peer("hub"));
    pair.replica
        .subscribe_known(ctx, &common::peer("hub"), Target::Network(network()), known);
    let mut looked_settled_stale = 0;
    pair.settle_checking(|hub, replica| {
        let theirs = hub.doc(&m.id).map(|am| am.get_heads());
        let ours = replica.doc(&m.id).map(|am| am.get_heads());
        if replica.is_settled() && ours != theirs {
            looked_settled_stale += 1;
        }
    });
    assert_eq!(
        looked_settled_stale, 0,
        "settled while the hub's change was on its way"
    );
    assert!(pair.replica.is_settled());
    assert_eq!(
        pair.replica.doc(&m.id).unwrap().get_heads(),
        pair.hub.doc(&m.id).unwrap().get_heads()
    );
}
