//! The hub's runtime: its engine, the rights in force, hindsight records and the open write
//! group. Every input is followed by carrying out the engine's effects here, in one loop
//! (`CarryOut::drain` in `lib.rs`, shared with the replica); what needs the outside world comes out as [`Output`]s and
//! [`Group`]s, which the environment (the hub's tokio driver, or the simulation) carries out
//! and answers with [`HubRuntime::read_done`] and [`HubRuntime::committed`].

use nic_model::{DocMeta, Member, MemberId, PeerId, TokenId, TokenRecord};
use nic_sync::{Ctx, Effect, Engine, EngineConfig, Frame, Notification};

use crate::hindsight::Hindsight;
use crate::rights::{Current, PeerAuth, Refusal, Rights, check_token};
use crate::storage::{Committed, Group, Read, ReadDone, Write};
use crate::{CarryOut, Output, Time};

mod shared;

/// A hub's engine with everything it needs to decide, and nothing that blocks.
pub struct HubRuntime {
    engine: Engine,
    rights: Rights,
    hindsight: Hindsight,
    group: Group,
    out: Vec<Output>,
    /// A flush failed and none has succeeded since: the store may hold writes that are not
    /// durable (a failed flush does not take them back), so no document is evicted — one
    /// loaded again now could bring back, and relay, changes a crash would then lose.
    flush_failed: bool,
    /// What other hubs on a shared database stored, on its way in (boxed: most hubs
    /// have a database of their own, and this keeps the runtime small).
    shared: Box<shared::Incoming>,
}

impl HubRuntime {
    /// A hub runtime with no documents and no peers.
    pub fn new(config: EngineConfig) -> Self {
        Self {
            engine: Engine::new(config),
            rights: Rights::default(),
            hindsight: Hindsight::default(),
            group: Group::default(),
            out: Vec::new(),
            flush_failed: false,
            shared: Box::default(),
        }
    }

    /// The engine, to read.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The rights in force.
    pub fn rights(&self) -> &Rights {
        &self.rights
    }

    /// How many PDSA cycles the hindsight records hold.
    pub fn hindsight_len(&self) -> usize {
        self.hindsight.len()
    }

    /// What the environment must do now.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    /// The writes issued since the last call, to commit with one flush; `None` if none.
    pub fn take_group(&mut self) -> Option<Group> {
        self.group.take()
    }

    /// Whether writes wait for [`HubRuntime::take_group`].
    pub fn has_writes(&self) -> bool {
        !self.group.is_empty()
    }

    /// Makes a stored document known (at start, or after `Documents.Create`).
    pub fn catalogue(&mut self, t: Time, meta: DocMeta) {
        self.engine
            .catalogue(Ctx::new(t.engine_ms, &self.rights), meta);
        self.drain(t);
    }

    /// A stream said Hello and the directory, read after every event the runtime has seen,
    /// found its rights good. A stream already open under the same peer id must have been
    /// disconnected first.
    pub fn connect(&mut self, t: Time, peer: PeerId, token: TokenId, current: Current) {
        self.connect_as(t, peer, token, current, false);
    }

    /// [`HubRuntime::connect`] for a peer whose sync states are not stored (see
    /// [`nic_sync::Engine::ephemeral_peer_connected`]): a WebSocket peer, which comes back
    /// under a new id every time.
    pub fn connect_ephemeral(&mut self, t: Time, peer: PeerId, token: TokenId, current: Current) {
        self.connect_as(t, peer, token, current, true);
    }

    fn connect_as(
        &mut self,
        t: Time,
        peer: PeerId,
        token: TokenId,
        current: Current,
        ephemeral: bool,
    ) {
        let auth = PeerAuth {
            member: current.member.id.clone(),
            token,
            expires_at_ms: current.expires_at_ms,
        };
        self.rights.connect(peer.clone(), &current.member, auth);
        let ctx = Ctx::new(t.engine_ms, &self.rights);
        if ephemeral {
            self.engine.ephemeral_peer_connected(ctx, peer);
        } else {
            self.engine.peer_connected(ctx, peer);
        }
        self.drain(t);
    }

