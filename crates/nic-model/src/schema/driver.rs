//! The driver diagram (aim → primary drivers → secondary drivers → change ideas) and the
//! change ideas of the network's change package, with each site's status derived from its
//! latest PDSA decision.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::describe::Describe;

use super::findings::{Finding, Severity};
use super::pdsa::{Decision, PdsaCycle};

/// A node's level in the diagram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hydrate, Reconcile, Describe)]
pub enum Level {
    /// The aim.
    #[autosurgeon(rename = "aim")]
    Aim,
    /// A primary driver.
    #[default]
    #[autosurgeon(rename = "primary")]
    Primary,
    /// A secondary driver.
    #[autosurgeon(rename = "secondary")]
    Secondary,
    /// A change idea.
    #[autosurgeon(rename = "change")]
    Change,
}

/// One box of the diagram.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct Node {
    /// Stable id (a change node's id is its change idea's document id).
    #[key]
    pub id: String,
    /// Its level.
    #[autosurgeon(missing = "Default::default")]
    pub level: Level,
    /// Its short text.
    #[autosurgeon(missing = "Default::default")]
    pub text: Text,
    /// A longer description.
    #[autosurgeon(missing = "Default::default")]
    pub description: Text,
}

/// An arrow from a node to the node it drives (change → secondary → primary → aim).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hydrate, Reconcile, Describe)]
pub struct Link {
    /// The node that drives.
    #[autosurgeon(missing = "Default::default")]
    pub from: String,
    /// The node driven.
    #[autosurgeon(missing = "Default::default")]
    pub to: String,
}

/// A driver diagram document's content.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct DriverDiagram {
    /// The boxes.
    #[autosurgeon(missing = "Default::default")]
    pub nodes: Vec<Node>,
    /// The arrows; one change idea may serve several drivers.
    #[autosurgeon(missing = "Default::default")]
    pub links: Vec<Link>,
}

impl DriverDiagram {
    fn level_of(&self, id: &str) -> Option<Level> {
        self.nodes.iter().find(|n| n.id == id).map(|n| n.level)
    }

    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        let aims = self.nodes.iter().filter(|n| n.level == Level::Aim).count();
        if aims != 1 {
            found.push(Finding::new(
                Severity::Warning,
                "nodes",
                format!("a driver diagram has one aim; this one has {aims}"),
            ));
        }
        for (i, link) in self.links.iter().enumerate() {
            if self.level_of(&link.from).is_none() || self.level_of(&link.to).is_none() {
                found.push(Finding::new(
                    Severity::Error,
                    format!("links[{i}]"),
                    format!(
                        "the link {} → {} names a box that is not in the diagram",
                        link.from, link.to
                    ),
                ));
            }
        }
        for node in self.nodes.iter().filter(|n| n.level == Level::Change) {
            let serves_secondary = self
                .links
                .iter()
                .any(|l| l.from == node.id && self.level_of(&l.to) == Some(Level::Secondary));
            if !serves_secondary {
                found.push(Finding::new(
                    Severity::Warning,
                    format!("nodes[{}]", node.id),
                    "this change idea is linked to no secondary driver: which driver does it move?",
                ));
            }
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}

/// A change idea of the network's change package.
#[derive(Clone, Debug, Default, PartialEq, Hydrate, Reconcile, Describe)]
pub struct ChangeIdea {
    /// Its title.
    #[autosurgeon(missing = "Default::default")]
    pub title: Text,
    /// What it is and how to try it.
    #[autosurgeon(missing = "Default::default")]
    pub description: Text,
    /// The driver diagram nodes it serves.
    #[autosurgeon(missing = "Default::default")]
    pub drivers: Vec<String>,
    /// The site it came from, if one.
    #[autosurgeon(missing = "Default::default")]
    pub origin_site: Option<String>,
    /// Tags.
    #[autosurgeon(missing = "Default::default")]
    pub tags: Vec<String>,
    /// Equity lens codes.
    #[autosurgeon(missing = "Default::default")]
    pub equity_codes: Vec<String>,
}

impl ChangeIdea {
    /// Everything validation finds, most serious first.
    pub fn validate(&self) -> Vec<Finding> {
        let mut found = Vec::new();
        if self.title.as_str().trim().is_empty() {
            found.push(Finding::new(
                Severity::Error,
                "title",
                "a change idea needs a title",
            ));
        }
        if self.drivers.is_empty() {
            found.push(Finding::new(
                Severity::Warning,
                "drivers",
                "this change idea is linked to no driver: which driver does it move?",
            ));
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }
}

/// Where a site stands with a change idea, derived from its cycles (never typed by hand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteStatus {
    /// No cycle yet.
    NotStarted,
    /// A cycle is under way (its decision not yet made).
    Testing,
    /// The latest decision was to adopt.
    Adopted,
    /// The latest decision was to adapt (and the next cycle is not open yet).
    Adapted,
    /// The latest decision was to abandon.
    Abandoned,
}

/// Each site's status for `change_idea_id`, from its latest cycle on that idea (highest
/// cycle number): `cycles` are (site, cycle) pairs from any ideas; `sites` lists the sites
/// to report, so one without cycles shows as not started.
pub fn site_statuses<'a>(
    change_idea_id: &str,
    sites: &[String],
    cycles: impl IntoIterator<Item = (&'a str, &'a PdsaCycle)>,
) -> BTreeMap<String, SiteStatus> {
    let mut latest: BTreeMap<&str, &PdsaCycle> = BTreeMap::new();
    for (site, cycle) in cycles {
        if cycle.change_idea_id != change_idea_id {
            continue;
        }
        let newer = latest
            .get(site)
            .is_none_or(|have| cycle.cycle_number > have.cycle_number);
        if newer {
            latest.insert(site, cycle);
        }
    }
    sites
        .iter()
        .map(|site| {
            let status = match latest.get(site.as_str()).map(|c| c.act.decision) {
                None => SiteStatus::NotStarted,
                Some(None) => SiteStatus::Testing,
                Some(Some(Decision::Adopt)) => SiteStatus::Adopted,
                Some(Some(Decision::Adapt)) => SiteStatus::Adapted,
                Some(Some(Decision::Abandon)) => SiteStatus::Abandoned,
            };
            (site.clone(), status)
        })
        .collect()
}
