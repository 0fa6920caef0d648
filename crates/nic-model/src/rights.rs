//! Who may do what: the roles a member holds and the rules that follow from them.
//!
//! The rules, from the architecture guide:
//! - a **hub admin** operates the hub: creates networks, and has every right of a network
//!   lead in every network (as `Role` in `proto/nic/v1/common.proto` promises);
//! - a **network lead** reads and edits every document of the network, creates documents in
//!   it, and manages its sites and members;
//! - a **site member** edits their own site's documents and creates documents there; reads
//!   the network's `network`-visibility documents of every site (shared learning is the
//!   point of a NIC), never another site's `site`-visibility documents;
//! - an **observer** (a district analyst) reads the `network`-visibility documents of each
//!   network they observe and never writes. Student-group data kept `site`-visible stays with
//!   its site and the network's leads.
//!
//! A member may hold several roles (a coach leading two networks, an analyst observing
//! three); each right is the union of what the roles give.

use serde::{Deserialize, Serialize};

use crate::{DocMeta, NetworkId, SiteId, Visibility};

/// One role a member holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Grant {
    /// Operates the hub: networks, and every network's sites, members and tokens.
    HubAdmin,
    /// Leads a network: all of its documents, its sites and members.
    NetworkLead {
        /// The network led.
        network: NetworkId,
    },
    /// Belongs to one site's team in a network.
    SiteMember {
        /// The network.
        network: NetworkId,
        /// The member's site.
        site: SiteId,
    },
    /// Reads a network's shared documents, never writes.
    Observer {
        /// The network observed.
        network: NetworkId,
    },
}

impl Grant {
    /// The network the role is in; `None` for the hub admin.
    pub fn network(&self) -> Option<&NetworkId> {
        match self {
            Grant::HubAdmin => None,
            Grant::NetworkLead { network }
            | Grant::SiteMember { network, .. }
            | Grant::Observer { network } => Some(network),
        }
    }

    /// The role's name, as the wire and the audit log spell it.
    pub fn role_name(&self) -> &'static str {
        match self {
            Grant::HubAdmin => "hub_admin",
            Grant::NetworkLead { .. } => "network_lead",
            Grant::SiteMember { .. } => "site_member",
            Grant::Observer { .. } => "observer",
        }
    }
}

/// All the roles one member holds, and what they allow.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants(pub Vec<Grant>);

impl Grants {
    /// Whether the member holds the hub admin role.
    pub fn is_hub_admin(&self) -> bool {
        self.0.contains(&Grant::HubAdmin)
    }

    /// A network lead of `network`, or a hub admin (who leads every network).
    fn leads(&self, network: &NetworkId) -> bool {
        self.0.iter().any(|g| match g {
            Grant::HubAdmin => true,
            Grant::NetworkLead { network: n } => n == network,
            _ => false,
        })
    }

    /// Whether the member belongs to the site's team (the site-member role there).
    pub fn member_of_site(&self, network: &NetworkId, site: &SiteId) -> bool {
        self.0.iter().any(
            |g| matches!(g, Grant::SiteMember { network: n, site: s } if n == network && s == site),
        )
    }

    /// Whether the member holds any role in the network (a hub admin is in every one).
    pub fn in_network(&self, network: &NetworkId) -> bool {
        self.0
            .iter()
            .any(|g| *g == Grant::HubAdmin || g.network() == Some(network))
    }

    /// Whether the member may read the document.
    pub fn may_read(&self, doc: &DocMeta) -> bool {
        let network = &doc.network;
        if self.leads(network) {
            return true;
        }
        if let Some(site) = &doc.site
            && self.member_of_site(network, site)
        {
            return true;
        }
        doc.visibility == Visibility::Network
            && self.0.iter().any(|g| {
                matches!(g, Grant::SiteMember { network: n, .. } | Grant::Observer { network: n } if n == network)
            })
    }

    /// Whether the member may change the document.
    pub fn may_write(&self, doc: &DocMeta) -> bool {
        self.may_create(&doc.network, doc.site.as_ref())
    }

    /// Whether the member may create a document in the network, owned by `site` (`None`:
    /// a network-level document).
    pub fn may_create(&self, network: &NetworkId, site: Option<&SiteId>) -> bool {
        self.leads(network) || site.is_some_and(|s| self.member_of_site(network, s))
    }

    /// Whether the member may create networks.
    pub fn may_create_network(&self) -> bool {
        self.is_hub_admin()
    }

    /// Whether the member may manage the network: create its sites, add and remove its
    /// members, change their roles there, issue and revoke their tokens, read its audit log.
    pub fn may_manage(&self, network: &NetworkId) -> bool {
        self.leads(network)
    }

