//! A client's configuration: where it talks to, with which credentials, as which User-Agent.

use crate::error::Error;
use crate::redact::Redactor;
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
    access_token: Option<Secret>,
    /// Credentials this configuration does not send but must redact (a call's managed OAuth
    /// access tokens).
    extra_secrets: Vec<Secret>,
    user_agent: String,
}

/// `invalid_input` naming `field` when `value` holds a character that has no place in an
/// HTTP header value: a control character (CR and LF would start a new header, NUL cuts
/// it in many stacks) or a non-ASCII one (most HTTP clients refuse it, at send time).
fn check_header_text(field: &str, value: &str) -> Result<(), Error> {
    match value.chars().find(|c| !(' '..='~').contains(c)) {
        None => Ok(()),
        Some(c) if c.is_control() => Err(Error::invalid_input(
            field,
            format!(
                "holds the control character U+{:04X}, which would break an HTTP header",
                u32::from(c)
            ),
        )),
        Some(_) => Err(Error::invalid_input(
            field,
            "holds a non-ASCII character, which HTTP header values cannot carry",
        )),
    }
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
            access_token: None,
            extra_secrets: Vec::new(),
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

    /// Adds the OAuth credentials for the management API. They travel in
    /// `Authorization: Basic` (RFC 7617), so fails with `invalid_input` (field
    /// `oauth_username`) when the username holds a `:` (it would end the username) or a
    /// control character, and (field `oauth_password`) when the password holds a control
    /// character.
    pub fn with_oauth(
        mut self,
        username: impl Into<String>,
        password: Secret,
    ) -> Result<Self, Error> {
        let username = username.into();
        if username.contains(':') {
            return Err(Error::invalid_input(
                "oauth_username",
                "holds a ':', which HTTP Basic credentials cannot carry in the username (RFC 7617)",
            ));
        }
        if username.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "oauth_username",
                "holds a control character",
            ));
        }
        if password.expose().chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "oauth_password",
                "holds a control character",
            ));
        }
        self.oauth = Some(OAuthCredentials { username, password });
        Ok(self)
    }

    /// Adds an OAuth access token you manage yourself, for the users API (and invalidate).
    /// It goes in `Authorization: Bearer`, so fails with `invalid_input` (field
    /// `access_token`) when it holds anything but visible ASCII (RFC 6750's `b64token` and
    /// every real token are visible ASCII; a CR or LF would add a header). The token manager
    /// ([`crate::flows::TokenManager`]) obtains and renews tokens instead.
    pub fn with_access_token(mut self, access_token: Secret) -> Result<Self, Error> {
        if access_token.is_empty() {
            self.access_token = None;
            return Ok(self);
        }
        check_bearer_token("access_token", &access_token)?;
        self.access_token = Some(access_token);
        Ok(self)
    }

    /// Replaces the `User-Agent`. Fails with `invalid_input` (field `user_agent`) when it is
    /// empty or holds a control or non-ASCII character (which would break the header).
    pub fn with_user_agent(mut self, user_agent: &str) -> Result<Self, Error> {
        if user_agent.trim().is_empty() {
            return Err(Error::invalid_input(
                "user_agent",
                "must be non-empty printable text",
            ));
        }
        check_header_text("user_agent", user_agent)?;
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

    /// The WebSocket URL iProov's SDKs stream to for this target: the region's
    /// `wss://{region}.rp.secure.iproov.me/ws`, or for a base URL the same host with `ws(s)`
    /// and `/ws` in place of `/api/v2`.
    pub fn streaming_url(&self) -> String {
        match self.target.region() {
            Some(region) => region.streaming_url(),
            None => {
                let base = self
                    .base_url
                    .strip_suffix("/api/v2")
                    .unwrap_or(&self.base_url);
                let ws = match base.split_once("://") {
                    Some(("http", rest)) => format!("ws://{rest}"),
                    Some((_, rest)) => format!("wss://{rest}"),
                    None => base.to_owned(),
                };
                format!("{ws}/ws")
            }
        }
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

    /// The access token configured with [`Config::with_access_token`], if any.
    pub fn access_token(&self) -> Option<&Secret> {
        self.access_token.as_ref()
    }

    /// The access token, or `invalid_input` (field `access_token`) when none is configured.
    pub fn require_access_token(&self) -> Result<&Secret, Error> {
        self.access_token.as_ref().ok_or_else(|| {
            Error::invalid_input(
                "access_token",
                "the users API needs an OAuth access token (see the token manager)",
            )
        })
    }

    /// The credentials this configuration holds (API secret, OAuth password, access token).
    pub fn secrets(&self) -> Vec<&Secret> {
        let mut secrets: Vec<&Secret> = self.secret.iter().collect();
        if let Some(oauth) = &self.oauth {
            secrets.push(&oauth.password);
        }
        secrets.extend(self.access_token.iter());
        secrets.extend(self.extra_secrets.iter());
        secrets
    }

    /// This configuration, also redacting `secrets` in every error and excerpt built from a
    /// response (the call driver's managed access tokens).
    pub(crate) fn redacting(mut self, secrets: &[&Secret]) -> Self {
        self.extra_secrets = secrets.iter().map(|s| (*s).clone()).collect();
        self
    }

    /// A [`Redactor`] for every credential this configuration holds, in every form it
    /// travels in. Errors and excerpts built from a response go through it.
    pub fn redactor(&self) -> Redactor {
        let mut secrets = self.secrets();
        // `Authorization: Basic` carries base64(username:password) as one text: redact it
        // whole, not only the password's part of it.
        let basic = self
            .oauth
            .as_ref()
            .map(|o| Secret::new(format!("{}:{}", o.username, o.password.expose())));
        secrets.extend(
            basic
                .iter()
                .filter(|_| self.oauth.as_ref().is_some_and(|o| !o.password.is_empty())),
        );
        Redactor::new(&secrets)
    }
}

/// Checks an OAuth access token (configured or received) before it goes in
/// `Authorization: Bearer`: visible ASCII only (RFC 6750 `b64token` is a subset). Fails with
/// `invalid_input` naming `field`.
pub(crate) fn check_bearer_token(field: &str, token: &Secret) -> Result<(), Error> {
    let value = token.expose();
    if value.chars().any(|c| c == ' ') {
        return Err(Error::invalid_input(
            field,
            "holds a space, which a Bearer token cannot (RFC 6750)",
        ));
    }
    check_header_text(field, value)
}
