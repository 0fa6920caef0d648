//! The creation scenario: many documents created at once, as a tool importing a network's
//! worksheets does. Measures, each on fresh documents:
//!
//! 1. N `Documents.Create` calls all in flight at once, straight to the hub, until every
//!    one is answered (answered = durable there: the hub's group commit at work);
//! 2. N `Client::create_raw` calls on one replica, then waiting for the replica's `Acked`
//!    event of each (the fastest a tool could learn of it);
//! 3. the same with `Client::wait_saved` on each (what a tool writes).
//!
//! (2) and (3) should be close: `wait_saved` is answered by the same acknowledgement.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context;
use nic_client::{Client, Notification, Target};
use nic_model::{DocumentId, NetworkId};
use serde::Serialize;

use crate::hub::Access;
use crate::scenario::{self, NETWORK, SITES, site_name};
use crate::workload::worksheet;

/// What a creation run measured.
#[derive(Clone, Debug, Serialize)]
pub struct CreatesReport {
    /// N.
    pub docs: usize,
    /// Seconds until N concurrent `Documents.Create` calls were all answered.
    pub hub_create_s: f64,
    /// Seconds from N `create_raw` calls until the replica's `Acked` event for each.
    pub client_acked_events_s: f64,
    /// Seconds from N `create_raw` calls until `wait_saved` returned for each.
    pub client_wait_saved_s: f64,
}

/// Runs the scenario against the hub behind `access`.
pub async fn run(access: &Access, docs: usize, timeout: Duration) -> anyhow::Result<CreatesReport> {
    let hub = access.hub()?;
    scenario::ensure_network(&hub, NETWORK, SITES).await?;
    let token = scenario::member_tokens(&hub, NETWORK, 1)
        .await?
        .pop()
        .context("no token")?;

    // 1. Straight to the hub, all at once.
    let started = Instant::now();
    let as_member = nic_client::Hub::new(&access.url, &token, access.tls.as_ref())?;
    crate::create::create_many(as_member, docs, docs, move |n| {
        let meta = crate::create::worksheet_meta(
            crate::workload::Kind::default(),
            NETWORK,
            &site_name(NETWORK, n % SITES),
            format!("Imported worksheet {n}"),
        )?;
        Ok((meta, worksheet(n)?.save()))
    })
    .await?;
    let hub_create_s = started.elapsed().as_secs_f64();

    let client = access.client_as("creates-client", &token).await?;
    client
        .subscribe(Target::Network(NetworkId::new(NETWORK)?))
        .await?;
    client
        .wait_caught_up(Target::Network(NetworkId::new(NETWORK)?), timeout)
        .await?;

    // 2. Through the replica, told by its events.
    let mut events = client.events();
    let started = Instant::now();
    let mut waiting: HashSet<DocumentId> = create_all(&client, docs, "A").await?;
    let by_events = async {
        while !waiting.is_empty() {
            match events.recv().await {
                Ok(Notification::Acked { doc, .. }) => {
                    waiting.remove(&doc);
                }
                Ok(_) => {}
                Err(e) => anyhow::bail!("lost the replica's events: {e}"),
            }
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(timeout, by_events)
        .await
        .context("the hub never acknowledged every creation")??;
    let client_acked_events_s = started.elapsed().as_secs_f64();

    // 3. Through the replica, with wait_saved.
    let started = Instant::now();
    let created = create_all(&client, docs, "B").await?;
    let mut waits = tokio::task::JoinSet::new();
    for doc in created {
        let client = client.clone();
        waits.spawn(async move { client.wait_saved(doc, timeout).await });
    }
    while let Some(done) = waits.join_next().await {
        done??;
    }
    let client_wait_saved_s = started.elapsed().as_secs_f64();

    Ok(CreatesReport {
        docs,
        hub_create_s,
        client_acked_events_s,
        client_wait_saved_s,
    })
}

/// N `create_raw` calls at once on `client`; their ids.
async fn create_all(
    client: &Client,
    docs: usize,
    round: &str,
) -> anyhow::Result<HashSet<DocumentId>> {
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..docs {
        let client = client.clone();
        let title = format!("Worksheet {round}{n}");
        calls.spawn(async move {
            let meta = crate::create::worksheet_meta(
                crate::workload::Kind::default(),
                NETWORK,
                &site_name(NETWORK, n % SITES),
                title,
            )?;
            let id = meta.id;
            client.create_raw(meta, worksheet(n)?).await?;
            anyhow::Ok(id)
        });
    }
    let mut ids = HashSet::with_capacity(docs);
    while let Some(done) = calls.join_next().await {
        ids.insert(done??);
    }
    Ok(ids)
}
