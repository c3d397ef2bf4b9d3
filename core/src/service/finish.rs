//! `finish` (validate once, across every instance) and `replay` (a spooled outcome into the
//! store).
//!
//! The order, decided here: read the journey; answer the stored outcome to a double submit;
//! move the attempt to `validating` with a compare-and-set *before* the validate leaves (a
//! second instance then waits or is refused, and never sends a second validate); send it;
//! spool iProov's answer (write-ahead, when the host has a spool); write the outcome as one
//! compare-and-set (a conflict reads again and applies it again; a late answer replaces a
//! stale `outcome_unknown`); append the call's audit records; tombstone the spool entry. A
//! store that fails after iProov answered is tried again for
//! [`super::policy::STORE_RETRY_MS`]; then the caller gets `store_unavailable` carrying the
//! outcome, which the spool replays into the store once it is back.

use super::finished;
use super::pump::{Action, Ctx, Event, StoreRetry, Table, unexpected};
use super::record::{AttemptState, Exit, JourneyRecord, token_sha256};
use super::spool::{SpoolEntry, kept_outcome};
use super::start::WAIT_POLL_MS;
use crate::driver::INTERACTIVE_MAX_WAIT_MS;
use crate::error::Error;
use crate::json_object::json_object;
use crate::operation::from_json_value as from_value;
use serde_json::{Value, json};

struct FinishRequest {
    journey_id: String,
    token: String,
    client: String,
    user_id: Option<String>,
    interactive: bool,
    wait_ms: u64,
    spool: bool,
}
json_object! {
    FinishRequest, deny_unknown_fields;
    req journey_id, req token, req client, opt user_id, opt interactive, opt wait_ms, opt spool,
}

/// `exit`: iProov's SDK ended an attempt without a capture.
struct ExitRequest {
    journey_id: String,
    token: String,
    client: String,
    user_id: Option<String>,
    event: String,
    feedback: Option<String>,
    // What every request may carry; an exit sends nothing and waits for nothing.
    interactive: bool,
    wait_ms: u64,
    spool: bool,
}
json_object! {
    ExitRequest, deny_unknown_fields;
    req journey_id, req token, req client, opt user_id, req event, opt feedback, opt interactive,
    opt wait_ms, opt spool,
}

struct ReplayRequest {
    entry: Value,
}
json_object! {
    ReplayRequest, deny_unknown_fields;
    req entry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Nothing,
    Read,
    Settle,
    Begin,
    Call,
    Ahead,
    Outcome,
    Audit,
    Unspool,
    SleepWait,
    SleepRetry,
}

pub(super) struct FinishJob {
    journey_id: String,
    /// The attempt's token as SHA-256: how the record knows it.
    sha: String,
    /// `None` for a replay (no validate is ever sent from a spool).
    request: Option<FinishRequest>,
    /// The spool entry's id: a replay's, or the write-ahead entry's.
    entry_id: Option<String>,
    wait_until_ms: u64,
    journey: Option<Option<JourneyRecord>>,
    pending: Pending,
    writing: Option<Value>,
    began: bool,
    /// The validate's outcome: `{"result"}` or `{"error"}`.
    outcome: Option<Value>,
    /// The write-ahead spool: `None` not tried (or no spool), `Some(took)`.
    ahead: Option<bool>,
    /// A validate that failed before it was sent: raised once the attempt is `issued` again.
    never_sent: Option<Error>,
    /// An `exit` request's SDK exit (no validate is sent).
    exit: Option<Exit>,
    written: bool,
    audit: Vec<Value>,
    audit_done: bool,
    answer: Option<Value>,
    retry: StoreRetry,
}

impl FinishJob {
    pub(super) fn new(fields: &Value, now: u64) -> Result<Self, Error> {
        let request: FinishRequest = from_value("request", fields)?;
        crate::validation::check_token(&request.token)?;
        crate::validation::check_required_text("client", &request.client)?;
        crate::validation::check_required_text("journey_id", &request.journey_id)?;
        Ok(Self {
            journey_id: request.journey_id.clone(),
            sha: token_sha256(&request.token),
            wait_until_ms: now.saturating_add(request.wait_ms),
            request: Some(request),
            ..Self::empty()
        })
    }

    pub(super) fn replay(fields: &Value) -> Result<Self, Error> {
        let request: ReplayRequest = from_value("request", fields)?;
        let entry = SpoolEntry::from_json(&request.entry)?;
        Ok(Self {
            journey_id: entry.journey_id,
            sha: entry.token_sha256.unwrap_or_default(),
            entry_id: Some(entry.id),
            began: true,
            written: entry.outcome.is_none(),
            outcome: entry.outcome,
            audit: entry.audit,
            answer: Some(json!({"replayed": true})),
            ..Self::empty()
        })
    }

