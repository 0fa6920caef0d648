//! `nic.v1.Insight`: cycles compared across sites, measure series with chart rules and
//! gaps, network and district overviews, SVG charts and CSV/JSON exports — computed by
//! `nic-insight` from the documents in the store, honouring rights, with small cells
//! suppressed for everyone but the members of the site the data belongs to.

#[cfg(test)]
mod export_tests;
pub(crate) mod load;
mod series_export;
mod target;
#[cfg(test)]
mod unusable_tests;
mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use nic_insight::chart::{Annotation, ChartSpec, chart_svg, small_multiples_svg};
use nic_insight::cycles::{Comparison, CycleInput, compare};
use nic_insight::series::{ALL, Gap, Series, SiteData, gaps, measure_series};
use nic_insight::suppress::MinCell;
use nic_insight::{Label, RuleSet, export};
use nic_model::schema::driver::ChangeIdea;
use nic_model::schema::measure::{MeasureDefinition, Scoring};
use nic_model::{DocKind, DocMeta, NetworkId};
use nic_proto::convert;
use nic_proto::v1::{self, insight_server};
use nic_store::{Directory, Store};
use tonic::{Request, Response, Status};

use crate::auth::{self, Caller};
use crate::loads::DocLoads;
use crate::status::{ApiError, blocking};

/// The Insight service.
pub struct InsightService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) directory: Arc<dyn Directory>,
    pub(crate) loads: Arc<DocLoads>,
}

/// Everything one request reads, on a blocking thread.
struct Ctx {
    store: Arc<dyn Store>,
    directory: Arc<dyn Directory>,
    loads: Arc<DocLoads>,
    caller: Caller,
    /// Documents this request could not use.
    unusable: load::Unusable,
}

/// A measure's series as the caller may see them.
struct MeasureView {
    meta: DocMeta,
    def: MeasureDefinition,
    min: MinCell,
    series: Vec<Series>,
    gaps: Vec<Gap>,
    rule_set: RuleSet,
    /// The aim's target line, when an aim the caller may read gives one.
    target: Option<target::TargetLine>,
    /// Why there is no target line although an aim names the measure, and the like.
    warnings: Vec<String>,
}

