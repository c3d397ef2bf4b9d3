//! One call's state machine: send, retry, authorize, fetch the shared token, finish.

use super::{Action, CallId, Driver, Fetch, TransportFailure};
use crate::decode::error_from_response_redacted;
use crate::error::{Error, ErrorKind};
use crate::flows::audit::{AuditContext, AuditRecord};
use crate::flows::retry::{Advice, Observed};
use crate::flows::token_manager::{TokenStep, is_token_rejection};
use crate::http::{Request, Response};
use crate::operation::{self, Operation};
use crate::redact::Redactor;
use crate::telemetry::{self, Event, Level};
use serde_json::Value;

/// A waiting call takes a token request over this long after the request's deadline (counted
/// from the poll that sent it): its caller vanished without reporting (a host bug, a killed
/// task).
const STALE_FETCH_GRACE_MS: u64 = 1_000;

#[derive(Debug)]
enum State {
    /// Send the request (authorizing it first when the users API needs a token).
    Ready,
    /// The request is out; `generation` is the token it carries, if any.
    Sent { generation: Option<u64> },
    /// This call fetches the shared token: send the token request.
    FetchReady,
    /// The token request is out.
    Fetching,
    /// Waiting for a retry: then go on with `then`.
    Sleeping { at_ms: u64, then: Resume },
    /// Another call is fetching the token (fetch `epoch`).
    Waiting { epoch: u64, until_ms: u64 },
    /// Finished: hand this out.
    Done(Value),
    /// Finished: hand this out.
    Failed(Error),
}

#[derive(Debug, Clone, Copy)]
enum Resume {
    Ready,
    FetchReady,
}

/// One call.
#[derive(Debug)]
pub(super) struct Call {
    operation: Operation,
    /// The request as built, without any Bearer token; each send authorizes a copy.
    request: Option<Request>,
    context: AuditContext,
    state: State,
    /// Sends of the request so far (1-based for the retry advisor).
    attempt: u32,
    /// Sends of the token request so far, while this call fetches.
    token_attempt: u32,
    /// Token rejections this call met: the second one fails the call (no loop).
    rejections: u32,
    /// False when the host has no consumer for this call's records ([`CallContext::quiet`]):
    /// none is made, sparing their building and redaction.
    records: bool,
    audit: Vec<AuditRecord>,
    /// [`super::CallContext::max_wait_ms`].
    pub(super) max_wait_ms: Option<u64>,
    /// [`super::CallContext::telemetry`].
    pub(super) telemetry: Option<Level>,
    events: Vec<Value>,
    started_ms: u64,
    /// When the send in flight left.
    sent_at_ms: u64,
    /// The last send's status, duration and number, for the records it ends with.
    last_send: Option<(Option<u16>, u64, u32)>,
}

impl Call {
    pub(super) fn new(
        operation: Operation,
        built: Result<Request, Error>,
        context: AuditContext,
        records: bool,
        now: u64,
    ) -> Self {
        let mut audit = Vec::new();
        let (request, state) = match built {
            Ok(request) => (Some(request), State::Ready),
            Err(error) => {
                if records {
                    audit.push(AuditRecord::failure(operation, &context, &error, now));
                }
                (None, State::Failed(error))
            }
        };
        Self {
            operation,
            request,
            context,
            state,
            attempt: 0,
            token_attempt: 0,
            rejections: 0,
            records,
            audit,
            max_wait_ms: None,
            telemetry: None,
            events: Vec::new(),
            started_ms: now,
            sent_at_ms: now,
            last_send: None,
        }
    }

    /// True when the host maps events at `level` ([`super::CallContext::telemetry`]).
    fn tells(&self, level: Level) -> bool {
        self.telemetry.is_some_and(|lowest| level >= lowest)
    }

