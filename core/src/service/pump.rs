//! The journey pump: one `start`, `finish` or spool `replay` of the journey service as a
//! state machine the host pumps, in the call driver's shape (h11, quinn-proto). The host's
//! loop is the same in every host and decides nothing:
//!
//! ```text
//! pump = Pump::new(config, setup, request, new_id, now)
//! event = None
//! loop:
//!     action = pump.next(event, now)
//!     match action:
//!         read {table, id}                  -> event = {"read": record | null}
//!         insert {table, record}            -> event = {"written": true | false}   (false: the id exists)
//!         update {table, record, expected_version}
//!                                           -> event = {"written": true | false}   (false: another version)
//!         append_audit {journey_id, records} -> event = {"written": true}
//!         forget {user_id}                  -> run the store's `forget` statements in one
//!                                              transaction; event = {"forgotten":
//!                                              {"journeys": n, "audit_records": m}}
//!         call {operation, input, attempt?, max_wait_ms?}
//!                                           -> run it through the client (its driver):
//!                                              event = {"result": {...}, "audit": [...]}
//!                                                   or {"error": {...}, "audit": [...]}
//!         sleep {until_ms}                  -> sleep; event = {"slept": true}
//!         spool {entry, log?}               -> append `entry` to the spool, durably (fsync);
//!                                              log `log` at error level if given;
//!                                              event = {"spooled": true | false}
//!         unspool {id}                      -> append the entry's tombstone `{"done": id,
//!                                              "at_ms"}` (no fsync needed); event = {"spooled": true}
//!         done {answer}                     -> return it
//!         failed {error, log?}              -> log `log` at error level if given; raise the error
//!                                              (its class: core's kind)
//!     any store call that raises            -> event = {"store_failed": "<store call>"}
//! ```
//!
//! Through the text interface ([`crate::host::pump_next`]) a final `done` or `failed` also
//! carries `event`: the request's telemetry ([`Pump::event`], [`crate::telemetry`]).
//!
//! What the pump decides (none of it is left to a host): every transition of the journey and
//! of the user's limits, the order of the writes (an outcome before its audit records), what a
//! conflict means (read again and decide again), how long to wait for another instance, how
//! long a failing store is retried and when a validated outcome goes to the spool, and every
//! error. Time comes in as `now`; a new journey's id and the instance's claim mark come in as
//! `new_id` (the host draws it randomly).

use super::backoff::Backoff;
use super::finish::FinishJob;
use super::forget::ForgetJob;
use super::policy::{Resolved, STORE_RETRY_MS};
use super::start::StartJob;
use crate::config::Config;
use crate::error::Error;
use crate::json_object::json_object;
use crate::operation::from_json_value as from_value;
use serde_json::{Map, Value, json};

/// The tables a store keeps (see [`super::schema`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Journey records ([`super::JourneyRecord`]).
    Journeys,
    /// The users' limits and the service's budget ([`super::UserRecord`]).
    Users,
}

impl Table {
    /// `journeys` or `users`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Journeys => "journeys",
            Self::Users => "users",
        }
    }
}

/// What the host does next (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Read one record.
    Read {
        /// Where.
        table: Table,
        /// Its id.
        id: String,
    },
    /// Store a new record (`false` when its id exists).
    Insert {
        /// Where.
        table: Table,
        /// The record.
        record: Value,
    },
    /// Replace a record if the stored one has `expected_version` (compare-and-set).
    Update {
        /// Where.
        table: Table,
        /// The record.
        record: Value,
        /// The version it replaces.
        expected_version: u64,
    },
    /// Erase the user's journeys, their audit records and the user's record, in one
    /// transaction (the store's `forget` statements).
    Forget {
        /// The user.
        user_id: String,
    },
    /// Append audit records to a journey's.
    AppendAudit {
        /// The journey.
        journey_id: String,
        /// The records, in order.
        records: Vec<Value>,
    },
    /// Make an API call through the client's driver.
    Call {
        /// The operation's name.
        operation: &'static str,
        /// Its input (vector format).
        input: Value,
        /// The journey attempt, for the call's audit records.
        attempt: Option<u32>,
        /// The call's wait bound ([`crate::driver::CallContext::max_wait_ms`]).
        max_wait_ms: Option<u64>,
    },
    /// Sleep until then.
    Sleep {
        /// Unix ms.
        until_ms: u64,
    },
    /// Append `entry` to the spool, durably (and log `log` at error level when given).
    Spool {
        /// The spool entry ([`SpoolEntry`]'s JSON).
        entry: Value,
        /// What to log: the journey, the outcome, where it waits; no token, no secret.
        log: Option<String>,
    },
    /// The entry `id` reached the store: append its tombstone.
    Unspool {
        /// The entry's id.
        id: String,
    },
    /// Finished: give the caller `answer`.
    Done {
        /// The answer.
        answer: Value,
    },
    /// Finished: raise `error` (after logging `log` at error level, when given).
    Failed {
        /// The error.
        error: Error,
        /// What to log: a validated outcome the store could not take.
        log: Option<String>,
    },
}

