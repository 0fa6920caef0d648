//! Directory calls: who you are, networks, sites, members, roles, tokens and the audit log.

use nic_model::{AuditEntry, Grant, Member, MemberId, Network, NetworkId, Site, SiteId, TokenId};
use nic_proto::convert;
use nic_proto::v1::{self, directory_client::DirectoryClient};
use serde::Serialize;

use super::{Hub, bad_answer, missing};
use crate::ClientError;

/// The kind of role a member holds (the network and site come with it in a [`Grant`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operates the hub.
    HubAdmin,
    /// Leads a network.
    NetworkLead,
    /// Belongs to one site's team.
    SiteMember,
    /// Reads a network's shared documents.
    Observer,
}

impl Role {
    /// The kind of `grant`.
    pub fn of(grant: &Grant) -> Role {
        match grant {
            Grant::HubAdmin => Role::HubAdmin,
            Grant::NetworkLead { .. } => Role::NetworkLead,
            Grant::SiteMember { .. } => Role::SiteMember,
            Grant::Observer { .. } => Role::Observer,
        }
    }

    /// How people call it.
    pub fn name(self) -> &'static str {
        match self {
            Role::HubAdmin => "hub admin",
            Role::NetworkLead => "network lead",
            Role::SiteMember => "site member",
            Role::Observer => "observer",
        }
    }

    fn to_wire(self) -> v1::Role {
        match self {
            Role::HubAdmin => v1::Role::HubAdmin,
            Role::NetworkLead => v1::Role::NetworkLead,
            Role::SiteMember => v1::Role::SiteMember,
            Role::Observer => v1::Role::Observer,
        }
    }
}

/// Who a token belongs to, as the hub sees it.
#[derive(Clone, Debug, Serialize)]
pub struct WhoAmI {
    /// The member, with the roles the hub holds now.
    pub member: Member,
    /// The token this connection signs in with.
    pub token: Option<Token>,
    /// The hub's version.
    pub hub_version: String,
}

/// A ticket for the hub's automerge-repo WebSocket endpoint: opens one socket, within a
/// minute. Its `Debug` hides the ticket.
#[derive(Clone, Serialize)]
pub struct SocketTicket {
    /// The ticket, for `?ticket=` in the socket's URL.
    pub ticket: String,
    /// The socket's URL with the ticket: `ws[s]://host:port/automerge?ticket=...`.
    pub url: String,
    /// When the hub stops accepting it, in milliseconds since the Unix epoch.
    pub expires_at_ms: u64,
}

impl std::fmt::Debug for SocketTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketTicket")
            .field("ticket", &"<hidden>")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// A token's public description (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Token {
    /// Its id (for revoking it).
    pub id: TokenId,
    /// Whose it is.
    pub member: MemberId,
    /// What it is for, e.g. a device.
    pub label: String,
    /// When it was issued, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// When it stops working, if ever.
    pub expires_at_ms: Option<i64>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A token just issued: its description and its secret, which the hub shows only now.
#[derive(Clone, Serialize)]
pub struct Issued {
    /// The token.
    pub token: Token,
    /// The secret to sign in with; the hub keeps only its hash.
    pub secret: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// A page of the audit log, oldest first.
#[derive(Clone, Debug, Serialize)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` for the next page; `None` at the end of the log.
    pub next_after: Option<u64>,
}

/// Members and networks are listed in pages of this size.
const PAGE: u32 = 1000;

impl Hub {
    fn directory(&self) -> DirectoryClient<nic_proto::auth::AuthedChannel> {
        DirectoryClient::new(self.link.authed())
    }

    /// Who this token belongs to, and the hub's version. The cheapest check that the
    /// address and token work.
    pub async fn who_am_i(&self) -> Result<WhoAmI, ClientError> {
        let r = self
            .directory()
            .who_am_i(v1::WhoAmIRequest {})
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        let member = r.member.ok_or_else(|| missing("member"))?;
        Ok(WhoAmI {
            member: convert::member(&member, 0).map_err(bad_answer)?,
            token: r.token.as_ref().map(token).transpose()?,
            hub_version: r.hub_version,
        })
    }