impl Ctx {
    /// Where documents are read from.
    fn src(&self) -> load::Src<'_> {
        load::Src {
            store: self.store.as_ref(),
            loads: &self.loads,
            unusable: &self.unusable,
        }
    }

    /// The documents this request could not use that the caller may read (of one network,
    /// or of all), by id.
    fn unusable(&self, network: Option<&NetworkId>) -> Vec<v1::UnusableDocument> {
        self.unusable
            .borrow()
            .values()
            .filter(|(m, _)| self.may_read(m) && network.is_none_or(|n| m.network == *n))
            .map(|(m, reason)| v1::UnusableDocument {
                doc_id: m.id.to_string(),
                kind: convert::kind_to_wire(m.kind).into(),
                reason: reason.clone(),
            })
            .collect()
    }

    fn may_read(&self, meta: &DocMeta) -> bool {
        self.caller.member.grants.may_read(meta)
    }

    /// The network, which must exist and in which the caller must hold a role.
    fn network(&self, id: &str) -> Result<nic_model::Network, ApiError> {
        let id = convert::network_id("network_id", id)?;
        let network = self
            .directory
            .network(&id)?
            .ok_or_else(|| ApiError::NotFoundWhat(format!("network {id} does not exist")))?;
        if !self.caller.member.grants.in_network(&id) {
            return Err(ApiError::PermissionDenied(format!(
                "you have no role in network {id}; ask its lead to add you"
            )));
        }
        Ok(network)
    }

    fn min_cell(&self, network: &NetworkId) -> Result<MinCell, ApiError> {
        Ok(self
            .directory
            .network(network)?
            .and_then(|n| MinCell::new(n.min_cell_size).ok())
            .unwrap_or_default())
    }

    fn compare(&self, network: &NetworkId, idea: &str) -> Result<Comparison, ApiError> {
        if idea.trim().is_empty() {
            return Err(ApiError::BadRequest(
                "name the change idea to compare (as the cycles' change_idea_id has it)".into(),
            ));
        }
        let cycles = load::cycles(self.src(), network, |m| self.may_read(m))?;
        Ok(compare(idea, &inputs(&cycles)))
    }

    fn measure(
        &self,
        measure: &str,
        rule_set: RuleSet,
        focal: &str,
        reference: nic_insight::series::Reference,
    ) -> Result<MeasureView, ApiError> {
        let id = convert::doc_id("measure_id", measure)?;
        let (meta, def) =
            load::one::<MeasureDefinition>(self.src(), id, DocKind::MeasureDefinition)?;
        if !self.may_read(&meta) {
            return Err(ApiError::PermissionDenied(format!(
                "you may not read measure {id}; ask a network lead for access"
            )));
        }
        let suited = match rule_set {
            RuleSet::P | RuleSet::PPrime => def.scoring == Scoring::Proportion,
            RuleSet::U | RuleSet::UPrime => def.scoring == Scoring::Ratio,
            _ => true,
        };
        if !suited {
            return Err(ApiError::BadRequest(format!(
                "measure {id} is scored as {}: a P chart needs a proportion and a U chart a \
                 ratio (a rate), each period with its denominator; use a run chart or XmR",
                format!("{:?}", def.scoring).to_lowercase()
            )));
        }
        let network = meta.network.clone();
        let min = self.min_cell(&network)?;
        // Every site's data counts, readable by the caller or not: what others see of it is
        // the suppressed view below, which is what a network shares.
        let data = load::measure_data(self.src(), &network, id)?;
        let sites: Vec<SiteData<'_>> = load::site_data(&data);
        let raw: BTreeSet<String> = data
            .iter()
            .filter_map(|(m, _)| m.site.as_ref())
            .filter(|s| self.caller.member.grants.member_of_site(&network, s))
            .map(ToString::to_string)
            .collect();
        let series = measure_series(&def, &sites, &raw, min, rule_set);
        let gaps = if focal.is_empty() {
            Vec::new()
        } else {
            gaps(&series, focal, reference, def.direction)
        };
        let (target, warnings) =
            target::find(self.src(), &network, id, &def, |m| self.may_read(m))?;
        Ok(MeasureView {
            meta,
            def,
            min,
            series,
            gaps,
            rule_set,
            target,
            warnings,
        })
    }

    fn overview(&self, network: &NetworkId) -> Result<v1::NetworkOverviewResponse, ApiError> {
        let src = self.src();
        let cycles = load::cycles(src, network, |m| self.may_read(m))?;
        let ideas: BTreeSet<String> = cycles
            .iter()
            .map(|(_, c)| c.change_idea_id.clone())
            .filter(|i| !i.is_empty())
            .collect();
        let idea_docs: Vec<(DocMeta, ChangeIdea)> =
            load::all(src, network, DocKind::ChangeIdea, |m| self.may_read(m))?;
        let mut change_ideas = Vec::new();
        // The cycles are read once, for every change idea.
        let inputs = inputs(&cycles);
        for idea in ideas {
            let c = compare(&idea, &inputs);
            let title = idea_docs
                .iter()
                .find(|(m, d)| {
                    m.id.to_string() == idea || d.title.as_str() == idea || d.tags.contains(&idea)
                })
                .map(|(_, d)| d.title.as_str().to_owned())
                .unwrap_or_default();
            let w = wire::comparison(&c);
            change_ideas.push(v1::ChangeIdeaStatus {
                change_idea: idea,
                title,
                sites: w
                    .sites
                    .iter()
                    .map(|s| v1::SiteStatus {
                        site_id: s.site_id.clone(),
                        status: s.status.clone(),
                    })
                    .collect(),
                decisions: w.decisions,
            });
        }
        let mut measures = Vec::new();
        for meta in load::metas(src.store, network, DocKind::MeasureDefinition)? {
            if !self.may_read(&meta) {
                continue;
            }
            let Ok(view) = self.measure(
                &meta.id.to_string(),
                RuleSet::Ihi,
                "",
                nic_insight::series::Reference::All,
            ) else {
                continue;
            };
            let sites_with = |label: Label| {
                view.series
                    .iter()
                    .filter(|s| s.group == ALL)
                    .filter(|s| s.analysis.signals.iter().any(|g| g.label == label))
                    .map(|s| s.site.clone())
                    .collect()
            };
            measures.push(v1::MeasureStatus {
                measure_id: meta.id.to_string(),
                name: view.def.name.as_str().to_owned(),
                improvement_sites: sites_with(Label::Improvement),
                concern_sites: sites_with(Label::Concern),
            });
        }
        Ok(v1::NetworkOverviewResponse {
            network_id: network.to_string(),
            change_ideas,
            measures,
            cycles: u32::try_from(cycles.len()).unwrap_or(u32::MAX),
            unusable_documents: self.unusable(Some(network)),
        })
    }

    fn district(&self) -> Result<v1::DistrictOverviewResponse, ApiError> {
        let mut networks = Vec::new();
        let mut codes: BTreeMap<String, u32> = BTreeMap::new();
        for n in self.directory.networks()? {
            if !self.caller.member.grants.in_network(&n.id) {
                continue;
            }
            networks.push(self.overview(&n.id)?);
            for code in load::equity_codes(self.src(), &n.id, &|m| self.may_read(m))? {
                *codes.entry(code).or_default() += 1;
            }
        }
        let mut equity_codes: Vec<v1::CodeCount> = codes
            .into_iter()
            .map(|(code, count)| v1::CodeCount { code, count })
            .collect();
        equity_codes.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
        Ok(v1::DistrictOverviewResponse {
            networks,
            equity_codes,
            unusable_documents: self.unusable(None),
        })
    }

    fn chart(&self, r: &v1::ChartRequest) -> Result<String, ApiError> {
        let rule_set = wire::rule_set(r.rule_set);
        let view = self.measure(
            &r.measure_id,
            rule_set,
            "",
            nic_insight::series::Reference::All,
        )?;
        let group = if r.group.is_empty() {
            ALL
        } else {
            r.group.as_str()
        };
        let name = view.def.name.as_str().to_owned();
        let cycles = load::cycles(self.src(), &view.meta.network, |m| self.may_read(m))?;
        // Each mark names its change idea by title where the reader can see the idea's
        // document (as the overview matches them), else by the cycle's change_idea_id.
        let idea_docs: Vec<(DocMeta, ChangeIdea)> =
            load::all(self.src(), &view.meta.network, DocKind::ChangeIdea, |m| {
                self.may_read(m)
            })?;
        let idea_name = |id: &str| -> String {
            idea_docs
                .iter()
                .find(|(m, d)| m.id.to_string() == id || d.title.as_str() == id)
                .map(|(_, d)| d.title.as_str().trim().to_owned())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| id.to_owned())
        };
        let annotations = |site: &str| -> Vec<Annotation> {
            cycles
                .iter()
                .filter(|(m, _)| m.site.as_ref().is_some_and(|s| s.as_str() == site))
                .filter_map(|(_, c)| {
                    Some(Annotation {
                        date: c.planned_start.clone()?,
                        label: format!(
                            "C{}{}",
                            c.cycle_number,
                            c.act
                                .decision
                                .map(|d| format!(" ({})", format!("{d:?}").to_lowercase()))
                                .unwrap_or_default()
                        ),
                        change_idea: idea_name(&c.change_idea_id),
                    })
                })
                .collect()
        };
        let mut chosen: Vec<&Series> = view
            .series
            .iter()
            .filter(|s| s.group == group && (r.site_id.is_empty() || s.site == r.site_id))
            .collect();
        chosen.sort_by(|a, b| a.site.cmp(&b.site));
        if chosen.is_empty() {
            return Err(ApiError::NotFoundWhat(format!(
                "measure {} has no data for group {group}{}",
                view.meta.id,
                if r.site_id.is_empty() {
                    String::new()
                } else {
                    format!(" at site {}", r.site_id)
                }
            )));
        }
        let specs: Vec<ChartSpec<'_>> = chosen
            .iter()
            .map(|s| ChartSpec {
                title: format!("{name} — {} ({})", s.site, s.group),
                unit: view.def.unit.clone(),
                series: s,
                annotations: annotations(&s.site),
                target: view.target.as_ref().map(|t| t.line.clone()),
            })
            .collect();
        Ok(if r.site_id.is_empty() {
            small_multiples_svg(&format!("{name}, {group}, by site"), &specs, 2)
        } else {
            chart_svg(&specs[0])
        })
    }

    fn export(&self, r: &v1::ExportRequest) -> Result<v1::ExportResponse, ApiError> {
        let json = v1::ExportFormat::try_from(r.format) == Ok(v1::ExportFormat::Json);
        let to_json = |v: &dyn erased::Json| v.json();
        let (stem, csv, json_text) = match &r.table {
            Some(v1::export_request::Table::Cycles(c)) => {
                let network = self.network(&c.network_id)?;
                let cmp = self.compare(&network.id, &c.change_idea)?;
                (
                    format!("cycles-{}", c.change_idea),
                    export::comparison_csv(&cmp),
                    to_json(&cmp),
                )
            }
            Some(v1::export_request::Table::Series(s)) => {
                let view = self.measure(
                    &s.measure_id,
                    wire::rule_set(s.rule_set),
                    &s.focal_group,
                    wire::reference(s.gap_reference),
                )?;
                let series: Vec<Series> = view
                    .series
                    .into_iter()
                    .filter(|x| s.group.is_empty() || x.group == s.group)
                    .collect();
                let csv = if s.focal_group.is_empty() {
                    export::series_csv(&series, view.target.as_ref().map(|t| &t.line))
                } else {
                    export::gaps_csv(&view.gaps)
                };
                let whole = series_export::json(series_export::Parts {
                    measure_id: view.meta.id.to_string(),
                    def: &view.def,
                    rule_set: view.rule_set,
                    min_cell_size: view.min.get(),
                    target: view.target.as_ref(),
                    warnings: view.warnings.clone(),
                    series,
                    gaps: view.gaps.clone(),
                });
                (format!("series-{}", view.meta.id), csv, to_json(&whole))
            }
            Some(v1::export_request::Table::Overview(o)) => {
                let network = self.network(&o.network_id)?;
                let overview = self.overview(&network.id)?;
                (
                    format!("overview-{}", network.id),
                    overview_csv(std::slice::from_ref(&overview)),
                    pretty(&overview_json(&overview)),
                )
            }
            Some(v1::export_request::Table::District(_)) => {
                let district = self.district()?;
                let json = serde_json::json!({
                    "networks": district.networks.iter().map(overview_json).collect::<Vec<_>>(),
                    "equity_codes": district.equity_codes.iter()
                        .map(|c| serde_json::json!({"code": c.code, "count": c.count}))
                        .collect::<Vec<_>>(),
                });
                (
                    "district".to_owned(),
                    overview_csv(&district.networks),
                    pretty(&json),
                )
            }
            None => {
                return Err(ApiError::BadRequest(
                    "say which table to export: cycles, series, overview or district".into(),
                ));
            }
        };
        Ok(if json {
            v1::ExportResponse {
                content_type: "application/json".into(),
                data: json_text.into_bytes(),
                filename: format!("{stem}.json"),
                unusable_documents: self.unusable(None),
            }
        } else {
            v1::ExportResponse {
                content_type: "text/csv".into(),
                data: csv.into_bytes(),
                filename: format!("{stem}.csv"),
                unusable_documents: self.unusable(None),
            }
        })
    }
}

