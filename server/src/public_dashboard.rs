//! A network's public family and community dashboard: `GET /public/{network}/dashboard.json`
//! on the hub's own port, without signing in, once a lead turned it on
//! (`Directory.SetPublicDashboard`). It says what the network works on (name, description,
//! the network-level aim statements), how its change ideas are going (how many sites test,
//! adopted, adapted or abandoned each: counts, titles only) and each network-visible
//! measure as network-wide values per period, for all students and per student group.
//!
//! Privacy, the whole of it:
//! - No document id, site id or site's own value is published; texts come only from
//!   documents every member of the network may read.
//! - A network-wide value is the sum of site values the Insight service shows (`nic-insight`
//!   `measure_series`, the same code) — to an outsider AND to each site's own members — so it
//!   is a function of values every reader may already see and gives away nothing Insight's
//!   suppression hides. When any site's value for a (period, group) is hidden in any of those
//!   views, the network-wide value is not published.
//! - Then the dashboard's own cells are suppressed again with `nic_insight::suppress` over
//!   the lines they add up along (the "all" value is the sum of each dimension's groups), so
//!   a withheld group cannot be recovered by subtraction from the published ones either.
//! - Withheld values say only that they are withheld, never why (a reason would tell which
//!   groups are small).
//!
//! Unknown networks and networks that are not public get the same 404. Answers are cached
//! per network for [`TTL`] (dropped at once when a lead turns the dashboard on or off), and
//! at most [`WORKERS`] dashboards are computed at a time; a request that cannot start
//! within [`QUEUE_WAIT`] gets 503, so a flood costs a queue, never the hub.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nic_insight::RuleSet;
use nic_insight::cycles::{CycleInput, compare};
use nic_insight::series::{ALL, Series, SiteData, measure_series, scale};
use nic_insight::suppress::{Block, Fate, Line, MinCell, suppress};
use nic_model::schema::aim::Aim;
use nic_model::schema::driver::ChangeIdea;
use nic_model::schema::measure::{Direction, MeasureDefinition, Scoring};
use nic_model::{DocKind, DocMeta, NetworkId, Visibility};
use nic_store::{Directory, Store};
use serde::Serialize;

use crate::insight::load;
use crate::loads::DocLoads;
use crate::status::{ApiError, blocking};

/// How long a computed dashboard is served before it is computed again.
pub const TTL: Duration = Duration::from_secs(30);
/// Dashboards computed at the same time.
pub const WORKERS: usize = 2;
/// How long a request waits for a worker before it gets 503.
pub const QUEUE_WAIT: Duration = Duration::from_secs(10);
/// The most measures, change ideas and aims published (the rest are left out).
const MAX_MEASURES: usize = 20;
const MAX_IDEAS: usize = 50;
const MAX_AIMS: usize = 5;
/// Beyond this many sites reporting a measure, per-reader views are too many to compute
/// on an unauthenticated request: the measure is published without values.
const MAX_SITES: usize = 60;

/// The path, in axum's syntax.
pub(crate) const PATH: &str = "/public/{network}/dashboard.json";

/// The dashboards' cache and workers, shared by the route and the Directory service.
pub(crate) struct Dashboards {
    store: Arc<dyn Store>,
    directory: Arc<dyn Directory>,
    loads: Arc<DocLoads>,
    /// Network → when computed, and the JSON (`None`: not public).
    cache: Mutex<HashMap<NetworkId, (Instant, Option<Bytes>)>>,
    workers: tokio::sync::Semaphore,
}

