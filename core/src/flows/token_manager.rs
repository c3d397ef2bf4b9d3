//! OAuth access-token reuse for the management (users) API.
//!
//! iProov's access token lives 1 hour or 50 requests, whichever comes first. Fetching one per
//! call wastes a round trip; using one past its quota gives `token_quota_exceeded`. The
//! [`TokenManager`] holds the current token and decides, for every management request, whether
//! it can be authorized now or a token must be fetched first.
//!
//! The host's loop for one management call:
//!
//! 1. Build the request (`ops::users::build_get_user`, ...), then call
//!    [`TokenManager::prepare`]. On [`TokenStep::NeedToken`] send the token request it holds,
//!    pass the answer to [`TokenManager::accept_token`] and call `prepare` again.
//! 2. On [`TokenStep::Authorized`] send the request, then pass the answer to
//!    [`TokenManager::on_response`]. [`ResponseCheck::Parse`]: parse it with the operation's
//!    parse function. [`ResponseCheck::RetryWithNewToken`]: iProov rejected the token; go back
//!    to step 1 once. [`ResponseCheck::Fail`]: the second rejection in a row; surface the error.

use crate::config::Config;
use crate::decode::{error_body, error_from_response_redacted};
use crate::error::Error;
use crate::http::{Request, Response};
use crate::json_object::json_object;
use crate::json_value::to_json_value;
use crate::operation::Operation;
use crate::operation::from_json_value as from_value;
use crate::ops::oauth::{self, AccessTokenInput, Scope};
use crate::redact::Redactor;
use crate::secret::Secret;
use serde::Serialize;
use serde_json::Value;

/// How long before `expires_in` ends a token counts as spent, by default (60 s).
pub const DEFAULT_MARGIN_MS: u64 = 60_000;
/// How many requests one token may authorize, by default (iProov's quota: 50).
pub const DEFAULT_MAX_USES: u32 = 50;
/// The lifetime assumed when the token answer has no `expires_in` (iProov: 3600 s).
pub const DEFAULT_EXPIRES_IN_S: u64 = 3_600;

/// The error codes that mean "this access token is no good any more".
const REJECTION_CODES: [&str; 2] = ["invalid_oauth", "token_quota_exceeded"];

/// When a token counts as spent, and which scopes to ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenPolicy {
    /// A token is spent this many milliseconds before its `expires_in` ends. Capped at half
    /// the token's lifetime, so that a short-lived token is still usable for a while.
    pub margin_ms: u64,
    /// A token is spent after authorizing this many requests (at least 1).
    pub max_uses: u32,
    /// The lifetime in seconds assumed when the answer has no `expires_in` (at least 1).
    pub default_expires_in_s: u64,
    /// The scopes to ask for; `None` asks for whatever the credentials allow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<Scope>>,
}
json_object! {
    TokenPolicy, deny_unknown_fields;
    dflt margin_ms, dflt max_uses, dflt default_expires_in_s, dflt scope,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            margin_ms: DEFAULT_MARGIN_MS,
            max_uses: DEFAULT_MAX_USES,
            default_expires_in_s: DEFAULT_EXPIRES_IN_S,
            scope: None,
        }
    }
}

