//! Document metadata: what the hub needs to know about a document without loading it —
//! where it belongs and who may read it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{DocumentId, NetworkId, SiteId};

/// Why metadata is inconsistent or a kind/visibility name is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// The kind name is not one of [`DocKind::ALL`].
    #[error("unknown document kind {0:?}; expected one of: {list}", list = DocKind::names())]
    UnknownKind(String),
    /// The visibility name is not `network` or `site`.
    #[error("unknown visibility {0:?}; expected \"network\" or \"site\"")]
    UnknownVisibility(String),
    /// `site` visibility was asked for a document that belongs to no site.
    #[error("document {0} has visibility \"site\" but no site; give it a site or use \"network\"")]
    SiteVisibilityWithoutSite(DocumentId),
}

/// What a document holds. The schema of each kind lives in `nic-model`'s schema modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // the names say it; `schema/` documents each kind's fields
pub enum DocKind {
    NetworkProfile,
    Aim,
    DriverDiagram,
    ChangeIdea,
    PdsaCycle,
    MeasureDefinition,
    MeasureData,
    EmpathyInterview,
    RootCauseAnalysis,
    EquityAudit,
    ImprovementPlan,
    CoachingLog,
}

impl DocKind {
    /// Every kind, in a stable order.
    pub const ALL: [DocKind; 12] = [
        DocKind::NetworkProfile,
        DocKind::Aim,
        DocKind::DriverDiagram,
        DocKind::ChangeIdea,
        DocKind::PdsaCycle,
        DocKind::MeasureDefinition,
        DocKind::MeasureData,
        DocKind::EmpathyInterview,
        DocKind::RootCauseAnalysis,
        DocKind::EquityAudit,
        DocKind::ImprovementPlan,
        DocKind::CoachingLog,
    ];

    /// The snake_case name used on the wire and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            DocKind::NetworkProfile => "network_profile",
            DocKind::Aim => "aim",
            DocKind::DriverDiagram => "driver_diagram",
            DocKind::ChangeIdea => "change_idea",
            DocKind::PdsaCycle => "pdsa_cycle",
            DocKind::MeasureDefinition => "measure_definition",
            DocKind::MeasureData => "measure_data",
            DocKind::EmpathyInterview => "empathy_interview",
            DocKind::RootCauseAnalysis => "root_cause_analysis",
            DocKind::EquityAudit => "equity_audit",
            DocKind::ImprovementPlan => "improvement_plan",
            DocKind::CoachingLog => "coaching_log",
        }
    }

    fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocKind {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| MetaError::UnknownKind(s.to_owned()))
    }
}

/// Who may read a document, beyond the network's leads (who read everything in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Every member of the network may read it: shared learning.
    Network,
    /// Only the owning site's team (and the network's leads) may read it.
    Site,
}

impl Visibility {
    /// The name used on the wire and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Visibility::Network => "network",
            Visibility::Site => "site",
        }
    }
}

impl FromStr for Visibility {
    type Err = MetaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "network" => Ok(Visibility::Network),
            "site" => Ok(Visibility::Site),
            other => Err(MetaError::UnknownVisibility(other.to_owned())),
        }
    }
}

/// What the hub keeps about a document beside its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMeta {
    /// The document's id.
    pub id: DocumentId,
    /// What it holds.
    pub kind: DocKind,
    /// The network it belongs to.
    pub network: NetworkId,
    /// The owning site; `None` for network-level documents.
    pub site: Option<SiteId>,
    /// Who may read it.
    pub visibility: Visibility,
    /// A short human title, for listings.
    pub title: String,
    /// Creation time, milliseconds since the Unix epoch (passed in, never read from a clock here).
    pub created_at_ms: i64,
    /// Archived documents stay readable but are left out of default listings.
    pub archived: bool,
}

impl DocMeta {
    /// A digest of every field, so two parties can tell cheaply whether they hold the same
    /// metadata (FNV-1a over a canonical rendering; stable across versions of this crate as
    /// long as the fields are).
    pub fn fingerprint(&self) -> u64 {
        let canonical = format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            self.id,
            self.kind.as_str(),
            self.network,
            self.site.as_ref().map(SiteId::as_str).unwrap_or(""),
            self.visibility.as_str(),
            self.title,
            self.created_at_ms,
            self.archived,
        );
        canonical.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    /// Checks that the fields agree with each other.
    pub fn validate(&self) -> Result<(), MetaError> {
        if self.visibility == Visibility::Site && self.site.is_none() {
            return Err(MetaError::SiteVisibilityWithoutSite(self.id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in DocKind::ALL {
            assert_eq!(kind.as_str().parse::<DocKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        let err = "pdsa".parse::<DocKind>().unwrap_err().to_string();
        assert!(err.contains("pdsa_cycle"), "{err}");
    }

    /// The test vectors `sync.proto` (`KnownDoc.meta_digest`) and
    /// `tests/js/meta_digest.test.mjs` state: a client in any language builds the same
    /// digest from the proto's recipe. A change here breaks every stored replica's
    /// `known` list: change the recipe only with a new protocol version.
    #[test]
    fn fingerprint_matches_the_published_test_vectors() {
        let with_site = DocMeta {
            id: DocumentId::from_bytes([1; 16]),
            kind: DocKind::PdsaCycle,
            network: NetworkId::new("riverside").unwrap(),
            site: Some(SiteId::new("lincoln-high").unwrap()),
            visibility: Visibility::Site,
            title: "Exit tickets \u{2014} cycle 2".into(),
            created_at_ms: 1_767_225_600_000,
            archived: false,
        };
        assert_eq!(with_site.id.to_string(), "p3u5PhN9wrNpsGCwfkeef2LzF9");
        assert_eq!(with_site.fingerprint(), 0x3c08_0930_6cad_1591);
        let network_level = DocMeta {
            kind: DocKind::Aim,
            site: None,
            visibility: Visibility::Network,
            title: String::new(),
            created_at_ms: -1,
            archived: true,
            ..with_site
        };
        assert_eq!(network_level.fingerprint(), 0x0b04_2eea_53b1_1b56);
    }

    #[test]
    fn site_visibility_needs_a_site() {
        let meta = DocMeta {
            id: DocumentId::from_bytes([1; 16]),
            kind: DocKind::MeasureData,
            network: NetworkId::new("n").unwrap(),
            site: None,
            visibility: Visibility::Site,
            title: "x".into(),
            created_at_ms: 0,
            archived: false,
        };
        assert!(meta.validate().is_err());
        let ok = DocMeta {
            site: Some(SiteId::new("s").unwrap()),
            ..meta
        };
        assert!(ok.validate().is_ok());
    }
}
