//! Signing in, and the directory: networks, sites, members, tokens.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use nic_proto::v1;
use serde_json::json;

use crate::config::Config;
use crate::error::{CliError, Exit};
use crate::output::Out;
use crate::session::Session;

/// `nic networks …`
#[derive(Subcommand)]
pub enum NetworksCmd {
    /// List the networks you have a role in.
    List,
    /// Create a network (hub admins).
    Create {
        /// Its id, e.g. algebra-readiness ([A-Za-z0-9._-], at most 64).
        id: String,
        /// Its name for people.
        #[arg(long)]
        name: String,
        /// What it works on.
        #[arg(long, default_value = "")]
        description: String,
        /// The smallest student group shown outside its site (5–30; default 10).
        #[arg(long, default_value_t = 10)]
        min_cell_size: u32,
    },
}

/// `nic sites …`
#[derive(Subcommand)]
pub enum SitesCmd {
    /// List the network's sites.
    List,
    /// Add a site (network leads).
    Create {
        /// Its id, e.g. lincoln-hs.
        id: String,
        /// Its name for people.
        #[arg(long)]
        name: String,
    },
}

/// A role, as the command line names it.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    /// Leads the network: all its documents, sites and members.
    Lead,
    /// Belongs to one site's team (needs --site).
    SiteMember,
    /// Reads the network's shared documents, never writes.
    Observer,
}

/// `nic members …`
#[derive(Subcommand)]
pub enum MembersCmd {
    /// List the network's members.
    List,
    /// Add a member to the network (network leads).
    Add {
        /// Their id, e.g. maria.lopez.
        id: String,
        /// Their role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Their site (for site members).
        #[arg(long)]
        site: Option<String>,
        /// Their name for people (default: the id).
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove a member from the hub (their tokens stop working; history keeps their name).
    Remove {
        /// Their id.
        id: String,
    },
    /// List a member's tokens (default: yours), without their secrets.
    Tokens {
        /// The member's id.
        id: Option<String>,
    },
    /// Revoke a token, e.g. of a lost laptop (by its public id, from `nic members tokens`).
    Revoke {
        /// The token's public id.
        token_id: String,
    },
    /// Issue a token for a member and print it (give it to them; it is shown once).
    Token {
        /// The member's id.
        id: String,
        /// A label, e.g. the device it is for.
        #[arg(long, default_value = "nic")]
        label: String,
    },
}

fn role_name(role: i32) -> &'static str {
    match v1::Role::try_from(role) {
        Ok(v1::Role::HubAdmin) => "hub admin",
        Ok(v1::Role::NetworkLead) => "network lead",
        Ok(v1::Role::SiteMember) => "site member",
        Ok(v1::Role::Observer) => "observer",
        _ => "unknown",
    }
}

/// `nic login`
pub async fn login(
    out: Out,
    hub: String,
    token: Option<String>,
    token_file: Option<PathBuf>,
) -> Result<(), CliError> {
    let token = match (token, token_file) {
        (Some(t), _) => t,
        (None, Some(f)) => std::fs::read_to_string(&f).map_err(|e| {
            CliError::new(
                Exit::Config,
                format!("cannot read the token file {}: {e}", f.display()),
            )
        })?,
        (None, None) => {
            return Err(CliError::invalid(
                "give a token: --token TOKEN, --token-file FILE, or the NIC_TOKEN variable",
            ));
        }
    };
    let previous = Config::load().ok();
    let config = Config {
        hub: hub.trim_end_matches('/').to_owned(),
        token: token.trim().to_owned(),
        network: previous
            .filter(|p| p.hub == hub.trim_end_matches('/'))
            .and_then(|p| p.network),
    };
    let mut session = Session::with(config.clone());
    let me = session
        .directory()
        .await?
        .who_am_i(v1::WhoAmIRequest {})
        .await?
        .into_inner();
    let member = me.member.unwrap_or_default();
    let path = config.save()?;
    out.value(
        json!({"hub": config.hub, "member": member.member_id, "role": role_name(member.role), "config": path}),
        &format!(
            "signed in to {} as {} ({}); saved to {}",
            config.hub,
            member.member_id,
            role_name(member.role),
            path.display()
        ),
    );
    Ok(())
}

/// `nic whoami`
pub async fn whoami(out: Out) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let me = session
        .directory()
        .await?
        .who_am_i(v1::WhoAmIRequest {})
        .await?
        .into_inner();
    let member = me.member.unwrap_or_default();
    out.value(
        json!({
            "hub": session.config.hub,
            "member": member.member_id,
            "role": role_name(member.role),
            "networks": member.network_ids,
            "site": member.site_id,
            "default_network": session.config.network,
        }),
        &format!(
            "{} ({}) on {}\nnetworks: {}{}\ndefault network: {}",
            member.member_id,
            role_name(member.role),
            session.config.hub,
            if member.role == v1::Role::HubAdmin as i32 {
                "all (hub admin)".to_owned()
            } else {
                member.network_ids.join(", ")
            },
            if member.site_id.is_empty() {
                String::new()
            } else {
                format!("\nsite: {}", member.site_id)
            },
            session
                .config
                .network
                .as_deref()
                .unwrap_or("(none: `nic use NETWORK`)")
        ),
    );
    Ok(())
}

