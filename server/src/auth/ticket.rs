//! Tickets for the WebSocket endpoint. A browser cannot set an Authorization header on a
//! WebSocket, so it asks for a ticket with its token (a unary call, header and all) and puts
//! the ticket in the socket's URL. A ticket is spent by the one upgrade it opens and expires
//! after [`TICKET_LIFETIME`], so a URL that reaches a log or a history is worth nothing; the
//! long-lived token never appears in one. Only a hash of each ticket is held, in memory.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use nic_model::{MemberId, TokenId};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a ticket is accepted after it is issued.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(60);

/// Most tickets one member may hold unspent at once: enough for a few tabs reconnecting,
/// few enough that a member cannot fill the hub's memory with them.
pub const MAX_TICKETS_PER_MEMBER: usize = 32;

/// Who a ticket stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketHolder {
    /// The member who asked for it.
    pub member: MemberId,
    /// The token they asked with: revoking it ends the socket the ticket opened.
    pub token: TokenId,
}

struct Issued {
    holder: TicketHolder,
    expires: Instant,
}

/// The tickets issued and not yet spent or expired.
#[derive(Default)]
pub struct Tickets {
    live: Mutex<HashMap<[u8; 32], Issued>>,
}

/// Why a ticket was not issued.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TicketError {
    /// The member holds too many unspent tickets.
    #[error(
        "you hold {MAX_TICKETS_PER_MEMBER} unspent WebSocket tickets; use one, or wait a minute for them to expire"
    )]
    TooMany,
}

fn digest(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

impl Tickets {
    /// Issues a ticket for `holder`, valid from `now` for [`TICKET_LIFETIME`]: 43 URL-safe
    /// characters standing for 256 random bits.
    pub fn issue(&self, holder: TicketHolder, now: Instant) -> Result<String, TicketError> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.retain(|_, t| t.expires > now);
        let held = live
            .values()
            .filter(|t| t.holder.member == holder.member)
            .count();
        if held >= MAX_TICKETS_PER_MEMBER {
            return Err(TicketError::TooMany);
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let ticket = url_safe(&bytes);
        live.insert(
            digest(&ticket),
            Issued {
                holder,
                expires: now + TICKET_LIFETIME,
            },
        );
        Ok(ticket)
    }

    /// Spends a ticket: who it stands for, if it was issued, is unspent and has not expired
    /// at `now`. A second use finds nothing.
    pub fn redeem(&self, ticket: &str, now: Instant) -> Option<TicketHolder> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let issued = live.remove(&digest(ticket))?;
        (issued.expires > now).then_some(issued.holder)
    }

    /// Unspent tickets held now (expired ones are dropped at the next issue).
    pub fn len(&self) -> usize {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no ticket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Base64url without padding: safe in a URL's query as it is.
fn url_safe(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(member: &str) -> TicketHolder {
        TicketHolder {
            member: MemberId::new(member).expect("member id"),
            token: TokenId::new("tok-1").expect("token id"),
        }
    }

    #[test]
    fn a_ticket_opens_once_and_only_before_it_expires() {
        let tickets = Tickets::default();
        let t0 = Instant::now();
        let t = tickets.issue(holder("ana"), t0).expect("issued");
        assert_eq!(t.len(), 43);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(tickets.redeem(&t, t0), Some(holder("ana")));
        assert_eq!(tickets.redeem(&t, t0), None, "spent");
        let late = tickets.issue(holder("ana"), t0).expect("issued");
        assert_eq!(tickets.redeem(&late, t0 + TICKET_LIFETIME), None, "expired");
        assert_eq!(tickets.redeem("made-up", t0), None);
    }

    #[test]
    fn a_member_cannot_hoard_tickets_but_expired_ones_make_room() {
        let tickets = Tickets::default();
        let t0 = Instant::now();
        for _ in 0..MAX_TICKETS_PER_MEMBER {
            tickets.issue(holder("ana"), t0).expect("issued");
        }
        assert_eq!(tickets.issue(holder("ana"), t0), Err(TicketError::TooMany));
        assert!(
            tickets.issue(holder("ben"), t0).is_ok(),
            "others are not held back"
        );
        assert!(tickets.issue(holder("ana"), t0 + TICKET_LIFETIME).is_ok());
        assert_eq!(tickets.len(), 1, "the expired ones were dropped");
    }

    #[test]
    fn tickets_do_not_repeat() {
        let tickets = Tickets::default();
        let t0 = Instant::now();
        let a = tickets.issue(holder("ana"), t0).expect("issued");
        let b = tickets.issue(holder("ana"), t0).expect("issued");
        assert_ne!(a, b);
    }
}