impl Dashboards {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        directory: Arc<dyn Directory>,
        loads: Arc<DocLoads>,
    ) -> Dashboards {
        Dashboards {
            store,
            directory,
            loads,
            cache: Mutex::default(),
            workers: tokio::sync::Semaphore::new(WORKERS),
        }
    }

    /// Drops a network's cached dashboard (its lead turned it on or off).
    pub(crate) fn forget(&self, network: &NetworkId) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(network);
        }
    }

    fn cached(&self, network: &NetworkId) -> Option<Option<Bytes>> {
        let cache = self.cache.lock().ok()?;
        let (at, body) = cache.get(network)?;
        (at.elapsed() < TTL).then(|| body.clone())
    }

    fn keep(&self, network: NetworkId, body: Option<Bytes>) {
        if let Ok(mut cache) = self.cache.lock() {
            // Only existing networks are cached, so this holds at most one entry per network.
            cache.retain(|_, (at, _)| at.elapsed() < TTL);
            cache.insert(network, (Instant::now(), body));
        }
    }
}

/// The routes, to merge into the hub's router.
pub(crate) fn router(dashboards: Arc<Dashboards>) -> axum::Router {
    axum::Router::new()
        .route(PATH, axum::routing::get(get))
        .with_state(dashboards)
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        "There is no public dashboard here.\n",
    )
        .into_response()
}

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::RETRY_AFTER, HeaderValue::from_static("10")),
        ],
        "The hub is busy; try again in a few seconds.\n",
    )
        .into_response()
}

fn found(body: Bytes) -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn get(State(d): State<Arc<Dashboards>>, Path(network): Path<String>) -> Response {
    // A malformed id is a network that does not exist: the same answer.
    let Ok(network) = NetworkId::new(&network) else {
        return not_found();
    };
    if let Some(body) = d.cached(&network) {
        return body.map_or_else(not_found, found);
    }
    let Ok(Ok(_permit)) = tokio::time::timeout(QUEUE_WAIT, d.workers.acquire()).await else {
        return busy();
    };
    // Another request may have computed it while this one waited.
    if let Some(body) = d.cached(&network) {
        return body.map_or_else(not_found, found);
    }
    let work = d.clone();
    let id = network.clone();
    let made = blocking(move || {
        let Some(net) = work.directory.network(&id)? else {
            return Ok(None);
        };
        if !net.public_dashboard {
            return Ok(Some(None));
        }
        let unusable = load::Unusable::default();
        let src = load::Src {
            store: work.store.as_ref(),
            loads: &work.loads,
            unusable: &unusable,
        };
        let dashboard = dashboard(src, &net)?;
        let json = serde_json::to_vec(&dashboard)
            .map_err(|e| ApiError::Internal(format!("cannot write the dashboard: {e}")))?;
        Ok(Some(Some(Bytes::from(json))))
    })
    .await;
    match made {
        Ok(None) => not_found(),
        Ok(Some(body)) => {
            d.keep(network, body.clone());
            body.map_or_else(not_found, found)
        }
        Err(ApiError::Busy(_) | ApiError::Unavailable(_)) => busy(),
        Err(e) => {
            tracing::warn!(%network, error = %e, "the public dashboard could not be made");
            busy()
        }
    }
}

/// The public dashboard's JSON.
#[derive(Debug, Serialize)]
pub struct Dashboard {
    /// The network's name.
    pub name: String,
    /// What it works on.
    pub description: String,
    /// The smallest group of students whose figures are shown.
    pub min_cell_size: u32,
    /// The network's aim statements (network-level aims).
    pub aims: Vec<String>,
    /// Change ideas and how the sites testing them are doing.
    pub change_ideas: Vec<PublicIdea>,
    /// The measures, network-wide.
    pub measures: Vec<PublicMeasure>,
}

/// A change idea, by title, with how many sites are where with it.
#[derive(Debug, Serialize)]
pub struct PublicIdea {
    /// Its title.
    pub title: String,
    /// Sites still testing it.
    pub testing: u32,
    /// Sites that adopted it.
    pub adopted: u32,
    /// Sites that adapted it (changed it and test again).
    pub adapted: u32,
    /// Sites that abandoned it.
    pub abandoned: u32,
}

