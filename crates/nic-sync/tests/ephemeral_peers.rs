//! Ephemeral peers (the hub's WebSocket clients, which come back under a new id each
//! time): their links never load or save sync states, so a thousand browser tabs leave
//! nothing stored behind, while a replica's states are kept as before.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};
use nic_model::fixtures::{meta, peer};
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, Frame};

/// The peers a batch of effects loads or saves sync states for.
fn state_io(effects: &[Effect]) -> (Vec<String>, Vec<String>) {
    let mut loads = Vec::new();
    let mut saves = Vec::new();
    for effect in effects {
        match effect {
            Effect::LoadSyncState { peer, .. } => loads.push(peer.to_string()),
            Effect::SaveSyncState { peer, .. } => saves.push(peer.to_string()),
            _ => {}
        }
    }
    (loads, saves)
}

#[test]
fn an_ephemeral_peer_neither_loads_nor_saves_sync_states() {
    let mut config = EngineConfig::hub();
    config.persist_sync_state = true;
    let mut hub = Engine::new(config);
    let ctx = || Ctx::new(0, &AllowAll);
    let m = meta(1, "algebra");
    let doc = m.id;
    hub.create(ctx(), m, Automerge::new()).unwrap();
    hub.peer_connected(ctx(), peer("replica"));
    hub.ephemeral_peer_connected(ctx(), peer("tab"));
    let hello = Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .unwrap()
        .encode();
    for p in ["replica", "tab"] {
        let frame = Frame::Sync {
            doc,
            message: hello.clone(),
        };
        hub.receive(ctx(), &peer(p), frame);
    }
    let (loads, saves) = state_io(&hub.take_effects());
    assert_eq!(
        loads,
        vec!["replica"],
        "only the replica's state is looked up"
    );
    assert!(saves.is_empty());
    hub.sync_state_loaded(ctx(), &peer("replica"), doc, None);
    assert!(hub.is_linked(&doc, &peer("tab")));
    assert_eq!(hub.linked_peers(&doc).count(), 2);

    hub.peer_disconnected(ctx(), &peer("replica"));
    hub.peer_disconnected(ctx(), &peer("tab"));
    let (loads, saves) = state_io(&hub.take_effects());
    assert!(loads.is_empty());
    assert_eq!(saves, vec!["replica"], "only the replica's state is kept");
    assert!(!hub.is_linked(&doc, &peer("tab")));
}
