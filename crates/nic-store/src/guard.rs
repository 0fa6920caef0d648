//! A debug-build check that the store's blocking calls never run on an async executor's
//! worker thread, where one slow disk read stalls every task sharing the thread.
//!
//! Wrap the store in [`Guarded`] and run storage work inside [`may_block`] (on a thread that
//! may block: `spawn_blocking`, a writer thread). In debug builds a call through the wrapper
//! panics when it is made outside [`may_block`] on a thread the embedder's `on_async_thread`
//! says belongs to an async runtime; release builds only delegate.
//!
//! Why a flag and not the thread alone: tokio gives its worker and blocking-pool threads the
//! same name, and `Handle::try_current()` succeeds on both, so only the code that moved the
//! work off the executor can say it did. This crate does not depend on tokio: the embedder
//! passes the test for "on an async runtime's thread" (the hub passes
//! `|| tokio::runtime::Handle::try_current().is_ok()`).

use std::cell::Cell;
use std::sync::Arc;

use nic_model::{
    AuditEntry, DocMeta, DocumentId, Member, MemberId, Network, NetworkId, PeerId, Site, TokenId,
    TokenRecord,
};

use crate::{
    AppendOutcome, Batch, Binding, CompactOutcome, DirOp, Directory, Durability, ListFilter, Store,
    StoreError, StoredDoc, TokenHash,
};

thread_local! {
    /// How many [`may_block`] scopes this thread is inside.
    static MAY_BLOCK: Cell<u32> = const { Cell::new(0) };
}

/// Leaves a [`may_block`] scope, also when its work panics.
struct Scope;

impl Drop for Scope {
    fn drop(&mut self) {
        MAY_BLOCK.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Runs `f` with blocking store calls allowed on this thread. Call it only where blocking is
/// fine: inside `tokio::task::spawn_blocking` or on a thread of your own, never inside an
/// `async` block.
pub fn may_block<T>(f: impl FnOnce() -> T) -> T {
    MAY_BLOCK.with(|n| n.set(n.get().saturating_add(1)));
    let _scope = Scope;
    f()
}

/// Whether this thread is inside a [`may_block`] scope.
pub fn may_block_here() -> bool {
    MAY_BLOCK.with(Cell::get) > 0
}

/// A store that, in debug builds, panics on any call made on an async runtime's thread
/// outside [`may_block`]. Everything else is the inner store's.
pub struct Guarded<S: ?Sized> {
    inner: Arc<S>,
    on_async_thread: fn() -> bool,
}

impl<S: ?Sized> Guarded<S> {
    /// Guards `inner`; `on_async_thread` says whether the calling thread belongs to an async
    /// runtime (then only calls inside [`may_block`] are allowed).
    pub fn new(inner: Arc<S>, on_async_thread: fn() -> bool) -> Self {
        Self {
            inner,
            on_async_thread,
        }
    }

    /// Panics, in debug builds, if a blocking call `what` must not run here.
    fn check(&self, what: &str) {
        if cfg!(debug_assertions) && !may_block_here() && (self.on_async_thread)() {
            panic!(
                "store call `{what}` on an async runtime's thread: move it into \
                 spawn_blocking (or a thread of its own) inside nic_store::guard::may_block"
            );
        }
    }
}

/// Delegates each listed method to the inner store after the check.
macro_rules! guarded {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> Result<$out, StoreError> {
            self.check(stringify!($name));
            self.inner.$name($($arg),*)
        })*
    };
}

impl<S: Store + ?Sized> Store for Guarded<S> {
    guarded! {
        put_meta(meta: &DocMeta) -> ();
        meta(doc: &DocumentId) -> Option<DocMeta>;
        list(filter: &ListFilter) -> Vec<DocMeta>;
        append(doc: &DocumentId, chunk: &[u8]) -> AppendOutcome;
        load(doc: &DocumentId) -> Option<StoredDoc>;
        compact(doc: &DocumentId) -> CompactOutcome;
        put_sync_state(peer: &PeerId, doc: &DocumentId, state: &[u8]) -> ();
        sync_state(peer: &PeerId, doc: &DocumentId) -> Option<Vec<u8>>;
        write_batch(batch: &Batch) -> Vec<AppendOutcome>;
        flush(durability: Durability) -> ();
    }

    fn shared(&self) -> Option<&dyn crate::SharedStore> {
        // Its calls come from the listener's thread and the blocking pool: not checked.
        self.inner.shared()
    }

    fn backup(
        &self,
        out: &mut dyn std::io::Write,
        files: &[crate::backup::BackupFile<'_>],
    ) -> Result<crate::backup::BackupSummary, crate::backup::BackupError> {
        self.check("backup");
        self.inner.backup(out, files)
    }
}

impl<S: Directory + ?Sized> Directory for Guarded<S> {
    guarded! {
        write_directory(ops: &[DirOp], audit: Option<&AuditEntry>) -> Option<u64>;
        network(id: &NetworkId) -> Option<Network>;
        networks() -> Vec<Network>;
        sites(network: &NetworkId) -> Vec<Site>;
        member(id: &MemberId) -> Option<Member>;
        members() -> Vec<Member>;
        token_by_hash(hash: &TokenHash) -> Option<TokenRecord>;
        token(id: &TokenId) -> Option<(TokenHash, TokenRecord)>;
        tokens() -> Vec<TokenRecord>;
        bind_actor(actor: &[u8], member: &MemberId) -> Binding;
        actor_member(actor: &[u8]) -> Option<MemberId>;
        audit_log(after: u64, limit: usize) -> Vec<AuditEntry>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemStore;

    fn always() -> bool {
        true
    }

    fn never() -> bool {
        false
    }

    /// On an "async" thread only calls inside `may_block` pass, also after a scope that
    /// panicked; elsewhere every call passes.
    #[test]
    fn calls_on_an_async_thread_outside_may_block_panic_in_debug_builds() {
        let async_side = Guarded::new(Arc::new(MemStore::new()), always);
        assert!(may_block(|| async_side.networks()).is_ok());
        let _ = std::panic::catch_unwind(|| may_block(|| panic!("work that fails")));
        assert!(!may_block_here(), "a panicking scope is left");
        let outside = std::panic::catch_unwind(|| async_side.networks().map(|n| n.len()));
        assert_eq!(outside.is_err(), cfg!(debug_assertions));
        let own_thread = Guarded::new(Arc::new(MemStore::new()), never);
        assert!(own_thread.networks().is_ok());
    }
}
