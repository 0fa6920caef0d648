//! Equity lens codes: the network defines them in its profile; aims, change ideas, cycles
//! and root-cause analyses carry the ids of those that describe them, and the district
//! overview counts them per code.

use clap::{Subcommand, ValueEnum};
use nic_client::Network;
use nic_model::DocKind;
use nic_model::schema::Text;
use nic_model::schema::aim::Aim;
use nic_model::schema::driver::ChangeIdea;
use nic_model::schema::network::{EquityCode, NetworkProfile};
use nic_model::schema::pdsa::PdsaCycle;
use nic_model::schema::site_work::RootCauseAnalysis;
use serde_json::json;

use super::edit::{self, Open};
use crate::error::{CliError, Exit};
use crate::output::Out;

/// What a code describes.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DimensionArg {
    /// Which inequity the work addresses.
    Problem,
    /// Which groups it names.
    Groups,
    /// What kind of change it is, from fitting students to the system to changing it.
    Solution,
}

/// `nic equity …`
#[derive(Subcommand)]
pub enum EquityCmd {
    /// List the network's equity lens codes.
    List,
    /// Define a code, or change its label (network leads).
    Define {
        /// Its id, used when tagging, e.g. changes-the-system.
        code: String,
        /// What it describes.
        #[arg(long, value_enum)]
        dimension: DimensionArg,
        /// What it means.
        #[arg(long)]
        label: String,
    },
    /// Tag an aim, change idea, cycle or root-cause analysis with codes.
    Tag {
        /// The document (id or unique prefix).
        doc: String,
        /// The codes (as `nic equity list` shows them).
        #[arg(required = true)]
        codes: Vec<String>,
    },
    /// Remove codes from a document.
    Untag {
        /// The document (id or unique prefix).
        doc: String,
        /// The codes.
        #[arg(required = true)]
        codes: Vec<String>,
    },
}

/// The network's profile document, if it has one here.
pub async fn profile(
    network: &Network,
) -> Result<Option<nic_client::Document<NetworkProfile>>, CliError> {
    let mut all = network.list::<NetworkProfile>().await?;
    // Two leads offline may each have made one: the oldest is the profile.
    all.sort_by_key(|d| (d.meta.created_at_ms, d.meta.id.to_string()));
    Ok(all.into_iter().next())
}

/// Refuses codes the network has not defined (so a typo is not counted as a new logic).
pub async fn check(network: &Network, codes: &[String]) -> Result<(), CliError> {
    if codes.is_empty() {
        return Ok(());
    }
    let defined: Vec<String> = profile(network)
        .await?
        .map(|p| p.value.equity_codes.into_iter().map(|c| c.id).collect())
        .unwrap_or_default();
    let unknown: Vec<&str> = codes
        .iter()
        .filter(|c| !defined.contains(c))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(CliError::invalid(format!(
        "the network defines no equity lens code {}; it defines: {} (a lead adds one with `nic equity define CODE --dimension … --label …`)",
        unknown.join(", "),
        if defined.is_empty() {
            "none yet".into()
        } else {
            defined.join(", ")
        }
    )))
}

/// `nic equity …`
pub async fn equity(out: Out, network: Option<&str>, c: EquityCmd) -> Result<(), CliError> {
    let o = edit::open(network, true).await?;
    let result = run(&o, out, c).await;
    let (said, synced) = o.finish(result).await?;
    if let Some((value, text)) = said {
        out.value(value, &text);
    }
    synced
}

