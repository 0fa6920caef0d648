//! A reconnecting peer resumes from the sync state saved at disconnect: the exchange after
//! a short offline period is small, not a full re-summary of the document.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ROOT};
use nic_sync::{AllowAll, Ctx, Target};

mod common;
use common::pair::Pair;

/// Bytes exchanged to catch up one new change after reconnecting, with or without the
/// saved sync state.
fn catch_up_bytes(keep_state: bool) -> usize {
    let ctx = Ctx::new(0, &AllowAll);
    let meta = common::meta(3, "n");
    let doc = meta.id;
    let mut pair = Pair::new();
    let mut am = automerge::Automerge::new();
    for i in 0..500 {
        am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, format!("k{i}"), i).map(|_| ()))
            .unwrap();
    }
    pair.hub.create(ctx, meta, am).unwrap();
    pair.connect(Target::Docs(vec![doc]), Vec::new());
    assert_eq!(
        pair.replica.doc(&doc).unwrap().get_heads(),
        pair.hub.doc(&doc).unwrap().get_heads()
    );

    pair.disconnect();
    if !keep_state {
        pair.states.clear();
    }
    pair.hub
        .edit(ctx, &doc, |am| {
            am.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "new", 1).map(|_| ()))
                .unwrap();
        })
        .unwrap();
    pair.settle();
    pair.wire.clear();
    pair.connect(Target::Docs(vec![doc]), Vec::new());
    assert_eq!(
        pair.replica.doc(&doc).unwrap().get_heads(),
        pair.hub.doc(&doc).unwrap().get_heads()
    );
    pair.sync_bytes()
}

#[test]
fn reconnect_resumes_with_a_small_exchange() {
    let resumed = catch_up_bytes(true);
    let fresh = catch_up_bytes(false);
    println!("catch-up after reconnect: resumed {resumed} bytes, fresh {fresh} bytes");
    assert!(
        resumed * 2 < fresh,
        "resumed exchange {resumed} bytes vs fresh {fresh} bytes"
    );
}
