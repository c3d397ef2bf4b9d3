//! The call driver: one API call (its OAuth token, its retries, its audit records) as a state
//! machine the host pumps, in the shape of h11 and quinn-proto.
//!
//! A host keeps one [`Driver`] per client (per configuration) and runs every call through it.
//! Its loop is the same in every host and decides nothing:
//!
//! ```text
//! id = driver.start(operation, input, context, now)
//! loop:
//!     poll = driver.poll(id, now)          # hand poll.audit to the audit hook;
//!                                          # if poll.wake: wake every call waiting for a token
//!     match poll.action:
//!         Send(request, timeout_ms): send it; give up after timeout_ms;
//!             driver.on_response(id, response, now)   or
//!             driver.on_failure(id, failure, cause, now)  (see `transport`)
//!         SleepUntil(at_ms):   sleep until then
//!         WaitForToken(until_ms): wait until woken, or until then
//!         Done(result):  return it
//!         Failed(error): raise it (the class is error.kind().class_name())
//! ```
//!
//! Everything else is decided here, once: building and input checks; the OAuth access token
//! of the users API (one token request at a time for all concurrent calls, one refetch after
//! iProov drops the shared token, never a loop); retries from the status *and* the body
//! ([`crate::flows::retry`]); `outcome_unknown` for a request that must not be repeated
//! (also for a validate whose 200 answer cannot be read); each operation's deadline
//! ([`default_timeout_ms`]); an audit record for every request sent (the token request
//! included); and the redaction of every error and record with every credential the driver
//! knows (configured and managed).
//!
//! The driver never reads a clock or draws a random number: `now` is an argument and the
//! retry jitter comes from a seed the host draws once ([`Driver::new`]).
//!
//! # Deadlines
//!
//! Every send has its operation's deadline ([`DriverOptions::timeout_ms`]), counted from the
//! moment the host starts the send, connect included. [`Action::Send`] hands that time as a
//! duration (`timeout_ms`), never as a point in time, and only the poll that decides the
//! send emits it, with its whole time: so no send can leave with its deadline already
//! passed, whatever the host did between that poll and the send (an audit hook that blocks,
//! a busy event loop, a paused worker). Such a delay is the host's, not the exchange's with
//! iProov; it is not charged to the send, and it never turns a send into a failure that
//! differs from host to host. The host checks no clock before sending: it gives
//! `timeout_ms` to its HTTP stack (and its own timer) as it is, and when the time runs out
//! reports what its stack saw: `connect_timeout` when no connection was made (not sent,
//! retried like any failure before sending), else `timeout` (may have reached iProov; a
//! validate is then `outcome_unknown`). The waits ([`Action::SleepUntil`],
//! [`Action::WaitForToken`]) are points in time, the driver's own schedule: a host that
//! polls after one has passed finds the call ready to go on at once.

mod call;
pub mod transport;

use crate::config::Config;
use crate::error::Error;
use crate::flows::audit::AuditContext;
use crate::flows::retry::RetryPolicy;
use crate::flows::token_manager::{TokenManager, TokenPolicy};
use crate::http::Request;
use crate::json_object::json_object;
use crate::operation::Operation;
use crate::redact::Redactor;
use call::Call;
use serde_json::Value;

pub use transport::TransportFailure;

/// An operation's deadline by default, in milliseconds: the time from the start of a send
/// (connect included) to the last byte of the answer. Claim tokens, users and the token
/// request answer in well under a second; validate does the biometric decision; enrol image
/// uploads up to 2 MB.
pub fn default_timeout_ms(operation: Operation) -> u64 {
    match operation {
        Operation::EnrolImage => 30_000,
        Operation::EnrolValidate | Operation::VerifyValidate => 20_000,
        Operation::Availability => 5_000,
        _ => 10_000,
    }
}

/// The longest deadline a caller may set: 10 minutes.
pub const MAX_TIMEOUT_MS: u64 = 600_000;

/// A driver's policies. The defaults are core's; hosts pass them as JSON:
/// `{"retry": {...}, "token": {...}, "timeout_ms"?: n, "audit_frames"?: false}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverOptions {
    /// When to repeat a failed request.
    pub retry: RetryPolicy,
    /// When an OAuth access token counts as spent.
    pub token: TokenPolicy,
    /// One deadline for every operation, in milliseconds (1 to [`MAX_TIMEOUT_MS`]); `None`
    /// keeps each operation's default ([`default_timeout_ms`]).
    pub timeout_ms: Option<u64>,
    /// Keep the validate frames (base64 images) in audit records.
    pub audit_frames: bool,
}
json_object! {
    DriverOptions, deny_unknown_fields;
    dflt retry, dflt token, opt timeout_ms, dflt audit_frames,
}