    /// A stream ended, for whatever reason: the one way a peer leaves the runtime.
    pub fn disconnect(&mut self, t: Time, peer: &PeerId) {
        if self.rights.peer(peer).is_some() {
            self.engine
                .peer_disconnected(Ctx::new(t.engine_ms, &self.rights), peer);
        }
        self.rights.disconnect(peer);
        self.drain(t);
    }

    /// A frame from a connected peer.
    pub fn receive(&mut self, t: Time, peer: &PeerId, frame: Frame) {
        if self.rights.peer(peer).is_none() {
            return;
        }
        self.engine
            .receive(Ctx::new(t.engine_ms, &self.rights), peer, frame);
        self.drain(t);
    }

    /// The directory's record of `member` after it changed (`Ok(None)`: removed; `Err`:
    /// unreadable). Narrower roles take effect at once; a removed member's streams end.
    pub fn member_updated(
        &mut self,
        t: Time,
        member: &MemberId,
        read: Result<Option<Member>, String>,
    ) {
        let peers = self.rights.peers_of(member);
        if peers.is_empty() {
            return;
        }
        match read {
            Ok(Some(m)) => {
                self.rights.set_grants(&m);
                // Links the member may no longer read are dropped (and told) now.
                let ctx = Ctx::new(t.engine_ms, &self.rights);
                for peer in &peers {
                    self.engine.rights_changed(ctx, peer);
                }
                self.drain(t);
            }
            Ok(None) => {
                let refusal =
                    Refusal::Unauthenticated(format!("{member} is no longer a member of this hub"));
                self.end(t, peers, &refusal);
            }
            Err(e) => {
                // Fail closed: without the directory, the member's streams end.
                tracing::error!(error = %e, %member, "cannot re-read a member's roles");
                let refusal = Refusal::Unavailable(
                    "the hub could not check your rights; reconnect".to_owned(),
                );
                self.end(t, peers, &refusal);
            }
        }
    }

    /// The directory's record of `token` after it changed: the streams opened with it end
    /// unless it is still good.
    pub fn token_updated(
        &mut self,
        t: Time,
        token: &TokenId,
        read: Result<Option<TokenRecord>, String>,
    ) {
        let streams: Vec<(PeerId, MemberId)> = self
            .rights
            .peers()
            .filter(|(_, a)| a.token == *token)
            .map(|(p, a)| (p.clone(), a.member.clone()))
            .collect();
        for (peer, member) in streams {
            let verdict = match &read {
                Ok(record) => check_token(token, record.as_ref(), &member, t.wall_ms).map(|_| ()),
                Err(_) => Err(Refusal::Unavailable(
                    "the hub could not check your rights; reconnect".to_owned(),
                )),
            };
            if let Err(refusal) = verdict {
                tracing::warn!(target: "security", event = "stream_ended", %peer, %member, %token, reason = %refusal.message(), "a stream's token stopped being valid");
                self.end(t, vec![peer], &refusal);
            }
        }
    }

    /// Timers: resyncs, and the end of streams whose token has expired.
    pub fn tick(&mut self, t: Time) {
        self.engine.tick(Ctx::new(t.engine_ms, &self.rights));
        self.retry_stale();
        let expired: Vec<(PeerId, TokenId)> = self
            .rights
            .peers()
            .filter(|(_, a)| a.expires_at_ms.is_some_and(|at| t.wall_ms >= at))
            .map(|(p, a)| (p.clone(), a.token.clone()))
            .collect();
        for (peer, token) in expired {
            let refusal =
                Refusal::Unauthenticated(format!("token {token} has expired; ask for a new one"));
            tracing::warn!(target: "security", event = "stream_ended", %peer, %token, "a stream's token expired");
            self.end(t, vec![peer], &refusal);
        }
        self.drain(t);
    }

    /// Evicts idle documents beyond `keep` (and their hindsight records); how many.
    pub fn evict_idle(&mut self, keep: usize) -> usize {
        if self.flush_failed {
            return 0;
        }
        let evicted = self.engine.evict_idle(keep);
        if evicted > 0 {
            self.hindsight.retain_loaded(&self.engine);
            self.forget_unheld();
        }
        evicted
    }

