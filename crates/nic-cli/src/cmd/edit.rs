//! What the editing commands share: the network's replica opened and closed around an
//! edit, fresh ids for list entries, and who is signed in.

use nic_client::{Client, Network};
use nic_model::DocumentId;

use crate::error::{CliError, Exit};
use crate::session::{Session, settle_reads, settle_writes};

/// A session with the network's documents in the local replica.
pub struct Open {
    /// The sign-in.
    pub session: Session,
    /// The replica.
    pub client: Client,
    /// The network's documents.
    pub network: Network,
}

/// Opens the replica on `network` (default: the chosen one). With `fresh`, waits until the
/// replica holds what the hub has (as far as it can be reached), for commands that look
/// a document up by what it holds rather than by id.
pub async fn open(network: Option<&str>, fresh: bool) -> Result<Open, CliError> {
    let session = Session::load()?;
    let id = session.config.network(network)?;
    let client = session.replica().await?;
    let network = client.network(id).await?;
    if fresh {
        settle_reads(&client).await;
    }
    Ok(Open {
        session,
        client,
        network,
    })
}

impl Open {
    /// The document `text` names (id or unique prefix), waited for until it is here.
    pub async fn doc(&self, text: &str) -> Result<DocumentId, CliError> {
        let id = super::names::doc(&self.network, text).await?;
        wait_for(&self.client, id).await;
        Ok(id)
    }

    /// Ends the command: on success waits for the hub to confirm the writes, then closes
    /// the replica. Returns the command's value and whether the hub confirmed (exit 9).
    pub async fn finish<T>(
        self,
        result: Result<T, CliError>,
    ) -> Result<(T, Result<(), CliError>), CliError> {
        let synced = match &result {
            Ok(_) => settle_writes(&self.client).await,
            Err(_) => Ok(()),
        };
        let closed = self.client.close().await;
        let value = result?;
        closed?;
        Ok((value, synced))
    }
}

/// Waits (briefly) for a document to reach a fresh replica from the hub.
pub async fn wait_for(client: &Client, id: DocumentId) {
    let _ = client
        .wait_for(id, crate::session::WAIT, |am| {
            nic_client::automerge::ReadDoc::get(am, nic_client::automerge::ROOT, "kind")
                .ok()
                .flatten()
                .is_some()
        })
        .await;
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A fresh id for a list entry (a visit, a thread, an observation): random-looking, so
/// entries added on two laptops offline never share one, and short enough to type.
pub fn fresh_id(prefix: &str) -> String {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    static SEED: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    // One seed per process, from the time and the process id: two processes start their
    // ids in unrelated places.
    let seed = *SEED.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut z = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u32
    });
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Every step is a bijection on u32 (adding, xor-shifting, multiplying by an odd
    // number), so one process never makes the same id twice (the old mix of time and
    // counter, cut to 32 bits, could), and neighbouring calls differ in their first digits.
    let mut x = call.wrapping_add(seed);
    x = (x ^ (x >> 16)).wrapping_mul(0x7feb_352d);
    x = (x ^ (x >> 15)).wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    format!("{prefix}{x:08x}")
}

/// Who is signed in, as documents record them.
#[derive(Default)]
pub struct Me {
    /// The member id (empty offline: unknown rather than the edit refused).
    pub member: String,
    /// The role word comments carry: `coach` for a network lead or hub admin, else
    /// `site_member` or `observer`.
    pub role: String,
    /// A site member's site.
    pub site: Option<String>,
}

/// Who is signed in: asks the hub (offline, [`Me::default`]).
pub async fn me(session: &mut Session) -> Result<Me, CliError> {
    use nic_client::hub::Role;
    let asked: Result<_, CliError> = async { Ok(session.hub()?.who_am_i().await?) }.await;
    let me = match asked {
        Ok(me) => me.member,
        Err(e) if e.exit == Exit::Unreachable => return Ok(Me::default()),
        Err(e) => return Err(e),
    };
    let role = match me.grants.0.first().map(Role::of) {
        Some(Role::HubAdmin | Role::NetworkLead) => "coach",
        Some(Role::SiteMember) => "site_member",
        Some(Role::Observer) => "observer",
        None => "",
    };
    let site = me.grants.0.iter().find_map(|g| match g {
        nic_model::Grant::SiteMember { site, .. } => Some(site.to_string()),
        _ => None,
    });
    Ok(Me {
        member: me.id.to_string(),
        role: role.to_owned(),
        site,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_do_not_repeat_and_differ_early() {
        let ids: Vec<String> = (0..10_000).map(|_| fresh_id("t")).collect();
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        // Five characters (the prefix and four hex digits) name almost every one: ids made
        // in a row do not share their start as timestamps would.
        let starts: std::collections::BTreeSet<&str> = ids.iter().map(|i| &i[..5]).collect();
        assert!(starts.len() > 8_000, "{}", starts.len());
        assert!(ids.iter().all(|i| i.len() == 9 && i.starts_with('t')));
    }
}