impl DriverOptions {
    /// Checks the options: `invalid_input` naming `timeout_ms`, `max_uses` or
    /// `default_expires_in_s` when one cannot work.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(ms) = self.timeout_ms
            && !(1..=MAX_TIMEOUT_MS).contains(&ms)
        {
            return Err(Error::invalid_input(
                "timeout_ms",
                format!("must be between 1 and {MAX_TIMEOUT_MS} milliseconds"),
            ));
        }
        self.token.check()
    }

    /// Reads options from JSON text (empty or `null`: the defaults). Fails with
    /// `invalid_input` naming the field.
    pub fn from_json_text(text: &[u8]) -> Result<Self, Error> {
        let options: Self = crate::operation::from_json_text("options", text, None)?;
        options.check()?;
        Ok(options)
    }

    /// The deadline of one send of `operation`, in milliseconds.
    pub fn timeout_ms(&self, operation: Operation) -> u64 {
        self.timeout_ms
            .unwrap_or_else(|| default_timeout_ms(operation))
    }
}

/// Identifies a call of a [`Driver`].
pub type CallId = u64;

/// What the host does next for a call.
#[derive(Debug)]
#[must_use]
#[non_exhaustive]
pub enum Action {
    /// Send `request` exactly as described; give up `timeout_ms` after starting the send and
    /// report [`TransportFailure::Timeout`] (or `ConnectTimeout`). Then report the answer
    /// with [`Driver::on_response`] or the failure with [`Driver::on_failure`]. See
    /// "Deadlines" in the module docs: the time is the send's whole, whenever it starts.
    Send {
        /// The request (credentials included: never log it; `request.redacted()` is safe).
        request: Request,
        /// How long the send may take, in milliseconds, from its start (connect included) to
        /// the last byte of the answer: the operation's deadline, at least 1.
        timeout_ms: u64,
    },
    /// Sleep until `at_ms` (Unix ms), then poll again.
    SleepUntil {
        /// When to poll again.
        at_ms: u64,
    },
    /// Another call is fetching the OAuth access token: wait until a poll says `wake`, or
    /// until `until_ms` at the latest, then poll again.
    WaitForToken {
        /// Poll again by then even if nothing woke this call.
        until_ms: u64,
    },
    /// The call succeeded: the canonical JSON of the result.
    Done {
        /// The result.
        result: Value,
    },
    /// The call failed: raise this error.
    Failed {
        /// The error (redacted).
        error: Error,
    },
}

/// What [`Driver::poll`] gives.
#[derive(Debug)]
#[must_use]
pub struct Poll {
    /// What to do next.
    pub action: Action,
    /// Audit records produced since the last poll of this call, to hand to the audit hook
    /// in order (each is redacted and free of credentials).
    pub audit: Vec<Value>,
    /// True when calls waiting for a token ([`Action::WaitForToken`]) should be woken now.
    pub wake: bool,
    /// Telemetry events produced since the last poll ([`crate::telemetry`]; only for a call
    /// started with [`CallContext::telemetry`]).
    pub events: Vec<Value>,
}

/// The context of a call for its audit records: the journey attempt it belongs to. The user
/// and claim token are read from the call's input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallContext {
    /// The journey's attempt number.
    pub attempt: Option<u32>,
    /// The host has no consumer for this call's audit records (no audit hook, no journey):
    /// the call makes none ([`Poll::audit`] stays empty), which spares building and
    /// redacting them on every call. What a record holds is still core's decision alone.
    pub quiet: bool,
    /// The longest wait before a retry this call may take, in ms: a backoff or `Retry-After`
    /// beyond it is not slept on; the call fails at once with the error that asked for it
    /// (its `retry_after_ms` kept). `None`: the retry policy's own limits. A browser-facing
    /// call passes [`INTERACTIVE_MAX_WAIT_MS`].
    pub max_wait_ms: Option<u64>,
    /// The lowest level of the telemetry events the host maps ([`crate::telemetry`]): the
    /// call makes its events at or above it ([`Poll::events`]); `None`: none is built.
    pub telemetry: Option<crate::telemetry::Level>,
}

/// The wait bound of a call a person is waiting on (a browser's request through the web
/// endpoints): 2 s. The retry policy's first two backoffs (0.5 s, 1 s) fit in it; iProov's
/// `Retry-After` of a rate limit (tens of seconds) does not, and goes back to the browser as
/// `Retry-After` instead of holding its request and a server worker.
pub const INTERACTIVE_MAX_WAIT_MS: u64 = 2_000;

