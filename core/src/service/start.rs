//! `start`: a token for the browser's SDK, under the user's limits, one token request per
//! attempt across every instance.
//!
//! The order, decided here: read the user's record (limits, current journey, a token request
//! on its way) and the journey; answer at once when the journey has an open token, is done,
//! or is out of attempts; reconcile an inconclusive enrol with iProov's users API; then claim
//! the token request with a compare-and-set of the user's record (the claim, the count and
//! the current journey in one write), take the service's budget, insert a new journey, ask
//! iProov, record the token on the journey, release the claim, append the call's audit
//! records. A conflict at any write reads both records again and decides again; another
//! instance's claim is waited on (`wait_ms`) or refused as in progress.

use super::pump::{Action, Ctx, Event, StoreRetry, Table, unexpected};
use super::record::{AttemptState, JourneyRecord};
use super::user::{Requesting, SERVICE_KEY, UserRecord};
use super::{finished, issued};
use crate::driver::INTERACTIVE_MAX_WAIT_MS;
use crate::error::Error;
use crate::flows::journey::Flow;
use crate::json_object::json_object;
use crate::operation::from_json_value as from_value;
use crate::ops::claim::AssuranceType;
use serde_json::{Value, json};

/// How often a request waiting on another instance looks again (ms).
pub(super) const WAIT_POLL_MS: u64 = 200;

struct StartRequest {
    flow: Flow,
    user_id: String,
    journey_id: Option<String>,
    assurance_type: Option<AssuranceType>,
    interactive: bool,
    wait_ms: u64,
    spool: bool,
}
json_object! {
    StartRequest, deny_unknown_fields;
    req flow, req user_id, opt journey_id, opt assurance_type, opt interactive, opt wait_ms,
    opt spool,
}

/// What the users API said of an enrol's user (reconciling an inconclusive attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Active,
    Inactive,
    Suspended,
    Absent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Nothing,
    ReadUser,
    ReadJourney,
    ReadService,
    WriteService,
    Claim,
    Insert,
    CallToken,
    CallGetUser,
    CallDeleteUser,
    WriteJourney,
    Release,
    Clear,
    Audit,
    SleepWait,
    SleepRetry,
}

pub(super) struct StartJob {
    req: StartRequest,
    wait_until_ms: u64,
    user: Option<Option<UserRecord>>,
    journey: Option<Option<JourneyRecord>>,
    service: Option<Option<UserRecord>>,
    pending: Pending,
    /// The record the last write asked for, adopted when it takes.
    writing: Option<Value>,
    service_taken: bool,
    claimed: bool,
    inserted: bool,
    held: Option<Held>,
    deleted: bool,
    token: Option<Value>,
    call_error: Option<Error>,
    issued: bool,
    cleared: bool,
    clear_tries: u32,
    /// The last store call asked for (`get`, `insert`, `update`, `append_audit`).
    store_op: &'static str,
    /// The token request was handed to the host (it may have reached iProov).
    asked: bool,
    audit: Vec<Value>,
    answer: Option<Value>,
    retry: StoreRetry,
    /// The token request's error, for the pump's [`super::backoff::Backoff`] to learn from.
    pub(super) refused: Option<Error>,
}

fn parse<T>(
    what: Option<Value>,
    read: impl Fn(&Value) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    what.as_ref().map(read).transpose()
}

impl StartJob {
    pub(super) fn new(fields: &Value, now: u64) -> Result<Self, Error> {
        let req: StartRequest = from_value("request", fields)?;
        crate::validation::check_user_id("user_id", &req.user_id)?;
        Ok(Self {
            wait_until_ms: now.saturating_add(req.wait_ms),
            req,
            user: None,
            journey: None,
            service: None,
            pending: Pending::Nothing,
            writing: None,
            service_taken: false,
            claimed: false,
            inserted: false,
            held: None,
            deleted: false,
            token: None,
            call_error: None,
            issued: false,
            cleared: false,
            clear_tries: 0,
            store_op: "get",
            asked: false,
            audit: Vec::new(),
            answer: None,
            retry: StoreRetry::default(),
            refused: None,
        })
    }

