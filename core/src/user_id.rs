//! Generated user IDs: iProov asks for a unique `user_id` that identifies nobody.
//!
//! Core has no randomness, so the host passes the random bytes (from its secure source:
//! `os.urandom`, `crypto.getRandomValues`, ...). Both kinds of ID always match iProov's
//! `user_id` pattern.

use crate::error::Error;
use crate::secret::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Smallest host secret accepted for pseudonymous IDs (128 bits).
pub const MIN_PSEUDONYM_KEY_BYTES: usize = 16;

/// A random user ID: a UUID version 4 string made from 16 bytes the host drew from a secure
/// random source. Use it when you keep the mapping to your own user yourself.
pub fn random_user_id(random_bytes: [u8; 16]) -> String {
    let mut bytes = random_bytes;
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x40;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// A stable pseudonymous user ID: HMAC-SHA-256 of the host's internal user key under a host
/// secret, as 64 lowercase hex characters. The same key always gives the same ID, and without
/// the secret nobody can link the ID back to the user. Keep the secret stable: changing it
/// orphans every enrolled user. Fails with `invalid_input` when the secret is shorter than
/// [`MIN_PSEUDONYM_KEY_BYTES`] or the internal key is empty.
pub fn pseudonymous_user_id(host_secret: &Secret, internal_key: &str) -> Result<String, Error> {
    if host_secret.expose().len() < MIN_PSEUDONYM_KEY_BYTES {
        return Err(Error::invalid_input(
            "host_secret",
            format!("must be at least {MIN_PSEUDONYM_KEY_BYTES} bytes"),
        ));
    }
    if internal_key.is_empty() {
        return Err(Error::invalid_input("internal_key", "must not be empty"));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(host_secret.expose().as_bytes())
        .map_err(|_| Error::invalid_input("host_secret", "is not a usable HMAC key"))?;
    mac.update(internal_key.as_bytes());
    let digest = mac.finalize().into_bytes();
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::check_user_id;

    #[test]
    fn random_ids_are_uuid_v4() {
        let id = random_user_id([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        check_user_id("user_id", &id).unwrap();
    }

    #[test]
    fn pseudonymous_ids_are_stable_hmac() {
        let key = Secret::new("0123456789abcdef0123");
        let a = pseudonymous_user_id(&key, "customer-42").unwrap();
        assert_eq!(a, pseudonymous_user_id(&key, "customer-42").unwrap());
        assert_ne!(a, pseudonymous_user_id(&key, "customer-43").unwrap());
        assert_eq!(a.len(), 64);
        check_user_id("user_id", &a).unwrap();
        assert!(pseudonymous_user_id(&Secret::new("short"), "x").is_err());
    }
}
