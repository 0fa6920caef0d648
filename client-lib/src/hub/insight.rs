//! Insight calls: cross-site comparison of cycles, measure series with the chart rules,
//! overviews, charts and exports, each suppressed by the hub for the caller.

use nic_model::{DocumentId, NetworkId, SiteId};
use nic_proto::v1::{self, insight_client::InsightClient};

use super::insight_views::{self as views, Unusable};
use super::{Comparison, DistrictOverview, Hub, MeasureSeries, NetworkOverview};
use crate::ClientError;

/// The chart rules a series is read with (README, "Reading the charts"): nic-insight's own
/// enum, so a tool names exactly the rules the hub applies.
pub use nic_insight::rules::RuleSet;

fn rule_set_to_wire(rules: RuleSet) -> i32 {
    (match rules {
        RuleSet::Ihi => v1::RuleSet::Ihi,
        RuleSet::Anhoj => v1::RuleSet::Anhoj,
        RuleSet::Xmr => v1::RuleSet::Xmr,
        RuleSet::P => v1::RuleSet::P,
        RuleSet::PPrime => v1::RuleSet::PPrime,
        RuleSet::U => v1::RuleSet::U,
        RuleSet::UPrime => v1::RuleSet::UPrime,
    }) as i32
}

/// Which series of a measure to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeriesQuery {
    /// The rules to apply.
    pub rules: RuleSet,
    /// Only this group (`all`, or `dimension=value`); `None`: every group.
    pub group: Option<String>,
    /// A focal group whose gaps to compute, e.g. `english_learner=yes`.
    pub focal_group: Option<String>,
    /// Measure the gap against the best other group instead of all students.
    pub gap_against_best: bool,
}

impl SeriesQuery {
    fn to_wire(&self, measure: DocumentId) -> v1::MeasureSeriesRequest {
        v1::MeasureSeriesRequest {
            measure_id: measure.to_string(),
            rule_set: rule_set_to_wire(self.rules),
            group: self.group.clone().unwrap_or_default(),
            focal_group: self.focal_group.clone().unwrap_or_default(),
            gap_reference: if self.focal_group.is_none() {
                0
            } else if self.gap_against_best {
                v1::GapReference::Best as i32
            } else {
                v1::GapReference::All as i32
            },
        }
    }
}

/// Which table to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportTable {
    /// A change idea's cycles across a network's sites.
    Cycles {
        /// The network.
        network: NetworkId,
        /// The change idea, as the cycles name it.
        change_idea: String,
    },
    /// A measure's series (or, with a focal group, its gaps).
    Series {
        /// The measure definition.
        measure: DocumentId,
        /// Which series.
        query: SeriesQuery,
    },
    /// A network's overview.
    Overview {
        /// The network.
        network: NetworkId,
    },
    /// Every network the caller may read.
    District,
}

/// The file format of an export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values.
    #[default]
    Csv,
    /// JSON.
    Json,
}

/// An exported table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    /// Its media type.
    pub content_type: String,
    /// The file.
    pub data: Vec<u8>,
    /// A file name the hub suggests.
    pub filename: String,
    /// Documents left out because they do not read.
    pub unusable: Vec<Unusable>,
}

impl Hub {
    fn insight(&self) -> InsightClient<nic_proto::auth::AuthedChannel> {
        InsightClient::new(self.link.authed()).max_decoding_message_size(64 * 1024 * 1024)
    }

    /// A change idea's cycles compared across the network's sites.
    pub async fn compare_cycles(
        &self,
        network: &NetworkId,
        change_idea: &str,
    ) -> Result<Comparison, ClientError> {
        let r = self
            .insight()
            .compare_cycles(v1::CompareCyclesRequest {
                network_id: network.to_string(),
                change_idea: change_idea.to_owned(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        views::comparison(&r)
    }

    /// A measure's series at every site the caller may see, with the rules' findings.
    pub async fn measure_series(
        &self,
        measure: DocumentId,
        query: &SeriesQuery,
    ) -> Result<MeasureSeries, ClientError> {
        let r = self
            .insight()
            .measure_series(query.to_wire(measure))
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        views::measure_series(&r)
    }

    /// Where a network stands: its change ideas by site, its measures' readings.
    pub async fn network_overview(
        &self,
        network: &NetworkId,
    ) -> Result<NetworkOverview, ClientError> {
        let r = self
            .insight()
            .network_overview(v1::NetworkOverviewRequest {
                network_id: network.to_string(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        views::network_overview(&r)
    }

    /// Every network the caller may read, and the equity lens codes counted across them.
    pub async fn district_overview(&self) -> Result<DistrictOverview, ClientError> {
        let r = self
            .insight()
            .district_overview(v1::DistrictOverviewRequest {})
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        views::district_overview(&r)
    }

    /// A measure's chart as a standalone SVG (one site, or small multiples of every site),
    /// with the documents left out.
    pub async fn chart(
        &self,
        measure: DocumentId,
        site: Option<&SiteId>,
        group: Option<&str>,
        rules: RuleSet,
    ) -> Result<(String, Vec<Unusable>), ClientError> {
        let r = self
            .insight()
            .chart(v1::ChartRequest {
                measure_id: measure.to_string(),
                site_id: site.map(ToString::to_string).unwrap_or_default(),
                group: group.unwrap_or_default().to_owned(),
                rule_set: rule_set_to_wire(rules),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        Ok((r.svg, views::unusable(&r.unusable_documents)?))
    }

    /// A table as a CSV or JSON file.
    pub async fn export(
        &self,
        table: &ExportTable,
        format: ExportFormat,
    ) -> Result<Exported, ClientError> {
        use v1::export_request::Table;
        let table = match table {
            ExportTable::Cycles {
                network,
                change_idea,
            } => Table::Cycles(v1::CompareCyclesRequest {
                network_id: network.to_string(),
                change_idea: change_idea.clone(),
            }),
            ExportTable::Series { measure, query } => Table::Series(query.to_wire(*measure)),
            ExportTable::Overview { network } => Table::Overview(v1::NetworkOverviewRequest {
                network_id: network.to_string(),
            }),
            ExportTable::District => Table::District(v1::DistrictOverviewRequest {}),
        };
        let r = self
            .insight()
            .export(v1::ExportRequest {
                table: Some(table),
                format: match format {
                    ExportFormat::Csv => v1::ExportFormat::Csv,
                    ExportFormat::Json => v1::ExportFormat::Json,
                } as i32,
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        Ok(Exported {
            content_type: r.content_type,
            data: r.data,
            filename: r.filename,
            unusable: views::unusable(&r.unusable_documents)?,
        })
    }
}