impl Action {
    /// The action as JSON: `{"do": "read" | ..., ...fields}`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Read { table, id } => json!({"do": "read", "table": table.as_str(), "id": id}),
            Self::Insert { table, record } => {
                json!({"do": "insert", "table": table.as_str(), "record": record})
            }
            Self::Update {
                table,
                record,
                expected_version,
            } => json!({"do": "update", "table": table.as_str(), "record": record,
                        "expected_version": expected_version}),
            Self::AppendAudit {
                journey_id,
                records,
            } => json!({"do": "append_audit", "journey_id": journey_id, "records": records}),
            Self::Call {
                operation,
                input,
                attempt,
                max_wait_ms,
            } => {
                let mut map = Map::new();
                map.insert("do".into(), json!("call"));
                map.insert("operation".into(), json!(operation));
                map.insert("input".into(), input.clone());
                if let Some(attempt) = attempt {
                    map.insert("attempt".into(), json!(attempt));
                }
                if let Some(ms) = max_wait_ms {
                    map.insert("max_wait_ms".into(), json!(ms));
                }
                Value::Object(map)
            }
            Self::Sleep { until_ms } => json!({"do": "sleep", "until_ms": until_ms}),
            Self::Forget { user_id } => json!({"do": "forget", "user_id": user_id}),
            Self::Spool { entry, log } => match log {
                Some(log) => json!({"do": "spool", "entry": entry, "log": log}),
                None => json!({"do": "spool", "entry": entry}),
            },
            Self::Unspool { id } => json!({"do": "unspool", "id": id}),
            Self::Done { answer } => json!({"do": "done", "answer": answer}),
            Self::Failed { error, log } => match log {
                Some(log) => json!({"do": "failed", "error": error.to_json(), "log": log}),
                None => json!({"do": "failed", "error": error.to_json()}),
            },
        }
    }
}

/// What happened to the last action (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The record read (`None`: there is none).
    Read(Option<Value>),
    /// Whether the write took.
    Written(bool),
    /// The call's outcome and its audit records.
    Called {
        /// The result's canonical JSON, or
        result: Option<Value>,
        /// the error's canonical JSON.
        error: Option<Value>,
        /// The call's audit records, in order.
        audit: Vec<Value>,
    },
    /// Slept.
    Slept,
    /// Whether the spool took the entry.
    Spooled(bool),
    /// The store call raised.
    StoreFailed,
    /// What a `forget` erased.
    Forgotten {
        /// Journeys.
        journeys: u64,
        /// Audit records.
        audit_records: u64,
    },
}

struct WireEvent {
    read: Option<Value>,
    written: Option<bool>,
    result: Option<Value>,
    error: Option<Value>,
    audit: Option<Vec<Value>>,
    slept: Option<bool>,
    spooled: Option<bool>,
    store_failed: Option<Value>,
    forgotten: Option<Forgotten>,
}

struct Forgotten {
    journeys: u64,
    audit_records: u64,
}
json_object! {
    Forgotten, deny_unknown_fields;
    req journeys, req audit_records,
}
json_object! {
    WireEvent, deny_unknown_fields;
    opt read, opt written, opt result, opt error, opt audit, opt slept, opt spooled,
    opt store_failed, opt forgotten,
}

