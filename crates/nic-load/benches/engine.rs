//! The hub engine's hot path beside its physical limit.
//!
//! One writer makes 100 worksheet edits (the load tool's mix), one sync round each. We
//! record the frames the hub receives, then time a fresh hub replaying them: decoding each
//! sync message, staging and persisting the change (storage answers at once), applying it,
//! acknowledging it and relaying it to R readers. The baseline merges the same 100 changes
//! straight into an Automerge document, one `apply_changes` each: no engine, no network.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nic_load::workload::{Edit, worksheet};
use nic_model::fixtures::{self, peer};
use nic_model::{DocMeta, DocumentId, PeerId};
use nic_sync::automerge::{Automerge, Change};
use nic_sync::{AllowAll, Ctx, Effect, Engine, EngineConfig, Frame, LoadResult, Policy, Target};
use rand::SeedableRng;

const EDITS: usize = 100;
const DOC: DocumentId = DocumentId::from_bytes([7; 16]);

fn ctx() -> Ctx<'static> {
    Ctx::new(0, &AllowAll)
}

/// Allows everything, but checks content as the hub does: every message with new changes
/// costs a projection (a copy of the document with them applied) and the schema check.
struct SchemaChecked;

impl Policy for SchemaChecked {
    fn can_read(&self, _: &PeerId, _: &DocumentId, _: Option<&DocMeta>) -> bool {
        true
    }
    fn can_write(&self, _: &PeerId, _: &DocumentId, _: Option<&DocMeta>) -> bool {
        true
    }
    fn checks_content(&self) -> bool {
        true
    }
    fn check_content(
        &self,
        _: &DocumentId,
        meta: Option<&DocMeta>,
        after: &Automerge,
    ) -> Result<(), String> {
        let kind = meta.map_or(nic_model::DocKind::PdsaCycle, |m| m.kind);
        nic_model::schema::check::accepted(after, kind).map_err(|e| e.to_string())
    }
}

/// The benchmark's document, `DOC`.
fn meta() -> DocMeta {
    fixtures::meta(7, "bench")
}

/// Runs an engine's effects with storage that is durable at once; returns the frames sent.
fn drain(engine: &mut Engine) -> Vec<(PeerId, Frame)> {
    let mut sent = Vec::new();
    loop {
        let effects = engine.take_effects();
        if effects.is_empty() {
            return sent;
        }
        for effect in effects {
            match effect {
                Effect::Send { peer, frame } => sent.push((peer, frame)),
                Effect::Load { doc } => engine.loaded(ctx(), doc, LoadResult::NotFound),
                Effect::Persist { doc, seq, .. } => engine.persisted(ctx(), doc, seq),
                Effect::LoadSyncState { peer, doc } => {
                    engine.sync_state_loaded(ctx(), &peer, doc, None)
                }
                _ => {}
            }
        }
    }
}

/// A hub holding the worksheet, with a writer and `readers` readers subscribed and in sync.
struct Net {
    hub: Engine,
    replicas: Vec<(PeerId, Engine)>,
}

impl Net {
    fn new(base: &Automerge, readers: usize) -> Net {
        let mut config = EngineConfig::hub();
        config.persist_sync_state = false;
        let mut hub = Engine::new(config);
        hub.create(ctx(), meta(), base.clone()).unwrap();
        drain(&mut hub);
        let mut net = Net {
            hub,
            replicas: Vec::new(),
        };
        for i in 0..=readers {
            let name = if i == 0 {
                peer("writer")
            } else {
                peer(&format!("reader-{i}"))
            };
            let mut config = EngineConfig::replica();
            config.persist_sync_state = false;
            let mut replica = Engine::new(config);
            replica.peer_connected(ctx(), peer("hub"));
            net.hub.peer_connected(ctx(), name.clone());
            replica.subscribe(ctx(), &peer("hub"), Target::Docs(vec![DOC]));
            let out = drain(&mut replica);
            net.replicas.push((name.clone(), replica));
            net.pump(
                out.into_iter().map(|(_, f)| (name.clone(), f)).collect(),
                None,
            );
        }
        net
    }