/// How long a token request that failed with an error no retry can fix (wrong OAuth
/// credentials, a wrong key) answers later calls with the same error, without a new request:
/// calls that start a moment after their siblings' failed request would otherwise each
/// repeat it (2 s).
pub const FAILED_TOKEN_REQUEST_MS: u64 = 2_000;

#[derive(Debug, Clone)]
struct FetchFailure {
    epoch: u64,
    error: Error,
    reuse_until_ms: u64,
}

/// The token request in flight, shared by every call that needs a token.
#[derive(Debug, Clone, Copy)]
struct Fetch {
    by: CallId,
    epoch: u64,
    /// After this, waiting calls take the fetch over (its caller vanished).
    stale_at_ms: u64,
}

/// One client's calls and their shared state: the configuration, the policies, the OAuth
/// access token (through a [`TokenManager`]) and the retry jitter.
///
/// `Debug` shows no credential.
#[derive(Debug)]
pub struct Driver {
    config: Config,
    options: DriverOptions,
    tokens: TokenManager,
    /// Bumped for every token accepted: a call rejected with an older token retries with the
    /// new one instead of dropping it.
    generation: u64,
    fetch: Option<Fetch>,
    /// Bumped for every fetch that ends; a waiting call compares it to see if its fetch ended.
    fetch_epoch: u64,
    /// The last fetch that failed: its epoch, its error (shared with the calls that waited
    /// for it) and until when calls that start later get the same error without a request
    /// (only for an error no retry can fix; see [`FAILED_TOKEN_REQUEST_MS`]).
    fetch_failure: Option<FetchFailure>,
    wake: bool,
    calls: Vec<(CallId, Call)>,
    next_id: CallId,
    rng: u64,
    /// `config`, also redacting the managed access tokens: every answer is read with it.
    parse_config: Config,
    /// Every credential known: the configured ones and the managed access tokens.
    redactor: Redactor,
}