impl Event {
    /// Reads an event's JSON (see the module docs). `{"read": null}` is a read that found
    /// nothing. Fails with `invalid_input` (field `event`) for anything else.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let has_read = value.get("read").is_some();
        let wire: WireEvent = from_value("event", value)?;
        Ok(match wire {
            WireEvent {
                store_failed: Some(_),
                ..
            } => Self::StoreFailed,
            WireEvent {
                written: Some(w), ..
            } => Self::Written(w),
            WireEvent {
                result: Some(r),
                error: None,
                audit,
                ..
            } => Self::Called {
                result: Some(r),
                error: None,
                audit: audit.unwrap_or_default(),
            },
            WireEvent {
                result: None,
                error: Some(e),
                audit,
                ..
            } => Self::Called {
                result: None,
                error: Some(e),
                audit: audit.unwrap_or_default(),
            },
            WireEvent { slept: Some(_), .. } => Self::Slept,
            WireEvent {
                forgotten: Some(f), ..
            } => Self::Forgotten {
                journeys: f.journeys,
                audit_records: f.audit_records,
            },
            WireEvent {
                spooled: Some(s), ..
            } => Self::Spooled(s),
            WireEvent { read, .. } if has_read => Self::Read(read.filter(|v| !v.is_null())),
            _ => {
                return Err(Error::invalid_input(
                    "event",
                    "one of read, written, result or error (with audit), slept, spooled, forgotten, store_failed",
                ));
            }
        })
    }
}

/// Retries of a write while the store fails: when the next try is due, or `None` once the
/// time for them ([`STORE_RETRY_MS`]) is spent.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StoreRetry {
    since_ms: Option<u64>,
    tries: u32,
}

impl StoreRetry {
    pub(super) fn next_try(&mut self, now: u64) -> Option<u64> {
        let since = *self.since_ms.get_or_insert(now);
        let delay = 100u64.saturating_mul(1 << self.tries.min(10));
        self.tries += 1;
        let at = now.saturating_add(delay);
        (at <= since.saturating_add(STORE_RETRY_MS)).then_some(at)
    }

    pub(super) fn reset(&mut self) {
        *self = Self::default();
    }
}

/// What a job sees of the pump: the configuration, the policy and the instance's mark.
pub(super) struct Ctx<'a> {
    pub(super) config: &'a Config,
    pub(super) setup: &'a Resolved,
    /// A new journey's id and this instance's claim mark.
    pub(super) new_id: &'a str,
    /// The token requests iProov said to hold back, and until when.
    pub(super) backoff: &'a Backoff,
}

enum Job {
    Start(Box<StartJob>),
    Finish(Box<FinishJob>),
    Forget(Box<ForgetJob>),
}

/// One `start`, `finish` or `replay` (see the module docs).
pub struct Pump {
    config: Config,
    setup: Resolved,
    new_id: String,
    backoff: Backoff,
    /// The host's spool held lines before this request (`"spool_lines"`), or this pump
    /// spooled one.
    spool_lines: bool,
    /// When the host's service last replayed its spool (`"replayed_ms"`; `None`: not yet).
    replayed_ms: Option<u64>,
    job: Job,
    /// `start`, `finish` or `replay`.
    action: &'static str,
    started_ms: u64,
    /// Once finished, the same final action again.
    finished: Option<Action>,
}

impl std::fmt::Debug for Pump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The job holds claim tokens: never shown.
        f.debug_struct("Pump").finish_non_exhaustive()
    }
}