    /// A ticket for the hub's automerge-repo WebSocket endpoint, standing for this token:
    /// what a browser or an automerge-repo adapter puts in the socket's URL, since it cannot
    /// send the token in a header. Single use, valid for 60 s; revoking the token ends the
    /// socket it opened.
    pub async fn socket_ticket(&self) -> Result<SocketTicket, ClientError> {
        let r = self
            .directory()
            .issue_socket_ticket(v1::IssueSocketTicketRequest {})
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        let base = self.link.addr.trim_end_matches('/');
        let base = match base.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}"),
            Some((_, rest)) => format!("ws://{rest}"),
            None => format!("ws://{base}"),
        };
        Ok(SocketTicket {
            url: format!("{base}/automerge?ticket={}", r.ticket),
            ticket: r.ticket,
            expires_at_ms: r.expires_at_ms,
        })
    }

    /// The networks this member belongs to (every network, for a hub admin).
    pub async fn networks(&self) -> Result<Vec<Network>, ClientError> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .directory()
                .list_networks(v1::ListNetworksRequest {
                    page_size: PAGE,
                    page_token,
                })
                .await
                .map_err(|s| self.link.failed(s))?
                .into_inner();
            for n in &page.networks {
                all.push(network(n)?);
            }
            if page.next_page_token.is_empty() {
                return Ok(all);
            }
            page_token = page.next_page_token;
        }
    }

    /// Creates a network (hub admins). `min_cell_size` 0 takes the hub's default: the
    /// smallest student group whose figures are shown.
    pub async fn create_network(
        &self,
        id: &NetworkId,
        name: &str,
        description: &str,
        min_cell_size: u32,
    ) -> Result<Network, ClientError> {
        let r = self
            .directory()
            .create_network(v1::CreateNetworkRequest {
                network_id: id.to_string(),
                name: name.to_owned(),
                description: description.to_owned(),
                min_cell_size,
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        network(r.network.as_ref().ok_or_else(|| missing("network"))?)
    }

    /// Turns a network's public family and community dashboard on or off (its leads and
    /// hub admins); it is then read without signing in at `/public/{network}/dashboard.json`.
    pub async fn set_public_dashboard(
        &self,
        id: &NetworkId,
        enabled: bool,
    ) -> Result<Network, ClientError> {
        let r = self
            .directory()
            .set_public_dashboard(v1::SetPublicDashboardRequest {
                network_id: id.to_string(),
                enabled,
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        network(r.network.as_ref().ok_or_else(|| missing("network"))?)
    }

    /// The sites of a network.
    pub async fn sites(&self, network: &NetworkId) -> Result<Vec<Site>, ClientError> {
        let r = self
            .directory()
            .list_sites(v1::ListSitesRequest {
                network_id: network.to_string(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        r.sites.iter().map(site).collect()
    }

    /// Adds a site (a school) to a network (its leads).
    pub async fn create_site(
        &self,
        network: &NetworkId,
        id: &SiteId,
        name: &str,
    ) -> Result<Site, ClientError> {
        let r = self
            .directory()
            .create_site(v1::CreateSiteRequest {
                network_id: network.to_string(),
                site_id: id.to_string(),
                name: name.to_owned(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        site(r.site.as_ref().ok_or_else(|| missing("site"))?)
    }

    /// The members of a network (or of one of its sites).
    pub async fn members(
        &self,
        network: &NetworkId,
        site: Option<&SiteId>,
    ) -> Result<Vec<Member>, ClientError> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .directory()
                .list_members(v1::ListMembersRequest {
                    network_id: network.to_string(),
                    site_id: site.map(ToString::to_string).unwrap_or_default(),
                    page_size: PAGE,
                    page_token,
                })
                .await
                .map_err(|s| self.link.failed(s))?
                .into_inner();
            for m in &page.members {
                all.push(convert::member(m, 0).map_err(bad_answer)?);
            }
            if page.next_page_token.is_empty() {
                return Ok(all);
            }
            page_token = page.next_page_token;
        }
    }

    /// Adds a member with these roles, all of one kind (e.g. a lead of two networks).
    pub async fn add_member(
        &self,
        id: &MemberId,
        name: &str,
        grants: Vec<Grant>,
    ) -> Result<Member, ClientError> {
        let member = Member {
            id: id.clone(),
            name: name.to_owned(),
            grants: nic_model::Grants(grants),
            created_at_ms: 0,
        };
        let r = self
            .directory()
            .add_member(v1::AddMemberRequest {
                member: Some(convert::member_to_wire(&member)),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        convert::member(r.member.as_ref().ok_or_else(|| missing("member"))?, 0).map_err(bad_answer)
    }

    /// Removes a member: their tokens stop working and their sync streams end.
    pub async fn remove_member(&self, id: &MemberId) -> Result<(), ClientError> {
        self.directory()
            .remove_member(v1::RemoveMemberRequest {
                member_id: id.to_string(),
            })
            .await
            .map_err(|s| self.link.failed(s))?;
        Ok(())
    }

    /// Changes a member's role in their networks; `site` is required for a site member
    /// (a site of the member's network) and must be `None` otherwise.
    pub async fn set_role(
        &self,
        id: &MemberId,
        role: Role,
        site: Option<&SiteId>,
    ) -> Result<Member, ClientError> {
        let r = self
            .directory()
            .set_role(v1::SetRoleRequest {
                member_id: id.to_string(),
                role: role.to_wire() as i32,
                site_id: site.map(ToString::to_string).unwrap_or_default(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        convert::member(r.member.as_ref().ok_or_else(|| missing("member"))?, 0).map_err(bad_answer)
    }

    /// Issues a token for a member; `expires_at_ms` `None` takes the hub's default lifetime.
    pub async fn issue_token(
        &self,
        member: &MemberId,
        label: &str,
        expires_at_ms: Option<i64>,
    ) -> Result<Issued, ClientError> {
        let r = self
            .directory()
            .issue_token(v1::IssueTokenRequest {
                member_id: member.to_string(),
                label: label.to_owned(),
                expires_at_ms: expires_at_ms.unwrap_or(0),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        Ok(Issued {
            token: token(r.token.as_ref().ok_or_else(|| missing("token"))?)?,
            secret: r.secret,
        })
    }

    /// A member's tokens (`None`: your own), revoked and expired ones included.
    pub async fn tokens(&self, member: Option<&MemberId>) -> Result<Vec<Token>, ClientError> {
        let r = self
            .directory()
            .list_tokens(v1::ListTokensRequest {
                member_id: member.map(ToString::to_string).unwrap_or_default(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        r.tokens.iter().map(token).collect()
    }

    /// Revokes a token: calls with it are refused and its sync streams end.
    pub async fn revoke_token(&self, id: &TokenId) -> Result<Token, ClientError> {
        let r = self
            .directory()
            .revoke_token(v1::RevokeTokenRequest {
                token_id: id.to_string(),
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        token(r.token.as_ref().ok_or_else(|| missing("token"))?)
    }

    /// A page of the audit log after entry `after` (0: from the start): the whole hub's
    /// for a hub admin, or one network's (`network`) for its leads.
    pub async fn audit_log(
        &self,
        network: Option<&NetworkId>,
        after: u64,
        page_size: u32,
    ) -> Result<AuditPage, ClientError> {
        let r = self
            .directory()
            .list_audit_log(v1::ListAuditLogRequest {
                network_id: network.map(ToString::to_string).unwrap_or_default(),
                after_seq: after,
                page_size,
            })
            .await
            .map_err(|s| self.link.failed(s))?
            .into_inner();
        let entries = r
            .entries
            .iter()
            .map(audit_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let next_after = (r.next_after_seq != 0).then_some(r.next_after_seq);
        Ok(AuditPage {
            entries,
            next_after,
        })
    }
}

fn id_error(field: &'static str) -> impl Fn(nic_model::IdError) -> ClientError {
    move |source| bad_answer(convert::ConvertError::Id { field, source })
}

fn network(n: &v1::Network) -> Result<Network, ClientError> {
    Ok(Network {
        id: convert::network_id("network.network_id", &n.network_id).map_err(bad_answer)?,
        name: n.name.clone(),
        description: n.description.clone(),
        min_cell_size: n.min_cell_size,
        created_at_ms: n.created_at_ms,
        public_dashboard: n.public_dashboard,
    })
}

fn site(s: &v1::Site) -> Result<Site, ClientError> {
    Ok(Site {
        network: convert::network_id("site.network_id", &s.network_id).map_err(bad_answer)?,
        id: convert::site_id("site.site_id", &s.site_id)
            .map_err(bad_answer)?
            .ok_or_else(|| missing("site.site_id"))?,
        name: s.name.clone(),
        created_at_ms: 0,
    })
}

fn token(t: &v1::TokenInfo) -> Result<Token, ClientError> {
    Ok(Token {
        id: TokenId::new(t.token_id.as_str()).map_err(id_error("token.token_id"))?,
        member: MemberId::new(t.member_id.as_str()).map_err(id_error("token.member_id"))?,
        label: t.label.clone(),
        created_at_ms: t.created_at_ms,
        expires_at_ms: (t.expires_at_ms != 0).then_some(t.expires_at_ms),
        revoked: t.revoked,
    })
}

fn audit_entry(e: &v1::AuditEntry) -> Result<AuditEntry, ClientError> {
    Ok(AuditEntry {
        seq: e.seq,
        at_ms: e.at_ms,
        by: MemberId::new(e.member_id.as_str()).map_err(id_error("entry.member_id"))?,
        action: e.action.clone(),
        target: e.target.clone(),
        network: if e.network_id.is_empty() {
            None
        } else {
            Some(convert::network_id("entry.network_id", &e.network_id).map_err(bad_answer)?)
        },
        detail: e.detail.clone(),
    })
}