    fn empty() -> Self {
        Self {
            journey_id: String::new(),
            sha: String::new(),
            request: None,
            entry_id: None,
            wait_until_ms: 0,
            journey: None,
            pending: Pending::Nothing,
            writing: None,
            began: false,
            outcome: None,
            ahead: None,
            never_sent: None,
            written: false,
            audit: Vec::new(),
            audit_done: false,
            answer: None,
            retry: StoreRetry::default(),
            exit: None,
        }
    }

    pub(super) fn exit(fields: &Value, now: u64) -> Result<Self, Error> {
        let request: ExitRequest = from_value("request", fields)?;
        let _ = (request.interactive, request.wait_ms, request.spool);
        let finish = json!({"journey_id": request.journey_id, "token": request.token,
                            "client": request.client, "user_id": request.user_id});
        let mut job = Self::new(&finish, now)?;
        let exit = Exit {
            event: request.event,
            feedback: request.feedback,
        };
        exit.check()?;
        job.exit = Some(exit);
        Ok(job)
    }

    fn spool(&self) -> bool {
        self.request.as_ref().is_some_and(|r| r.spool)
    }

    pub(super) fn next(&mut self, ctx: &Ctx<'_>, event: Option<Event>, now: u64) -> Action {
        if let Err(action) = self.take(event, now) {
            return action;
        }
        let action = self.decide(ctx, now);
        if let Action::Update { record, .. } = &action {
            self.writing = Some(record.clone());
        }
        action
    }

    fn take(&mut self, event: Option<Event>, now: u64) -> Result<(), Action> {
        let pending = std::mem::replace(&mut self.pending, Pending::Nothing);
        let written = self.writing.take();
        let adopt = |value: Option<Value>| {
            value
                .as_ref()
                .map(JourneyRecord::from_json)
                .transpose()
                .map_err(|error| Action::Failed { error, log: None })
        };
        match (pending, event) {
            (Pending::Nothing, None) => {}
            (Pending::Read, Some(Event::Read(v))) => self.journey = Some(adopt(v)?),
            (Pending::Settle | Pending::Begin | Pending::Outcome, Some(Event::Written(ok))) => {
                self.retry.reset();
                if ok {
                    self.journey = Some(adopt(written)?);
                    match pending {
                        Pending::Begin => self.began = true,
                        Pending::Outcome => self.written = true,
                        _ => {}
                    }
                } else {
                    self.journey = None;
                }
            }
            (
                Pending::Call,
                Some(Event::Called {
                    result,
                    error,
                    audit,
                }),
            ) => {
                self.audit.extend(audit);
                self.outcome = Some(match (result, error) {
                    (Some(result), None) => json!({"result": result}),
                    (_, Some(error)) => json!({"error": error}),
                    _ => {
                        return Err(Action::Failed {
                            log: None,
                            error: Error::invalid_input(
                                "event",
                                "a call outcome needs a result or an error",
                            ),
                        });
                    }
                });
            }
            (Pending::Ahead, Some(Event::Spooled(took))) => self.ahead = Some(took),
            (Pending::Audit, Some(Event::Written(_))) => self.audit_done = true,
            (Pending::Unspool, Some(Event::Spooled(_))) => self.ahead = Some(false),
            (Pending::SleepWait, Some(Event::Slept)) => self.journey = None,
            (Pending::SleepRetry, Some(Event::Slept)) => {}
            (pending, Some(Event::StoreFailed)) => return self.on_store_failure(pending, now),
            (_, event) => return Err(unexpected(&event)),
        }
        Ok(())
    }

    fn on_store_failure(&mut self, pending: Pending, now: u64) -> Result<(), Action> {
        let id = self.journey_id.clone();
        let replaying = self.request.is_none();
        match pending {
            // iProov answered: write the outcome again for a while (and read the journey
            // again for a while, after a conflict).
            Pending::Outcome | Pending::Read if !replaying && self.outcome.is_some() => {
                match self.retry.next_try(now) {
                    Some(at) => {
                        self.pending = Pending::SleepRetry;
                        Err(Action::Sleep { until_ms: at })
                    }
                    None => Err(self.outcome_lost(if pending == Pending::Read {
                        "get"
                    } else {
                        "update"
                    })),
                }
            }
            // The outcome is stored; the spool entry (kept) brings the records later.
            Pending::Audit if !replaying && self.ahead == Some(true) => {
                self.audit_done = true;
                self.ahead = Some(false);
                Ok(())
            }
            Pending::Audit if !replaying => Err(self.outcome_lost("append_audit")),
            Pending::Read => Err(failed_store("get", &id)),
            // Before the validate left nothing was sent; a replay keeps its entry.
            _ => Err(failed_store("update", &id)),
        }
    }