impl Pump {
    /// A pump for `request`: `{"action": "start", "flow", "user_id", "journey_id"?,
    /// "assurance_type"?, "interactive"?, "wait_ms"?, "spool"?}`, `{"action": "finish",
    /// "journey_id", "token", "client", "user_id"?, "interactive"?, "wait_ms"?, "spool"?}`,
    /// `{"action": "forget", "user_id", "at_iproov"?, "interactive"?}` (the user's data
    /// erased, at iProov first when `at_iproov`: see the `forget` module),
    /// `{"action": "exit", "journey_id", "token", "client", "user_id"?, "event", "feedback"?}`
    /// (iProov's SDK ended the attempt without a capture: it ends, no validate is sent, and
    /// the next start gets a new token) or `{"action": "replay",
    /// "entry"}` (a spool entry). `interactive`: a person waits on this request (the browser's
    /// endpoints): calls wait at most [`crate::driver::INTERACTIVE_MAX_WAIT_MS`] before a
    /// retry. `wait_ms`: how long to wait for another instance's request in progress on the
    /// same journey (a double submit) before failing `invalid_state`. `spool`: the host keeps
    /// a spool ([`super::spool`]): validated outcomes are written to it ahead of the store,
    /// and audit records the store refused wait there. Any request may carry `"backoff"`: the
    /// object the last finished pump gave ([`Pump::backoff`], [`super::backoff`]), and, from a
    /// host with a spool, `"spool_lines"` (its file is not empty) and `"replayed_ms"` (when
    /// the service last replayed it; `null`: not yet) for [`Pump::replay_due`]. `new_id`: a fresh random
    /// id (a new journey's, and this instance's claim mark). Fails with `invalid_input`.
    pub fn new(
        config: Config,
        setup: Resolved,
        request: &Value,
        new_id: &str,
        now: u64,
    ) -> Result<Self, Error> {
        crate::validation::check_required_text("new_id", new_id)?;
        let action = request.get("action").and_then(Value::as_str).unwrap_or("");
        let mut fields = request.clone();
        let (mut backoff, mut lines, mut replayed) = (None, None, None);
        if let Value::Object(map) = &mut fields {
            map.remove("action");
            backoff = map.remove("backoff");
            lines = map.remove("spool_lines");
            replayed = map.remove("replayed_ms");
        }
        let backoff = Backoff::from_json(backoff.as_ref());
        // The host's facts for `replay_due`, read leniently: a wrong one only makes a replay
        // sooner or later, never wrong.
        let spool_lines = lines.and_then(|v| v.as_bool()).unwrap_or(false);
        let replayed_ms = replayed.and_then(|v| v.as_u64());
        let (job, action) = match action {
            "start" => (Job::Start(Box::new(StartJob::new(&fields, now)?)), "start"),
            "finish" => (
                Job::Finish(Box::new(FinishJob::new(&fields, now)?)),
                "finish",
            ),
            "replay" => (Job::Finish(Box::new(FinishJob::replay(&fields)?)), "replay"),
            "exit" => (
                Job::Finish(Box::new(FinishJob::exit(&fields, now)?)),
                "exit",
            ),
            "forget" => (Job::Forget(Box::new(ForgetJob::new(&fields)?)), "forget"),
            _ => {
                return Err(Error::invalid_input(
                    "action",
                    "one of start, finish, exit, replay, forget",
                ));
            }
        };
        Ok(Self {
            config,
            setup,
            new_id: new_id.to_owned(),
            backoff,
            spool_lines,
            replayed_ms,
            job,
            action,
            started_ms: now,
            finished: None,
        })
    }

    /// Takes what happened to the last action (`None` for the first call) and gives the next
    /// action. An event that does not answer the last action fails the pump (`invalid_state`)
    /// before anything else is done; once finished, the final action is given again.
    pub fn next(&mut self, event: Option<Event>, now: u64) -> Action {
        if let Some(finished) = &self.finished {
            return finished.clone();
        }
        let ctx = Ctx {
            config: &self.config,
            setup: &self.setup,
            new_id: &self.new_id,
            backoff: &self.backoff,
        };
        let action = match &mut self.job {
            Job::Start(job) => {
                let action = job.next(&ctx, event, now);
                if let Some(error) = job.refused.take() {
                    self.backoff.learn(job.token_operation(), &error, now);
                }
                action
            }
            Job::Finish(job) => job.next(&ctx, event, now),
            Job::Forget(job) => job.next(&ctx, event, now),
        };
        if matches!(action, Action::Spool { .. }) {
            self.spool_lines = true;
        }
        if matches!(action, Action::Done { .. } | Action::Failed { .. }) {
            self.finished = Some(action.clone());
        }
        action
    }

