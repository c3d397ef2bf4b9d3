//! Field syntax rules from the spec's error descriptions, written as plain
//! character checks (the patterns are simple enough not to need a regex
//! engine), plus the random token generators.

use rand::Rng;
use rand::distr::Alphanumeric;

/// `user_id`: `[a-zA-Z0-9'\+_@\.-]{1,256}`.
pub fn is_valid_user_id(value: &str) -> bool {
    (1..=256).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'+_@.-".contains(&b))
}

/// `risk_profile`: `^[a-zA-Z0-9_-]{0,100}$`.
pub fn is_valid_risk_profile(value: &str) -> bool {
    value.len() <= 100
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Invalidate `reason`: `^[a-zA-Z0-9_.:=()’'"/\s]{1,800}$` (length counted
/// in characters).
pub fn is_valid_reason(value: &str) -> bool {
    let count = value.chars().count();
    (1..=800).contains(&count)
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric() || "_.:=()\u{2019}'\"/".contains(c) || c.is_whitespace()
        })
}

/// `grant_type`: `^[a-zA-Z0-9_\-.]{0,30}$`.
pub fn is_valid_grant_type(value: &str) -> bool {
    value.len() <= 30 && value.bytes().all(is_oauth_word_byte)
}

/// One `scope` value: `^[a-zA-Z0-9_\-.]{0,100}$`.
pub fn is_valid_scope(value: &str) -> bool {
    value.len() <= 100 && value.bytes().all(is_oauth_word_byte)
}

fn is_oauth_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

/// A dotted-quad IPv4 address (the deprecated validate `ip` field).
pub fn is_valid_ipv4(value: &str) -> bool {
    value.parse::<std::net::Ipv4Addr>().is_ok()
}

/// A claim token: 64 lowercase hex characters, like the spec example.
pub fn new_claim_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OAuth access token: 60 alphanumerics, like the spec example.
pub fn new_access_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(60)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_rule() {
        assert!(is_valid_user_id("alice.o'neil+1@example-x_y"));
        assert!(!is_valid_user_id(""));
        assert!(!is_valid_user_id("has space"));
        assert!(!is_valid_user_id(&"a".repeat(257)));
        assert!(is_valid_user_id(&"a".repeat(256)));
    }

    #[test]
    fn reason_rule() {
        assert!(is_valid_reason(
            "Cancelled by the user (timeout): retry = no"
        ));
        assert!(is_valid_reason("It\u{2019}s over"));
        assert!(!is_valid_reason(""));
        assert!(!is_valid_reason("<script>"));
    }

    #[test]
    fn oauth_rules() {
        assert!(is_valid_grant_type("client_credentials"));
        assert!(!is_valid_grant_type("client credentials"));
        assert!(is_valid_scope("user-write-status"));
        assert!(!is_valid_scope("user*"));
    }

    #[test]
    fn tokens_have_the_documented_shape() {
        let token = new_claim_token();
        assert_eq!(token.len(), 64);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(token, new_claim_token());
        assert_eq!(new_access_token().len(), 60);
    }
}