impl TokenPolicy {
    /// Checks the policy; fails with `invalid_input` (field `max_uses` or
    /// `default_expires_in_s`) when a limit is 0, which would never authorize anything.
    pub fn check(&self) -> Result<(), Error> {
        if self.max_uses == 0 {
            return Err(Error::invalid_input("max_uses", "must be at least 1"));
        }
        if self.default_expires_in_s == 0 {
            return Err(Error::invalid_input(
                "default_expires_in_s",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// The token currently held and its bookkeeping.
#[derive(Clone, PartialEq, Eq)]
struct HeldToken {
    access_token: Secret,
    issued_at_ms: u64,
    expires_at_ms: u64,
    uses: u32,
    scope: Option<Vec<String>>,
}

impl HeldToken {
    /// The instant from which the token counts as spent by time.
    fn spent_at_ms(&self, margin_ms: u64) -> u64 {
        let lifetime = self.expires_at_ms.saturating_sub(self.issued_at_ms);
        self.expires_at_ms
            .saturating_sub(margin_ms.min(lifetime / 2))
    }
}

/// What [`TokenManager::prepare`] decided.
#[derive(Debug)]
pub enum TokenStep {
    /// The request now carries `Authorization: Bearer`; send it. `uses` counts this use.
    Authorized {
        /// How many requests the current token has authorized, this one included.
        uses: u32,
    },
    /// No usable token: send this access-token request, pass its answer to
    /// [`TokenManager::accept_token`], then call [`TokenManager::prepare`] again.
    NeedToken(Request),
}

/// What to do with the answer to an authorized management request ([`TokenManager::on_response`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseCheck {
    /// Not a token rejection: parse the response with the operation's parse function.
    Parse,
    /// iProov rejected the token (`invalid_oauth` or `token_quota_exceeded`); the manager
    /// dropped it. Build the request again and repeat it once through [`TokenManager::prepare`].
    RetryWithNewToken,
    /// A second rejection in a row, right after a retry with a new token: do not retry again;
    /// surface this error (an `oauth` error).
    Fail(Error),
}

/// Holds the current OAuth access token and decides when a new one is needed.
///
/// It is plain state: keep one per service provider (and per set of scopes), and drive it
/// from one call at a time. Save it with [`TokenManager::to_json`] and restore it with
/// [`TokenManager::from_json`]. `Debug` never shows the token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenManager {
    policy: TokenPolicy,
    token: Option<HeldToken>,
    /// Token rejections since the last response that was not one. The first rejection asks
    /// for one retry; the second one in a row fails, so the manager never loops.
    rejections_in_a_row: u32,
    /// The token held before the current one, kept only so that an answer echoing it is
    /// still redacted after it was dropped.
    retired: Option<Secret>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("policy", &self.policy)
            .field("has_token", &self.token.is_some())
            .field("uses", &self.token.as_ref().map(|t| t.uses))
            .field("rejections_in_a_row", &self.rejections_in_a_row)
            .finish()
    }
}

/// A snapshot of the manager for hosts and logs; never holds the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenStatus {
    /// True when a token is held (spent or not).
    pub has_token: bool,
    /// True when no token is held or the held one is spent at the `now` asked about.
    pub spent: bool,
    /// Requests the held token authorized so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<u32>,
    /// When the held token was accepted (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at_ms: Option<u64>,
    /// When iProov's `expires_in` ends (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// From when the manager stops using the token (the margin applied; Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spent_at_ms: Option<u64>,
    /// The scopes iProov granted, when it said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
}

impl TokenManager {
    /// A manager with no token yet. Fails with `invalid_input` when the policy is unusable
    /// (see [`TokenPolicy::check`]).
    pub fn new(policy: TokenPolicy) -> Result<Self, Error> {
        policy.check()?;
        Ok(Self {
            policy,
            token: None,
            rejections_in_a_row: 0,
            retired: None,
        })
    }

    /// The policy this manager applies.
    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// True when a token is held and not spent at `now`: the next [`TokenManager::prepare`]
    /// will authorize without fetching.
    pub fn has_usable_token(&self, now: u64) -> bool {
        self.usable(now).is_some()
    }

    fn usable(&self, now: u64) -> Option<&HeldToken> {
        self.token
            .as_ref()
            .filter(|t| t.uses < self.policy.max_uses && now < t.spent_at_ms(self.policy.margin_ms))
    }

    /// The manager's view at `now`, without the token.
    pub fn status(&self, now: u64) -> TokenStatus {
        let held = self.token.as_ref();
        TokenStatus {
            has_token: held.is_some(),
            spent: self.usable(now).is_none(),
            uses: held.map(|t| t.uses),
            issued_at_ms: held.map(|t| t.issued_at_ms),
            expires_at_ms: held.map(|t| t.expires_at_ms),
            spent_at_ms: held.map(|t| t.spent_at_ms(self.policy.margin_ms)),
            scope: held.and_then(|t| t.scope.clone()),
        }
    }