impl Driver {
    /// A driver for `config` with `options`. `seed` is 8 random bytes the host drew once; it
    /// seeds the retry jitter. Fails with `invalid_input` when the options cannot work.
    pub fn new(config: Config, options: DriverOptions, seed: u64) -> Result<Self, Error> {
        options.check()?;
        let tokens = TokenManager::new(options.token.clone())?;
        let redactor = tokens.redactor(&config);
        let parse_config = config.clone();
        Ok(Self {
            config,
            options,
            tokens,
            generation: 0,
            fetch: None,
            fetch_epoch: 0,
            fetch_failure: None,
            wake: false,
            calls: Vec::new(),
            next_id: 1,
            rng: seed,
            parse_config,
            redactor,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The options.
    pub fn options(&self) -> &DriverOptions {
        &self.options
    }

    /// The shared OAuth access token's status at `now` (never the token itself).
    pub fn token_status(&self, now: u64) -> crate::flows::TokenStatus {
        self.tokens.status(now)
    }

    /// How many calls are open (started and not yet handed out as done or failed).
    pub fn open_calls(&self) -> usize {
        self.calls.len()
    }

    /// Starts a call of `operation` with its input as JSON text (the vector format's input;
    /// empty for none). Never fails: an input that does not pass the checks gives
    /// [`Action::Failed`] (`invalid_input`) at the first poll, before anything is sent.
    pub fn start(
        &mut self,
        operation: Operation,
        input: &[u8],
        context: CallContext,
        now: u64,
    ) -> CallId {
        let built = crate::operation::build_for_driver(operation, &self.config, input);
        let audit = if context.quiet {
            AuditContext::default() // no record will read it: spare parsing the input again
        } else {
            audit_context(input, context, self.options.audit_frames)
        };
        let mut call = Call::new(operation, built, audit, !context.quiet, now);
        call.max_wait_ms = context.max_wait_ms;
        call.telemetry = context.telemetry;
        self.insert(call)
    }

    /// Starts a call with a request the host built itself through core (enrol image from
    /// raw bytes), or the error building it gave; `telemetry`: the lowest level of the
    /// call's events the host maps, as [`CallContext::telemetry`].
    pub fn start_built(
        &mut self,
        operation: Operation,
        built: Result<Request, Error>,
        context: AuditContext,
        telemetry: Option<crate::telemetry::Level>,
        now: u64,
    ) -> CallId {
        let audit = AuditContext {
            include_frame: self.options.audit_frames,
            ..context
        };
        let mut call = Call::new(operation, built, audit, true, now);
        call.telemetry = telemetry;
        self.insert(call)
    }

    fn insert(&mut self, call: Call) -> CallId {
        let id = self.next_id;
        self.next_id += 1;
        self.calls.push((id, call));
        id
    }

    /// What to do next for call `id` at `now`. A call handed out as done or failed is
    /// closed; polling it again (or an unknown id) gives `invalid_state`.
    pub fn poll(&mut self, id: CallId, now: u64) -> Poll {
        let action = match self.take_call(id) {
            None => Action::Failed {
                error: Error::invalid_state(format!("no open call {id}")),
            },
            Some(mut call) => {
                let polled = call.poll(self, id, now);
                let action = self.redact_action(polled);
                if matches!(action, Action::Done { .. } | Action::Failed { .. }) {
                    call.ended(self, &action, now);
                }
                let audit = call.take_audit(&self.redactor);
                let events = call.take_events();
                if !matches!(action, Action::Done { .. } | Action::Failed { .. }) {
                    self.calls.push((id, call));
                }
                let wake = std::mem::take(&mut self.wake);
                return Poll {
                    action,
                    audit,
                    wake,
                    events,
                };
            }
        };
        Poll {
            action,
            audit: Vec::new(),
            wake: std::mem::take(&mut self.wake),
            events: Vec::new(),
        }
    }

    /// Reports the answer to the request of call `id`'s last [`Action::Send`].
    pub fn on_response(&mut self, id: CallId, response: &crate::http::Response<'_>, now: u64) {
        if let Some(mut call) = self.take_call(id) {
            call.on_response(self, id, response, now);
            self.calls.push((id, call));
        }
    }

    /// Reports that the send of call `id` failed as `failure` (see [`transport`]); `cause`
    /// is the host's description (redacted before it goes anywhere). A caller's abort
    /// (`aborted` or `aborted_before_sending`) may also come while the call sleeps or waits
    /// for the token: the call then fails as aborted at its next poll.
    pub fn on_failure(&mut self, id: CallId, failure: TransportFailure, cause: &str, now: u64) {
        let cause = self.redactor.redact(cause).into_owned();
        if let Some(mut call) = self.take_call(id) {
            call.on_failure(self, id, failure, &cause, now);
            self.calls.push((id, call));
        }
    }

    /// Drops call `id` whatever its state (the host gave up on it without reporting). A token
    /// request it had in flight is released, so that a waiting call takes it over.
    pub fn cancel(&mut self, id: CallId) {
        drop(self.take_call(id));
        self.release_fetch(id);
    }

    fn take_call(&mut self, id: CallId) -> Option<Call> {
        let at = self.calls.iter().position(|(i, _)| *i == id)?;
        Some(self.calls.swap_remove(at).1)
    }

    fn redact_action(&self, action: Action) -> Action {
        match action {
            Action::Failed { error } => Action::Failed {
                error: error.redacted(&self.redactor),
            },
            other => other,
        }
    }

    /// A uniform draw from [0, 1) (SplitMix64), for the retry jitter.
    fn jitter(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits as a fraction: exact in an f64, and below 1.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn release_fetch(&mut self, id: CallId) {
        if self.fetch.is_some_and(|f| f.by == id) {
            self.fetch = None;
            self.fetch_epoch += 1;
            self.wake = true;
        }
    }

    /// The `server.address`, `server.port` and `iproov.region` every event of this driver's
    /// calls carries.
    pub(crate) fn server_attributes(
        &self,
        event: crate::telemetry::Event,
    ) -> crate::telemetry::Event {
        let (address, port) = crate::telemetry::server(self.config.base_url());
        event
            .with("server.address", address)
            .with("server.port", port)
            .with_opt(
                "iproov.region",
                self.config.target().region().map(|r| r.id()),
            )
    }

    fn refresh_redactor(&mut self) {
        self.parse_config = self.config.clone().redacting(&self.tokens.held_secrets());
        self.redactor = self.parse_config.redactor();
    }
}

/// The audit context of a call: the attempt given, and the `user_id` and claim `token` of
/// its input (read leniently: a malformed input fails the call's checks anyway).
fn audit_context(input: &[u8], context: CallContext, include_frame: bool) -> AuditContext {
    let fields: Option<serde_json::Map<String, Value>> = serde_json::from_slice(input).ok();
    let text = |key: &str| {
        fields
            .as_ref()
            .and_then(|map| map.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    AuditContext {
        user_id: text("user_id"),
        token: text("token"),
        attempt: context.attempt,
        include_frame,
    }
}
