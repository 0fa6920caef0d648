//! Signing in, and the directory: networks, sites, members, tokens.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use nic_client::hub::Role;
use nic_model::{Grant, Member, MemberId, NetworkId, SiteId, TokenId};
use serde_json::json;

use crate::config::{Config, TlsFiles};
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
    /// Turn a network's public family and community dashboard on or off (network leads):
    /// served without sign-in at /public/NETWORK/dashboard.json, in the web app at
    /// #/public/NETWORK.
    Public {
        /// The network's id.
        id: String,
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
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
    /// Issue a token for a member (give it to them; it is shown once). With --to-file it
    /// goes into a new file only you can read, to hand over without it passing through a
    /// terminal, chat or shell history.
    Token {
        /// The member's id.
        id: String,
        /// A label, e.g. the device it is for.
        #[arg(long, default_value = "nic")]
        label: String,
        /// Write the token into this new file (readable by its owner only) instead of
        /// printing it.
        #[arg(long, value_name = "FILE")]
        to_file: Option<PathBuf>,
    },
    /// Change a member's role in their networks (network leads, hub admins).
    Role {
        /// Their id.
        id: String,
        /// The new role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Their site (for site members).
        #[arg(long)]
        site: Option<String>,
    },
    /// The audit log: who added, removed, changed or issued what, and when (hub admins:
    /// the whole hub; leads: the network's).
    Audit {
        /// Only entries after this number (from a previous page).
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

/// How `nic login` reaches a hub over TLS.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TlsArgs {
    /// A CA certificate (PEM) to trust for the hub, when its certificate comes from a
    /// private CA (an https:// hub is otherwise checked against this machine's CAs).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// This device's certificate (PEM), for a hub that asks for client certificates.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The name on the hub's certificate, if not the address's host.
    #[arg(long, value_name = "NAME")]
    pub tls_domain: Option<String>,
}

impl TlsArgs {
    /// The files, made absolute so the saved sign-in works from any folder.
    fn files(self) -> Result<TlsFiles, CliError> {
        let absolute = |p: Option<PathBuf>| -> Result<Option<PathBuf>, CliError> {
            p.map(|p| {
                std::path::absolute(&p).map_err(|e| {
                    CliError::invalid(format!("cannot use the path {}: {e}", p.display()))
                })
            })
            .transpose()
        };
        Ok(TlsFiles {
            ca_file: absolute(self.ca_file)?,
            cert_file: absolute(self.cert)?,
            key_file: absolute(self.key)?,
            domain: self.tls_domain,
        })
    }
}

/// The kind of a member's roles, as people say it.
fn role_name(member: &Member) -> &'static str {
    member
        .grants
        .0
        .first()
        .map_or("no role", |g| Role::of(g).name())
}

/// The networks a member has a role in.
fn networks_of(member: &Member) -> Vec<String> {
    let mut networks: Vec<String> = member
        .grants
        .0
        .iter()
        .filter_map(|g| g.network().map(ToString::to_string))
        .collect();
    networks.dedup();
    networks
}