/// A measure, network-wide.
#[derive(Debug, Serialize)]
pub struct PublicMeasure {
    /// Its name.
    pub name: String,
    /// The unit values are in, e.g. `%`.
    pub unit: String,
    /// `up` when higher is better, `down` when lower is.
    pub direction: &'static str,
    /// `proportion`, `ratio`, `count` or `continuous`.
    pub scoring: &'static str,
    /// All students first, then each student group.
    pub series: Vec<PublicSeries>,
}

/// One group's values over time, all sites together.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublicSeries {
    /// `all` or `dimension=value`, e.g. `english_learner=yes`.
    pub group: String,
    /// In period order.
    pub points: Vec<PublicPoint>,
}

/// One period's value, or that it is withheld.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PublicPoint {
    /// The period, e.g. `2026-09-01`.
    pub period: String,
    /// The value, all sites together; `None` when withheld (or when the sites' data give
    /// none, e.g. no denominator).
    pub value: Option<f64>,
    /// How many students the value is about; `None` when withheld.
    pub n: Option<u32>,
    /// Whether the value is withheld to protect students' privacy.
    pub withheld: bool,
}

fn network_readable(m: &DocMeta) -> bool {
    m.visibility == Visibility::Network && !m.archived
}

fn dashboard(src: load::Src<'_>, net: &nic_model::Network) -> Result<Dashboard, ApiError> {
    let min = MinCell::new(net.min_cell_size).unwrap_or_default();
    let aims = load::all::<Aim>(src, &net.id, DocKind::Aim, |m| {
        network_readable(m) && m.site.is_none()
    })?
    .into_iter()
    .map(|(_, a)| a.statement.as_str().trim().to_owned())
    .filter(|s| !s.is_empty())
    .take(MAX_AIMS)
    .collect();
    let ideas = load::all::<ChangeIdea>(src, &net.id, DocKind::ChangeIdea, network_readable)?;
    let cycles = load::cycles(src, &net.id, |m| !m.archived)?;
    let inputs: Vec<CycleInput<'_>> = cycles
        .iter()
        .map(|(meta, c)| CycleInput {
            doc: meta.id.to_string(),
            site: meta.site.as_ref().map(ToString::to_string),
            cycle: c,
        })
        .collect();
    let mut change_ideas = Vec::new();
    for (meta, idea) in ideas.iter().take(MAX_IDEAS) {
        let title = idea.title.as_str().trim();
        if title.is_empty() {
            continue;
        }
        // Cycles name their idea by its document id, its title or one of its tags.
        let mut counts = [0u32; 4];
        let names = std::iter::once(meta.id.to_string())
            .chain(std::iter::once(title.to_owned()))
            .chain(idea.tags.iter().cloned());
        let mut seen = BTreeSet::new();
        for name in names {
            for site in compare(&name, &inputs).sites {
                // A site counts once, by its latest cycle under the first name found.
                if site.site == "network" || !seen.insert(site.site.clone()) {
                    continue;
                }
                let i = match site.status {
                    "adopted" => 1,
                    "adapted" => 2,
                    "abandoned" => 3,
                    _ => 0,
                };
                counts[i] += 1;
            }
        }
        change_ideas.push(PublicIdea {
            title: title.to_owned(),
            testing: counts[0],
            adopted: counts[1],
            adapted: counts[2],
            abandoned: counts[3],
        });
    }
    let mut measures = Vec::new();
    for meta in load::metas(src.store, &net.id, DocKind::MeasureDefinition)?
        .into_iter()
        .filter(network_readable)
        .take(MAX_MEASURES)
    {
        let Some(def) = load::typed::<MeasureDefinition>(src, &meta)? else {
            continue;
        };
        let data = load::measure_data(src, &net.id, meta.id)?;
        let sites: Vec<SiteData<'_>> = load::site_data(data.iter().filter(|(m, _)| !m.archived));
        measures.push(PublicMeasure {
            name: def.name.as_str().to_owned(),
            unit: def.unit.clone(),
            direction: match def.direction {
                Direction::Up => "up",
                Direction::Down => "down",
            },
            scoring: match def.scoring {
                Scoring::Proportion => "proportion",
                Scoring::Ratio => "ratio",
                Scoring::Count => "count",
                Scoring::Continuous => "continuous",
            },
            series: aggregate(&def, &sites, min),
        });
    }
    Ok(Dashboard {
        name: net.name.clone(),
        description: net.description.clone(),
        min_cell_size: min.get(),
        aims,
        change_ideas,
        measures,
    })
}