    /// Call before sending a management request (users API; invalidate when you send it with
    /// a token) of `operation`. Fails with `invalid_input` (field `operation`), counting no
    /// use, for an operation iProov does not authenticate with a Bearer token
    /// ([`Operation::takes_bearer`]). When a token is held and not spent at `now`, adds `Authorization: Bearer` to
    /// `request`, counts the use and returns [`TokenStep::Authorized`]. Otherwise drops any
    /// spent token, leaves `request` as it is and returns [`TokenStep::NeedToken`] with the
    /// access-token request (built with the policy's scopes).
    ///
    /// Fails with `invalid_input` only when the token request cannot be built (missing
    /// `api_key` or OAuth credentials in `config`); the state is then unchanged.
    pub fn prepare(
        &mut self,
        config: &Config,
        operation: Operation,
        request: &mut Request,
        now: u64,
    ) -> Result<TokenStep, Error> {
        if !operation.takes_bearer() {
            return Err(Error::invalid_input(
                "operation",
                format!(
                    "{operation} is not authenticated with an OAuth access token (iProov \
                     authenticates the token request with Basic credentials and the claim \
                     and availability calls with the api_key); only the users API and \
                     invalidate_claim take one"
                ),
            ));
        }
        let max_uses = self.policy.max_uses;
        let margin = self.policy.margin_ms;
        match self.token.as_mut() {
            Some(token) if token.uses < max_uses && now < token.spent_at_ms(margin) => {
                token.uses += 1;
                request.authorize_bearer(&token.access_token);
                Ok(TokenStep::Authorized { uses: token.uses })
            }
            _ => {
                let token_request = self.token_request(config)?;
                self.drop_token();
                Ok(TokenStep::NeedToken(token_request))
            }
        }
    }

    /// The access-token request with the policy's scopes, whatever the state. Fails with
    /// `invalid_input` when `config` lacks the `api_key` or OAuth credentials.
    pub fn token_request(&self, config: &Config) -> Result<Request, Error> {
        let input = AccessTokenInput {
            scope: self.policy.scope.clone(),
        };
        oauth::build_access_token(config, &input)
    }

    /// Call with the answer to the access-token request from [`TokenStep::NeedToken`], and the
    /// time it arrived. On success the new token replaces any held one, with 0 uses.
    ///
    /// Fails with the error [`oauth::parse_access_token`] gives (e.g. 400 `invalid_client`,
    /// `decode_error`), or `decode_error` (path `expires_in`) for `expires_in: 0`; the state
    /// is then unchanged. Retry the token request only as the retry advisor says.
    pub fn accept_token(
        &mut self,
        config: &Config,
        response: &Response<'_>,
        now: u64,
    ) -> Result<(), Error> {
        let token = oauth::parse_access_token(config, response)?;
        let seconds = token.expires_in.unwrap_or(self.policy.default_expires_in_s);
        if seconds == 0 {
            return Err(Error::decode(
                response.status,
                "expires_in is 0: the access token is already expired",
                Some("expires_in".to_owned()),
            ));
        }
        self.drop_token();
        self.token = Some(HeldToken {
            access_token: token.access_token.clone(),
            issued_at_ms: now,
            expires_at_ms: now.saturating_add(seconds.saturating_mul(1_000)),
            uses: 0,
            scope: token.scope.clone(),
        });
        Ok(())
    }

    /// Call with the answer to every request [`TokenManager::prepare`] authorized, before
    /// parsing it. A non-200 answer whose iProov error is `invalid_oauth` or
    /// `token_quota_exceeded` drops the token: the first such answer gives
    /// [`ResponseCheck::RetryWithNewToken`], a second one in a row gives
    /// [`ResponseCheck::Fail`] with that error (and re-arms the single retry for the next
    /// call). Any other answer gives [`ResponseCheck::Parse`] and re-arms the retry too.
    pub fn on_response(&mut self, config: &Config, response: &Response<'_>) -> ResponseCheck {
        let Some(error) = self.token_rejection(config, response) else {
            self.rejections_in_a_row = 0;
            return ResponseCheck::Parse;
        };
        self.drop_token();
        if self.rejections_in_a_row == 0 {
            self.rejections_in_a_row = 1;
            ResponseCheck::RetryWithNewToken
        } else {
            self.rejections_in_a_row = 0;
            ResponseCheck::Fail(error)
        }
    }