/// A member's site, if they are a site member.
fn site_of(member: &Member) -> String {
    member
        .grants
        .0
        .iter()
        .find_map(|g| match g {
            Grant::SiteMember { site, .. } => Some(site.to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

/// `nic login`
pub async fn login(
    out: Out,
    hub: String,
    token: Option<String>,
    token_file: Option<PathBuf>,
    tls: TlsArgs,
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
        tls: tls.files()?,
    };
    let mut session = Session::with(config.clone());
    let me = session.hub()?.who_am_i().await?;
    let path = config.save()?;
    out.value(
        json!({"hub": config.hub, "member": me.member.id, "role": role_name(&me.member), "config": path}),
        &format!(
            "signed in to {} as {} ({}); saved to {}",
            config.hub,
            me.member.id,
            role_name(&me.member),
            path.display()
        ),
    );
    Ok(())
}

/// `nic whoami`
pub async fn whoami(out: Out) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let me = session.hub()?.who_am_i().await?;
    let member = &me.member;
    let site = site_of(member);
    out.value(
        json!({
            "hub": session.config.hub,
            "member": member.id,
            "name": member.name,
            "role": role_name(member),
            "networks": networks_of(member),
            "site": site,
            "default_network": session.config.network,
            "hub_version": me.hub_version,
        }),
        &format!(
            "{} ({}) on {}\nnetworks: {}{}\ndefault network: {}",
            member.id,
            role_name(member),
            session.config.hub,
            if member.grants.is_hub_admin() {
                "all (hub admin)".to_owned()
            } else {
                networks_of(member).join(", ")
            },
            if site.is_empty() {
                String::new()
            } else {
                format!("\nsite: {site}")
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
    let id = NetworkId::new(network)?;
    let listed = session.hub()?.networks().await?;
    if !listed.iter().any(|n| n.id == id) {
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
    let hub = session.hub()?;
    match c {
        NetworksCmd::List => {
            let rows: Vec<Vec<String>> = hub
                .networks()
                .await?
                .iter()
                .map(|n| {
                    vec![
                        n.id.to_string(),
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
            let id = NetworkId::new(id)?;
            hub.create_network(&id, &name, &description, min_cell_size)
                .await?;
            out.value(json!({"network": id}), &format!("created network {id}"));
        }
        NetworksCmd::Public { id, state } => {
            let id = NetworkId::new(id)?;
            let on = state == "on";
            hub.set_public_dashboard(&id, on).await?;
            out.value(
                json!({"network": id, "public_dashboard": on}),
                &if on {
                    format!("network {id}'s public dashboard is on: /public/{id}/dashboard.json")
                } else {
                    format!("network {id}'s public dashboard is off")
                },
            );
        }
    }
    Ok(())
}

/// `nic sites …`
pub async fn sites(out: Out, network: Option<&str>, c: SitesCmd) -> Result<(), CliError> {
    let mut session = Session::load()?;
    let network = session.config.network(network)?;
    let hub = session.hub()?;
    match c {
        SitesCmd::List => {
            let rows: Vec<Vec<String>> = hub
                .sites(&network)
                .await?
                .iter()
                .map(|s| vec![s.id.to_string(), s.name.clone()])
                .collect();
            out.table(&["site", "name"], &rows);
        }
        SitesCmd::Create { id, name } => {
            let id = SiteId::new(id)?;
            hub.create_site(&network, &id, &name).await?;
            out.value(
                json!({"site": id}),
                &format!("added site {id} to {network}"),
            );
        }
    }
    Ok(())
}

fn role_arg(role: RoleArg) -> Role {
    match role {
        RoleArg::Lead => Role::NetworkLead,
        RoleArg::SiteMember => Role::SiteMember,
        RoleArg::Observer => Role::Observer,
    }
}

/// `nic members …`
pub async fn members(out: Out, network: Option<&str>, c: MembersCmd) -> Result<(), CliError> {
    let mut session = Session::load()?;
    // Listing and adding are about a network; removing and tokens are not.
    let network = session.config.network(network);
    let hub = session.hub()?;
    match c {
        MembersCmd::List => {
            let network = network?;
            let rows: Vec<Vec<String>> = hub
                .members(&network, None)
                .await?
                .iter()
                .map(|m| {
                    vec![
                        m.id.to_string(),
                        m.name.clone(),
                        role_name(m).to_owned(),
                        site_of(m),
                    ]
                })
                .collect();
            out.table(&["member", "name", "role", "site"], &rows);
        }
        MembersCmd::Add {
            id,
            role,
            site,
            name,
        } => {
            let network = network?;
            let id = MemberId::new(id)?;
            let grant = match (role_arg(role), site) {
                (Role::SiteMember, Some(site)) => Grant::SiteMember {
                    network: network.clone(),
                    site: SiteId::new(site)?,
                },
                (Role::SiteMember, None) => {
                    return Err(CliError::invalid("a site member needs --site SITE"));
                }
                (_, Some(_)) => {
                    return Err(CliError::invalid(
                        "only a site member has a site: drop --site, or use --role site-member",
                    ));
                }
                (Role::NetworkLead, None) => Grant::NetworkLead {
                    network: network.clone(),
                },
                (_, None) => Grant::Observer {
                    network: network.clone(),
                },
            };
            let name = name.unwrap_or_else(|| id.to_string());
            hub.add_member(&id, &name, vec![grant]).await?;
            out.value(json!({"member": id}), &format!("added {id} to {network}"));
        }
        MembersCmd::Remove { id } => {
            let id = MemberId::new(id)?;
            hub.remove_member(&id).await?;
            out.value(
                json!({"removed": id}),
                &format!("removed {id}; their tokens no longer work"),
            );
        }
        MembersCmd::Tokens { id } => {
            let id = id.map(MemberId::new).transpose()?;
            let rows: Vec<Vec<String>> = hub
                .tokens(id.as_ref())
                .await?
                .iter()
                .map(|t| {
                    vec![
                        t.id.to_string(),
                        t.member.to_string(),
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
            let id = TokenId::new(token_id)?;
            hub.revoke_token(&id).await?;
            out.value(json!({"revoked": id}), &format!("revoked token {id}"));
        }
        MembersCmd::Token { id, label, to_file } => {
            let id = MemberId::new(id)?;
            // Checked before the token exists, so a bad path does not leave a token
            // nobody holds.
            if let Some(file) = &to_file
                && file.exists()
            {
                return Err(CliError::invalid(format!(
                    "{} exists already; give a new file (a token never overwrites one)",
                    file.display()
                )));
            }
            let issued = hub.issue_token(&id, &label, None).await?;
            let login = format!("nic login --hub {} --token-file FILE", session.config.hub);
            match to_file {
                Some(file) => {
                    write_owner_only(&file, &issued.secret)?;
                    out.value(
                        json!({"member": id, "token_id": issued.token.id, "file": file}),
                        &format!(
                            "wrote the token for {id} to {} (readable by you only); hand the file to them: they sign in with `{login}` and delete it",
                            file.display()
                        ),
                    );
                }
                None => out.value(
                    json!({"member": id, "token_id": issued.token.id, "token": issued.secret}),
                    &format!(
                        "{}\n(the token for {id}; it is shown only now: they save it in a file only they can read and sign in with `{login}`)",
                        issued.secret
                    ),
                ),
            }
        }
        MembersCmd::Role { id, role, site } => {
            let id = MemberId::new(id)?;
            let role = role_arg(role);
            let site = site.map(SiteId::new).transpose()?;
            if role == Role::SiteMember && site.is_none() {
                return Err(CliError::invalid("a site member needs --site SITE"));
            }
            let member = hub.set_role(&id, role, site.as_ref()).await?;
            out.value(
                json!({"member": id, "role": Role::of(member.grants.0.first().unwrap_or(&Grant::HubAdmin)), "site": site_of(&member)}),
                &format!("{id} is now {}", role_name(&member)),
            );
        }
        MembersCmd::Audit { after, limit } => {
            // A hub admin without a network reads the whole hub's log.
            let network = network.ok();
            let page = hub.audit_log(network.as_ref(), after, limit).await?;
            let rows: Vec<Vec<String>> = page
                .entries
                .iter()
                .map(|e| {
                    vec![
                        e.seq.to_string(),
                        crate::output::time(e.at_ms),
                        e.by.to_string(),
                        e.action.clone(),
                        e.target.clone(),
                        e.detail.clone(),
                    ]
                })
                .collect();
            out.table(
                &["#", "when (UTC)", "by", "action", "target", "detail"],
                &rows,
            );
            if let (Some(next), false) = (page.next_after, out.json) {
                crate::output::line(&format!("(more: --after {next})"));
            }
        }
    }
    Ok(())
}

/// Writes `secret` into a new file readable and writable by its owner only.
fn write_owner_only(path: &Path, secret: &str) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        CliError::invalid(format!(
            "cannot create {}: {e}; the token was issued but not saved: revoke it with `nic members revoke`",
            path.display()
        ))
    })?;
    writeln!(file, "{secret}")?;
    file.sync_all()?;
    Ok(())
}
