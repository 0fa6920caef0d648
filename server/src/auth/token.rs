//! Access tokens: 256 random bits, shown once, stored only as their SHA-256.

use std::fmt;

use nic_model::TokenId;
use nic_store::TokenHash;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What every token starts with, so one pasted in the wrong place is recognisable.
const PREFIX: &str = "nic_";

/// A token's secret, as shown to its holder exactly once. Its `Debug` hides it, so it
/// cannot end up in a log by accident.
pub struct Secret(String);

impl Secret {
    /// The secret itself, to hand to its holder.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A new token: its secret, the hash to store, and a public id for listing and revoking.
pub fn issue(rng: &mut impl RngCore) -> (Secret, TokenHash, TokenId) {
    let mut bits = [0u8; 32];
    rng.fill_bytes(&mut bits);
    let secret = format!("{PREFIX}{}", bs58::encode(bits).into_string());
    let mut id = [0u8; 8];
    rng.fill_bytes(&mut id);
    let id = TokenId::new(format!("tok-{}", hex::encode(id)))
        .unwrap_or_else(|_| unreachable!("tok- and hex digits form a valid id"));
    let hash = hash(&secret);
    (Secret(secret), hash, id)
}

/// The SHA-256 of a presented token, the key it is stored under.
pub fn hash(presented: &str) -> TokenHash {
    Sha256::digest(presented.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn tokens_are_256_bits_hashed_and_hidden_from_debug() {
        let mut rng = StdRng::seed_from_u64(7);
        let (secret, stored, id) = issue(&mut rng);
        let text = secret.expose();
        assert!(text.starts_with("nic_"));
        let bits = bs58::decode(&text[4..]).into_vec().unwrap_or_default();
        assert_eq!(bits.len(), 32);
        assert_eq!(hash(text), stored);
        assert!(!format!("{secret:?}").contains(&text[4..]));
        assert!(id.as_str().starts_with("tok-"));
        let (other, other_hash, other_id) = issue(&mut rng);
        assert_ne!(other.expose(), text);
        assert_ne!(other_hash, stored);
        assert_ne!(other_id, id);
    }
}