/// The source name of network-level data (as Insight names it).
const NETWORK: &str = "network";

/// (source, period, group): a source is a site id, or `network` for network-level data.
type Key = (String, String, String);

/// The cells a view of Insight's shows, and their points.
fn shown(series: &[Series]) -> BTreeMap<Key, &nic_insight::series::SeriesPoint> {
    let mut out = BTreeMap::new();
    for s in series {
        for p in &s.points {
            if p.suppressed.is_none() {
                out.insert((s.site.clone(), p.period.clone(), s.group.clone()), p);
            }
        }
    }
    out
}

/// A measure's network-wide series for the public: each (period, group) the sum of the
/// sites' values (or the network's own, when it reported one) when the Insight service
/// shows every one of them to an outsider and to each site's members; then suppressed again
/// over the groups' lines so nothing withheld can be had by subtraction. All students first,
/// then the groups in order; periods in order.
pub fn aggregate(
    def: &MeasureDefinition,
    sites: &[SiteData<'_>],
    min: MinCell,
) -> Vec<PublicSeries> {
    let site_ids: BTreeSet<String> = sites
        .iter()
        .filter(|s| !s.network_level)
        .map(|s| s.site.clone())
        .collect();
    // Every cell that exists, with its students (the suppression's n).
    let mut cells: BTreeMap<(String, String), BTreeMap<String, u32>> = BTreeMap::new();
    for s in sites {
        let source = if s.network_level {
            NETWORK.to_owned()
        } else {
            s.site.clone()
        };
        for p in &s.data.points {
            // The latest point per cell wins, as in Insight.
            cells
                .entry((p.period.clone(), p.group.clone()))
                .or_default()
                .insert(source.clone(), p.n);
        }
    }
    if cells.is_empty() {
        return Vec::new();
    }
    let outsider = measure_series(def, sites, &BTreeSet::new(), min, RuleSet::Ihi);
    let too_many = site_ids.len() > MAX_SITES;
    let insiders: Vec<Vec<Series>> = if too_many {
        Vec::new()
    } else {
        site_ids
            .iter()
            .map(|s| {
                let raw = BTreeSet::from([s.clone()]);
                measure_series(def, sites, &raw, min, RuleSet::Ihi)
            })
            .collect()
    };
    let seen = shown(&outsider);
    let insider_seen: Vec<_> = insiders.iter().map(|v| shown(v)).collect();
    let safe = |k: &Key| {
        !too_many && seen.contains_key(k) && insider_seen.iter().all(|v| v.contains_key(k))
    };
    let counted = matches!(def.scoring, Scoring::Proportion | Scoring::Ratio);
    let periods: BTreeSet<&String> = cells.keys().map(|(p, _)| p).collect();
    let groups: BTreeSet<&String> = cells.keys().map(|(_, g)| g).collect();
    // (period, group) → the published value and n, or withheld.
    let mut out: BTreeMap<(&String, &String), PublicPoint> = BTreeMap::new();
    for period in periods {
        let mut block = Block::default();
        let mut at: BTreeMap<&String, usize> = BTreeMap::new();
        let mut values: BTreeMap<&String, (Option<f64>, u32)> = BTreeMap::new();
        for &group in &groups {
            let Some(by_source) = cells.get(&(period.clone(), group.clone())) else {
                continue;
            };
            // The network's own figure when it reported one, else the sites'.
            let sources: Vec<&String> = if by_source.contains_key(NETWORK) {
                by_source.keys().filter(|s| s.as_str() == NETWORK).collect()
            } else {
                by_source.keys().collect()
            };
            let n_true: u32 = sources
                .iter()
                .fold(0u32, |t, s| t.saturating_add(by_source[*s]));
            let keys: Vec<Key> = sources
                .iter()
                .map(|s| ((*s).clone(), period.clone(), group.clone()))
                .collect();
            let publishable = keys.iter().all(&safe);
            if publishable {
                // Only values Insight shows go in.
                let points: Vec<_> = keys.iter().filter_map(|k| seen.get(k)).collect();
                let n: u32 = points
                    .iter()
                    .fold(0u32, |t, p| t.saturating_add(p.n.unwrap_or(0)));
                let value = if counted {
                    let (num, den) = points.iter().fold((0.0, 0.0), |(a, b), p| {
                        (
                            a + p.numerator.unwrap_or(0.0),
                            b + p.denominator.unwrap_or(0.0),
                        )
                    });
                    (den > 0.0).then(|| num / den * scale(def))
                } else if def.scoring == Scoring::Count {
                    points.iter().map(|p| p.value).sum::<Option<f64>>()
                } else {
                    let (sum, w) = points.iter().fold((0.0, 0.0), |(a, b), p| match p.value {
                        Some(v) => (
                            a + v * f64::from(p.n.unwrap_or(0)),
                            b + f64::from(p.n.unwrap_or(0)),
                        ),
                        None => (a, b),
                    });
                    (w > 0.0).then(|| sum / w)
                };
                values.insert(group, (value.filter(|v| v.is_finite()), n));
            }
            // A cell that may not be published is unknown to every reader, whatever its n.
            at.insert(group, block.cell(n_true, false, !publishable));
        }
        // The lines: "all" is the sum of each dimension's groups (the attacker's best
        // guess; what a dimension leaves out is one more unknown).
        let mut dims: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (g, c) in &at {
            if g.as_str() != ALL {
                let dim = g.split_once('=').map_or(g.as_str(), |(d, _)| d);
                dims.entry(dim).or_default().push(*c);
            }
        }
        if !dims.is_empty() {
            let total = match at.get(&ALL.to_owned()) {
                Some(c) => *c,
                None => {
                    let n = dims
                        .values()
                        .map(|d| d.iter().fold(0u32, |t, c| t.saturating_add(block.n[*c])))
                        .max()
                        .unwrap_or(0);
                    block.cell(n, false, true)
                }
            };
            for (_, mut parts) in dims {
                let held = parts
                    .iter()
                    .fold(0u32, |t, c| t.saturating_add(block.n[*c]));
                let short = block.n[total].saturating_sub(held);
                if short > 0 {
                    parts.push(block.cell(short, false, true));
                }
                block.lines.push(Line { total, parts });
            }
        }
        let fate = suppress(&block, min);
        for (g, c) in &at {
            let point = match (fate[*c], values.get(g)) {
                (Fate::Shown, Some((value, n))) => PublicPoint {
                    period: period.clone(),
                    value: *value,
                    n: Some(*n),
                    withheld: false,
                },
                _ => PublicPoint {
                    period: period.clone(),
                    value: None,
                    n: None,
                    withheld: true,
                },
            };
            out.insert((period, g), point);
        }
    }
    let mut order: Vec<&String> = groups.into_iter().collect();
    order.sort_by(|a, b| (a.as_str() != ALL, a.as_str()).cmp(&(b.as_str() != ALL, b.as_str())));
    order
        .into_iter()
        .map(|g| PublicSeries {
            group: g.clone(),
            points: out
                .iter()
                .filter(|((_, gg), _)| *gg == g)
                .map(|(_, p)| p.clone())
                .collect(),
        })
        .collect()
}