    pub(super) fn take_events(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.events)
    }

    /// A send of `op` (number `sends`) ended at `now`, answered `status` or failed as
    /// `failure`: its facts for the records it ends with, and its event.
    fn send_ended(
        &mut self,
        driver: &Driver,
        op: Operation,
        sends: u32,
        status: Option<u16>,
        failure: Option<&str>,
        now: u64,
    ) {
        let duration = now.saturating_sub(self.sent_at_ms);
        self.last_send = Some((status, duration, sends));
        if !self.tells(Level::Debug) {
            return;
        }
        let how = match (status, failure) {
            (Some(status), _) => format!("answered {status}"),
            (None, Some(failure)) => format!("failed ({failure})"),
            _ => "ended".to_owned(),
        };
        let event = Event::new(
            telemetry::SEND,
            Level::Debug.name(),
            now,
            format!("iproov {} send {sends} {how} in {duration} ms", op.name()),
        )
        .since(self.sent_at_ms)
        .with("http.request.method", telemetry::method(op))
        .with("url.template", telemetry::url_template(op))
        .with("iproov.operation", op.name())
        .with("iproov.send", sends)
        .with_opt("iproov.attempt", self.context.attempt)
        .with_opt("http.response.status_code", status)
        .with_opt(
            "error.type",
            failure
                .map(str::to_owned)
                .or_else(|| status.filter(|s| *s >= 400).map(|s| s.to_string())),
        );
        self.events
            .push(driver.server_attributes(event).into_json());
    }

    /// A retry of `op` is scheduled for `at_ms` after `error`.
    fn retry_scheduled(
        &mut self,
        driver: &Driver,
        op: Operation,
        error: &Error,
        at_ms: u64,
        now: u64,
    ) {
        if !self.tells(Level::Info) {
            return;
        }
        let delay = at_ms.saturating_sub(now);
        let event = Event::new(
            telemetry::RETRY,
            Level::Info.name(),
            now,
            format!(
                "iproov {} failed ({}): retry in {delay} ms",
                op.name(),
                error.code()
            ),
        )
        .with("iproov.operation", op.name())
        .with("iproov.retry.delay_ms", delay)
        .with("error.type", error.code().to_owned())
        .with("iproov.send", self.last_send.map_or(0, |(_, _, n)| n));
        self.events
            .push(driver.server_attributes(event).into_json());
    }

    /// The call ended with `action` (done or failed): its event and metrics.
    pub(super) fn ended(&mut self, driver: &Driver, action: &super::Action, now: u64) {
        if self.telemetry.is_none() {
            return;
        }
        let op = self.operation;
        let (outcome, error, level) = match action {
            super::Action::Done { result } => {
                let outcome = match (op.is_one_shot(), result.get("passed")) {
                    (true, Some(Value::Bool(true))) => "passed",
                    (true, Some(Value::Bool(false))) => "failed",
                    _ if matches!(op, Operation::EnrolToken | Operation::VerifyToken) => {
                        "token_issued"
                    }
                    _ if op == Operation::AccessToken => "token_obtained",
                    _ => "ok",
                };
                (outcome, None, Level::Debug)
            }
            super::Action::Failed { error } => {
                let (outcome, level) = match error.kind() {
                    ErrorKind::OutcomeUnknown => ("outcome_unknown", Level::Warning),
                    ErrorKind::RateLimited
                    | ErrorKind::Server
                    | ErrorKind::Connection
                    | ErrorKind::Timeout
                    | ErrorKind::InvalidKey
                    | ErrorKind::OAuth => ("error", Level::Warning),
                    _ => ("error", Level::Info),
                };
                (outcome, Some(error.code().to_owned()), level)
            }
            _ => return,
        };
        if !self.tells(level) {
            return;
        }
        let duration = now.saturating_sub(self.started_ms);
        let sends = self.attempt;
        let message = match &error {
            Some(code) => format!(
                "iproov {} {outcome} ({code}) after {sends} send(s), {duration} ms",
                op.name()
            ),
            None => format!(
                "iproov {} {outcome} after {sends} send(s), {duration} ms",
                op.name()
            ),
        };
        let event = Event::new(telemetry::CALL, level.name(), now, message)
            .since(self.started_ms)
            .with("iproov.operation", op.name())
            .with("iproov.outcome", outcome)
            .with("iproov.sends", sends)
            .with_opt("iproov.attempt", self.context.attempt)
            .with_opt("error.type", error);
        let by = ["iproov.operation", "iproov.outcome"];
        let event = driver
            .server_attributes(event)
            .metric(telemetry::METRIC_CALLS, "counter", 1, None, &by)
            .metric(
                telemetry::METRIC_CALL_DURATION,
                "histogram",
                duration,
                Some("ms"),
                &by,
            );
        self.events.push(event.into_json());
    }

    /// Keeps `record` with the facts of the send it ends.
    fn push_record(&mut self, record: AuditRecord) {
        let record = match self.last_send {
            Some((status, duration, sends)) => record.with_send(status, duration, sends),
            None => record,
        };
        self.audit.push(record);
    }

    /// The retry advice, unless its wait is beyond this call's bound: then `GiveUp`, so that
    /// the error that asked for the wait ends the call now.
    fn advice(
        &self,
        driver: &mut Driver,
        op: Operation,
        attempt: u32,
        observed: Observed<'_>,
        now: u64,
    ) -> Option<Advice> {
        match driver.retry_advice(op, attempt, observed, now) {
            Some(Advice::RetryAt { delay_ms, .. })
                if self.max_wait_ms.is_some_and(|max| delay_ms > max) =>
            {
                Some(Advice::GiveUp {
                    reason: crate::flows::retry::GiveUpReason::RetryAfterTooLong,
                })
            }
            other => other,
        }
    }

    pub(super) fn take_audit(&mut self, redactor: &Redactor) -> Vec<Value> {
        self.audit
            .drain(..)
            .map(|record| record.redact(redactor).into_json())
            .collect()
    }

    /// Uses the users API's shared, managed token (no access token configured).
    fn managed(&self, driver: &Driver) -> bool {
        self.operation.needs_access_token() && driver.config.access_token().is_none()
    }

    pub(super) fn poll(&mut self, driver: &mut Driver, id: CallId, now: u64) -> Action {
        // A few transitions lead to another state that acts at once; never more than three.
        for _ in 0..4 {
            match std::mem::replace(&mut self.state, State::Ready) {
                State::Done(result) => return Action::Done { result },
                State::Failed(error) => return Action::Failed { error },
                State::Sleeping { at_ms, then } if now < at_ms => {
                    self.state = State::Sleeping { at_ms, then };
                    return Action::SleepUntil { at_ms };
                }
                State::Sleeping { then, .. } => {
                    self.state = match then {
                        Resume::Ready => State::Ready,
                        Resume::FetchReady => State::FetchReady,
                    };
                }
                State::Ready => {
                    if let Some(action) = self.send_or_wait(driver, id, now) {
                        return action;
                    }
                }
                State::FetchReady => return self.send_token_request(driver, id, now),
                State::Waiting { epoch, until_ms } => {
                    if let Some(action) = self.keep_waiting(driver, epoch, until_ms, now) {
                        return action;
                    }
                }
                in_flight @ (State::Sent { .. } | State::Fetching) => {
                    // The host polled before reporting the answer: a host bug. Never send
                    // twice; the request may be out, so its outcome is unknown.
                    self.state = in_flight;
                    let error = Error::invalid_state(
                        "poll called while a request is in flight: report its answer with \
                         on_response or on_failure first",
                    );
                    return Action::Failed { error };
                }
            }
        }
        Action::Failed {
            error: Error::invalid_state("the call did not settle"),
        }
    }

    /// Ready: send now, or wait for the shared token, or become the call that fetches it.
    /// `None` when the state changed and the loop should go on.
    fn send_or_wait(&mut self, driver: &mut Driver, id: CallId, now: u64) -> Option<Action> {
        let Some(template) = self.request.as_ref() else {
            self.state = State::Failed(Error::invalid_state("the call has no request"));
            return None;
        };
        let mut request = template.clone();
        let mut generation = None;
        if self.managed(driver) {
            if driver.tokens.has_usable_token(now) {
                match driver
                    .tokens
                    .prepare(&driver.config, self.operation, &mut request, now)
                {
                    Ok(TokenStep::Authorized { uses }) => {
                        generation = Some(driver.generation);
                        // Its first use was its fetch (told then); a later call's first
                        // send tells the reuse once, not each retry's.
                        if uses > 1 && self.attempt == 0 && self.tells(Level::Debug) {
                            let event = Event::new(
                                telemetry::TOKEN,
                                Level::Debug.name(),
                                now,
                                "iproov: the users API's OAuth access token was reused",
                            )
                            .with("iproov.operation", self.operation.name())
                            .with("iproov.token.uses", uses);
                            self.events
                                .push(driver.server_attributes(event).into_json());
                        }
                    }
                    Ok(TokenStep::NeedToken(_)) => {}
                    Err(error) => {
                        self.state = State::Failed(error);
                        return None;
                    }
                }
            }
            if generation.is_none() {
                if let Some(failure) = driver
                    .fetch_failure
                    .as_ref()
                    .filter(|f| now < f.reuse_until_ms && driver.fetch.is_none())
                {
                    self.state = State::Failed(failure.error.clone());
                    return None;
                }
                if let Some(fetch) = driver.fetch.filter(|f| f.by != id) {
                    if now < fetch.stale_at_ms {
                        self.state = State::Waiting {
                            epoch: fetch.epoch,
                            until_ms: fetch.stale_at_ms,
                        };
                        return Some(Action::WaitForToken {
                            until_ms: fetch.stale_at_ms,
                        });
                    }
                    // Its caller vanished: take it over.
                    driver.fetch = None;
                }
                driver.fetch = Some(Fetch {
                    by: id,
                    epoch: driver.fetch_epoch,
                    stale_at_ms: u64::MAX,
                });
                self.token_attempt = 0;
                self.state = State::FetchReady;
                return None;
            }
        }
        self.attempt += 1;
        self.sent_at_ms = now;
        self.last_send = None;
        self.state = State::Sent { generation };
        Some(Action::Send {
            request,
            timeout_ms: driver.options.timeout_ms(self.operation),
        })
    }

    fn send_token_request(&mut self, driver: &mut Driver, id: CallId, now: u64) -> Action {
        match driver.tokens.token_request(&driver.config) {
            Ok(request) => {
                self.token_attempt += 1;
                self.sent_at_ms = now;
                self.last_send = None;
                let timeout_ms = driver.options.timeout_ms(Operation::AccessToken);
                if let Some(fetch) = driver.fetch.as_mut().filter(|f| f.by == id) {
                    fetch.stale_at_ms = now
                        .saturating_add(timeout_ms)
                        .saturating_add(STALE_FETCH_GRACE_MS);
                }
                self.state = State::Fetching;
                Action::Send {
                    request,
                    timeout_ms,
                }
            }
            Err(error) => {
                self.fetch_failed(driver, id, &error, now);
                Action::Failed { error }
            }
        }
    }

    fn keep_waiting(
        &mut self,
        driver: &mut Driver,
        epoch: u64,
        until_ms: u64,
        now: u64,
    ) -> Option<Action> {
        if driver.fetch.is_some_and(|f| f.epoch == epoch) {
            if now < until_ms {
                self.state = State::Waiting { epoch, until_ms };
                return Some(Action::WaitForToken { until_ms });
            }
            // Past the fetch's deadline and grace: Ready takes it over.
            return None;
        }
        match &driver.fetch_failure {
            Some(failure) if failure.epoch == epoch => {
                self.state = State::Failed(failure.error.clone());
            }
            _ => {} // the fetch ended (or was released): go on from Ready
        }
        None
    }

    pub(super) fn on_response(
        &mut self,
        driver: &mut Driver,
        id: CallId,
        response: &Response<'_>,
        now: u64,
    ) {
        match std::mem::replace(&mut self.state, State::Ready) {
            State::Fetching => self.token_answer(driver, id, response, now),
            State::Sent { generation } => self.answer(driver, generation, response, now),
            other => self.state = other, // nothing was in flight: ignore
        }
    }

    fn token_answer(&mut self, driver: &mut Driver, id: CallId, response: &Response<'_>, now: u64) {
        let op = Operation::AccessToken;
        self.send_ended(
            driver,
            op,
            self.token_attempt,
            Some(response.status),
            None,
            now,
        );
        let advice = self.advice(
            driver,
            op,
            self.token_attempt,
            Observed::Response(*response),
            now,
        );
        if let Some(Advice::RetryAt { at_ms, .. }) = advice {
            let error =
                error_from_response_redacted(&driver.parse_config, response, &driver.redactor);
            self.record_failure(op, &error, now);
            self.retry_scheduled(driver, op, &error, at_ms, now);
            self.state = State::Sleeping {
                at_ms,
                then: Resume::FetchReady,
            };
            return;
        }
        match driver.tokens.accept_token(&driver.config, response, now) {
            Ok(()) => {
                driver.generation += 1;
                driver.refresh_redactor();
                if self.records
                    && let Ok(token) =
                        crate::ops::oauth::parse_access_token(&driver.config, response)
                {
                    self.push_record(AuditRecord::success(op, &self.context, &token, now));
                }
                if self.tells(Level::Info) {
                    let event = Event::new(
                        telemetry::TOKEN,
                        Level::Info.name(),
                        now,
                        "iproov: the users API's OAuth access token was fetched",
                    )
                    .since(self.sent_at_ms)
                    .with("iproov.operation", self.operation.name());
                    self.events
                        .push(driver.server_attributes(event).into_json());
                }
                driver.release_fetch(id);
                self.state = State::Ready;
            }
            Err(error) => {
                let error = error.with_retry_after(response, now);
                self.record_failure(op, &error, now);
                self.fetch_failed(driver, id, &error, now);
                self.state = State::Failed(error);
            }
        }
    }

    fn answer(
        &mut self,
        driver: &mut Driver,
        generation: Option<u64>,
        response: &Response<'_>,
        now: u64,
    ) {
        let op = self.operation;
        self.send_ended(driver, op, self.attempt, Some(response.status), None, now);
        if let Some(generation) = generation.filter(|_| is_token_rejection(response)) {
            let error =
                error_from_response_redacted(&driver.parse_config, response, &driver.redactor);
            self.record_failure(op, &error, now);
            self.rejections += 1;
            if generation == driver.generation {
                // The token this call used is the current one: iProov dropped it.
                driver.tokens.forget_token();
            }
            self.state = if self.rejections >= 2 {
                State::Failed(error)
            } else {
                State::Ready
            };
            return;
        }
        let advice = self.advice(driver, op, self.attempt, Observed::Response(*response), now);
        match advice {
            Some(Advice::RetryAt { at_ms, .. }) => {
                let error =
                    error_from_response_redacted(&driver.parse_config, response, &driver.redactor);
                self.record_failure(op, &error, now);
                self.retry_scheduled(driver, op, &error, at_ms, now);
                self.state = State::Sleeping {
                    at_ms,
                    then: Resume::Ready,
                };
            }
            Some(Advice::OutcomeUnknown(error)) => {
                self.record_failure(op, &error, now);
                self.state = State::Failed(error);
            }
            Some(Advice::GiveUp { .. }) | None => self.finish(driver, response, now),
        }
    }

    /// The final answer: parse it into the result or the error.
    fn finish(&mut self, driver: &mut Driver, response: &Response<'_>, now: u64) {
        let op = self.operation;
        match operation::parse_for_driver(op, &driver.parse_config, response) {
            Ok(result) => {
                if self.records {
                    let record = AuditRecord::success_value(op, &self.context, result.clone(), now);
                    self.push_record(record);
                }
                self.state = State::Done(result);
            }
            Err(error) => {
                // iProov consumed the token but its answer cannot be read: as lost as no
                // answer at all.
                let error = if op.is_one_shot()
                    && response.status == 200
                    && error.kind() == ErrorKind::Decode
                {
                    Error::outcome_unknown(
                        op.name(),
                        format!("the 200 answer could not be read: {}", error.message()),
                    )
                } else {
                    error.with_retry_after(response, now)
                };
                self.record_failure(op, &error, now);
                self.state = State::Failed(error);
            }
        }
    }

    pub(super) fn on_failure(
        &mut self,
        driver: &mut Driver,
        id: CallId,
        failure: TransportFailure,
        cause: &str,
        now: u64,
    ) {
        let (op, attempt, resume) = match std::mem::replace(&mut self.state, State::Ready) {
            State::Fetching => (
                Operation::AccessToken,
                self.token_attempt,
                Resume::FetchReady,
            ),
            State::Sent { .. } => (self.operation, self.attempt, Resume::Ready),
            State::Ready | State::FetchReady | State::Sleeping { .. } | State::Waiting { .. }
                if failure.is_abort() =>
            {
                // The caller gave up while nothing was in flight (a backoff, a wait for the
                // shared token): the call ends as aborted, with its record, and a token
                // request this call owned passes to the calls waiting for it.
                let error = failure.error(cause);
                self.last_send = None;
                self.record_failure(self.operation, &error, now);
                driver.release_fetch(id);
                self.state = State::Failed(error);
                return;
            }
            other => {
                self.state = other;
                return;
            }
        };
        let observed = if failure.before_sending() {
            Observed::FailedBeforeSending
        } else {
            Observed::MayHaveReachedServer
        };
        self.send_ended(driver, op, attempt, None, Some(failure.name()), now);
        let error = match self.advice(driver, op, attempt, observed, now) {
            Some(Advice::RetryAt { at_ms, .. }) if !failure.is_abort() => {
                let error = failure.error(cause);
                self.record_failure(op, &error, now);
                self.retry_scheduled(driver, op, &error, at_ms, now);
                self.state = State::Sleeping {
                    at_ms,
                    then: resume,
                };
                return;
            }
            Some(Advice::OutcomeUnknown(_)) if failure.is_abort() => {
                Error::outcome_unknown(op.name(), format!("the caller aborted: {cause}"))
            }
            Some(Advice::OutcomeUnknown(_)) => {
                Error::outcome_unknown(op.name(), format!("{}: {cause}", failure.name()))
            }
            _ => failure.error(cause),
        };
        self.record_failure(op, &error, now);
        if matches!(resume, Resume::FetchReady) {
            if failure.is_abort() {
                driver.release_fetch(id);
            } else {
                self.fetch_failed(driver, id, &error, now);
            }
        }
        self.state = State::Failed(error);
    }

    fn record_failure(&mut self, operation: Operation, error: &Error, now: u64) {
        if !self.records {
            return;
        }
        let context = if operation == self.operation {
            self.context.clone()
        } else {
            AuditContext {
                token: None,
                ..self.context.clone()
            }
        };
        self.push_record(AuditRecord::failure(operation, &context, error, now));
    }

    /// This call's token request failed for good: the calls waiting for it fail with it, and
    /// so do calls starting shortly after when no retry could fix the error.
    fn fetch_failed(&mut self, driver: &mut Driver, id: CallId, error: &Error, now: u64) {
        if driver.fetch.is_some_and(|f| f.by == id) {
            let permanent = error.status().is_some()
                && error.kind() != ErrorKind::Decode
                && !matches!(
                    error.code(),
                    "server_error" | "too_many_requests" | "temporarily_unavailable"
                );
            driver.fetch_failure = Some(super::FetchFailure {
                epoch: driver.fetch_epoch,
                error: error.clone(),
                reuse_until_ms: if permanent {
                    now.saturating_add(super::FAILED_TOKEN_REQUEST_MS)
                } else {
                    0
                },
            });
            driver.release_fetch(id);
        }
    }
}

impl Driver {
    /// The retry advisor's word on attempt `attempt` of `operation`, with this driver's
    /// jitter. `None` only for an attempt number the advisor refuses (0), which the driver
    /// never gives.
    fn retry_advice(
        &mut self,
        operation: Operation,
        attempt: u32,
        observed: Observed<'_>,
        now: u64,
    ) -> Option<Advice> {
        let jitter = self.jitter();
        self.options
            .retry
            .advise(operation, attempt.max(1), observed, now, jitter)
            .ok()
    }
}