    /// The store failed after iProov answered: the caller gets the outcome in the error, and
    /// the log says where else it is.
    fn outcome_lost(&self, store_operation: &str) -> Action {
        let state = self
            .answer
            .as_ref()
            .and_then(|a| a.get("state"))
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        let passed = self
            .answer
            .as_ref()
            .and_then(|a| a.get("passed"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let place = match self.ahead {
            Some(true) => "it waits in the spool until the store is back",
            _ if self.spool() => {
                "the spool refused it too: it exists only in the error the caller got"
            }
            _ => "this service has no spool: it exists only in the error the caller got",
        };
        Action::Failed {
            error: Error::store_unavailable(
                store_operation,
                Some(&self.journey_id),
                self.answer.clone(),
            ),
            log: Some(format!(
                "iproov journey {}: the store failed ({store_operation}) after iProov answered; the \
                 outcome ({state}, passed={passed}): {place}",
                self.journey_id
            )),
        }
    }

    fn decide(&mut self, ctx: &Ctx<'_>, now: u64) -> Action {
        if self.ahead.is_none() && self.spool() && self.outcome.as_ref().is_some_and(is_answer) {
            return self.spool_ahead(ctx, now);
        }
        let Some(journey) = self.journey.clone() else {
            self.pending = Pending::Read;
            return Action::Read {
                table: Table::Journeys,
                id: self.journey_id.clone(),
            };
        };
        let Some(mut journey) = journey else {
            return match self.request {
                Some(_) => no_such_journey(),
                // The journey is gone (retention, erased): nothing to replay into.
                None => Action::Done {
                    answer: json!({"replayed": false, "reason": "no such journey"}),
                },
            };
        };
        if self.written {
            return self.wrap_up();
        }
        let Some(index) = journey
            .attempts
            .iter()
            .position(|a| a.token_sha256 == self.sha)
        else {
            return Action::Failed {
                log: None,
                error: Error::invalid_state("this token belongs to no attempt of the journey"),
            };
        };
        if let Some(outcome) = self.outcome.clone() {
            return self.record_outcome(ctx, journey, index, &outcome, now);
        }
        let Some(request) = &self.request else {
            return no_such_journey();
        };
        if request
            .user_id
            .as_ref()
            .is_some_and(|u| *u != journey.user_id)
        {
            return no_such_journey();
        }
        if self.began {
            let action = send(&journey, index, request);
            self.pending = Pending::Call;
            return action;
        }
        let read = journey.version;
        if journey.settle(now, ctx.setup.stale_validate_ms()) {
            self.pending = Pending::Settle;
            return update(&journey, read);
        }
        let state = journey.attempts.get(index).map(|a| a.state);
        // A journey that passed takes no further validate, whichever token is submitted.
        let passed = journey.passed().map(|p| p.number);
        match state.unwrap_or(AttemptState::Expired) {
            AttemptState::Issued if passed.is_none() => {
                if let Some(exit) = self.exit.clone() {
                    if let Err(error) = journey.exited(index, exit, &request.client, now) {
                        return Action::Failed { error, log: None };
                    }
                    self.answer = Some(finished(&journey, Some(index), now));
                    self.pending = Pending::Outcome;
                    return update(&journey, read);
                }
                if let Err(error) = journey.begin_validate(
                    index,
                    &request.client,
                    now,
                    ctx.setup.stale_validate_ms(),
                ) {
                    return Action::Failed { error, log: None };
                }
                self.pending = Pending::Begin;
                update(&journey, read)
            }
            AttemptState::Validating => {
                if now < self.wait_until_ms {
                    self.pending = Pending::SleepWait;
                    return Action::Sleep {
                        until_ms: now.saturating_add(WAIT_POLL_MS).min(self.wait_until_ms),
                    };
                }
                Action::Failed {
                    log: None,
                    error: Error::invalid_state("a validate of this token is in progress"),
                }
            }
            // Already validated (a double submit, a replay), or the journey is done: the stored
            // outcome, never a second validate.
            _ => Action::Done {
                answer: finished(&journey, Some(index).filter(|_| passed.is_none()), now),
            },
        }
    }

    /// iProov answered: the outcome goes to the spool before the store (a process killed
    /// between the two loses nothing).
    fn spool_ahead(&mut self, ctx: &Ctx<'_>, now: u64) -> Action {
        let entry = SpoolEntry {
            id: ctx.new_id.to_owned(),
            journey_id: self.journey_id.clone(),
            token_sha256: Some(self.sha.clone()),
            outcome: self.outcome.as_ref().map(kept_outcome),
            audit: self.audit.clone(),
            at_ms: now,
        };
        self.pending = Pending::Ahead;
        self.entry_id = Some(ctx.new_id.to_owned());
        Action::Spool {
            entry: entry.to_json(),
            log: None,
        }
    }

    fn record_outcome(
        &mut self,
        ctx: &Ctx<'_>,
        mut journey: JourneyRecord,
        index: usize,
        outcome: &Value,
        now: u64,
    ) -> Action {
        let read = journey.version;
        let applied = match (outcome.get("result"), outcome.get("error")) {
            (Some(result), _) => {
                let text = serde_json::to_vec(result).unwrap_or_default();
                crate::ops::validate::parse_validate(
                    ctx.config,
                    &crate::http::Response::new(200, &[], &text),
                )
                .map_err(|e| Error::invalid_input("result", e.message()))
                .and_then(|result| journey.validated(index, &result, now))
            }
            // A replay applies iProov's answers only (never a send that did not happen).
            (None, Some(_)) if self.request.is_none() && !is_answer(outcome) => {
                Err(Error::invalid_state("not an answer of iProov's"))
            }
            (None, Some(error)) => {
                crate::flows::json::error_from_json(journey.flow.validate_operation(), error)
                    .and_then(|error| {
                        journey.validate_failed(index, &error, now)?;
                        if journey
                            .attempts
                            .get(index)
                            .is_some_and(|a| a.state == AttemptState::Issued)
                        {
                            self.never_sent = Some(error);
                        }
                        Ok(())
                    })
            }
            (None, None) => Err(Error::invalid_input(
                "outcome",
                "needs a result or an error",
            )),
        };
        if self.request.is_some() {
            self.answer = Some(finished(&journey, Some(index), now));
        }
        if applied.is_err() {
            // Another instance (or a replay) recorded this attempt's outcome: it stands.
            self.written = true;
            return self.wrap_up();
        }
        self.pending = Pending::Outcome;
        update(&journey, read)
    }

    /// After the outcome is written: the audit records, the spool's tombstone, then the
    /// answer (or the error of a validate that was never sent).
    fn wrap_up(&mut self) -> Action {
        if !self.audit.is_empty() && !self.audit_done {
            self.pending = Pending::Audit;
            return Action::AppendAudit {
                journey_id: self.journey_id.clone(),
                records: self.audit.clone(),
            };
        }
        if self.ahead == Some(true) {
            self.pending = Pending::Unspool;
            return Action::Unspool {
                id: self.entry_id.clone().unwrap_or_default(),
            };
        }
        if let Some(error) = self.never_sent.clone() {
            return Action::Failed { error, log: None };
        }
        Action::Done {
            answer: self.answer.clone().unwrap_or(Value::Null),
        }
    }
}

/// True for an outcome that is iProov's answer: a result, or an error iProov reported. A
/// send that failed (or never happened) is not one: nothing to keep for later.
fn is_answer(outcome: &Value) -> bool {
    if outcome.get("result").is_some() {
        return true;
    }
    outcome
        .get("error")
        .and_then(|e| e.get("kind"))
        .and_then(Value::as_str)
        .and_then(crate::error::ErrorKind::parse)
        .is_some_and(crate::error::ErrorKind::is_api)
}

fn send(journey: &JourneyRecord, index: usize, request: &FinishRequest) -> Action {
    Action::Call {
        operation: journey.flow.validate_operation().name(),
        input: json!({"user_id": journey.user_id, "token": request.token,
                      "client": request.client}),
        attempt: journey.attempts.get(index).map(|a| a.number),
        max_wait_ms: request.interactive.then_some(INTERACTIVE_MAX_WAIT_MS),
    }
}

fn update(journey: &JourneyRecord, read: u64) -> Action {
    Action::Update {
        table: Table::Journeys,
        record: journey.to_json(),
        expected_version: read,
    }
}

fn no_such_journey() -> Action {
    Action::Failed {
        log: None,
        error: Error::invalid_state("no such journey"),
    }
}

fn failed_store(operation: &str, journey_id: &str) -> Action {
    Action::Failed {
        log: None,
        error: Error::store_unavailable(operation, Some(journey_id), None),
    }
}
