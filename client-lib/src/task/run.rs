//! The task's loop: commands, frames from the hub, reconnect timers and ticks.

use std::future::Future;
use std::time::Duration;

use nic_proto::convert::{self, FromHub};
use nic_proto::v1;
use prost::Message;
use tokio::sync::mpsc;

use super::{Cmd, MAX_BATCH, Task, hub_peer};

impl Task {
    pub(super) async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let frame = async {
                match self.conn.as_mut() {
                    Some(conn) => conn.inbound.message().await,
                    None => std::future::pending().await,
                }
            };
            let held_due = self.deferred.next_due();
            let held = async move {
                match held_due {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let retry_at = self.next_attempt;
            let retry = async move {
                match retry_at {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Close(reply)) => {
                        self.close().await;
                        // The store is released before the caller hears back, so the folder
                        // can be opened again at once.
                        drop(self);
                        let _ = reply.send(());
                        return;
                    }
                    Some(cmd) => {
                        // Reads change nothing a status watcher sees.
                        self.status_stale |= cmd.may_change_status();
                        if let Some(doc) = cmd.needs_news() {
                            self.merge_held(doc);
                        }
                        self.on_cmd(cmd).await;
                    }
                    None => {
                        self.close().await;
                        return;
                    }
                },
                Some(msg) = self.internal_rx.recv() => {
                    self.status_stale = true;
                    self.on_internal(msg).await;
                }
                frame = frame => self.on_frames(frame),
                () = held => self.merge_due(),
                () = retry => {
                    self.status_stale = true;
                    if !self.paused && self.conn.is_none() && self.attempt.is_none() {
                        self.start_attempt();
                    }
                }
                due = tick.tick() => {
                    self.deferred.timer_fired(due.into_std());
                    self.status_stale = true;
                    let t = self.now();
                    self.rt.with_engine(t, |engine, ctx| engine.tick(ctx));
                    self.refresh_all_pending();
                }
            }
            self.settle().await;
            // Frames change the status only through an ack, a lost stream (which mark it
            // stale) or by bringing every link into agreement (or out of it).
            let settled = self.rt.engine().is_settled() && self.deferred.is_empty();
            if settled != self.settled {
                self.settled = settled;
                self.status_stale = true;
            }
            if std::mem::take(&mut self.status_stale) {
                self.publish_status();
            }
        }
    }

    /// Handles a frame and whatever else has already arrived behind it: the engine merges a
    /// document's messages, which applies faster and answers once.
    fn on_frames(&mut self, frame: Result<Option<v1::HubFrame>, tonic::Status>) {
        let (frames, end) = match frame {
            Ok(Some(first)) => self.ready_frames(first),
            Ok(None) => (Vec::new(), Some(Ok(()))),
            Err(status) => (Vec::new(), Some(Err(status))),
        };
        let mut domain = Vec::with_capacity(frames.len());
        for frame in frames {
            self.wire.frames_received += 1;
            self.wire.bytes_received += frame.encoded_len() as u64;
            match convert::from_hub(frame) {
                Ok(FromHub::Frame(frame)) => domain.push(frame),
                Ok(FromHub::Welcome(_)) => tracing::warn!("unexpected second Welcome"),
                Err(e) => tracing::warn!(error = %e, "malformed frame from the hub"),
            }
        }
        self.receive_frames(domain);
        match end {
            Some(Ok(())) => self.lost("the hub ended the stream".into()),
            Some(Err(status)) => self.lost(format!("the stream failed: {status}")),
            None => {}
        }
    }

    /// `first` and every frame already waiting behind it (at most [`MAX_BATCH`]), without
    /// waiting for more; and, if the stream ended meanwhile, how (cleanly or with a status).
    fn ready_frames(
        &mut self,
        first: v1::HubFrame,
    ) -> (Vec<v1::HubFrame>, Option<Result<(), tonic::Status>>) {
        let mut frames = vec![first];
        let Some(conn) = self.conn.as_mut() else {
            return (frames, None);
        };
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        while frames.len() < MAX_BATCH {
            let next = std::pin::pin!(conn.inbound.message());
            match next.poll(&mut cx) {
                std::task::Poll::Ready(Ok(Some(frame))) => frames.push(frame),
                std::task::Poll::Ready(end) => return (frames, Some(end.map(|_| ()))),
                std::task::Poll::Pending => break,
            }
        }
        (frames, None)
    }

    /// Leaves cleanly: sync states saved for a quick resume, everything flushed.
    async fn close(&mut self) {
        self.merge_held(None);
        if self.conn.is_some() {
            self.conn = None;
            let t = self.now();
            self.rt
                .with_engine(t, |engine, ctx| engine.peer_disconnected(ctx, &hub_peer()));
        }
        self.settle().await;
        self.refresh_all_pending();
        self.settle().await;
    }
}
