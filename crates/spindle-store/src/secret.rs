//! The server secret: 32 random bytes that key the HMACs Spindle hands out or stores (media
//! download tokens, the pepper of API secret hashes), and the constant-time comparison every
//! check of a secret value uses.
//!
//! Where the secret is kept is the caller's choice: the server keeps it in a file of the
//! SQLite data dir, or in the `server_secrets` row every PostgreSQL instance shares
//! ([`crate::accounts::Accounts::server_secret`]).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// A secret known only to the server (and to the instances sharing its database).
#[derive(Clone, PartialEq, Eq)]
pub struct ServerSecret([u8; ServerSecret::LEN]);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ServerSecret(..)")
    }
}

impl ServerSecret {
    /// Its length in bytes.
    pub const LEN: usize = 32;

    /// A fresh secret from the operating system's random source.
    pub fn random() -> ServerSecret {
        ServerSecret(rand::random())
    }

    /// Reads the hex form written by [`ServerSecret::to_hex`].
    pub fn from_hex(text: &str) -> Option<ServerSecret> {
        let bytes = hex::decode(text.trim()).ok()?;
        bytes.try_into().ok().map(ServerSecret)
    }

    /// The secret as 64 hex characters, for storage.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// HMAC-SHA256 keyed with this secret over `purpose` and `parts`. Each part is preceded
    /// by its length, so two different lists of parts never give the same input, and the
    /// purpose keeps the MACs of different uses apart.
    pub fn mac(&self, purpose: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        for part in std::iter::once(purpose.as_bytes()).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// Whether two secret values are equal, in time that does not depend on where they differ.
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.ct_eq(right).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_depend_on_the_secret_the_purpose_and_the_split_of_the_parts() {
        let secret = ServerSecret::random();
        let mac = secret.mac("a", &[b"xy", b"z"]);
        assert_eq!(mac, secret.mac("a", &[b"xy", b"z"]));
        assert_ne!(mac, secret.mac("a", &[b"x", b"yz"]));
        assert_ne!(mac, secret.mac("b", &[b"xy", b"z"]));
        assert_ne!(mac, ServerSecret::random().mac("a", &[b"xy", b"z"]));
    }

    #[test]
    fn the_hex_form_round_trips_and_refuses_other_lengths() {
        let secret = ServerSecret::random();
        assert_eq!(ServerSecret::from_hex(&secret.to_hex()), Some(secret));
        assert_eq!(ServerSecret::from_hex("abcd"), None);
        assert_eq!(ServerSecret::from_hex(&"g".repeat(64)), None);
        assert_eq!(format!("{:?}", ServerSecret::random()), "ServerSecret(..)");
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