    /// Once finished, whether the host should now replay its spool
    /// ([`super::spool::replay_due`]), from the request's `"spool_lines"` and `"replayed_ms"`.
    pub fn replay_due(&self, now: u64) -> bool {
        self.finished.is_some() && super::spool::replay_due(self.spool_lines, self.replayed_ms, now)
    }

    /// Once finished, the token requests to hold back from now on, when this pump learned
    /// of a new hold ([`super::backoff`]): the object the host hands to its next requests as
    /// `"backoff"`.
    pub fn backoff(&self) -> Option<Value> {
        self.finished.as_ref()?;
        self.backoff.learned_json()
    }

    /// Once finished, the request's telemetry event ([`crate::telemetry::JOURNEY`]): its
    /// action, how it ended, the attempt and what is left, the journey's (random) id; never a
    /// token or a user_id. Its metrics: the request in `iproov.journeys`; when it ended the
    /// journey (passed, or no attempt left), the journey's attempts in
    /// `iproov.journey.attempts` (the last attempt's number: attempts are made in turn).
    pub fn event(&self, now: u64) -> Option<Value> {
        use crate::telemetry::{self as t, Event as Told};
        let (outcome, level, answer, error) = match self.finished.as_ref()? {
            Action::Done { answer } => {
                let outcome = match (
                    answer.get("token"),
                    answer.get("state").and_then(Value::as_str),
                ) {
                    (Some(_), _) => "issued",
                    (None, Some(state)) => state,
                    _ if answer.get("replayed").is_some() => "replayed",
                    _ => "answered",
                };
                let level = if outcome == "outcome_unknown" {
                    "warning"
                } else {
                    "info"
                };
                (outcome.to_owned(), level, Some(answer), None)
            }
            Action::Failed { error, .. } => {
                let level = match error.kind() {
                    crate::error::ErrorKind::StoreUnavailable => "error",
                    crate::error::ErrorKind::InvalidInput
                    | crate::error::ErrorKind::InvalidState => "info",
                    _ => "warning",
                };
                (error.code().to_owned(), level, error.result(), Some(error))
            }
            _ => return None,
        };
        let field = |key: &str| answer.and_then(|a| a.get(key)).cloned();
        let message = format!("iproov journey {}: {outcome}", self.action);
        let mut told = Told::new(t::JOURNEY, level, now, message)
            .since(self.started_ms)
            .with("iproov.journey.action", self.action)
            .with("iproov.outcome", outcome)
            .with_opt("iproov.journey.id", field("journey_id"))
            .with_opt("iproov.attempt", field("attempt"))
            .with_opt("iproov.attempts_left", field("attempts_left"))
            .with_opt("iproov.next", field("next"))
            .with_opt("error.type", error.map(|e| e.code().to_owned()))
            .with_opt(
                "iproov.limit",
                error.and_then(|e| e.limit().map(str::to_owned)),
            )
            .metric(
                t::METRIC_JOURNEYS,
                "counter",
                1,
                None,
                &["iproov.journey.action", "iproov.outcome"],
            );
        // A journey's attempts, once, when it ends: passed, or out of attempts (`next`); an
        // attempt that leaves another to make is not the journey's end.
        let ended = matches!(
            field("next").as_ref().and_then(Value::as_str),
            Some("done" | "exhausted")
        );
        if let (Some(attempt), true) = (field("attempt").and_then(|a| a.as_u64()), ended) {
            told = told.metric(
                t::METRIC_ATTEMPTS,
                "histogram",
                attempt,
                None,
                &["iproov.outcome"],
            );
        }
        Some(told.into_json())
    }
}

/// The step after an event that does not answer the last action (a host bug).
pub(super) fn unexpected(event: &Option<Event>) -> Action {
    Action::Failed {
        log: None,
        error: Error::invalid_state(format!(
            "the event {} does not answer the pump's last action",
            match event {
                None => "(none)",
                Some(Event::Read(_)) => "read",
                Some(Event::Written(_)) => "written",
                Some(Event::Called { .. }) => "call outcome",
                Some(Event::Slept) => "slept",
                Some(Event::Spooled(_)) => "spooled",
                Some(Event::StoreFailed) => "store_failed",
                Some(Event::Forgotten { .. }) => "forgotten",
            }
        )),
    }
}
