//! `nic.v1.Directory`: networks, sites, members, roles and tokens. Every change is written
//! together with its audit entry and made durable before the answer; the rules of who may do
//! what are `nic_model::Grants`.

use std::sync::Arc;

use nic_model::{
    AuditEntry, Grant, Member, MemberId, Network, NetworkId, Site, TokenId, TokenRecord,
};
use nic_proto::convert::{self, ConvertError};
use nic_proto::v1::{self, directory_server};
use nic_store::{Binding, DirOp, Durability};
use tonic::{Request, Response, Status};

use crate::HubStore;
use crate::auth::{self, Caller, token};
use crate::driver::{Event, HubHandle};
use crate::status::{ApiError, blocking};

/// Most entries in one page.
const MAX_PAGE: usize = 1000;
/// Entries in a page when the request says 0.
const DEFAULT_PAGE: usize = 100;
/// The privacy threshold when a network is created without one.
const DEFAULT_MIN_CELL: u32 = 10;

/// The Directory service.
pub struct DirectoryService {
    pub(crate) store: Arc<dyn HubStore>,
    /// Told of every member and token change, so open streams follow at once.
    pub(crate) hub: HubHandle,
    pub(crate) durability: Durability,
    /// The longest lifetime a token may be issued with.
    pub(crate) max_token_lifetime_days: u32,
    /// The lifetime of a token issued without an expiry.
    pub(crate) default_token_lifetime_days: u32,
    /// WebSocket tickets, redeemed by the `/automerge` endpoint.
    pub(crate) tickets: Arc<crate::auth::ticket::Tickets>,
    /// The public dashboards' cache, told when a network's dashboard is turned on or off.
    pub(crate) public: Arc<crate::public_dashboard::Dashboards>,
}

fn denied(what: &str) -> ApiError {
    ApiError::PermissionDenied(format!(
        "{what}; ask a network lead or the hub admin if you need it"
    ))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

/// Checks a text field's length in characters.
fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(bad(format!(
            "{field} must be {min} to {max} characters, got {n}"
        )));
    }
    Ok(value.to_owned())
}

fn page_size(requested: u32) -> Result<usize, ApiError> {
    match requested as usize {
        0 => Ok(DEFAULT_PAGE),
        n if n > MAX_PAGE => Err(bad(format!("page_size must be at most {MAX_PAGE}"))),
        n => Ok(n),
    }
}

/// One page of `items` (sorted by key) after `token`, and the next page's token.
fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    token: &str,
    size: usize,
) -> (Vec<T>, String) {
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|i| token.is_empty() || key(i).as_str() > token)
        .collect();
    let next = if rest.len() > size {
        rest.truncate(size);
        rest.last().map(&key).unwrap_or_default()
    } else {
        String::new()
    };
    (rest, next)
}

fn member_id(field: &'static str, s: &str) -> Result<MemberId, ApiError> {
    MemberId::new(s).map_err(|source| ApiError::Invalid(ConvertError::Id { field, source }))
}

/// When a token issued `now` expires: the requested moment, or the default lifetime when none
/// was asked for; never in the past, never beyond the maximum lifetime.
fn token_expiry(
    requested_ms: i64,
    now: i64,
    default_days: u32,
    max_days: u32,
) -> Result<Option<i64>, ApiError> {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let latest = now.saturating_add(i64::from(max_days).saturating_mul(DAY_MS));
    match requested_ms {
        0 => Ok(Some(
            now.saturating_add(i64::from(default_days).saturating_mul(DAY_MS)),
        )),
        at if at <= now => Err(bad("expires_at_ms is in the past")),
        at if at > latest => Err(bad(format!(
            "expires_at_ms is beyond this hub's maximum token lifetime of {max_days} days; ask for an earlier expiry"
        ))),
        at => Ok(Some(at)),
    }
}

/// What an administrative action's audit entry says beside who and when.
struct Audit<'a> {
    action: &'a str,
    target: &'a str,
    network: Option<&'a NetworkId>,
    detail: String,
}