    pub(super) fn next(&mut self, ctx: &Ctx<'_>, event: Option<Event>, now: u64) -> Action {
        if let Err(action) = self.take(ctx, event, now) {
            return action;
        }
        let action = self.decide(ctx, now);
        self.store_op = match &action {
            Action::Read { .. } => "get",
            Action::Insert { .. } => "insert",
            Action::Update { .. } => "update",
            Action::AppendAudit { .. } => "append_audit",
            Action::Call { .. } => {
                self.asked |= self.pending == Pending::CallToken;
                self.store_op
            }
            _ => self.store_op,
        };
        if let Action::Update { record, .. } | Action::Insert { record, .. } = &action {
            self.writing = Some(record.clone());
        }
        action
    }

    /// The operation of this start's token request (`enrol_token`, `verify_token`).
    pub(super) fn token_operation(&self) -> &'static str {
        self.req.flow.token_operation().name()
    }

    fn max_wait(&self) -> Option<u64> {
        self.req.interactive.then_some(INTERACTIVE_MAX_WAIT_MS)
    }

    fn journey_id(&self) -> Option<&str> {
        self.journey
            .as_ref()
            .and_then(Option::as_ref)
            .map(|j| j.id.as_str())
    }

    fn store_failed(&self, operation: &str) -> Action {
        Action::Failed {
            log: None,
            error: Error::store_unavailable(operation, self.journey_id(), None),
        }
    }

    /// Applies the event to what the job knows; `Err` ends the step with that action.
    fn take(&mut self, ctx: &Ctx<'_>, event: Option<Event>, now: u64) -> Result<(), Action> {
        let pending = std::mem::replace(&mut self.pending, Pending::Nothing);
        let written = self.writing.take();
        let failed = |e: Error| Action::Failed {
            log: None,
            error: e,
        };
        match (pending, event) {
            (Pending::Nothing, None) => {}
            (Pending::ReadUser, Some(Event::Read(v))) => {
                self.user = Some(parse(v, UserRecord::from_json).map_err(failed)?);
            }
            (Pending::ReadJourney, Some(Event::Read(v))) => {
                self.journey = Some(parse(v, JourneyRecord::from_json).map_err(failed)?);
            }
            (Pending::ReadService, Some(Event::Read(v))) => {
                self.service = Some(parse(v, UserRecord::from_json).map_err(failed)?);
            }
            (Pending::WriteService, Some(Event::Written(ok))) => {
                self.service = None;
                if ok {
                    self.service_taken = true;
                }
            }
            (Pending::Claim, Some(Event::Written(ok))) => {
                if ok {
                    self.claimed = true;
                    self.user = Some(parse(written, UserRecord::from_json).map_err(failed)?);
                } else {
                    self.user = None;
                    self.journey = None;
                }
            }
            (Pending::Insert, Some(Event::Written(ok))) => {
                if !ok {
                    return Err(failed(Error::invalid_state(
                        "a journey with this new id exists",
                    )));
                }
                self.inserted = true;
                self.journey = Some(parse(written, JourneyRecord::from_json).map_err(failed)?);
            }
            (Pending::WriteJourney, Some(Event::Written(ok))) => {
                self.retry.reset();
                if ok {
                    self.journey = Some(parse(written, JourneyRecord::from_json).map_err(failed)?);
                    if self.token.is_some() {
                        self.issued = true;
                    }
                } else {
                    self.journey = None;
                }
            }
            (
                Pending::CallToken,
                Some(Event::Called {
                    result,
                    error,
                    audit,
                }),
            ) => {
                self.audit.extend(audit);
                match (result, error) {
                    (Some(result), None) => self.token = Some(result),
                    (_, error) => {
                        let mut error = call_error(ctx, error);
                        let unsure = self
                            .journey
                            .as_ref()
                            .and_then(Option::as_ref)
                            .is_some_and(|j| j.unreconciled().is_some());
                        if error.code() == "already_enrolled" && unsure {
                            error = error.with_message(
                                "iProov already holds this user: an earlier enrol attempt's outcome \
                                 was lost, and iProov may have enrolled them. Give the service OAuth \
                                 credentials (oauth_username, oauth_password: iProov's users API) so \
                                 that it can check the user and finish the journey, or check the user \
                                 in iPortal and delete it there before enrolling again",
                            );
                        }
                        self.refused = Some(error.clone());
                        self.call_error = Some(error);
                    }
                }
            }
            (
                Pending::CallGetUser,
                Some(Event::Called {
                    result,
                    error,
                    audit,
                }),
            ) => {
                self.audit.extend(audit);
                self.held = Some(held(result.as_ref(), error).map_err(failed)?);
            }
            (
                Pending::CallDeleteUser,
                Some(Event::Called {
                    result,
                    error,
                    audit,
                }),
            ) => {
                self.audit.extend(audit);
                if result.is_none() {
                    let error = call_error(ctx, error);
                    // Deleted meanwhile: what the delete was for.
                    if !matches!(error.code(), "no_user" | "invalid_user_id") {
                        return Err(failed(error));
                    }
                }
                self.deleted = true;
            }
            (Pending::Release, Some(Event::Written(ok))) => {
                self.clear_tries += 1;
                if ok {
                    self.claimed = false;
                }
                self.user = None;
            }
            (Pending::Clear, Some(Event::Written(ok))) => {
                self.clear_tries += 1;
                self.user = None;
                if ok {
                    self.cleared = true;
                }
            }
            (Pending::Audit, Some(Event::Written(_))) => self.audit.clear(),
            (Pending::SleepWait, Some(Event::Slept)) => {
                self.user = None;
                self.journey = None;
            }
            (Pending::SleepRetry, Some(Event::Slept)) => {}
            (Pending::Audit, Some(Event::Spooled(_))) => self.audit.clear(),
            (pending, Some(Event::StoreFailed)) => {
                return self.on_store_failure(ctx.new_id, pending, now);
            }
            (_, event) => return Err(unexpected(&event)),
        }
        Ok(())
    }

    fn on_store_failure(&mut self, ctx_id: &str, pending: Pending, now: u64) -> Result<(), Action> {
        let op = self.store_op;
        match pending {
            // The token is issued (and billed): keep trying to record it for a while.
            Pending::WriteJourney if self.token.is_some() => match self.retry.next_try(now) {
                Some(at) => {
                    self.pending = Pending::SleepRetry;
                    Err(Action::Sleep { until_ms: at })
                }
                None => Err(Action::Failed {
                    log: None,
                    error: Error::store_unavailable(op, self.journey_id(), None).with_message(format!(
                        "the journey store failed ({op}) after iProov issued a token: the token \
                         could not be recorded (iProov counts it); the user may start again once \
                         the store is back (this request's claim on the journey lapses within a \
                         minute)"
                    )),
                }),
            },
            // Claimed, nothing sent: give the claim (and its count) back before failing, so
            // the user's next start need not wait for it to lapse.
            Pending::Insert | Pending::ReadService | Pending::WriteService if self.claimed => {
                self.call_error = Some(Error::store_unavailable(op, self.journey_id(), None));
                Ok(())
            }
            // The claim lapses by itself (`until_ms`): the token is the caller's.
            Pending::Clear => {
                self.cleared = true;
                Ok(())
            }
            Pending::Release => Err(Action::Failed {
                log: None,
                error: self
                    .call_error
                    .clone()
                    .unwrap_or_else(|| Error::store_unavailable("update", None, None)),
            }),
            // The token is recorded: its call's audit records wait in the spool; a host
            // without one (a Durable Object) answers `spooled: false` and logs the loss.
            Pending::Audit => {
                let records = std::mem::take(&mut self.audit);
                let journey_id = self.journey_id().unwrap_or_default().to_owned();
                self.pending = Pending::Audit;
                Err(spool_audit(ctx_id, &journey_id, records, self.req.spool, now))
            }
            _ => Err(self.store_failed(op)),
        }
    }

    fn decide(&mut self, ctx: &Ctx<'_>, now: u64) -> Action {
        if let Some(error) = self.call_error.clone() {
            return self.give_up(ctx, error, now);
        }
        if self.token.is_some() {
            return self.after_token(ctx, now);
        }
        if self.answer.is_some() {
            return self.finish_up(ctx, now);
        }
        let Some(user) = self.user.clone() else {
            self.pending = Pending::ReadUser;
            return Action::Read {
                table: Table::Users,
                id: self.req.user_id.clone(),
            };
        };
        let given = self.req.journey_id.is_some();
        let Some(journey) = self.journey.clone() else {
            let current = user
                .as_ref()
                .and_then(|u| u.slot(self.req.flow))
                .and_then(|s| s.journey_id.clone());
            match self.req.journey_id.clone().or(current) {
                Some(id) => {
                    self.pending = Pending::ReadJourney;
                    return Action::Read {
                        table: Table::Journeys,
                        id,
                    };
                }
                None => {
                    self.journey = Some(None);
                    return self.decide(ctx, now);
                }
            }
        };
        let mut journey = match journey {
            Some(j) if j.user_id != self.req.user_id || j.flow != self.req.flow => {
                if given {
                    return no_such_journey();
                }
                None
            }
            None if given => return no_such_journey(),
            other => other,
        };
        if let Some(j) = journey.as_mut() {
            let read = j.version;
            if j.settle(now, ctx.setup.stale_validate_ms()) {
                return self.write_journey(j, read);
            }
            // A pass ends the journey: answered as such when the browser names it, or when
            // iProov's users API just said the enrol completed.
            if j.passed().is_some() && (given || self.held == Some(Held::Active)) {
                return self.done(ctx, finished(j, None, now), now);
            }
        }
        let usable = journey.filter(|j| j.passed().is_none() && !j.window_over(now));
        if let Some(j) = &usable {
            if let Some(open) = j.open() {
                if open.state == AttemptState::Validating {
                    return self.wait_or("a validate of this journey's token is in progress", now);
                }
                return self.done(ctx, issued(ctx.config, j, open), now);
            }
            if j.attempts_left() == 0 {
                return match j.window_ends_at_ms() {
                    Some(end) => Action::Failed {
                        log: None,
                        error: Error::limit_exceeded(
                            "attempts",
                            Some(end.saturating_sub(now)),
                            format!(
                                "every attempt of this journey was used ({}); the next journey may \
                                 start when its window ends",
                                j.max_attempts
                            ),
                        ),
                    },
                    None => self.done(ctx, finished(j, None, now), now),
                };
            }
            if let Some(action) = self.reconcile(ctx, j, now) {
                return action;
            }
        }
        self.claim_and_ask(ctx, user, usable, now)
    }

    /// An enrol whose last attempt is inconclusive: iProov may hold the user already. With
    /// OAuth credentials, its users API says: Active, the enrol completed (the journey is
    /// done); Inactive, a half-made user (deleted, then a new token); Suspended, an operator's
    /// decision (refused, naming it); absent, a new token. Without them, the token request
    /// goes ahead and an `already_enrolled` answer names the operator's action.
    ///
    /// Why, from iProov's REST API v2.13.0 (OpenAPI; docs.iproov.com "Management API"):
    /// - Inactive: the enrol token made the user and only `/claim/enrol/validate` activates it
    ///   (`EnrolValidateRequest.activate`, default true), so an Inactive user is an enrol whose
    ///   validate never took effect. The `already_enrolled` text says what a re-enrol needs:
    ///   "either pass a new user_id or use the User Management API" to delete the user (the
    ///   journey keeps its user_id, so it deletes: `DELETE /users/{existing_user_id}`, scope
    ///   `user-write`), then asks for a new token.
    /// - Suspended: a user is Suspended only by a decision: a validate sent with `activate:
    ///   false` ("User will be SUSPENDED if false"), which this service never sends, or an
    ///   operator's `POST /users/{user_id}/suspend` (scope `user-write-status`), undone by
    ///   `POST /users/{user_id}/activate`. `inactive_user` ("User is in the wrong state (should
    ///   have an Active state)") is iProov's own answer for it. Deleting would overrule the operator and, the Management API docs warn, end
    ///   iProov's ability to investigate fraud linked to the user: core refuses with
    ///   `inactive_user` naming both operator actions (activate, or delete) and asks for no
    ///   token.
    fn reconcile(&mut self, ctx: &Ctx<'_>, journey: &JourneyRecord, now: u64) -> Option<Action> {
        let index = journey.unreconciled()?;
        if !can_use_users_api(ctx) {
            return None;
        }
        let user_id = journey.user_id.clone();
        let Some(held) = self.held else {
            self.pending = Pending::CallGetUser;
            return Some(self.call("get_user", json!({"user_id": user_id}), None));
        };
        let mut j = journey.clone();
        let read = j.version;
        match held {
            Held::Active => {
                if j.reconciled_enrolled(index, now).is_err() {
                    return Some(no_such_journey());
                }
            }
            Held::Suspended => {
                return Some(Action::Failed {
                    log: None,
                    error: Error::derived_api(
                        "inactive_user",
                        "iProov holds this user suspended (an earlier enrol attempt's outcome was \
                         lost): an operator must activate it (POST /users/{user_id}/activate) or \
                         delete it before the user can enrol again",
                    ),
                });
            }
            Held::Inactive if !self.deleted => {
                self.pending = Pending::CallDeleteUser;
                return Some(self.call("delete_user", json!({"user_id": user_id}), None));
            }
            Held::Inactive | Held::Absent => j.reconciled_checked(now),
        }
        Some(self.write_journey(&j, read))
    }

    fn claim_and_ask(
        &mut self,
        ctx: &Ctx<'_>,
        user: Option<UserRecord>,
        journey: Option<JourneyRecord>,
        now: u64,
    ) -> Action {
        let policy = &ctx.setup.policy;
        let flow = self.req.flow;
        let mut user = user.unwrap_or_else(|| UserRecord::new(&self.req.user_id));
        if user
            .requesting(flow, now)
            .is_some_and(|r| r.by != ctx.new_id)
        {
            return self.wait_or("a token request of this journey is in progress", now);
        }
        if !self.claimed
            && user.tokens.count_at(now, policy.token_window_ms) >= policy.user_token_requests
        {
            return Action::Failed {
                log: None,
                error: Error::limit_exceeded(
                    "user_token_requests",
                    Some(user.tokens.ends_in(now, policy.token_window_ms)),
                    format!(
                        "this user has caused {} token requests in the window, the policy's limit",
                        policy.user_token_requests
                    ),
                ),
            };
        }
        if let (Some(left), false) = (ctx.backoff.left(self.token_operation(), now), self.claimed) {
            return Action::Failed {
                log: None,
                error: Error::backing_off(left),
            };
        }
        if let (Some(budget), false) = (policy.service_token_requests, self.service_taken) {
            let Some(service) = self.service.clone() else {
                self.pending = Pending::ReadService;
                return Action::Read {
                    table: Table::Users,
                    id: SERVICE_KEY.to_owned(),
                };
            };
            let mut service = service.unwrap_or_else(|| UserRecord::new(SERVICE_KEY));
            if service.tokens.count_at(now, policy.service_window_ms) >= budget {
                return Action::Failed {
                    log: None,
                    error: Error::limit_exceeded(
                        "service_token_requests",
                        Some(service.tokens.ends_in(now, policy.service_window_ms)),
                        format!(
                            "the service has made {budget} token requests in the window, its budget"
                        ),
                    ),
                };
            }
            let read = service.version;
            service.tokens.take(now, policy.service_window_ms);
            service.touch(now, policy.service_window_ms);
            self.pending = Pending::WriteService;
            return write(Table::Users, service.to_json(), read);
        }
        let journey_id = journey
            .as_ref()
            .map_or_else(|| ctx.new_id.to_owned(), |j| j.id.clone());
        if !self.claimed {
            let read = user.version;
            let claim_ms = if self.req.interactive {
                ctx.setup.token_claim_interactive_ms
            } else {
                ctx.setup.token_claim_ms
            };
            let slot = user.slot_mut(flow);
            slot.journey_id = Some(journey_id.clone());
            slot.requesting = Some(Requesting {
                journey_id,
                by: ctx.new_id.to_owned(),
                since_ms: now,
                until_ms: now.saturating_add(claim_ms),
            });
            user.tokens.take(now, policy.token_window_ms);
            user.touch(now, policy.retention_ms);
            self.pending = Pending::Claim;
            return write(Table::Users, user.to_json(), read);
        }
        let journey = match journey {
            Some(j) => j,
            None if !self.inserted => {
                let mut j = JourneyRecord {
                    id: ctx.new_id.to_owned(),
                    version: 0,
                    flow,
                    user_id: self.req.user_id.clone(),
                    assurance_type: self.req.assurance_type,
                    resource: policy.resource.clone(),
                    max_attempts: policy.max_attempts,
                    window_ms: Some(policy.attempt_window_ms),
                    expires_at_ms: 0,
                    retention_ms: policy.retention_ms,
                    token_ttl_ms: policy.token_ttl_ms,
                    created_at_ms: now,
                    updated_at_ms: now,
                    attempts: Vec::new(),
                };
                j.touch(now);
                self.pending = Pending::Insert;
                return Action::Insert {
                    table: Table::Journeys,
                    record: j.to_json(),
                };
            }
            None => return no_such_journey(),
        };
        let mut input = json!({"resource": journey.resource, "user_id": journey.user_id});
        if let (Some(assurance), Value::Object(map)) = (journey.assurance_type, &mut input) {
            map.insert("assurance_type".into(), json!(assurance.as_str()));
        }
        let attempt = u32::try_from(journey.attempts.len() + 1).unwrap_or(u32::MAX);
        self.pending = Pending::CallToken;
        self.call(flow.token_operation().name(), input, Some(attempt))
    }

    fn after_token(&mut self, ctx: &Ctx<'_>, now: u64) -> Action {
        if !self.issued {
            let Some(Some(mut journey)) = self.journey.clone() else {
                let id = self.journey_id().map(str::to_owned);
                return match id.or_else(|| {
                    self.user
                        .as_ref()
                        .and_then(|u| u.as_ref())
                        .and_then(|u| u.slot(self.req.flow))
                        .and_then(|s| s.journey_id.clone())
                }) {
                    Some(id) => {
                        self.pending = Pending::ReadJourney;
                        Action::Read {
                            table: Table::Journeys,
                            id,
                        }
                    }
                    None => no_such_journey(),
                };
            };
            let result = self.token.clone().unwrap_or(Value::Null);
            let token = result.get("token").and_then(Value::as_str).unwrap_or("");
            if let Some(named) = result.get("user_id").and_then(Value::as_str)
                && named != journey.user_id
            {
                self.call_error = Some(Error::invalid_input(
                    "user_id",
                    "the token answer names another user than this journey's",
                ));
                return self.decide(ctx, now);
            }
            let read = journey.version;
            match journey.token_issued(token, now) {
                Ok(()) => {
                    if let Some(open) = journey.open().cloned() {
                        self.answer = Some(issued(ctx.config, &journey, &open));
                    }
                    return self.write_journey(&journey, read);
                }
                // The journey passed meanwhile (a late answer replayed from a spool): the
                // new token is not needed.
                Err(_) if journey.passed().is_some() => {
                    self.issued = true;
                    self.answer = Some(finished(&journey, None, now));
                }
                Err(error) => {
                    self.call_error = Some(error);
                    return self.decide(ctx, now);
                }
            }
        }
        self.finish_up(ctx, now)
    }

    /// After the outcome is written: release the claim, append the audit records, answer.
    fn finish_up(&mut self, ctx: &Ctx<'_>, now: u64) -> Action {
        if self.claimed && !self.cleared && self.clear_tries < 4 {
            let Some(user) = self.user.clone() else {
                self.pending = Pending::ReadUser;
                return Action::Read {
                    table: Table::Users,
                    id: self.req.user_id.clone(),
                };
            };
            match user {
                Some(mut user) if self.ours(ctx, &user) => {
                    let read = user.version;
                    user.slot_mut(self.req.flow).requesting = None;
                    user.touch(now, ctx.setup.policy.retention_ms);
                    self.pending = Pending::Clear;
                    return write(Table::Users, user.to_json(), read);
                }
                _ => self.cleared = true,
            }
        }
        if !self.audit.is_empty()
            && let Some(id) = self.journey_id().map(str::to_owned)
        {
            self.pending = Pending::Audit;
            return Action::AppendAudit {
                journey_id: id,
                records: self.audit.clone(),
            };
        }
        match self.answer.clone() {
            Some(answer) => Action::Done { answer },
            None => no_such_journey(),
        }
    }

    /// The token request failed (or its answer could not be taken): release the claim so
    /// the user's next start need not wait for it to lapse, keep the call's audit records,
    /// then raise the error.
    fn give_up(&mut self, ctx: &Ctx<'_>, error: Error, now: u64) -> Action {
        if self.claimed && self.clear_tries < 4 {
            let Some(user) = self.user.clone() else {
                self.pending = Pending::ReadUser;
                return Action::Read {
                    table: Table::Users,
                    id: self.req.user_id.clone(),
                };
            };
            if let Some(mut user) = user.filter(|u| self.ours(ctx, u)) {
                let read = user.version;
                user.slot_mut(self.req.flow).requesting = None;
                if !self.asked {
                    // The token request never left: it is not the user's to count.
                    user.tokens.give_back();
                }
                user.touch(now, ctx.setup.policy.retention_ms);
                self.pending = Pending::Release;
                return write(Table::Users, user.to_json(), read);
            }
            self.claimed = false;
        }
        if !self.audit.is_empty()
            && let Some(id) = self.journey_id().map(str::to_owned)
        {
            self.pending = Pending::Audit;
            return Action::AppendAudit {
                journey_id: id,
                records: self.audit.clone(),
            };
        }
        Action::Failed { error, log: None }
    }

    fn write_journey(&mut self, journey: &JourneyRecord, read: u64) -> Action {
        self.pending = Pending::WriteJourney;
        write(Table::Journeys, journey.to_json(), read)
    }

    fn call(&self, operation: &'static str, input: Value, attempt: Option<u32>) -> Action {
        Action::Call {
            operation,
            input,
            attempt,
            max_wait_ms: self.max_wait(),
        }
    }

    fn wait_or(&mut self, what: &str, now: u64) -> Action {
        if now < self.wait_until_ms {
            self.pending = Pending::SleepWait;
            return Action::Sleep {
                until_ms: now.saturating_add(WAIT_POLL_MS).min(self.wait_until_ms),
            };
        }
        Action::Failed {
            log: None,
            error: Error::invalid_state(what),
        }
    }

    /// True when `user` holds this pump's claim on the flow's token request.
    fn ours(&self, ctx: &Ctx<'_>, user: &UserRecord) -> bool {
        user.slot(self.req.flow)
            .and_then(|s| s.requesting.as_ref())
            .is_some_and(|r| r.by == ctx.new_id)
    }

    /// Answers with `answer` once the claim (if this pump holds one) is released and the
    /// calls' audit records are appended.
    fn done(&mut self, ctx: &Ctx<'_>, answer: Value, now: u64) -> Action {
        self.answer = Some(answer);
        self.finish_up(ctx, now)
    }
}

