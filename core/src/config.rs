//! A client's configuration: where it talks to, with which credentials, as which User-Agent.

use crate::error::Error;
use crate::region::{Region, Target};
use crate::secret::Secret;

/// The default `User-Agent`: this library and its version. iProov's own clients say a
/// User-Agent must always be sent.
pub const DEFAULT_USER_AGENT: &str = concat!("iproov-sansio/", env!("CARGO_PKG_VERSION"));

/// The service credentials (`api_key` + `secret`), sent in the body of claim and validate calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCredentials {
    /// The service provider's API key (not secret: it also goes in URLs).
    pub api_key: String,
    /// The service provider's API secret.
    pub secret: Secret,
}

/// The OAuth username and password that buy access tokens for the management API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthCredentials {
    /// The OAuth username from iPortal.
    pub username: String,
    /// The OAuth password from iPortal.
    pub password: Secret,
}

/// Everything a request builder needs besides the operation's own input.
///
/// Build it once per service provider and share it; it is immutable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    target: Target,
    // Every request starts with it: computed once.
    base_url: String,
    api_key: Option<String>,
    secret: Option<Secret>,
    oauth: Option<OAuthCredentials>,
    user_agent: String,
}

impl Config {
    /// A configuration for one of iProov's regions, with no credentials yet.
    pub fn for_region(region: Region) -> Self {
        Self::for_target(Target::Region(region))
    }

    /// A configuration for a region or custom base URL.
    pub fn for_target(target: Target) -> Self {
        Self {
            base_url: target.url(),
            target,
            api_key: None,
            secret: None,
            oauth: None,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }

    /// Adds the service credentials. Empty values are rejected when a request needs them.
    pub fn with_service_credentials(mut self, api_key: impl Into<String>, secret: Secret) -> Self {
        self.api_key = Some(api_key.into());
        self.secret = Some(secret);
        self
    }

    /// Adds only the API key (enough for `availability` and the OAuth token path).
    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// Adds only the API secret.
    pub fn with_secret(mut self, secret: Secret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Adds the OAuth credentials for the management API.
    pub fn with_oauth(mut self, username: impl Into<String>, password: Secret) -> Self {
        self.oauth = Some(OAuthCredentials {
            username: username.into(),
            password,
        });
        self
    }

    /// Replaces the `User-Agent`. Fails with `invalid_input` (field `user_agent`) when it is
    /// empty or holds a control character (which would break the header).
    pub fn with_user_agent(mut self, user_agent: &str) -> Result<Self, Error> {
        if user_agent.trim().is_empty() || user_agent.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "user_agent",
                "must be non-empty printable text",
            ));
        }
        self.user_agent = user_agent.to_owned();
        Ok(self)
    }

    /// Where requests go.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The REST base URL, ending in `/api/v2`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The `User-Agent` every request carries.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The OAuth username, if configured.
    pub fn oauth_username(&self) -> Option<&str> {
        self.oauth.as_ref().map(|o| o.username.as_str())
    }

    /// The API key, or `invalid_input` (field `api_key`) when missing or empty.
    pub fn require_api_key(&self) -> Result<&str, Error> {
        match self.api_key.as_deref() {
            Some(key) if !key.trim().is_empty() => Ok(key),
            _ => Err(Error::invalid_input(
                "api_key",
                "this operation needs the service provider's api_key",
            )),
        }
    }

    /// The API secret, or `invalid_input` (field `secret`) when missing or empty.
    pub fn require_secret(&self) -> Result<&Secret, Error> {
        match &self.secret {
            Some(secret) if !secret.is_empty() => Ok(secret),
            _ => Err(Error::invalid_input(
                "secret",
                "this operation needs the service provider's secret",
            )),
        }
    }

    /// The OAuth credentials, or `invalid_input` (field `oauth_username` or `oauth_password`).
    pub fn require_oauth(&self) -> Result<&OAuthCredentials, Error> {
        match &self.oauth {
            Some(oauth) if oauth.username.is_empty() => Err(Error::invalid_input(
                "oauth_username",
                "the OAuth username is empty",
            )),
            Some(oauth) if oauth.password.is_empty() => Err(Error::invalid_input(
                "oauth_password",
                "the OAuth password is empty",
            )),
            Some(oauth) => Ok(oauth),
            None => Err(Error::invalid_input(
                "oauth_username",
                "this operation needs the OAuth username and password from iPortal",
            )),
        }
    }

    /// The secrets this configuration holds, for redacting text that might contain them.
    pub fn secrets(&self) -> Vec<&Secret> {
        let mut secrets: Vec<&Secret> = self.secret.iter().collect();
        if let Some(oauth) = &self.oauth {
            secrets.push(&oauth.password);
        }
        secrets
    }
}
