//! The hub's request-and-answer services, typed: [`Hub`] lists and manages networks,
//! sites, members and tokens (Directory), reads documents as the hub holds them
//! (Documents), and asks for cross-site insight (Insight). Callers never see protobuf.
//!
//! A [`Hub`] connects lazily, shares one channel between calls, and reconnects by itself;
//! a replica's [`crate::Client::hub`] gives one with the replica's address, TLS settings and
//! token.

mod directory;
mod documents;
mod insight;
mod insight_views;
pub(crate) mod link;

pub use directory::{AuditPage, Issued, Role, SocketTicket, Token, WhoAmI};
pub use documents::{HistoryEntry, HubDocument};
pub use insight::{ExportFormat, ExportTable, Exported, RuleSet, SeriesQuery};
pub use insight_views::{
    Analysis, ChangeIdeaStatus, Comparison, CycleSummary, DecisionCounts, DistrictOverview, Gap,
    GapPoint, Limits, MeasureSeries, MeasureStatus, NetworkOverview, PhaseLines, PointLines,
    Prediction, Rebase, Series, SeriesPoint, Signal, SiteRamp, SiteStatus, TargetLine, Unusable,
};

use nic_proto::convert::ConvertError;

use crate::{ClientError, Tls};
use link::Link;

/// A signed-in connection to a hub's Directory, Documents and Insight services. Cheap to
/// clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), nic_client::ClientError> {
/// use nic_client::Hub;
///
/// let token = std::fs::read_to_string("nic-data/admin-token").unwrap_or_default();
/// let hub = Hub::new("http://127.0.0.1:50051", &token, None)?;
/// let me = hub.who_am_i().await?;
/// println!("{} on a hub of version {}", me.member.name, me.hub_version);
/// for network in hub.networks().await? {
///     println!("{}: {}", network.id, network.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Hub {
    link: Link,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Hub")
            .field("addr", &self.link.addr)
            .finish()
    }
}

impl Hub {
    /// The hub at `addr` (`http://…`, or `https://…` with `tls` or the system's CAs),
    /// signed in with `token`. Connects on the first call, so this fails only for a
    /// malformed address, TLS settings or token.
    pub fn new(addr: &str, token: &str, tls: Option<&Tls>) -> Result<Hub, ClientError> {
        Ok(Hub {
            link: Link::new(addr, token.trim(), tls)?,
        })
    }

    pub(crate) fn from_link(link: Link) -> Hub {
        Hub { link }
    }

    /// The address it was given.
    pub fn addr(&self) -> &str {
        &self.link.addr
    }
}

/// An answer the hub sent that does not make a valid value: the hub and this library
/// disagree about the protocol.
fn bad_answer(e: ConvertError) -> ClientError {
    ClientError::Protocol(format!(
        "the hub sent an answer this library cannot read: {e}"
    ))
}

/// A required message field the hub left out.
fn missing(field: &str) -> ClientError {
    ClientError::Protocol(format!("the hub's answer has no {field}"))
}