async fn run(
    o: &Open,
    out: Out,
    c: EquityCmd,
) -> Result<Option<(serde_json::Value, String)>, CliError> {
    match c {
        EquityCmd::List => {
            let codes = profile(&o.network)
                .await?
                .map(|p| p.value.equity_codes)
                .unwrap_or_default();
            let rows: Vec<Vec<String>> = codes
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        c.dimension.clone(),
                        c.label.as_str().to_owned(),
                    ]
                })
                .collect();
            out.table(&["code", "dimension", "label"], &rows);
            Ok(None)
        }
        EquityCmd::Define {
            code,
            dimension,
            label,
        } => {
            let code = code.trim().to_owned();
            if code.is_empty() || code.chars().any(char::is_whitespace) {
                return Err(CliError::invalid(
                    "a code is one word (letters, digits, dashes), e.g. changes-the-system",
                ));
            }
            let entry = EquityCode {
                id: code.clone(),
                dimension: format!("{dimension:?}").to_lowercase(),
                label: Text::with_value(&label),
            };
            match profile(&o.network).await? {
                Some(p) => {
                    o.client
                        .change::<NetworkProfile>(p.meta.id, "Equity lens code", move |n| {
                            match n.equity_codes.iter_mut().find(|c| c.id == entry.id) {
                                Some(have) => {
                                    have.dimension = entry.dimension;
                                    have.label = entry.label;
                                }
                                None => n.equity_codes.push(entry),
                            }
                        })
                        .await?;
                }
                None => {
                    let name = o.network.id().to_string();
                    o.network
                        .create(
                            name.clone(),
                            &NetworkProfile {
                                name: Text::with_value(&name),
                                equity_codes: vec![entry],
                                ..NetworkProfile::default()
                            },
                        )
                        .await?;
                }
            }
            Ok(Some((
                json!({"code": code}),
                format!("equity lens code {code} defined"),
            )))
        }
        EquityCmd::Tag { doc, codes } => {
            check(&o.network, &codes).await?;
            let id = o.doc(&doc).await?;
            let now = retag(o, id, codes, false).await?;
            Ok(Some((
                json!({"id": id.to_string(), "equity_codes": now}),
                format!("codes: {}", now.join(", ")),
            )))
        }
        EquityCmd::Untag { doc, codes } => {
            let id = o.doc(&doc).await?;
            let now = retag(o, id, codes, true).await?;
            Ok(Some((
                json!({"id": id.to_string(), "equity_codes": now}),
                format!("codes: {}", now.join(", ")),
            )))
        }
    }
}

/// Adds (or removes) `codes` on a document of a kind that carries them; returns its codes.
async fn retag(
    o: &Open,
    id: nic_model::DocumentId,
    codes: Vec<String>,
    remove: bool,
) -> Result<Vec<String>, CliError> {
    let apply = move |have: &mut Vec<String>| {
        if remove {
            have.retain(|c| !codes.contains(c));
        } else {
            for c in codes {
                if !have.contains(&c) {
                    have.push(c);
                }
            }
        }
    };
    let c = &o.client;
    let kind = c.meta(id).await?.kind;
    let msg = "Equity lens codes";
    Ok(match kind {
        DocKind::Aim => {
            c.change::<Aim>(id, msg, move |d| apply(&mut d.equity_codes))
                .await?;
            c.get::<Aim>(id).await?.value.equity_codes
        }
        DocKind::ChangeIdea => {
            c.change::<ChangeIdea>(id, msg, move |d| apply(&mut d.equity_codes))
                .await?;
            c.get::<ChangeIdea>(id).await?.value.equity_codes
        }
        DocKind::PdsaCycle => {
            c.change::<PdsaCycle>(id, msg, move |d| apply(&mut d.equity_codes))
                .await?;
            c.get::<PdsaCycle>(id).await?.value.equity_codes
        }
        DocKind::RootCauseAnalysis => {
            c.change::<RootCauseAnalysis>(id, msg, move |d| apply(&mut d.equity_codes))
                .await?;
            c.get::<RootCauseAnalysis>(id).await?.value.equity_codes
        }
        other => {
            return Err(CliError::new(
                Exit::Invalid,
                format!(
                    "a {} carries no equity lens codes; tag an aim, change idea, cycle or root-cause analysis",
                    other.as_str()
                ),
            ));
        }
    })
}
