//! Group commit for writes made outside the engine task (`Documents.Create`): callers whose
//! writes landed while a flush was under way share the next one instead of each paying for
//! its own, so concurrent creations are answered by one flush. A caller alone flushes at
//! once: nothing waits for company.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use nic_store::{Durability, Store, StoreError};

/// Shared by every caller that writes to one store and must answer only once durable.
#[derive(Default)]
pub(crate) struct GroupFlush {
    state: Mutex<State>,
    done: Condvar,
}

#[derive(Default)]
struct State {
    /// Tickets handed out: one per write, taken after the write.
    issued: u64,
    /// Every write whose ticket is at most this is durable.
    flushed: u64,
    flushing: bool,
    /// The last flush that failed: the tickets it was to cover, and why.
    failed: Option<(u64, u64, String)>,
    /// Flushes made, for tests and metrics.
    flushes: u64,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GroupFlush {
    /// Call after writing: returns once a flush that started after the write has
    /// completed (or with that flush's error). Blocking; call it on the blocking pool.
    pub(crate) fn flush(
        &self,
        store: &dyn Store,
        durability: Durability,
    ) -> Result<(), StoreError> {
        self.flush_with(|| store.flush(durability))
    }

    /// [`GroupFlush::flush`] with the flush given as a function.
    fn flush_with(&self, flush: impl Fn() -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut s = lock(&self.state);
        s.issued += 1;
        let ticket = s.issued;
        loop {
            if s.flushed >= ticket {
                return Ok(());
            }
            if let Some((from, to, why)) = &s.failed
                && (*from..=*to).contains(&ticket)
            {
                return Err(StoreError::Io {
                    path: "flush".into(),
                    source: std::io::Error::other(why.clone()),
                });
            }
            if s.flushing {
                s = self.done.wait(s).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Ours covers every write with a ticket so far.
            s.flushing = true;
            let (from, covers) = (s.flushed + 1, s.issued);
            drop(s);
            let result = flush();
            s = lock(&self.state);
            s.flushing = false;
            s.flushes += 1;
            match &result {
                Ok(()) => s.flushed = s.flushed.max(covers),
                Err(e) => s.failed = Some((from, covers, e.to_string())),
            }
            self.done.notify_all();
            result?;
        }
    }

    /// How many flushes were made.
    #[cfg(test)]
    pub(crate) fn flushes(&self) -> u64 {
        lock(&self.state).flushes
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// 64 writers at once: each returns only after a flush that started after its write,
    /// and they share flushes. Also a flush that fails fails every writer it covered.
    #[test]
    fn concurrent_writers_share_flushes_and_none_returns_before_its_write_is_flushed() {
        let written = Arc::new(AtomicU64::new(0));
        let durable = Arc::new(AtomicU64::new(0));
        let group = Arc::new(GroupFlush::default());
        let threads: Vec<_> = (0..64)
            .map(|_| {
                let (written, durable, group) = (written.clone(), durable.clone(), group.clone());
                std::thread::spawn(move || {
                    let mine = written.fetch_add(1, Ordering::SeqCst) + 1;
                    group
                        .flush_with(|| {
                            // What was written before the flush started is what it covers.
                            let upto = written.load(Ordering::SeqCst);
                            std::thread::yield_now();
                            durable.fetch_max(upto, Ordering::SeqCst);
                            Ok(())
                        })
                        .unwrap();
                    assert!(
                        durable.load(Ordering::SeqCst) >= mine,
                        "told durable too early"
                    );
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let flushes = group.flushes();
        assert!((1..=64).contains(&flushes), "{flushes}");

        let failing = GroupFlush::default();
        let err = failing
            .flush_with(|| {
                Err(StoreError::Io {
                    path: "disk".into(),
                    source: std::io::Error::other("disk full"),
                })
            })
            .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}