    /// Delivers frames (from replica → hub, and the hub's answers) until none are left;
    /// frames reaching the hub are appended to `record`.
    fn pump(
        &mut self,
        mut to_hub: Vec<(PeerId, Frame)>,
        mut record: Option<&mut Vec<(PeerId, Frame)>>,
    ) {
        while !to_hub.is_empty() {
            let mut to_replicas = Vec::new();
            for (from, frame) in to_hub.drain(..) {
                if let Some(r) = record.as_deref_mut() {
                    r.push((from.clone(), frame.clone()));
                }
                self.hub.receive(ctx(), &from, frame);
                to_replicas.extend(drain(&mut self.hub));
            }
            for (to, frame) in to_replicas {
                if let Some((_, replica)) = self.replicas.iter_mut().find(|(p, _)| *p == to) {
                    replica.receive(ctx(), &peer("hub"), frame);
                    to_hub.extend(drain(replica).into_iter().map(|(_, f)| (to.clone(), f)));
                }
            }
        }
    }
}

/// The frames a hub receives while a writer makes `EDITS` edits, and those edits' changes.
fn record(base: &Automerge, readers: usize) -> (Vec<(PeerId, Frame)>, Vec<Change>) {
    let mut net = Net::new(base, readers);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let mut inputs = Vec::new();
    for _ in 0..EDITS {
        let edit = Edit::random(&mut rng);
        let writer = &mut net.replicas[0].1;
        writer
            .edit(ctx(), &DOC, |am| edit.apply(am).unwrap())
            .unwrap();
        let out = drain(writer);
        let from = net.replicas[0].0.clone();
        net.pump(
            out.into_iter().map(|(_, f)| (from.clone(), f)).collect(),
            Some(&mut inputs),
        );
    }
    let writer = net.replicas[0].1.doc(&DOC).unwrap();
    let changes = writer.get_changes(&base.get_heads());
    assert_eq!(changes.len(), EDITS);
    assert_eq!(net.hub.doc(&DOC).unwrap().get_heads(), writer.get_heads());
    for (_, reader) in &net.replicas[1..] {
        assert_eq!(reader.doc(&DOC).unwrap().get_heads(), writer.get_heads());
    }
    (inputs, changes)
}

fn replay(mut net: Net, inputs: Vec<(PeerId, Frame)>, policy: &dyn Policy) -> Net {
    for (from, frame) in inputs {
        net.hub.receive(Ctx::new(0, policy), &from, frame);
        black_box(drain(&mut net.hub));
    }
    net
}

fn bench(c: &mut Criterion) {
    let base = worksheet(0).unwrap();
    let mut group = c.benchmark_group("merge_100_worksheet_edits");
    group.throughput(Throughput::Elements(EDITS as u64));

    let (_, changes) = record(&base, 1);
    group.bench_function("baseline_automerge_apply_changes", |b| {
        b.iter_batched(
            || (base.clone(), changes.clone()),
            |(mut doc, changes)| {
                for change in changes {
                    doc.apply_changes([change]).unwrap();
                }
                black_box(doc.get_heads())
            },
            BatchSize::PerIteration,
        )
    });

    // The same changes in one call: what batching could reach at best.
    group.bench_function("baseline_automerge_apply_changes_batched", |b| {
        b.iter_batched(
            || (base.clone(), changes.clone()),
            |(mut doc, changes)| {
                doc.apply_changes(changes).unwrap();
                black_box(doc.get_heads())
            },
            BatchSize::PerIteration,
        )
    });

    for readers in [1, 8] {
        let (inputs, _) = record(&base, readers);
        // The replay must reproduce the recorded run exactly, or it measures something else.
        let check = replay(Net::new(&base, readers), inputs.clone(), &SchemaChecked);
        assert_eq!(
            check
                .hub
                .doc(&DOC)
                .unwrap()
                .get_changes(&base.get_heads())
                .len(),
            EDITS
        );
        group.bench_function(format!("hub_engine_{readers}_readers"), |b| {
            b.iter_batched(
                || (Net::new(&base, readers), inputs.clone()),
                |(net, inputs)| replay(net, inputs, &AllowAll),
                BatchSize::PerIteration,
            )
        });
        // The hub's real policy checks content; its price per edit, beside the above.
        group.bench_function(
            format!("hub_engine_{readers}_readers_schema_checked"),
            |b| {
                b.iter_batched(
                    || (Net::new(&base, readers), inputs.clone()),
                    |(net, inputs)| replay(net, inputs, &SchemaChecked),
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
