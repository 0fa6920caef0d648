//! Newtypes for identifiers, so a site id can never be passed where a network id belongs.

use std::fmt;
use std::str::FromStr;

use rand_core::RngCore;
use serde::{Deserialize, Serialize};

/// Why a string or byte slice is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// A document id did not decode as base58check.
    #[error("document id {input:?} is not base58check: {reason}")]
    NotBase58Check {
        /// The text that was given.
        input: String,
        /// What the decoder said.
        reason: String,
    },
    /// A document id had the wrong number of bytes.
    #[error("document id must be 16 bytes, got {len}")]
    WrongLength {
        /// The length that was given.
        len: usize,
    },
    /// A name-like id (network, site, member, peer) was empty, too long or used
    /// characters outside `[A-Za-z0-9._-]`.
    #[error(
        "{what} id {input:?} is invalid: use 1 to {max} characters from A-Z, a-z, 0-9, '.', '_' and '-'"
    )]
    BadName {
        /// Which kind of id.
        what: &'static str,
        /// The text that was given.
        input: String,
        /// The longest allowed id.
        max: usize,
    },
}

/// A document id: 16 random bytes, written as base58check (the form automerge-repo uses in
/// its `automerge:<id>` URLs, so an automerge-repo endpoint needs no id mapping).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentId([u8; 16]);

impl DocumentId {
    /// Draws a fresh id from the given random source.
    pub fn random(rng: &mut impl RngCore) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Wraps raw bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Reads an id from a byte slice, which must be exactly 16 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, IdError> {
        <[u8; 16]>::try_from(bytes)
            .map(Self)
            .map_err(|_| IdError::WrongLength { len: bytes.len() })
    }

    /// The raw bytes, as used in storage keys.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(&self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("automerge:").unwrap_or(s);
        let bytes =
            bs58::decode(s)
                .with_check(None)
                .into_vec()
                .map_err(|e| IdError::NotBase58Check {
                    input: s.to_owned(),
                    reason: e.to_string(),
                })?;
        Self::from_slice(&bytes)
    }
}

impl TryFrom<String> for DocumentId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DocumentId> for String {
    fn from(id: DocumentId) -> Self {
        id.to_string()
    }
}

/// Defines a validated, name-like identifier newtype.
macro_rules! name_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The longest id accepted.
            pub const MAX_LEN: usize = $max;

            /// Validates and wraps an id.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                let ok = !s.is_empty()
                    && s.len() <= $max
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
                if ok {
                    Ok(Self(s))
                } else {
                    Err(IdError::BadName { what: $what, input: s, max: $max })
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

name_id!(
    /// A networked improvement community, e.g. `algebra-readiness`.
    NetworkId, "network", 64
);
name_id!(
    /// A site (school) within a network, e.g. `lincoln-hs`.
    SiteId, "site", 64
);
name_id!(
    /// A member (a person or a service account) known to the hub.
    MemberId, "member", 64
);
name_id!(
    /// An access token's public id, for listing and revoking it (never the secret).
    TokenId, "token", 64
);
name_id!(
    /// One replica taking part in sync: a device, a tool instance or another hub. Chosen by
    /// the peer and stable across its reconnects, so its sync state can be resumed.
    PeerId, "peer", 128
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn document_id_round_trips_through_text() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let id = DocumentId::random(&mut rng);
        let text = id.to_string();
        assert_eq!(text.parse::<DocumentId>().unwrap(), id);
        assert_eq!(
            format!("automerge:{text}").parse::<DocumentId>().unwrap(),
            id
        );
    }

    #[test]
    fn document_id_matches_automerge_repo_encoding() {
        // automerge-repo encodes the 16 raw bytes with bs58check; a known vector keeps us honest.
        let id = DocumentId::from_bytes([0u8; 16]);
        let text = id.to_string();
        let decoded = bs58::decode(&text).with_check(None).into_vec().unwrap();
        assert_eq!(decoded, vec![0u8; 16]);
    }

    #[test]
    fn document_id_rejects_bad_checksum_and_length() {
        let mut text = DocumentId::from_bytes([9u8; 16]).to_string();
        let last = text.pop().unwrap();
        text.push(if last == 'a' { 'b' } else { 'a' });
        assert!(matches!(
            text.parse::<DocumentId>(),
            Err(IdError::NotBase58Check { .. })
        ));
        let short = bs58::encode(&[1u8; 8]).with_check().into_string();
        assert_eq!(
            short.parse::<DocumentId>(),
            Err(IdError::WrongLength { len: 8 })
        );
    }

    #[test]
    fn name_ids_validate() {
        assert!(NetworkId::new("algebra-readiness").is_ok());
        assert!(NetworkId::new("").is_err());
        assert!(SiteId::new("a b").is_err());
        assert!(MemberId::new("x".repeat(65)).is_err());
        let err = SiteId::new("no/slash").unwrap_err().to_string();
        assert!(err.contains("site id"), "{err}");
    }

    proptest! {
        #[test]
        fn parsing_random_text_never_panics(s in ".{0,64}") {
            let _ = s.parse::<DocumentId>();
            let _ = s.parse::<NetworkId>();
        }
    }
}
