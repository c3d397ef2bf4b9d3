//! Emulator configuration: the service providers (SPs) it knows and the
//! lifetimes it enforces.
//!
//! The configuration is plain JSON so that a test or a developer can write one
//! by hand; every field except `service_providers` has a default, and the
//! built-in defaults are deterministic so that tests and docs can name the
//! credentials literally.

use serde::{Deserialize, Serialize};

use crate::modes::Modes;
use crate::region::Region;

/// Length of iProov API keys and secrets (40 lowercase alphanumerics).
pub const KEY_LEN: usize = 40;

/// The whole emulator configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How long an enrol/verify claim token may stay unclaimed (spec: 2 min).
    #[serde(default = "default_claim_lifetime")]
    pub claim_token_lifetime_secs: u64,
    /// OAuth access token lifetime (spec: 1 hour).
    #[serde(default = "default_access_lifetime")]
    pub access_token_lifetime_secs: u64,
    /// How many requests one OAuth access token may authorise (spec: 50).
    #[serde(default = "default_access_uses")]
    pub access_token_max_uses: u32,
    /// The service providers the emulator accepts.
    pub service_providers: Vec<ServiceProviderConfig>,
    /// Answers where public sources disagree (see `modes.rs` and README).
    #[serde(default)]
    pub modes: Modes,
}

/// One service provider, living in exactly one region.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServiceProviderConfig {
    /// Human label, only used in logs and the control API.
    pub name: String,
    /// The platform the SP was created on; its keys are rejected elsewhere.
    pub region: Region,
    /// Service API key (40 lowercase alphanumerics).
    pub api_key: String,
    /// Service API secret.
    pub secret: String,
    /// Basic-auth username for `POST /{api_key}/access_token`.
    pub oauth_username: String,
    /// Basic-auth password for `POST /{api_key}/access_token`.
    pub oauth_password: String,
    /// Assurance types this SP may request; others give 403.
    #[serde(default = "default_assurance_types")]
    pub assurance_types: Vec<AssuranceType>,
    /// Provisioned risk profiles; when non-empty a token request must name one.
    #[serde(default)]
    pub risk_profiles: Vec<String>,
    /// Whether `POST /claim/enrol/image` is enabled for this SP.
    #[serde(default = "default_true")]
    pub photo_enrol: bool,
    /// Token-endpoint limit in requests per second; `None` means unlimited.
    #[serde(default)]
    pub rate_limit_per_second: Option<u32>,
}

/// The two assurance types of the API.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AssuranceType {
    /// Genuine Presence Assurance (the API default).
    GenuinePresence,
    /// Liveness Assurance.
    Liveness,
}

impl AssuranceType {
    /// Parses the wire value; anything else is `None`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "genuine_presence" => Some(Self::GenuinePresence),
            "liveness" => Some(Self::Liveness),
            _ => None,
        }
    }

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GenuinePresence => "genuine_presence",
            Self::Liveness => "liveness",
        }
    }
}

fn default_claim_lifetime() -> u64 {
    120
}
fn default_access_lifetime() -> u64 {
    3600
}
fn default_access_uses() -> u32 {
    50
}
fn default_true() -> bool {
    true
}
fn default_assurance_types() -> Vec<AssuranceType> {
    vec![AssuranceType::GenuinePresence, AssuranceType::Liveness]
}

/// Pads `prefix` with `0` to a 40-character key, so default keys are
/// readable, deterministic and still have the real key format.
pub fn padded_key(prefix: &str) -> String {
    let mut key = prefix.to_owned();
    while key.len() < KEY_LEN {
        key.push('0');
    }
    key
}

impl Default for Config {
    /// The built-in SPs; see README.md ("Default credentials").
    fn default() -> Self {
        let sp = |name: &str, region: Region, tag: &str| ServiceProviderConfig {
            name: name.to_owned(),
            region,
            api_key: padded_key(&format!("{tag}key")),
            secret: padded_key(&format!("{tag}secret")),
            oauth_username: format!("{name}-oauth"),
            oauth_password: format!("{name}-oauth-password"),
            assurance_types: default_assurance_types(),
            risk_profiles: Vec::new(),
            photo_enrol: true,
            rate_limit_per_second: None,
        };
        let mut liveness_only = sp("eu-liveness", Region::Eu, "euliveness");
        liveness_only.assurance_types = vec![AssuranceType::Liveness];
        let mut risk = sp("eu-risk", Region::Eu, "eurisk");
        risk.risk_profiles = vec!["D_33_1A".to_owned(), "strict".to_owned()];
        risk.photo_enrol = false;
        Self {
            claim_token_lifetime_secs: default_claim_lifetime(),
            access_token_lifetime_secs: default_access_lifetime(),
            access_token_max_uses: default_access_uses(),
            service_providers: vec![
                sp("eu-default", Region::Eu, "eudefault"),
                sp("us-default", Region::Us, "usdefault"),
                liveness_only,
                risk,
            ],
            modes: Modes::default(),
        }
    }
}

impl Config {
    /// Parses a JSON configuration and checks it (see [`Config::validate`]).
    pub fn from_json(text: &str) -> Result<Self, String> {
        let config: Self =
            serde_json::from_str(text).map_err(|e| format!("invalid config: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects configurations the real service could not have: malformed or
    /// duplicate keys, empty secrets, an SP with no assurance type.
    pub fn validate(&self) -> Result<(), String> {
        let mut keys = std::collections::HashSet::new();
        for sp in &self.service_providers {
            let well_formed = sp.api_key.len() == KEY_LEN
                && sp
                    .api_key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if !well_formed {
                return Err(format!(
                    "service provider {:?}: api_key must be 40 lowercase alphanumeric characters",
                    sp.name
                ));
            }
            if !keys.insert(sp.api_key.as_str()) {
                return Err(format!("duplicate api_key {}", sp.api_key));
            }
            if sp.secret.is_empty() || sp.oauth_username.is_empty() || sp.oauth_password.is_empty()
            {
                return Err(format!("service provider {:?}: empty credential", sp.name));
            }
            if sp.assurance_types.is_empty() {
                return Err(format!(
                    "service provider {:?}: needs at least one assurance type",
                    sp.name
                ));
            }
            if sp.rate_limit_per_second == Some(0) {
                return Err(format!(
                    "service provider {:?}: rate_limit_per_second must be at least 1 (omit it for no limit)",
                    sp.name
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let config = Config::default();
        config.validate().unwrap();
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(Config::from_json(&json).unwrap(), config);
        assert_eq!(
            config.service_providers[0].api_key,
            "eudefaultkey0000000000000000000000000000"
        );
    }

    #[test]
    fn rejects_bad_keys() {
        let mut config = Config::default();
        config.service_providers[0].api_key = "UPPER".into();
        assert!(config.validate().is_err());
        let mut config = Config::default();
        config.service_providers[1].api_key = config.service_providers[0].api_key.clone();
        assert!(config.validate().is_err());
    }

    #[test]
    fn minimal_json_gets_defaults() {
        let json = format!(
            r#"{{"service_providers":[{{"name":"x","region":"sg","api_key":"{}","secret":"s","oauth_username":"u","oauth_password":"p"}}]}}"#,
            padded_key("sg")
        );
        let config = Config::from_json(&json).unwrap();
        assert_eq!(config.claim_token_lifetime_secs, 120);
        assert!(config.service_providers[0].photo_enrol);
        assert_eq!(config.service_providers[0].assurance_types.len(), 2);
    }
}