    /// Whether the member may give (or take away) `grant`: a hub admin any role, a lead
    /// any role in the network they lead — never the hub admin role.
    pub fn may_grant(&self, grant: &Grant) -> bool {
        match grant.network() {
            None => self.is_hub_admin(),
            Some(network) => self.may_manage(network),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DocKind, DocumentId};

    fn net(s: &str) -> NetworkId {
        NetworkId::new(s).unwrap_or_else(|_| unreachable!())
    }
    fn site(s: &str) -> SiteId {
        SiteId::new(s).unwrap_or_else(|_| unreachable!())
    }
    fn doc(network: &str, owner: Option<&str>, visibility: Visibility) -> DocMeta {
        DocMeta {
            id: DocumentId::from_bytes([7; 16]),
            kind: DocKind::PdsaCycle,
            network: net(network),
            site: owner.map(site),
            visibility,
            title: "cycle".into(),
            created_at_ms: 0,
            archived: false,
        }
    }

    fn roles() -> Vec<(&'static str, Grants)> {
        vec![
            ("admin", Grants(vec![Grant::HubAdmin])),
            (
                "lead",
                Grants(vec![Grant::NetworkLead {
                    network: net("algebra"),
                }]),
            ),
            (
                "member",
                Grants(vec![Grant::SiteMember {
                    network: net("algebra"),
                    site: site("lincoln"),
                }]),
            ),
            (
                "observer",
                Grants(vec![Grant::Observer {
                    network: net("algebra"),
                }]),
            ),
            ("nobody", Grants::default()),
        ]
    }

    /// A document's (network, owning site, visibility).
    type Place = (&'static str, Option<&'static str>, Visibility);
    /// (read, write) for admin, lead, member, observer, nobody.
    type Expected = [(bool, bool); 5];

    const ADMIN_ONLY: Expected = [
        (true, true),
        (false, false),
        (false, false),
        (false, false),
        (false, false),
    ];

    /// Every role against documents of its own site or another, its own network or another,
    /// network- or site-visible: (read, write) expected.
    #[test]
    fn read_and_write_matrix() {
        use Visibility::{Network, Site};
        // (network, owning site, visibility) → [admin, lead, member, observer, nobody]
        let cases: [(Place, Expected); 8] = [
            (
                ("algebra", Some("lincoln"), Network),
                [
                    (true, true),
                    (true, true),
                    (true, true),
                    (true, false),
                    (false, false),
                ],
            ),
            (
                ("algebra", Some("lincoln"), Site),
                [
                    (true, true),
                    (true, true),
                    (true, true),
                    (false, false),
                    (false, false),
                ],
            ),
            (
                ("algebra", Some("roosevelt"), Network),
                [
                    (true, true),
                    (true, true),
                    (true, false),
                    (true, false),
                    (false, false),
                ],
            ),
            (
                ("algebra", Some("roosevelt"), Site),
                [
                    (true, true),
                    (true, true),
                    (false, false),
                    (false, false),
                    (false, false),
                ],
            ),
            (
                ("algebra", None, Network),
                [
                    (true, true),
                    (true, true),
                    (true, false),
                    (true, false),
                    (false, false),
                ],
            ),
            // Another network: only the hub admin, who leads every network.
            (("literacy", Some("lincoln"), Network), ADMIN_ONLY),
            (("literacy", Some("lincoln"), Site), ADMIN_ONLY),
            (("literacy", None, Network), ADMIN_ONLY),
        ];
        for ((network, owner, visibility), expected) in cases {
            let d = doc(network, owner, visibility);
            for ((name, grants), (read, write)) in roles().iter().zip(expected) {
                assert_eq!(
                    grants.may_read(&d),
                    read,
                    "{name} read {network}/{owner:?}/{visibility:?}"
                );
                assert_eq!(
                    grants.may_write(&d),
                    write,
                    "{name} write {network}/{owner:?}/{visibility:?}"
                );
                // Nothing is writable that is not readable.
                assert!(!write || read, "{name} {network}/{owner:?}");
            }
        }
    }

    #[test]
    fn roles_add_up() {
        let coach = Grants(vec![
            Grant::NetworkLead {
                network: net("algebra"),
            },
            Grant::Observer {
                network: net("literacy"),
            },
        ]);
        assert!(coach.may_read(&doc("algebra", Some("lincoln"), Visibility::Site)));
        assert!(coach.may_read(&doc("literacy", Some("lincoln"), Visibility::Network)));
        assert!(!coach.may_read(&doc("literacy", Some("lincoln"), Visibility::Site)));
        assert!(!coach.may_write(&doc("literacy", None, Visibility::Network)));
        assert!(coach.may_manage(&net("algebra")));
        assert!(!coach.may_manage(&net("literacy")));
    }

    #[test]
    fn creating_and_managing() {
        let r = roles();
        let [admin, lead, member, observer, nobody] = [&r[0].1, &r[1].1, &r[2].1, &r[3].1, &r[4].1];
        let algebra = net("algebra");
        let lincoln = site("lincoln");
        let roosevelt = site("roosevelt");
        assert!(lead.may_create(&algebra, None) && lead.may_create(&algebra, Some(&roosevelt)));
        assert!(member.may_create(&algebra, Some(&lincoln)));
        assert!(
            !member.may_create(&algebra, Some(&roosevelt)) && !member.may_create(&algebra, None)
        );
        assert!(!observer.may_create(&algebra, Some(&lincoln)));
        assert!(admin.may_create(&algebra, None) && !nobody.may_create(&algebra, None));

        assert!(admin.may_create_network() && !lead.may_create_network());
        assert!(admin.may_manage(&algebra) && lead.may_manage(&algebra));
        assert!(!lead.may_manage(&net("literacy")) && !member.may_manage(&algebra));
        assert!(!observer.may_manage(&algebra));

        let in_algebra = Grant::SiteMember {
            network: algebra.clone(),
            site: lincoln,
        };
        let in_literacy = Grant::Observer {
            network: net("literacy"),
        };
        assert!(admin.may_grant(&Grant::HubAdmin) && admin.may_grant(&in_literacy));
        assert!(lead.may_grant(&in_algebra) && !lead.may_grant(&in_literacy));
        assert!(!lead.may_grant(&Grant::HubAdmin));
        assert!(!member.may_grant(&in_algebra) && !observer.may_grant(&in_algebra));
    }

    #[test]
    fn grants_round_trip_as_json() {
        let g = Grants(vec![
            Grant::HubAdmin,
            Grant::SiteMember {
                network: net("algebra"),
                site: site("lincoln"),
            },
        ]);
        let json = serde_json::to_string(&g).unwrap_or_default();
        assert!(json.contains("\"role\":\"site_member\""), "{json}");
        let back: Grants = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, g);
    }
}