impl DirectoryService {
    /// Writes `ops` with the audit entry for `action` by `caller`, makes them durable, then
    /// tells the engine task of every member and token they touched, so open streams follow
    /// at once. The event goes out here, inside the blocking work that made the commit: a
    /// caller that gives up on the request cannot keep it from the engine.
    fn commit(
        store: &dyn HubStore,
        durability: Durability,
        hub: &HubHandle,
        caller: &Caller,
        ops: &[DirOp],
        audit: Audit<'_>,
    ) -> Result<(), ApiError> {
        let entry = AuditEntry {
            seq: 0,
            at_ms: auth::now_ms(),
            by: caller.member.id.clone(),
            action: audit.action.into(),
            target: audit.target.into(),
            network: audit.network.cloned(),
            detail: audit.detail,
        };
        store.write_directory(ops, Some(&entry))?;
        store.flush(durability)?;
        for op in ops {
            match op {
                DirOp::PutMember(member) => hub.notify(Event::MemberChanged(member.id.clone())),
                DirOp::RemoveMember(id) => hub.notify(Event::MemberChanged(id.clone())),
                DirOp::PutToken { record, .. } => {
                    hub.notify(Event::TokenChanged(record.id.clone()));
                }
                DirOp::PutNetwork(_) | DirOp::PutSite(_) => {}
            }
        }
        Ok(())
    }
}

/// Whether `caller` may manage `target`'s membership and tokens: itself (tokens only, see
/// callers), a hub admin anyone, a lead those all of whose roles it could give.
fn may_manage_member(caller: &Member, target: &Member) -> bool {
    caller.grants.is_hub_admin()
        || (!target.grants.0.is_empty()
            && target.grants.0.iter().all(|g| caller.grants.may_grant(g)))
}

fn first_network(member: &Member) -> Option<&NetworkId> {
    member.grants.0.iter().find_map(Grant::network)
}

fn hub_admins(store: &dyn HubStore) -> Result<usize, ApiError> {
    Ok(store
        .members()?
        .iter()
        .filter(|m| m.grants.is_hub_admin())
        .count())
}

/// Checks that every network and site a member's roles name exists.
fn roles_exist(store: &dyn HubStore, member: &Member) -> Result<(), ApiError> {
    for grant in &member.grants.0 {
        let Some(network) = grant.network() else {
            continue;
        };
        if store.network(network)?.is_none() {
            return Err(ApiError::NotFoundWhat(format!(
                "network {network} does not exist"
            )));
        }
        if let Grant::SiteMember { site, .. } = grant
            && !store.sites(network)?.iter().any(|s| s.id == *site)
        {
            return Err(ApiError::NotFoundWhat(format!(
                "site {site} does not exist in network {network}"
            )));
        }
    }
    Ok(())
}

fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    Ok(auth::caller(request)?)
}