    /// Drops the held token, e.g. after rotating the OAuth credentials.
    pub fn forget_token(&mut self) {
        self.drop_token();
    }

    fn drop_token(&mut self) {
        if let Some(held) = self.token.take() {
            self.retired = Some(held.access_token);
        }
    }

    /// The state as JSON, for a host that keeps it between requests:
    /// `{"policy": {...}, "token": {"issued_at_ms", "expires_at_ms", "uses", "scope"?,
    /// "access_token"?} | null, "rejections_in_a_row", "retired_access_token"?}`. The tokens
    /// (the held one, and the one dropped before it, kept for redaction) are written only when
    /// `include_token` is true: then the JSON is a secret and must be stored like one. Without
    /// it, the restored manager has no token and fetches one on the next call.
    pub fn to_json(&self, include_token: bool) -> Value {
        let wire = WireState {
            policy: self.policy.clone(),
            token: self.token.as_ref().map(|t| WireToken {
                access_token: include_token.then(|| t.access_token.expose().to_owned()),
                issued_at_ms: t.issued_at_ms,
                expires_at_ms: t.expires_at_ms,
                uses: t.uses,
                scope: t.scope.clone(),
            }),
            rejections_in_a_row: self.rejections_in_a_row,
            retired_access_token: self
                .retired
                .as_ref()
                .filter(|_| include_token)
                .map(|t| t.expose().to_owned()),
        };
        to_json_value(&wire)
    }

    /// Restores a manager saved by [`TokenManager::to_json`]. A token saved without its value
    /// is dropped. Fails with `invalid_input` naming the offending field.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let wire: WireState = from_value("state", value)?;
        wire.policy.check()?;
        let token = wire.token.and_then(|t| {
            let access_token = t.access_token.filter(|v| !v.is_empty())?;
            Some(HeldToken {
                access_token: Secret::new(access_token),
                issued_at_ms: t.issued_at_ms,
                expires_at_ms: t.expires_at_ms,
                uses: t.uses,
                scope: t.scope,
            })
        });
        Ok(Self {
            policy: wire.policy,
            token,
            rejections_in_a_row: wire.rejections_in_a_row.min(1),
            retired: wire
                .retired_access_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
        })
    }

    /// The iProov error of a response that rejects the access token, if it is one, built by
    /// the one function that builds errors from responses, with the held token redacted too.
    fn token_rejection(&self, config: &Config, response: &Response<'_>) -> Option<Error> {
        if !is_token_rejection(response) {
            return None;
        }
        Some(error_from_response_redacted(
            config,
            response,
            &self.redactor(config),
        ))
    }

    /// A [`Redactor`] for every credential `config` holds and the access token held here.
    pub fn redactor(&self, config: &Config) -> Redactor {
        config.redactor().with(&self.held_secrets())
    }

    /// The access tokens this manager knows: the held one, and the one dropped before it.
    pub(crate) fn held_secrets(&self) -> Vec<&Secret> {
        let mut held: Vec<&Secret> = self.token.iter().map(|t| &t.access_token).collect();
        held.extend(self.retired.iter());
        held
    }
}

/// True when a response rejects the access token it was sent with: a non-200 whose iProov
/// error is `invalid_oauth` or `token_quota_exceeded`.
pub(crate) fn is_token_rejection(response: &Response<'_>) -> bool {
    response.status != 200
        && error_body(response.body)
            .is_some_and(|body| REJECTION_CODES.contains(&body.error.as_str()))
}

