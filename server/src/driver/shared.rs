//! Hubs sharing one database: what the others store reaches this hub's engine task as
//! [`Event`]s, from the store's listener thread (see `nic_store::SharedStore`).
//!
//! The listener thread may block, so it reads what an event needs first (a document's
//! metadata; after a reconnect, the whole catalogue) and hands the task finished events.

use std::sync::Arc;

use nic_store::{ListFilter, Listening, Store, StoreError, StoreEvent};
use tokio::sync::mpsc::UnboundedSender;

use super::Event;

/// Starts hearing what the other hubs on this hub's database store, if it is shared.
pub(super) async fn listen(
    store: Arc<dyn Store>,
    events: UnboundedSender<Event>,
) -> Result<Option<Listening>, StoreError> {
    if store.shared().is_none() {
        return Ok(None);
    }
    // Connecting blocks: off the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let reader = store.clone();
        let on_event = move |event: StoreEvent| -> bool {
            for e in translate(&*reader, event) {
                if events.send(e).is_err() {
                    return false; // the engine task has stopped
                }
            }
            true
        };
        match store.shared() {
            Some(shared) => shared.listen(Box::new(on_event)).map(Some),
            None => Ok(None),
        }
    })
    .await
    .map_err(|e| StoreError::Unavailable(format!("starting the listener failed: {e}")))?
}

/// The engine task's events for one store event (blocking reads included).
fn translate(store: &dyn Store, event: StoreEvent) -> Vec<Event> {
    match event {
        StoreEvent::Chunks { doc, seqs } => vec![Event::Stored(doc, seqs)],
        StoreEvent::Member(member) => vec![Event::MemberChanged(member)],
        StoreEvent::Token(token) => vec![Event::TokenChanged(token)],
        StoreEvent::Meta(doc) => match store.meta(&doc) {
            Ok(Some(meta)) => vec![Event::Catalogue(meta)],
            Ok(None) => Vec::new(),
            Err(e) => {
                // Read again with everything else at the next resync; subscribers learn of
                // the document then.
                tracing::warn!(%doc, error = %e, "cannot read a document another hub created or changed");
                Vec::new()
            }
        },
        StoreEvent::Resync => {
            let everything = ListFilter {
                include_archived: true,
                ..ListFilter::default()
            };
            let mut out: Vec<Event> = match store.list(&everything) {
                Ok(metas) => metas.into_iter().map(Event::Catalogue).collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot re-read the catalogue after reconnecting");
                    Vec::new()
                }
            };
            out.push(Event::Resync);
            out
        }
    }
}