/// `nic use`
pub async fn use_network(out: Out, network: &str) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let id = nic_model::NetworkId::new(network)?;
    let listed = session
        .directory()
        .await?
        .list_networks(v1::ListNetworksRequest::default())
        .await?
        .into_inner();
    if !listed.networks.iter().any(|n| n.network_id == id.as_str()) {
        return Err(CliError::new(
            Exit::NotFound,
            format!(
                "network {id} does not exist or you have no role in it; `nic networks list` shows yours"
            ),
        ));
    }
    session.config.network = Some(id.to_string());
    session.config.save()?;
    out.value(
        json!({"network": id.to_string()}),
        &format!("default network: {id}"),
    );
    Ok(())
}

/// `nic networks …`
pub async fn networks(out: Out, c: NetworksCmd) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let mut d = session.directory().await?;
    match c {
        NetworksCmd::List => {
            let listed = d
                .list_networks(v1::ListNetworksRequest::default())
                .await?
                .into_inner();
            let rows: Vec<Vec<String>> = listed
                .networks
                .iter()
                .map(|n| {
                    vec![
                        n.network_id.clone(),
                        n.name.clone(),
                        n.min_cell_size.to_string(),
                    ]
                })
                .collect();
            out.table(&["network", "name", "min_cell_size"], &rows);
        }
        NetworksCmd::Create {
            id,
            name,
            description,
            min_cell_size,
        } => {
            d.create_network(v1::CreateNetworkRequest {
                network_id: id.clone(),
                name,
                description,
                min_cell_size,
            })
            .await?;
            out.value(json!({"network": id}), &format!("created network {id}"));
        }
    }
    Ok(())
}

/// `nic sites …`
pub async fn sites(out: Out, network: Option<&str>, c: SitesCmd) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let network = session.config.network(network)?;
    let mut d = session.directory().await?;
    match c {
        SitesCmd::List => {
            let listed = d
                .list_sites(v1::ListSitesRequest {
                    network_id: network.to_string(),
                })
                .await?
                .into_inner();
            let rows: Vec<Vec<String>> = listed
                .sites
                .iter()
                .map(|s| vec![s.site_id.clone(), s.name.clone()])
                .collect();
            out.table(&["site", "name"], &rows);
        }
        SitesCmd::Create { id, name } => {
            d.create_site(v1::CreateSiteRequest {
                network_id: network.to_string(),
                site_id: id.clone(),
                name,
            })
            .await?;
            out.value(
                json!({"site": id}),
                &format!("added site {id} to {network}"),
            );
        }
    }
    Ok(())
}

/// `nic members …`
pub async fn members(out: Out, network: Option<&str>, c: MembersCmd) -> Result<(), CliError> {
    let mut session = Session::load()?;
    // Listing and adding are about a network; removing and tokens are not.
    let network = session.config.network(network);
    let mut d = session.directory().await?;
    match c {
        MembersCmd::List => {
            let network = network?;
            let mut rows = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = d
                    .list_members(v1::ListMembersRequest {
                        network_id: network.to_string(),
                        page_size: 1000,
                        page_token,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                for m in page.members {
                    rows.push(vec![
                        m.member_id,
                        m.display_name,
                        role_name(m.role).to_owned(),
                        m.site_id,
                    ]);
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            out.table(&["member", "name", "role", "site"], &rows);
        }
        MembersCmd::Add {
            id,
            role,
            site,
            name,
        } => {
            let role = match role {
                RoleArg::Lead => v1::Role::NetworkLead,
                RoleArg::SiteMember => v1::Role::SiteMember,
                RoleArg::Observer => v1::Role::Observer,
            };
            let network = network?;
            if role == v1::Role::SiteMember && site.is_none() {
                return Err(CliError::invalid("a site member needs --site SITE"));
            }
            d.add_member(v1::AddMemberRequest {
                member: Some(v1::Member {
                    member_id: id.clone(),
                    display_name: name.unwrap_or_else(|| id.clone()),
                    role: role as i32,
                    network_ids: vec![network.to_string()],
                    site_id: site.unwrap_or_default(),
                }),
            })
            .await?;
            out.value(json!({"member": id}), &format!("added {id} to {network}"));
        }
        MembersCmd::Remove { id } => {
            d.remove_member(v1::RemoveMemberRequest {
                member_id: id.clone(),
            })
            .await?;
            out.value(
                json!({"removed": id}),
                &format!("removed {id}; their tokens no longer work"),
            );
        }
        MembersCmd::Tokens { id } => {
            let listed = d
                .list_tokens(v1::ListTokensRequest {
                    member_id: id.unwrap_or_default(),
                })
                .await?
                .into_inner();
            let rows: Vec<Vec<String>> = listed
                .tokens
                .iter()
                .map(|t| {
                    vec![
                        t.token_id.clone(),
                        t.member_id.clone(),
                        t.label.clone(),
                        if t.revoked {
                            "revoked".into()
                        } else {
                            "active".into()
                        },
                    ]
                })
                .collect();
            out.table(&["token", "member", "label", "state"], &rows);
        }
        MembersCmd::Revoke { token_id } => {
            d.revoke_token(v1::RevokeTokenRequest {
                token_id: token_id.clone(),
            })
            .await?;
            out.value(
                json!({"revoked": token_id}),
                &format!("revoked token {token_id}"),
            );
        }
        MembersCmd::Token { id, label } => {
            let issued = d
                .issue_token(v1::IssueTokenRequest {
                    member_id: id.clone(),
                    label,
                    expires_at_ms: 0,
                })
                .await?
                .into_inner();
            out.value(
                json!({"member": id, "token": issued.secret}),
                &format!(
                    "{}\n(the token for {id}; it is shown only now: they save it in a file only they can read and sign in with `nic login --hub {} --token-file FILE`)",
                    issued.secret, session.config.hub
                ),
            );
        }
    }
    Ok(())
}