#[derive(Serialize)]
struct WireState {
    policy: TokenPolicy,
    token: Option<WireToken>,
    rejections_in_a_row: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    retired_access_token: Option<String>,
}
json_object! {
    WireState, deny_unknown_fields;
    opt policy, opt token, opt rejections_in_a_row, opt retired_access_token,
}

#[derive(Serialize)]
struct WireToken {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    issued_at_ms: u64,
    expires_at_ms: u64,
    uses: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<Vec<String>>,
}
json_object! {
    WireToken, deny_unknown_fields;
    opt access_token, req issued_at_ms, req expires_at_ms, req uses, opt scope,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;
    use crate::region::Region;

    fn config() -> Config {
        Config::for_region(Region::Eu)
            .with_api_key("k".repeat(40))
            .with_oauth("user", Secret::new("oauth-password"))
            .unwrap()
    }

    fn request() -> Request {
        Request::new(Method::Get, "https://x/api/v2/users/u1".into(), "ua")
    }

    fn token_answer(token: &str, expires_in: u64) -> Vec<u8> {
        format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{expires_in}}}"#)
            .into_bytes()
    }

    #[test]
    fn fetches_then_reuses_then_refetches_after_quota() {
        let c = config();
        let mut m = TokenManager::new(TokenPolicy {
            max_uses: 2,
            ..TokenPolicy::default()
        })
        .unwrap();
        let mut r = request();
        assert!(matches!(
            m.prepare(&c, Operation::GetUser, &mut r, 0).unwrap(),
            TokenStep::NeedToken(_)
        ));
        let body = token_answer("at-one-token", 3600);
        m.accept_token(&c, &Response::new(200, &[], &body), 0)
            .unwrap();
        for n in 1..=2 {
            let mut r = request();
            match m.prepare(&c, Operation::GetUser, &mut r, 10).unwrap() {
                TokenStep::Authorized { uses } => assert_eq!(uses, n),
                other => panic!("{other:?}"),
            }
            assert_eq!(r.header("authorization"), Some("Bearer at-one-token"));
        }
        let mut r = request();
        assert!(matches!(
            m.prepare(&c, Operation::GetUser, &mut r, 10).unwrap(),
            TokenStep::NeedToken(_)
        ));
        assert_eq!(r.header("authorization"), None);
    }

    #[test]
    fn second_rejection_in_a_row_fails() {
        let mut m = TokenManager::default();
        let body = br#"{"error":"invalid_oauth","error_description":"bad"}"#;
        let rejected = Response::new(401, &[], body);
        assert_eq!(
            m.on_response(&config(), &rejected),
            ResponseCheck::RetryWithNewToken
        );
        match m.on_response(&config(), &rejected) {
            ResponseCheck::Fail(e) => assert_eq!(e.code(), "invalid_oauth"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            m.on_response(&config(), &rejected),
            ResponseCheck::RetryWithNewToken
        );
        assert_eq!(
            m.on_response(&config(), &Response::new(200, &[], b"{}")),
            ResponseCheck::Parse
        );
    }

    #[test]
    fn json_hides_the_token_unless_asked() {
        let c = config();
        let mut m = TokenManager::default();
        let body = token_answer("at-hidden-token", 3600);
        m.accept_token(&c, &Response::new(200, &[], &body), 5)
            .unwrap();
        let hidden = m.to_json(false).to_string();
        assert!(!hidden.contains("at-hidden-token"), "{hidden}");
        assert!(!format!("{m:?}").contains("at-hidden-token"));
        let restored = TokenManager::from_json(&m.to_json(true)).unwrap();
        assert_eq!(restored, m);
        assert!(
            !TokenManager::from_json(&m.to_json(false))
                .unwrap()
                .has_usable_token(5)
        );
    }

    #[test]
    fn margin_is_capped_at_half_the_lifetime() {
        let c = config();
        let mut m = TokenManager::default();
        let body = token_answer("at-short-token", 30);
        m.accept_token(&c, &Response::new(200, &[], &body), 0)
            .unwrap();
        assert!(m.has_usable_token(14_999));
        assert!(!m.has_usable_token(15_000));
    }
}
