//! The network's shared documents: its profile, aim, driver diagram and change ideas.

use std::collections::{BTreeSet, HashMap};

use nic_model::schema::aim::Aim;
use nic_model::schema::driver::{ChangeIdea, DriverDiagram, Level, Node};
use nic_model::schema::network::NetworkProfile;

use super::Page;

pub(super) fn profile(p: &NetworkProfile) -> String {
    let mut page = Page::default();
    page.field("name", p.name.as_str());
    page.field("what it works on", p.description.as_str());
    page.list("sites", &p.sites);
    page.field("network aim", p.aim_id.as_deref().unwrap_or(""));
    page.list("equity focus on", &p.equity_focus_groups);
    page.field("why those groups", p.equity_focus.as_str());
    if !p.equity_codes.is_empty() {
        page.line("equity lens codes:");
        for c in &p.equity_codes {
            page.line(format!(
                "  {} ({}): {}",
                c.id,
                c.dimension,
                c.label.as_str()
            ));
        }
    }
    page.0
}

pub(super) fn aim(a: &Aim) -> String {
    let mut page = Page::default();
    page.line(a.statement.as_str());
    page.field("what", a.what.as_str());
    page.line(format!(
        "baseline {} → target {} {} by {}; for {}",
        a.baseline.map_or("?".into(), |v| v.to_string()),
        a.target.map_or("?".into(), |v| v.to_string()),
        a.unit,
        a.by_when.as_deref().unwrap_or("?"),
        if a.for_whom.is_empty() {
            "?".to_owned()
        } else {
            a.for_whom.join(", ")
        }
    ));
    page.field(
        "outcome measure",
        a.outcome_measure_id
            .as_deref()
            .unwrap_or("none (no chart shows its target)"),
    );
    page.list("equity lens codes", &a.equity_codes);
    page.findings(&a.validate());
    page.0
}

/// The diagram as a tree from the aim: each box under the box it drives.
pub(super) fn diagram(d: &DriverDiagram) -> String {
    let mut page = Page::default();
    let roots: Vec<&Node> = d.nodes.iter().filter(|n| n.level == Level::Aim).collect();
    let mut shown = BTreeSet::new();
    for root in &roots {
        tree(d, root, &mut shown, &mut page);
    }
    // Boxes no arrow leads to from the aim's tree still belong on the page.
    let loose: Vec<&Node> = d
        .nodes
        .iter()
        .filter(|n| !shown.contains(n.id.as_str()))
        .collect();
    if !loose.is_empty() {
        page.line("not linked to the aim:");
        for n in loose {
            page.line(format!("  {}", node_line(n)));
        }
    }
    page.findings(&d.validate());
    page.0
}

fn node_line(n: &Node) -> String {
    let level = match n.level {
        Level::Aim => "aim",
        Level::Primary => "primary driver",
        Level::Secondary => "secondary driver",
        Level::Change => "change idea",
    };
    let description = n.description.as_str().trim();
    format!(
        "{level}: {} [{}]{}",
        n.text.as_str(),
        n.id,
        if description.is_empty() {
            String::new()
        } else {
            format!(" — {description}")
        }
    )
}

/// Deeper than this, boxes are drawn at this indent: a real diagram has four levels, and
/// a crafted chain of thousands must not print millions of spaces.
const MAX_INDENT: usize = 8;

/// Each box once under the box it drives (a box reached again says so), walked with a
/// stack of its own so a crafted deep chain cannot overflow the call stack, and with the
/// arrows indexed so a large diagram is not read once per box.
fn tree<'a>(d: &'a DriverDiagram, root: &'a Node, shown: &mut BTreeSet<&'a str>, page: &mut Page) {
    let by_id: HashMap<&str, &Node> = d.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut drivers_of: HashMap<&str, Vec<&Node>> = HashMap::new();
    for link in &d.links {
        if let Some(from) = by_id.get(link.from.as_str()) {
            drivers_of.entry(link.to.as_str()).or_default().push(from);
        }
    }
    let mut stack = vec![(root, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        let again = !shown.insert(node.id.as_str());
        page.line(format!(
            "{}{}{}",
            "  ".repeat(depth.min(MAX_INDENT)),
            node_line(node),
            if again { " (shown above)" } else { "" }
        ));
        if again {
            continue;
        }
        if let Some(children) = drivers_of.get(node.id.as_str()) {
            stack.extend(children.iter().rev().map(|c| (*c, depth + 1)));
        }
    }
}

pub(super) fn idea(c: &ChangeIdea) -> String {
    let mut page = Page::default();
    page.line(c.title.as_str());
    page.field("description", c.description.as_str());
    page.list("drivers it serves", &c.drivers);
    page.field("came from site", c.origin_site.as_deref().unwrap_or(""));
    page.list("tags", &c.tags);
    page.list("equity lens codes", &c.equity_codes);
    page.findings(&c.validate());
    page.0
}