    /// The answer to an [`Output::Read`].
    pub fn read_done(&mut self, t: Time, done: ReadDone) {
        let ctx = Ctx::new(t.engine_ms, &self.rights);
        match done {
            ReadDone::Doc { doc, result, .. } => {
                self.engine.loaded(ctx, doc, result);
                self.unpark(t, doc);
            }
            ReadDone::Stored { doc, whole, result } => self.stored_read(t, doc, whole, result),
            ReadDone::SyncState { peer, doc, state } => {
                self.engine.sync_state_loaded(ctx, &peer, doc, state)
            }
        }
        self.drain(t);
    }

    /// What committing a group did: actor bindings learnt, then persists reported.
    pub fn committed(&mut self, t: Time, done: Committed) {
        self.flush_failed = done.flush_error.is_some();
        for (actor, member) in done.bound.into_iter().chain(done.taken) {
            self.rights.learn_actor(actor, member);
        }
        let ctx = Ctx::new(t.engine_ms, &self.rights);
        for (doc, seq) in done.persisted {
            self.engine.persisted(ctx, doc, seq);
        }
        for (doc, seq, reason) in done.failed {
            self.engine.persist_failed(ctx, doc, seq, &reason);
            self.hindsight.reset(&self.engine, doc);
        }
        self.drain(t);
    }

    /// Ends every stream (the hub is stopping); their sync states are saved.
    pub fn disconnect_all(&mut self, t: Time) {
        let peers: Vec<PeerId> = self.rights.peers().map(|(p, _)| p.clone()).collect();
        for peer in peers {
            self.disconnect(t, &peer);
        }
    }

    /// Ends `peers`' streams with `refusal`.
    fn end(&mut self, t: Time, peers: Vec<PeerId>, refusal: &Refusal) {
        for peer in peers {
            self.disconnect(t, &peer);
            self.out.push(Output::End {
                peer,
                refusal: refusal.clone(),
            });
        }
    }
}

impl CarryOut for HubRuntime {
    fn take_effects(&mut self) -> Vec<Effect> {
        self.engine.take_effects()
    }

    fn carry_out(&mut self, t: Time, effect: Effect) {
        match effect {
            Effect::Send { peer, frame } => self.out.push(Output::Send { peer, frame }),
            Effect::Load { doc } => self.out.push(Output::Read(Read::Doc(doc))),
            Effect::LoadSyncState { peer, doc } => {
                self.out.push(Output::Read(Read::SyncState(peer, doc)))
            }
            Effect::PutMeta(meta) => self.group.writes.push(Write::Meta(meta)),
            Effect::Persist {
                doc,
                seq,
                chunk,
                authored,
            } => {
                let authored = match authored {
                    None => None,
                    Some(a) => match self.rights.peer(&a.peer) {
                        Some(auth) => Some((auth.member.clone(), a.actors)),
                        None => {
                            // Cannot happen (effects are carried out right after the input
                            // that made them); fail closed rather than store unbound changes.
                            let ctx = Ctx::new(t.engine_ms, &self.rights);
                            self.engine
                                .persist_failed(ctx, doc, seq, "its sender has gone");
                            return;
                        }
                    },
                };
                if let Some((member, _)) = &authored {
                    let entries =
                        self.hindsight
                            .entries_for(&self.engine, doc, &chunk, member, t.wall_ms);
                    self.group
                        .writes
                        .extend(entries.into_iter().map(Write::Audit));
                }
                self.group.writes.push(Write::Chunk {
                    doc,
                    seq,
                    chunk,
                    authored,
                });
            }
            Effect::SaveSyncState { peer, doc, state } => self
                .group
                .writes
                .push(Write::SyncState { peer, doc, state }),
            Effect::Notify(n) => {
                match &n {
                    Notification::Ready { doc } => self.hindsight.loaded(&self.engine, *doc),
                    Notification::Changed { doc, .. } => self.hindsight.changed(&self.engine, *doc),
                    _ => {}
                }
                self.out.push(Output::Notify(n));
            }
        }
    }
}