/// Cycles as the comparison reads them.
fn inputs(cycles: &[load::Typed<nic_model::schema::pdsa::PdsaCycle>]) -> Vec<CycleInput<'_>> {
    cycles
        .iter()
        .map(|(meta, c)| CycleInput {
            doc: meta.id.to_string(),
            site: meta.site.as_ref().map(ToString::to_string),
            cycle: c,
        })
        .collect()
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Overviews as rows: network, change idea, title, site, status.
fn overview_csv(overviews: &[v1::NetworkOverviewResponse]) -> String {
    let rows = overviews.iter().flat_map(|o| {
        o.change_ideas.iter().flat_map(move |idea| {
            idea.sites.iter().map(move |s| {
                [
                    o.network_id.clone(),
                    idea.change_idea.clone(),
                    idea.title.clone(),
                    s.site_id.clone(),
                    s.status.clone(),
                ]
            })
        })
    });
    export::rows_csv(["network", "change_idea", "title", "site", "status"], rows)
}

fn overview_json(o: &v1::NetworkOverviewResponse) -> serde_json::Value {
    serde_json::json!({
        "network_id": o.network_id,
        "cycles": o.cycles,
        "change_ideas": o.change_ideas.iter().map(|i| serde_json::json!({
            "change_idea": i.change_idea,
            "title": i.title,
            "sites": i.sites.iter()
                .map(|s| serde_json::json!({"site": s.site_id, "status": s.status}))
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "measures": o.measures.iter().map(|m| serde_json::json!({
            "measure_id": m.measure_id,
            "name": m.name,
            "improvement_sites": m.improvement_sites,
            "concern_sites": m.concern_sites,
        })).collect::<Vec<_>>(),
    })
}

/// JSON for the export's values without naming each type at the call site.
mod erased {
    /// A value that renders as pretty JSON.
    pub(super) trait Json {
        fn json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string_pretty(self).unwrap_or_default()
        }
    }
}

impl InsightService {
    async fn run<T: Send + 'static>(
        &self,
        caller: Caller,
        f: impl FnOnce(&Ctx) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, Status> {
        let ctx = Ctx {
            store: self.store.clone(),
            directory: self.directory.clone(),
            loads: self.loads.clone(),
            caller,
            unusable: load::Unusable::default(),
        };
        Ok(blocking(move || f(&ctx)).await?)
    }
}

#[tonic::async_trait]
impl insight_server::Insight for InsightService {
    async fn compare_cycles(
        &self,
        request: Request<v1::CompareCyclesRequest>,
    ) -> Result<Response<v1::CompareCyclesResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.into_inner();
        let c = self
            .run(caller, move |ctx| {
                let network = ctx.network(&r.network_id)?;
                let mut c = wire::comparison(&ctx.compare(&network.id, &r.change_idea)?);
                c.unusable_documents = ctx.unusable(None);
                Ok(c)
            })
            .await?;
        Ok(Response::new(c))
    }

    async fn measure_series(
        &self,
        request: Request<v1::MeasureSeriesRequest>,
    ) -> Result<Response<v1::MeasureSeriesResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.into_inner();
        let group = r.group.clone();
        let (view, unusable_documents) = self
            .run(caller, move |ctx| {
                let view = ctx.measure(
                    &r.measure_id,
                    wire::rule_set(r.rule_set),
                    &r.focal_group,
                    wire::reference(r.gap_reference),
                )?;
                Ok((view, ctx.unusable(None)))
            })
            .await?;
        Ok(Response::new(v1::MeasureSeriesResponse {
            measure_id: view.meta.id.to_string(),
            name: view.def.name.as_str().to_owned(),
            unit: view.def.unit.clone(),
            direction: series_export::direction(view.def.direction).into(),
            scoring: series_export::scoring(view.def.scoring).into(),
            phasing: Some(series_export::phasing(&view.def)),
            target: view.target.as_ref().map(series_export::target),
            warnings: view.warnings.clone(),
            min_cell_size: view.min.get(),
            series: view
                .series
                .iter()
                .filter(|s| group.is_empty() || s.group == group)
                .map(wire::series)
                .collect(),
            gaps: view.gaps.iter().map(wire::gap).collect(),
            unusable_documents,
        }))
    }

    async fn network_overview(
        &self,
        request: Request<v1::NetworkOverviewRequest>,
    ) -> Result<Response<v1::NetworkOverviewResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.into_inner();
        let o = self
            .run(caller, move |ctx| {
                let network = ctx.network(&r.network_id)?;
                ctx.overview(&network.id)
            })
            .await?;
        Ok(Response::new(o))
    }

    async fn district_overview(
        &self,
        request: Request<v1::DistrictOverviewRequest>,
    ) -> Result<Response<v1::DistrictOverviewResponse>, Status> {
        let caller = auth::caller(&request)?;
        Ok(Response::new(self.run(caller, |ctx| ctx.district()).await?))
    }

    async fn chart(
        &self,
        request: Request<v1::ChartRequest>,
    ) -> Result<Response<v1::ChartResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.into_inner();
        let (svg, unusable_documents) = self
            .run(caller, move |ctx| Ok((ctx.chart(&r)?, ctx.unusable(None))))
            .await?;
        Ok(Response::new(v1::ChartResponse {
            svg,
            unusable_documents,
        }))
    }

    async fn export(
        &self,
        request: Request<v1::ExportRequest>,
    ) -> Result<Response<v1::ExportResponse>, Status> {
        let caller = auth::caller(&request)?;
        let r = request.into_inner();
        Ok(Response::new(
            self.run(caller, move |ctx| ctx.export(&r)).await?,
        ))
    }
}