/// A write of `record` read at `read` (version 0: not stored yet, an insert).
fn write(table: Table, record: Value, read: u64) -> Action {
    if read == 0 {
        Action::Insert { table, record }
    } else {
        Action::Update {
            table,
            record,
            expected_version: read,
        }
    }
}

fn no_such_journey() -> Action {
    Action::Failed {
        log: None,
        error: Error::invalid_state("no such journey"),
    }
}

/// True when the config can call the users API (OAuth credentials or an access token).
fn can_use_users_api(ctx: &Ctx<'_>) -> bool {
    ctx.config.oauth_username().is_some() || ctx.config.access_token().is_some()
}

/// The error a call reported (core's canonical JSON), as core's error.
fn call_error(ctx: &Ctx<'_>, error: Option<Value>) -> Error {
    let _ = ctx;
    error
        .as_ref()
        .and_then(|e| {
            crate::flows::json::error_from_json(crate::operation::Operation::EnrolToken, e).ok()
        })
        .unwrap_or_else(|| {
            Error::invalid_input("event", "a call outcome needs a result or an error")
        })
}

/// What `get_user`'s answer says of the user.
fn held(result: Option<&Value>, error: Option<Value>) -> Result<Held, Error> {
    if let Some(result) = result {
        let status = result.get("status").and_then(Value::as_str).unwrap_or("");
        return Ok(match status.to_ascii_lowercase().as_str() {
            "active" => Held::Active,
            "inactive" => Held::Inactive,
            "suspended" => Held::Suspended,
            _ => Held::Absent, // deleted (or a status iProov may add): enrol again
        });
    }
    let error = error
        .as_ref()
        .and_then(|e| {
            crate::flows::json::error_from_json(crate::operation::Operation::GetUser, e).ok()
        })
        .unwrap_or_else(|| {
            Error::invalid_input("event", "a call outcome needs a result or an error")
        });
    // iProov documents a missing user as 400 `no_user` or `invalid_user_id` (spec 4.9).
    if matches!(error.code(), "no_user" | "invalid_user_id") {
        Ok(Held::Absent)
    } else {
        Err(error)
    }
}

/// The spool entry for audit records the store could not take.
fn spool_audit(id: &str, journey_id: &str, records: Vec<Value>, spool: bool, now: u64) -> Action {
    let entry = super::spool::SpoolEntry {
        id: id.to_owned(),
        journey_id: journey_id.to_owned(),
        token_sha256: None,
        outcome: None,
        audit: records,
        at_ms: now,
    };
    Action::Spool {
        entry: entry.to_json(),
        log: Some(if spool {
            format!(
                "iproov journey {journey_id}: the store failed appending audit records; they wait \
                 in the spool until the store is back"
            )
        } else {
            format!(
                "iproov journey {journey_id}: the store failed appending audit records, and this \
                 service has no spool: they are lost"
            )
        }),
    }
}
