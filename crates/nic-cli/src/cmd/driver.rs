//! The network's driver diagram from the terminal: show it, add, rename and remove primary
//! and secondary drivers, and link change ideas to the drivers they move (kept the same in
//! the diagram's change boxes and the change idea's own `drivers`).

use clap::{Subcommand, ValueEnum};
use nic_client::Document;
use nic_model::DocumentId;
use nic_model::schema::Text;
use nic_model::schema::driver::{ChangeIdea, DriverDiagram, Level, Link, Node};
use serde_json::json;

use super::edit::{self, Open};
use crate::error::{CliError, Exit};
use crate::output::Out;

/// A level a person adds by hand (change boxes come from `nic driver link`).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LevelArg {
    /// The aim (one per diagram).
    Aim,
    /// A primary driver: a big lever that moves the aim.
    Primary,
    /// A secondary driver: a place in the system where a primary driver can be pulled.
    Secondary,
}

/// `nic driver …`
#[derive(Subcommand)]
pub enum DriverCmd {
    /// Show the diagram: aim, primary and secondary drivers, and the change ideas on each.
    Show,
    /// Add a box (network leads). A primary driver points to the aim; a secondary driver
    /// to the primary driver given with --to.
    Add {
        /// Its level.
        #[arg(value_enum)]
        level: LevelArg,
        /// Its short text.
        text: String,
        /// The box it drives (a secondary driver's primary driver), by id or start of text.
        #[arg(long)]
        to: Option<String>,
        /// A longer description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change a box's text (and description).
    Rename {
        /// The box, by id (p1, s2…) or the start of its text.
        node: String,
        /// The new text.
        text: String,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove a box and its arrows (change ideas stop naming it).
    Remove {
        /// The box, by id or the start of its text.
        node: String,
    },
    /// Link a change idea to a driver it moves (usually a secondary driver).
    Link {
        /// The change idea (document id or unique prefix).
        idea: String,
        /// The driver, by id or the start of its text.
        driver: String,
    },
    /// Remove a change idea's link to a driver.
    Unlink {
        /// The change idea (document id or unique prefix).
        idea: String,
        /// The driver, by id or the start of its text.
        driver: String,
    },
}

/// The network's driver diagram, if it has one here (the oldest, should two leads have
/// made one offline).
async fn diagram(o: &Open) -> Result<Option<Document<DriverDiagram>>, CliError> {
    let mut all = o.network.list::<DriverDiagram>().await?;
    all.sort_by_key(|d| (d.meta.created_at_ms, d.meta.id.to_string()));
    Ok(all.into_iter().next())
}

/// The node `text` names: its id, or the one box whose text starts with it.
fn node<'a>(d: &'a DriverDiagram, text: &str) -> Result<&'a Node, CliError> {
    if let Some(n) = d.nodes.iter().find(|n| n.id == text) {
        return Ok(n);
    }
    let want = text.trim().to_lowercase();
    let found: Vec<&Node> = d
        .nodes
        .iter()
        .filter(|n| !want.is_empty() && n.text.as_str().to_lowercase().starts_with(&want))
        .collect();
    match found.as_slice() {
        [n] => Ok(n),
        [] => Err(CliError::new(
            Exit::NotFound,
            format!("the driver diagram has no box {text:?}; `nic driver show` lists them"),
        )),
        many => Err(CliError::invalid(format!(
            "{text:?} starts {} boxes' text; name one by id: {}",
            many.len(),
            many.iter()
                .map(|n| format!("{} ({})", n.id, n.text.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Aim => "aim",
        Level::Primary => "primary",
        Level::Secondary => "secondary",
        Level::Change => "change",
    }
}

/// `nic driver …`
pub async fn driver(out: Out, network: Option<&str>, c: DriverCmd) -> Result<(), CliError> {
    let o = edit::open(network, true).await?;
    let result = run(&o, c).await;
    let ((value, text), synced) = o.finish(result).await?;
    out.value(value, &text);
    synced
}

async fn run(o: &Open, c: DriverCmd) -> Result<(serde_json::Value, String), CliError> {
    let have = diagram(o).await?;
    if let DriverCmd::Show = c {
        let d = have.map(|d| d.value).unwrap_or_default();
        return Ok((render_json(&d), render(&d)));
    }
    if let DriverCmd::Add {
        level,
        text,
        to,
        description,
    } = c
    {
        let mut d = have.as_ref().map(|d| d.value.clone()).unwrap_or_default();
        let level = match level {
            LevelArg::Aim => Level::Aim,
            LevelArg::Primary => Level::Primary,
            LevelArg::Secondary => Level::Secondary,
        };
        let target = match (level, &to) {
            (Level::Aim, Some(_)) => {
                return Err(CliError::invalid("the aim drives nothing: leave out --to"));
            }
            (Level::Aim, None) => {
                if d.nodes.iter().any(|n| n.level == Level::Aim) {
                    return Err(CliError::invalid(
                        "the diagram has its aim already; change it with `nic driver rename`",
                    ));
                }
                None
            }
            (_, Some(to)) => Some(node(&d, to)?),
            (Level::Primary, None) => d.nodes.iter().find(|n| n.level == Level::Aim),
            (_, None) => {
                return Err(CliError::invalid(
                    "say which primary driver this secondary driver serves: --to P (`nic driver show` lists them)",
                ));
            }
        };
        let expected = match level {
            Level::Primary => Level::Aim,
            _ => Level::Primary,
        };
        if let Some(t) = target
            && t.level != expected
        {
            return Err(CliError::invalid(format!(
                "a {} driver points to the {}, and {} is a {} box",
                level_name(level),
                level_name(expected),
                t.id,
                level_name(t.level)
            )));
        }
        let target = target.map(|t| t.id.clone());
        let prefix = match level {
            Level::Aim => "aim",
            Level::Primary => "p",
            _ => "s",
        };
        let n = d
            .nodes
            .iter()
            .filter_map(|n| n.id.strip_prefix(prefix)?.parse::<u32>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let id = if level == Level::Aim {
            "aim".to_owned()
        } else {
            format!("{prefix}{n}")
        };
        let new = Node {
            id: id.clone(),
            level,
            text: Text::with_value(&text),
            description: Text::with_value(&description),
        };
        let link = target.map(|to| Link {
            from: id.clone(),
            to,
        });
        match have {
            Some(have) => {
                o.client
                    .change::<DriverDiagram>(have.meta.id, "Driver diagram: box added", move |d| {
                        d.nodes.push(new);
                        d.links.extend(link);
                    })
                    .await?;
            }
            None => {
                d.nodes.push(new);
                d.links.extend(link);
                let fresh = DriverDiagram {
                    nodes: d
                        .nodes
                        .iter()
                        .map(|n| Node {
                            text: Text::with_value(n.text.as_str()),
                            description: Text::with_value(n.description.as_str()),
                            ..n.clone()
                        })
                        .collect(),
                    links: d.links.clone(),
                };
                o.network.create("Driver diagram", &fresh).await?;
            }
        }
        return Ok((json!({"node": id}), format!("added {id}: {text}")));
    }
    let have = have.ok_or_else(|| {
        CliError::new(
            Exit::NotFound,
            "the network has no driver diagram yet; a lead starts one with `nic driver add aim TEXT`",
        )
    })?;
    let doc = have.meta.id;
    let d = &have.value;
    let link = matches!(c, DriverCmd::Link { .. });
    match c {
        DriverCmd::Rename {
            node: name,
            text,
            description,
        } => {
            let id = node(d, &name)?.id.clone();
            let target = id.clone();
            o.client
                .change::<DriverDiagram>(doc, "Driver diagram: box renamed", move |d| {
                    if let Some(n) = d.nodes.iter_mut().find(|n| n.id == target) {
                        n.text = Text::with_value(&text);
                        if let Some(desc) = &description {
                            n.description = Text::with_value(desc);
                        }
                    }
                })
                .await?;
            Ok((json!({"node": id}), format!("renamed {id}")))
        }
        DriverCmd::Remove { node: name } => {
            let id = node(d, &name)?.id.clone();
            let target = id.clone();
            o.client
                .change::<DriverDiagram>(doc, "Driver diagram: box removed", move |d| {
                    d.nodes.retain(|n| n.id != target);
                    d.links.retain(|l| l.from != target && l.to != target);
                })
                .await?;
            for idea in o.network.change_ideas().await? {
                if idea.value.drivers.contains(&id) {
                    let gone = id.clone();
                    o.client
                        .change::<ChangeIdea>(idea.meta.id, "Driver removed", move |c| {
                            c.drivers.retain(|x| *x != gone);
                        })
                        .await?;
                }
            }
            Ok((json!({"node": id}), format!("removed {id} and its arrows")))
        }
        DriverCmd::Link { idea, driver } | DriverCmd::Unlink { idea, driver } => {
            let to = node(d, &driver)?;
            if !matches!(to.level, Level::Primary | Level::Secondary) {
                return Err(CliError::invalid(format!(
                    "a change idea moves a driver, and {} is the {}",
                    to.id,
                    level_name(to.level)
                )));
            }
            let to = to.id.clone();
            let idea_id: DocumentId = o.doc(&idea).await?;
            let title = o.client.get::<ChangeIdea>(idea_id).await?.value.title;
            let (from, title) = (idea_id.to_string(), title.as_str().to_owned());
            let (f, t) = (from.clone(), to.clone());
            o.client
                .change::<DriverDiagram>(doc, "Driver diagram: change idea linked", move |d| {
                    let is = |l: &Link| l.from == f && l.to == t;
                    if link {
                        if !d.nodes.iter().any(|n| n.id == f) {
                            d.nodes.push(Node {
                                id: f.clone(),
                                level: Level::Change,
                                text: Text::with_value(&title),
                                description: Text::default(),
                            });
                        }
                        if !d.links.iter().any(is) {
                            d.links.push(Link { from: f, to: t });
                        }
                    } else {
                        d.links.retain(|l| !is(l));
                        // A change box linked to nothing any more leaves the diagram.
                        if !d.links.iter().any(|l| l.from == f) {
                            d.nodes.retain(|n| n.id != f || n.level != Level::Change);
                        }
                    }
                })
                .await?;
            let t = to.clone();
            o.client
                .change::<ChangeIdea>(idea_id, "Drivers", move |c| {
                    if link && !c.drivers.contains(&t) {
                        c.drivers.push(t);
                    } else if !link {
                        c.drivers.retain(|x| *x != t);
                    }
                })
                .await?;
            let verb = if link { "linked to" } else { "unlinked from" };
            Ok((
                json!({"idea": from, "driver": to, "linked": link}),
                format!("change idea {from} {verb} {to}"),
            ))
        }
        DriverCmd::Show | DriverCmd::Add { .. } => Err(CliError::invalid("handled above")),
    }
}

fn children<'a>(d: &'a DriverDiagram, id: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
    d.links
        .iter()
        .filter(move |l| l.to == id)
        .filter_map(|l| d.nodes.iter().find(|n| n.id == l.from))
}

/// The diagram as an indented tree, aim first; boxes not reached from the aim after it.
fn render(d: &DriverDiagram) -> String {
    if d.nodes.is_empty() {
        return "no driver diagram yet; a lead starts one with `nic driver add aim TEXT`".into();
    }
    let mut lines = Vec::new();
    let mut shown = std::collections::BTreeSet::new();
    fn walk<'a>(
        d: &'a DriverDiagram,
        n: &'a Node,
        depth: usize,
        lines: &mut Vec<String>,
        shown: &mut std::collections::BTreeSet<&'a str>,
    ) {
        let first = shown.insert(n.id.as_str());
        lines.push(format!(
            "{}{} [{}] {}",
            "  ".repeat(depth),
            level_name(n.level),
            n.id,
            n.text.as_str()
        ));
        if first {
            for c in children(d, &n.id) {
                walk(d, c, depth + 1, lines, shown);
            }
        }
    }
    for aim in d.nodes.iter().filter(|n| n.level == Level::Aim) {
        walk(d, aim, 0, &mut lines, &mut shown);
    }
    for n in &d.nodes {
        if !shown.contains(n.id.as_str()) && !d.links.iter().any(|l| l.from == n.id) {
            walk(d, n, 0, &mut lines, &mut shown);
        }
    }
    for f in d.validate() {
        lines.push(format!("note: {}: {}", f.field, f.message));
    }
    lines.join("\n")
}

fn render_json(d: &DriverDiagram) -> serde_json::Value {
    json!({
        "nodes": d.nodes.iter().map(|n| json!({"id": n.id, "level": level_name(n.level),
            "text": n.text.as_str(), "description": n.description.as_str()})).collect::<Vec<_>>(),
        "links": d.links.iter().map(|l| json!({"from": l.from, "to": l.to})).collect::<Vec<_>>(),
        "findings": d.validate().iter().map(|f| json!({"field": f.field, "message": f.message})).collect::<Vec<_>>(),
    })
}