#[tonic::async_trait]
impl directory_server::Directory for DirectoryService {
    async fn create_network(
        &self,
        request: Request<v1::CreateNetworkRequest>,
    ) -> Result<Response<v1::CreateNetworkResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        if !caller.member.grants.may_create_network() {
            return Err(denied("only a hub admin may create networks").into());
        }
        let id = convert::network_id("network_id", &r.network_id).map_err(ApiError::from)?;
        let min_cell_size = match r.min_cell_size {
            0 => DEFAULT_MIN_CELL,
            n @ 5..=30 => n,
            n => return Err(bad(format!("min_cell_size must be 5 to 30, got {n}")).into()),
        };
        let network = Network {
            id,
            name: text("name", &r.name, 1, 200)?,
            description: text("description", &r.description, 0, 2000)?,
            min_cell_size,
            created_at_ms: auth::now_ms(),
            public_dashboard: false,
        };
        let (store, durability, hub) = (self.store.clone(), self.durability, self.hub.clone());
        let network = blocking(move || {
            if store.network(&network.id)?.is_some() {
                return Err(ApiError::AlreadyExistsWhat(format!(
                    "network {} already exists",
                    network.id
                )));
            }
            DirectoryService::commit(
                store.as_ref(),
                durability,
                &hub,
                &caller,
                &[DirOp::PutNetwork(network.clone())],
                Audit {
                    action: "create_network",
                    target: network.id.as_str(),
                    network: Some(&network.id),
                    detail: format!("name {:?}", network.name),
                },
            )?;
            Ok(network)
        })
        .await?;
        Ok(Response::new(v1::CreateNetworkResponse {
            network: Some(convert::network_to_wire(&network)),
        }))
    }

    async fn list_networks(
        &self,
        request: Request<v1::ListNetworksRequest>,
    ) -> Result<Response<v1::ListNetworksResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let size = page_size(r.page_size)?;
        let store = self.store.clone();
        let networks = blocking(move || Ok(store.networks()?)).await?;
        let visible: Vec<Network> = networks
            .into_iter()
            .filter(|n| caller.member.grants.in_network(&n.id))
            .collect();
        let (networks, next_page_token) = page(visible, |n| n.id.to_string(), &r.page_token, size);
        Ok(Response::new(v1::ListNetworksResponse {
            networks: networks.iter().map(convert::network_to_wire).collect(),
            next_page_token,
        }))
    }

    async fn create_site(
        &self,
        request: Request<v1::CreateSiteRequest>,
    ) -> Result<Response<v1::CreateSiteResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let network = convert::network_id("network_id", &r.network_id).map_err(ApiError::from)?;
        let id = convert::site_id("site_id", &r.site_id)
            .map_err(ApiError::from)?
            .ok_or(ApiError::Invalid(ConvertError::Missing("site_id")))?;
        if !caller.member.grants.may_manage(&network) {
            return Err(denied(&format!(
                "only network {network}'s leads may add sites to it"
            ))
            .into());
        }
        let site = Site {
            network,
            id,
            name: text("name", &r.name, 1, 200)?,
            created_at_ms: auth::now_ms(),
        };
        let (store, durability, hub) = (self.store.clone(), self.durability, self.hub.clone());
        let site = blocking(move || {
            if store.network(&site.network)?.is_none() {
                return Err(ApiError::NotFoundWhat(format!(
                    "network {} does not exist",
                    site.network
                )));
            }
            // Site ids are unique in the hub, so a site id alone names one school.
            for network in store.networks()? {
                if store.sites(&network.id)?.iter().any(|s| s.id == site.id) {
                    return Err(ApiError::AlreadyExistsWhat(format!(
                        "site {} already exists (in network {})",
                        site.id, network.id
                    )));
                }
            }
            DirectoryService::commit(
                store.as_ref(),
                durability,
                &hub,
                &caller,
                &[DirOp::PutSite(site.clone())],
                Audit {
                    action: "create_site",
                    target: site.id.as_str(),
                    network: Some(&site.network),
                    detail: format!("name {:?}", site.name),
                },
            )?;
            Ok(site)
        })
        .await?;
        Ok(Response::new(v1::CreateSiteResponse {
            site: Some(convert::site_to_wire(&site)),
        }))
    }

    async fn list_sites(
        &self,
        request: Request<v1::ListSitesRequest>,
    ) -> Result<Response<v1::ListSitesResponse>, Status> {
        let caller = caller(&request)?;
        let network = convert::network_id("network_id", &request.get_ref().network_id)
            .map_err(ApiError::from)?;
        let store = self.store.clone();
        let sites = blocking(move || {
            if store.network(&network)?.is_none() {
                return Err(ApiError::NotFoundWhat(format!(
                    "network {network} does not exist"
                )));
            }
            if !caller.member.grants.in_network(&network) {
                return Err(denied(&format!("you do not belong to network {network}")));
            }
            Ok(store.sites(&network)?)
        })
        .await?;
        Ok(Response::new(v1::ListSitesResponse {
            sites: sites.iter().map(convert::site_to_wire).collect(),
        }))
    }

    async fn add_member(
        &self,
        request: Request<v1::AddMemberRequest>,
    ) -> Result<Response<v1::AddMemberResponse>, Status> {
        let caller = caller(&request)?;
        let wire = request
            .into_inner()
            .member
            .ok_or(ApiError::Invalid(ConvertError::Missing("member")))?;
        let mut member = convert::member(&wire, auth::now_ms()).map_err(ApiError::from)?;
        member.name = text("display_name", &wire.display_name, 1, 200)?;
        if !member
            .grants
            .0
            .iter()
            .all(|g| caller.member.grants.may_grant(g))
        {
            return Err(denied("you may give roles only in networks you lead (and only a hub admin may make hub admins)").into());
        }
        let (store, durability, hub) = (self.store.clone(), self.durability, self.hub.clone());
        let member = blocking(move || {
            roles_exist(store.as_ref(), &member)?;
            if store.member(&member.id)?.is_some() {
                return Err(ApiError::AlreadyExistsWhat(format!(
                    "member {} already exists",
                    member.id
                )));
            }
            // Claim the id for good (compare-and-set): of two concurrent additions one wins,
            // and an id a removed member had is never given again — a new member must not
            // inherit their history, actor ids and peer ids.
            match store.bind_actor(&auth::member_id_key(&member.id), &member.id)? {
                Binding::Bound => {}
                Binding::Same | Binding::Other(_) => {
                    return Err(ApiError::AlreadyExistsWhat(format!(
                        "member id {} was used before (by a member since removed, or being added now); choose another id",
                        member.id
                    )));
                }
            }
            DirectoryService::commit(
                store.as_ref(),
                durability,
                &hub,
                &caller,
                &[DirOp::PutMember(member.clone())],
                Audit {
                    action: "add_member",
                    target: member.id.as_str(),
                    network: first_network(&member),
                    detail: format!("roles {:?}", member.grants.0),
                },
            )?;
            Ok(member)
        })
        .await?;
        Ok(Response::new(v1::AddMemberResponse {
            member: Some(convert::member_to_wire(&member)),
        }))
    }

    async fn list_members(
        &self,
        request: Request<v1::ListMembersRequest>,
    ) -> Result<Response<v1::ListMembersResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let network = convert::network_id("network_id", &r.network_id).map_err(ApiError::from)?;
        let site = convert::site_id("site_id", &r.site_id).map_err(ApiError::from)?;
        let size = page_size(r.page_size)?;
        let store = self.store.clone();
        let members = blocking(move || {
            if store.network(&network)?.is_none() {
                return Err(ApiError::NotFoundWhat(format!(
                    "network {network} does not exist"
                )));
            }
            if !caller.member.grants.in_network(&network) {
                return Err(denied(&format!("you do not belong to network {network}")));
            }
            if let Some(site) = &site
                && !store.sites(&network)?.iter().any(|s| s.id == *site)
            {
                return Err(ApiError::NotFoundWhat(format!(
                    "site {site} does not exist in network {network}"
                )));
            }
            Ok(store
                .members()?
                .into_iter()
                .filter(|m| {
                    m.grants.0.iter().any(|g| match (g, &site) {
                        (
                            Grant::SiteMember {
                                network: n,
                                site: s,
                            },
                            Some(want),
                        ) => *n == network && s == want,
                        (_, Some(_)) => false,
                        (g, None) => g.network() == Some(&network),
                    })
                })
                .collect::<Vec<_>>())
        })
        .await?;
        let (members, next_page_token) = page(members, |m| m.id.to_string(), &r.page_token, size);
        Ok(Response::new(v1::ListMembersResponse {
            members: members.iter().map(convert::member_to_wire).collect(),
            next_page_token,
        }))
    }

    async fn remove_member(
        &self,
        request: Request<v1::RemoveMemberRequest>,
    ) -> Result<Response<v1::RemoveMemberResponse>, Status> {
        let caller = caller(&request)?;
        let id = member_id("member_id", &request.get_ref().member_id)?;
        let (store, durability, hub) = (self.store.clone(), self.durability, self.hub.clone());
        let member = blocking(move || {
            let member = store
                .member(&id)?
                .ok_or_else(|| ApiError::NotFoundWhat(format!("member {id} does not exist")))?;
            if !may_manage_member(&caller.member, &member) {
                return Err(denied(&format!(
                    "you may remove only members all of whose networks you lead ({id} is not one)"
                )));
            }
            if member.grants.is_hub_admin() && hub_admins(store.as_ref())? <= 1 {
                return Err(ApiError::FailedPrecondition(
                    "this is the last hub admin; make another before removing them".into(),
                ));
            }
            // The id stays taken after them (members added before ids were claimed too).
            store.bind_actor(&auth::member_id_key(&id), &id)?;
            // Their tokens stop working with them.
            let now = auth::now_ms();
            let mut ops = vec![DirOp::RemoveMember(id.clone())];
            for record in store.tokens()? {
                if record.member == id
                    && record.revoked_at_ms.is_none()
                    && let Some((hash, record)) = store.token(&record.id)?
                {
                    ops.push(DirOp::PutToken {
                        hash,
                        record: TokenRecord {
                            revoked_at_ms: Some(now),
                            ..record
                        },
                    });
                }
            }
            DirectoryService::commit(
                store.as_ref(),
                durability,
                &hub,
                &caller,
                &ops,
                Audit {
                    action: "remove_member",
                    target: id.as_str(),
                    network: first_network(&member),
                    detail: format!(
                        "roles {:?}; {} tokens revoked",
                        member.grants.0,
                        ops.len() - 1
                    ),
                },
            )?;
            Ok(member)
        })
        .await?;
        Ok(Response::new(v1::RemoveMemberResponse {
            member: Some(convert::member_to_wire(&member)),
        }))
    }

    async fn set_role(
        &self,
        request: Request<v1::SetRoleRequest>,
    ) -> Result<Response<v1::SetRoleResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let id = member_id("member_id", &r.member_id)?;
        let (store, durability, hub) = (self.store.clone(), self.durability, self.hub.clone());
        let member = blocking(move || {
            let old = store
                .member(&id)?
                .ok_or_else(|| ApiError::NotFoundWhat(format!("member {id} does not exist")))?;
            // The networks stay; for a site member, the site's network.
            let networks: Vec<String> = match v1::Role::try_from(r.role) {
                Ok(v1::Role::HubAdmin) => Vec::new(),
                _ => {
                    let mut n: Vec<String> = old
                        .grants
                        .0
                        .iter()
                        .filter_map(|g| g.network().map(ToString::to_string))
                        .collect();
                    n.dedup();
                    n
                }
            };
            let grants = convert::grants(id.as_str(), r.role, &networks, &r.site_id)?;
            let new = Member {
                grants,
                ..old.clone()
            };
            let may = may_manage_member(&caller.member, &old)
                && new.grants.0.iter().all(|g| caller.member.grants.may_grant(g));
            if !may {
                return Err(denied(&format!(
                    "you may change roles only in networks you lead, and only a hub admin may give or take the hub admin role ({id})"
                )));
            }
            if old.grants.is_hub_admin() && !new.grants.is_hub_admin() && hub_admins(store.as_ref())? <= 1 {
                return Err(ApiError::FailedPrecondition(
                    "this is the last hub admin; make another before changing their role".into(),
                ));
            }
            roles_exist(store.as_ref(), &new)?;
            DirectoryService::commit(
                store.as_ref(),
                durability,
                &hub,
                &caller,
                &[DirOp::PutMember(new.clone())],
                Audit {
                    action: "set_role",
                    target: id.as_str(),
                    network: first_network(&new),
                    detail: format!("roles {:?} -> {:?}", old.grants.0, new.grants.0),
                },
            )?;
            Ok(new)
        })
        .await?;
        Ok(Response::new(v1::SetRoleResponse {
            member: Some(convert::member_to_wire(&member)),
        }))
    }

    async fn issue_token(
        &self,
        request: Request<v1::IssueTokenRequest>,
    ) -> Result<Response<v1::IssueTokenResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let target = if r.member_id.is_empty() {
            caller.member.id.clone()
        } else {
            member_id("member_id", &r.member_id)?
        };
        let label = text("label", &r.label, 0, 200)?;
        let now = auth::now_ms();
        let expires_at_ms = token_expiry(
            r.expires_at_ms,
            now,
            self.default_token_lifetime_days,
            self.max_token_lifetime_days,
        )?;
        let (store, durability, hub) = (self.store.clone(), self.durability, self.hub.clone());
        let (record, secret) = blocking(move || {
            let member = store
                .member(&target)?
                .ok_or_else(|| ApiError::NotFoundWhat(format!("member {target} does not exist")))?;
            if member.id != caller.member.id && !may_manage_member(&caller.member, &member) {
                return Err(denied(&format!(
                    "you may issue tokens only for yourself and members all of whose networks you lead ({target} is not one)"
                )));
            }
            let (secret, hash, id) = token::issue(&mut rand::rng());
            let record = TokenRecord {
                id,
                member: member.id.clone(),
                label,
                created_at_ms: now,
                expires_at_ms,
                revoked_at_ms: None,
            };
            DirectoryService::commit(
                store.as_ref(),
                durability,
                &hub,
                &caller,
                &[DirOp::PutToken {
                    hash,
                    record: record.clone(),
                }],
                Audit {
                    action: "issue_token",
                    target: record.id.as_str(),
                    network: first_network(&member),
                    detail: format!("for {}", member.id),
                },
            )?;
            Ok((record, secret))
        })
        .await?;
        Ok(Response::new(v1::IssueTokenResponse {
            token: Some(convert::token_to_wire(&record)),
            secret: secret.expose().to_owned(),
        }))
    }

    async fn list_tokens(
        &self,
        request: Request<v1::ListTokensRequest>,
    ) -> Result<Response<v1::ListTokensResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let target = if r.member_id.is_empty() {
            caller.member.id.clone()
        } else {
            member_id("member_id", &r.member_id)?
        };
        let store = self.store.clone();
        let mut tokens = blocking(move || {
            let member = store
                .member(&target)?
                .ok_or_else(|| ApiError::NotFoundWhat(format!("member {target} does not exist")))?;
            if member.id != caller.member.id && !may_manage_member(&caller.member, &member) {
                return Err(denied(&format!("you may not see {target}'s tokens")));
            }
            Ok(store
                .tokens()?
                .into_iter()
                .filter(|t| t.member == target)
                .collect::<Vec<_>>())
        })
        .await?;
        tokens.sort_by(|a, b| b.created_at_ms.cmp(&a.created_at_ms).then(a.id.cmp(&b.id)));
        Ok(Response::new(v1::ListTokensResponse {
            tokens: tokens.iter().map(convert::token_to_wire).collect(),
        }))
    }

    async fn revoke_token(
        &self,
        request: Request<v1::RevokeTokenRequest>,
    ) -> Result<Response<v1::RevokeTokenResponse>, Status> {
        let caller = caller(&request)?;
        let id = TokenId::new(request.get_ref().token_id.as_str()).map_err(|source| {
            ApiError::Invalid(ConvertError::Id {
                field: "token_id",
                source,
            })
        })?;
        let (store, durability, hub) = (self.store.clone(), self.durability, self.hub.clone());
        let record = blocking(move || {
            let (hash, record) = store
                .token(&id)?
                .ok_or_else(|| ApiError::NotFoundWhat(format!("token {id} does not exist")))?;
            let owner = store.member(&record.member)?;
            let may = record.member == caller.member.id
                || caller.member.grants.is_hub_admin()
                || owner.is_some_and(|m| may_manage_member(&caller.member, &m));
            if !may {
                return Err(denied(&format!("you may not revoke token {id}")));
            }
            if record.revoked_at_ms.is_some() {
                return Ok(record);
            }
            let record = TokenRecord {
                revoked_at_ms: Some(auth::now_ms()),
                ..record
            };
            DirectoryService::commit(
                store.as_ref(),
                durability,
                &hub,
                &caller,
                &[DirOp::PutToken {
                    hash,
                    record: record.clone(),
                }],
                Audit {
                    action: "revoke_token",
                    target: id.as_str(),
                    network: None,
                    detail: format!("of {}", record.member),
                },
            )?;
            Ok(record)
        })
        .await?;
        Ok(Response::new(v1::RevokeTokenResponse {
            token: Some(convert::token_to_wire(&record)),
        }))
    }

    async fn who_am_i(
        &self,
        request: Request<v1::WhoAmIRequest>,
    ) -> Result<Response<v1::WhoAmIResponse>, Status> {
        let caller = caller(&request)?;
        let store = self.store.clone();
        let token_id = caller.token.clone();
        let record = blocking(move || Ok(store.token(&token_id)?.map(|(_, r)| r))).await?;
        Ok(Response::new(v1::WhoAmIResponse {
            member: Some(convert::member_to_wire(&caller.member)),
            token: record.as_ref().map(convert::token_to_wire),
            hub_version: env!("CARGO_PKG_VERSION").into(),
        }))
    }

    async fn issue_socket_ticket(
        &self,
        request: Request<v1::IssueSocketTicketRequest>,
    ) -> Result<Response<v1::IssueSocketTicketResponse>, Status> {
        let caller = caller(&request)?;
        let holder = crate::auth::ticket::TicketHolder {
            member: caller.member.id.clone(),
            token: caller.token.clone(),
        };
        let ticket = self
            .tickets
            .issue(holder, std::time::Instant::now())
            .map_err(|e| ApiError::ResourceExhausted(e.to_string()))?;
        let lifetime =
            i64::try_from(crate::auth::ticket::TICKET_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        let expires_at_ms =
            u64::try_from(crate::auth::now_ms().saturating_add(lifetime)).unwrap_or_default();
        Ok(Response::new(v1::IssueSocketTicketResponse {
            ticket,
            expires_at_ms,
        }))
    }

    async fn list_audit_log(
        &self,
        request: Request<v1::ListAuditLogRequest>,
    ) -> Result<Response<v1::ListAuditLogResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let network = if r.network_id.is_empty() {
            None
        } else {
            Some(convert::network_id("network_id", &r.network_id).map_err(ApiError::from)?)
        };
        let size = page_size(r.page_size)?;
        let grants = caller.member.grants.clone();
        let allowed = |entry_network: Option<&NetworkId>| {
            grants.is_hub_admin() || entry_network.is_some_and(|n| grants.may_manage(n))
        };
        match &network {
            Some(n) if !grants.may_manage(n) => {
                return Err(
                    denied(&format!("only network {n}'s leads may read its audit log")).into(),
                );
            }
            None if !grants.is_hub_admin()
                && !grants
                    .0
                    .iter()
                    .any(|g| matches!(g, Grant::NetworkLead { .. })) =>
            {
                return Err(
                    denied("only hub admins and network leads may read the audit log").into(),
                );
            }
            _ => {}
        }
        let store = self.store.clone();
        let mut after = r.after_seq;
        let mut entries = Vec::new();
        let mut more = false;
        // Entries the caller may not read are skipped; read in batches until a page fills.
        while entries.len() < size {
            let after_batch = after;
            let batch = blocking({
                let store = store.clone();
                move || Ok(store.audit_log(after_batch, 1000)?)
            })
            .await?;
            let Some(last) = batch.last() else {
                break;
            };
            after = last.seq;
            for entry in batch {
                if entries.len() == size {
                    more = true;
                    break;
                }
                let fits = network
                    .as_ref()
                    .is_none_or(|n| entry.network.as_ref() == Some(n));
                if fits && allowed(entry.network.as_ref()) {
                    entries.push(entry);
                }
            }
            if more {
                break;
            }
        }
        // A full page may have more after it (the next page then may be empty).
        let next_after_seq = if more || entries.len() == size {
            entries.last().map_or(0, |e| e.seq)
        } else {
            0
        };
        Ok(Response::new(v1::ListAuditLogResponse {
            entries: entries
                .into_iter()
                .map(|e| v1::AuditEntry {
                    seq: e.seq,
                    at_ms: e.at_ms,
                    member_id: e.by.to_string(),
                    action: e.action,
                    target: e.target,
                    network_id: e.network.map(|n| n.to_string()).unwrap_or_default(),
                    detail: e.detail,
                })
                .collect(),
            next_after_seq,
        }))
    }

    async fn set_public_dashboard(
        &self,
        request: Request<v1::SetPublicDashboardRequest>,
    ) -> Result<Response<v1::SetPublicDashboardResponse>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let id = convert::network_id("network_id", &r.network_id).map_err(ApiError::from)?;
        if !caller.member.grants.may_manage(&id) {
            return Err(denied(&format!(
                "only network {id}'s leads may publish or withdraw its public dashboard"
            ))
            .into());
        }
        let (store, durability, hub) = (self.store.clone(), self.durability, self.hub.clone());
        let public = self.public.clone();
        let network = blocking(move || {
            let mut network = store
                .network(&id)?
                .ok_or_else(|| ApiError::NotFoundWhat(format!("network {id} does not exist")))?;
            network.public_dashboard = r.enabled;
            DirectoryService::commit(
                store.as_ref(),
                durability,
                &hub,
                &caller,
                &[DirOp::PutNetwork(network.clone())],
                Audit {
                    action: "set_public_dashboard",
                    target: network.id.as_str(),
                    network: Some(&network.id),
                    detail: format!("enabled {}", r.enabled),
                },
            )?;
            // The dashboard follows at once, not when its cached copy expires.
            public.forget(&network.id);
            Ok(network)
        })
        .await?;
        Ok(Response::new(v1::SetPublicDashboardResponse {
            network: Some(convert::network_to_wire(&network)),
        }))
    }
}
