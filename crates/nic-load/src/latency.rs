//! Propagation latency: from the moment a client starts an edit until another client holds
//! the change. Clients share one process and so one clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use nic_client::Client;
use nic_client::automerge::ChangeHash;
use nic_model::DocumentId;
use nic_sync::{Notification, Origin};
use serde::Serialize;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// When each edit started and which client made it.
#[derive(Clone, Default)]
pub struct Sent(Arc<Mutex<HashMap<ChangeHash, (Instant, usize)>>>);

impl Sent {
    /// Records an edit (called inside the editing client, right after the commit, so no
    /// other client can see the change before it is recorded).
    pub fn record(&self, hash: ChangeHash, started: Instant, client: usize) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(hash, (started, client));
    }

    fn lookup(&self, hash: &ChangeHash) -> Option<(Instant, usize)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
            .copied()
    }
}

/// Watches one client's notifications and records how long each remote edit took to arrive.
pub struct Watcher {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Vec<f64>>,
}

impl Watcher {
    /// Starts watching `client` (number `me`), whose documents are at `heads` now.
    pub fn start(
        client: Client,
        me: usize,
        sent: Sent,
        heads: HashMap<DocumentId, Vec<ChangeHash>>,
    ) -> Watcher {
        let (stop, mut stopped) = oneshot::channel();
        let mut events = client.events();
        let task = tokio::spawn(async move {
            let mut last = heads;
            let mut samples = Vec::new();
            loop {
                // Events first: stopping only once the queue is drained loses no arrival.
                let event = tokio::select! {
                    biased;
                    event = events.recv() => event,
                    _ = &mut stopped => return samples,
                };
                let docs: Vec<DocumentId> = match event {
                    Ok(Notification::Changed {
                        doc,
                        origin: Origin::Remote(_),
                        ..
                    }) => vec![doc],
                    // Missed notifications: look at every document, or the last changes
                    // to some would never be timed (timed late rather than never).
                    Err(broadcast::error::RecvError::Lagged(_)) => last.keys().copied().collect(),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Closed) => return samples,
                };
                for doc in docs {
                    let prev = last.get(&doc).cloned().unwrap_or_default();
                    // What arrived since we last looked, timed inside the client when it
                    // holds it.
                    let seen = client
                        .read(doc, move |am| {
                            let at = Instant::now();
                            // Metadata only: rebuilding whole changes would cost the
                            // clients' core more than the sync being measured.
                            let new: Vec<ChangeHash> =
                                am.get_changes_meta(&prev).iter().map(|c| c.hash).collect();
                            (at, new, am.get_heads())
                        })
                        .await;
                    let Ok(Some((at, new, now_heads))) = seen else {
                        continue;
                    };
                    for hash in new {
                        if let Some((started, author)) = sent.lookup(&hash)
                            && author != me
                        {
                            samples.push(at.duration_since(started).as_secs_f64() * 1000.0);
                        }
                    }
                    last.insert(doc, now_heads);
                }
            }
        });
        Watcher { stop, task }
    }

    /// Stops after handling every notification already queued; returns the samples (ms).
    pub async fn finish(self) -> Vec<f64> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

/// Percentiles of latency samples, in milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// How many arrivals were timed.
    pub samples: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Summary {
    /// Summarises samples (nearest-rank percentiles).
    pub fn of(mut samples: Vec<f64>) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            // Nearest rank: the smallest sample with at least q of all at or below it.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let i = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
            samples[i]
        };
        Summary {
            samples: samples.len(),
            p50_ms: rank(0.50),
            p90_ms: rank(0.90),
            p99_ms: rank(0.99),
            max_ms: samples[samples.len() - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::of((1..=100).map(f64::from).collect());
        assert_eq!(
            (s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(Summary::of(vec![]).samples, 0);
        assert_eq!(Summary::of(vec![3.0]).p99_ms, 3.0);
    }
}
