//! The journey service: iProov's "store the token, the user_id, the attempts and the validated
//! result" done once for every host, with validate sent once across every instance.
//!
//! A host's service has two entry points, and between them only persists and sends:
//!
//! - **start** (the browser asks for a token): `step("start", stored?, {flow, user_id,
//!   journey_id?}, now)` gives the claim call to make; the host makes it through its client
//!   (core's call driver) and hands the outcome to `step("token_issued", record, outcome)`,
//!   which gives the record to write and `{journey_id, token, sdk_url, attempt,
//!   attempts_left}` for the browser.
//! - **finish** (the SDK reports back): `step("finish", stored, {token, client, user_id?},
//!   now)` (with `user_id`, another user's journey is "no such journey") gives
//!   either the stored outcome (a double-submitted request) or the record moved to
//!   `validating` and the validate call. The host writes that record with compare-and-set
//!   *before* sending: a second instance then finds the attempt `validating` and never sends
//!   a second validate. The validate's outcome goes to `step("validated", record, outcome)`,
//!   which gives the final record and `{passed, reason?, attempts_left, next}`.
//!
//! Every step output says what to write: `{"write": "insert" | "update" | null,
//! "expected_version"?: n, "record", "call"?: {"operation", "input"}, "respond"?: {...}}`.
//! A failed compare-and-set means another instance moved the journey: read it again and run
//! the same step again. Time alone settles a record at every step: an issued token past its
//! lifetime is `expired`; a `validating` attempt whose instance died (its outcome never
//! written after `stale_validate_ms`) is `outcome_unknown`, and a new attempt is offered.
//!
//! What is kept (the guide's list): the user_id and each attempt's state, timestamps, error
//! code and validated result (without images) for the user record and audit; the token only
//! while its attempt is open (then its SHA-256, to recognise a replay); the audit records,
//! which the host appends per journey. A journey may be deleted `retention_ms` after its last
//! change (`expires_at_ms`).

mod record;

pub use record::{AttemptState, JourneyRecord, StoredAttempt};

use crate::config::Config;
use crate::error::Error;
use crate::flows::journey::Flow;
use crate::json_object::json_object;
use crate::operation::{Operation, from_json_value as from_value};
use crate::ops::claim::AssuranceType;
use serde_json::{Map, Value, json};

/// The service's limits. JSON: `{"max_attempts"?: 3, "token_ttl_ms"?: 120000,
/// "stale_validate_ms"?: 90000, "retention_ms"?: 2592000000, "resource"?: "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePolicy {
    /// Attempts per journey (iProov recommends 3).
    pub max_attempts: u32,
    /// A token not validated this long after it was issued is expired (iProov: 2 minutes).
    pub token_ttl_ms: u64,
    /// A validate begun this long ago whose outcome was never written is outcome unknown
    /// (its instance died). Longer than a validate's deadline (20 s) plus its retries before
    /// sending (at most 2, backing off up to 8 s each): 90 s.
    pub stale_validate_ms: u64,
    /// How long a journey is kept after its last change: 30 days.
    pub retention_ms: u64,
    /// The `resource` sent with every token request.
    pub resource: String,
}
json_object! {
    ServicePolicy, deny_unknown_fields;
    dflt max_attempts, dflt token_ttl_ms, dflt stale_validate_ms, dflt retention_ms, dflt resource,
}

impl Default for ServicePolicy {
    fn default() -> Self {
        Self {
            max_attempts: crate::flows::journey::DEFAULT_MAX_ATTEMPTS,
            token_ttl_ms: crate::flows::journey::DEFAULT_TOKEN_TTL_MS,
            stale_validate_ms: 90_000,
            retention_ms: 30 * 24 * 3_600_000,
            resource: "iproov-sansio journey".to_owned(),
        }
    }
}

impl ServicePolicy {
    /// The policy as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "max_attempts": self.max_attempts,
            "token_ttl_ms": self.token_ttl_ms,
            "stale_validate_ms": self.stale_validate_ms,
            "retention_ms": self.retention_ms,
            "resource": self.resource,
        })
    }

    /// Reads and checks a policy (`invalid_input` naming the field).
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let policy: Self = from_value("policy", value)?;
        if policy.max_attempts == 0 {
            return Err(Error::invalid_input("max_attempts", "must be at least 1"));
        }
        if policy.token_ttl_ms == 0 || policy.stale_validate_ms == 0 || policy.retention_ms == 0 {
            return Err(Error::invalid_input(
                "token_ttl_ms",
                "token_ttl_ms, stale_validate_ms and retention_ms must be at least 1",
            ));
        }
        crate::validation::check_required_text("resource", &policy.resource)?;
        Ok(policy)
    }
}

struct StartInput {
    flow: Flow,
    user_id: String,
    journey_id: Option<String>,
    assurance_type: Option<AssuranceType>,
}
json_object! {
    StartInput, deny_unknown_fields;
    req flow, req user_id, opt journey_id, opt assurance_type,
}

struct FinishInput {
    token: String,
    client: String,
    /// The user the host's session says is asking (its web endpoints give it): another
    /// user's journey is "no such journey", as in start. `None` for a host that already
    /// knows the request is the journey's user.
    user_id: Option<String>,
}
json_object! {
    FinishInput, deny_unknown_fields;
    req token, req client, opt user_id,
}

/// A call's outcome as the host reports it: `{"result": {...}}` or `{"error": {...}}` (the
/// canonical JSON of each).
struct CallOutcome {
    result: Option<Value>,
    error: Option<Value>,
}
json_object! {
    CallOutcome, deny_unknown_fields;
    opt result, opt error,
}

/// One step of the service over JSON (see the module docs): `action` is `start`,
/// `token_issued`, `finish`, `validated`, or `view` (the record as a history shows it: no
/// token); `stored` the record as read (`null` for none);
/// `input` the action's input; `new_id` the id to give a new journey (the host draws it
/// randomly, e.g. [`crate::user_id::random_user_id`]). Fails with `invalid_input` for a bad
/// input and with `invalid_state` for a step the journey cannot take (its `message` says
/// why; `code` stays `invalid_state`).
pub fn step(
    config: &Config,
    policy: &ServicePolicy,
    action: &str,
    stored: &Value,
    input: &Value,
    new_id: &str,
    now: u64,
) -> Result<Value, Error> {
    let stored = match stored {
        Value::Null => None,
        value => Some(JourneyRecord::from_json(value)?),
    };
    match action {
        "start" => start(
            config,
            policy,
            stored,
            &from_value("input", input)?,
            new_id,
            now,
        ),
        "token_issued" => token_issued(config, need(stored)?, &from_value("input", input)?, now),
        "finish" => finish(policy, need(stored)?, &from_value("input", input)?, now),
        "validated" => validated(config, need(stored)?, input, now),
        "view" => Ok(json!({"write": null, "record": need(stored)?.without_tokens()})),
        _ => Err(Error::invalid_input(
            "action",
            "one of start, token_issued, finish, validated, view",
        )),
    }
}

fn need(stored: Option<JourneyRecord>) -> Result<JourneyRecord, Error> {
    stored.ok_or_else(|| Error::invalid_state("no such journey"))
}

fn out(write: Option<(&str, u64)>, record: &JourneyRecord) -> Map<String, Value> {
    let mut map = Map::new();
    if let Some((kind, expected)) = write {
        map.insert("write".into(), json!(kind));
        if kind == "update" {
            map.insert("expected_version".into(), json!(expected));
        }
    } else {
        map.insert("write".into(), Value::Null);
    }
    map.insert("record".into(), record.to_json());
    map
}

fn start(
    config: &Config,
    policy: &ServicePolicy,
    stored: Option<JourneyRecord>,
    input: &StartInput,
    new_id: &str,
    now: u64,
) -> Result<Value, Error> {
    crate::validation::check_user_id("user_id", &input.user_id)?;
    let (mut record, read_version) = match stored {
        Some(record) => {
            // A journey belongs to one user and flow: anything else is "not found" to the
            // browser, whichever it is.
            if record.user_id != input.user_id || record.flow != input.flow {
                return Err(Error::invalid_state("no such journey"));
            }
            let version = record.version;
            (record, Some(version))
        }
        None => {
            if input.journey_id.is_some() {
                return Err(Error::invalid_state("no such journey"));
            }
            crate::validation::check_required_text("new_id", new_id)?;
            let record = JourneyRecord {
                id: new_id.to_owned(),
                version: 0,
                flow: input.flow,
                user_id: input.user_id.clone(),
                assurance_type: input.assurance_type,
                resource: policy.resource.clone(),
                max_attempts: policy.max_attempts,
                expires_at_ms: now.saturating_add(policy.retention_ms),
                retention_ms: policy.retention_ms,
                token_ttl_ms: policy.token_ttl_ms,
                created_at_ms: now,
                updated_at_ms: now,
                attempts: Vec::new(),
            };
            (record, None)
        }
    };
    let changed = record.settle(now, policy.stale_validate_ms);
    let write = match read_version {
        Some(v) if changed => Some(("update", v)),
        _ => None,
    };
    if record.passed().is_some() {
        let mut map = out(write, &record);
        map.insert("respond".into(), finished(&record, None));
        return Ok(Value::Object(map));
    }
    if let Some(open) = record.open() {
        if open.state == record::AttemptState::Validating {
            return Err(Error::invalid_state(
                "a validate of this journey's token is in progress",
            ));
        }
        // The browser asked twice: the same token again, no second token request.
        let mut map = out(write, &record);
        map.insert("respond".into(), issued(config, &record, open));
        return Ok(Value::Object(map));
    }
    if record.attempts_left() == 0 {
        let mut map = out(write, &record);
        map.insert("respond".into(), finished(&record, None));
        return Ok(Value::Object(map));
    }
    let operation = input.flow.token_operation();
    let mut call = json!({"resource": record.resource, "user_id": record.user_id});
    if let (Some(assurance), Value::Object(map)) = (record.assurance_type, &mut call) {
        map.insert("assurance_type".into(), json!(assurance.as_str()));
    }
    let mut map = out(write, &record);
    map.insert(
        "call".into(),
        json!({"operation": operation.name(), "input": call}),
    );
    Ok(Value::Object(map))
}

fn token_issued(
    config: &Config,
    mut record: JourneyRecord,
    outcome: &CallOutcome,
    now: u64,
) -> Result<Value, Error> {
    let read = record.version;
    let Some(result) = &outcome.result else {
        // The token request failed: nothing changes; the host answers with the error.
        return Ok(json!({"write": null, "record": record.to_json(), "error": outcome.error}));
    };
    let token = result
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_input("result", "the claim result has no token"))?;
    record.token_issued(token, now)?;
    let write = if read == 0 {
        ("insert", 0)
    } else {
        ("update", read)
    };
    let mut map = out(Some(write), &record);
    let open = record.open().cloned();
    if let Some(open) = open {
        map.insert("respond".into(), issued(config, &record, &open));
    }
    Ok(Value::Object(map))
}

fn finish(
    policy: &ServicePolicy,
    mut record: JourneyRecord,
    input: &FinishInput,
    now: u64,
) -> Result<Value, Error> {
    crate::validation::check_token(&input.token)?;
    crate::validation::check_required_text("client", &input.client)?;
    if input
        .user_id
        .as_ref()
        .is_some_and(|user| *user != record.user_id)
    {
        return Err(Error::invalid_state("no such journey"));
    }
    let read = record.version;
    let changed = record.settle(now, policy.stale_validate_ms);
    let write = changed.then_some(("update", read));
    let Some(index) = record.attempt_of(&input.token) else {
        return Err(Error::invalid_state(
            "this token belongs to no attempt of the journey",
        ));
    };
    let attempt = record.attempts.get(index).cloned();
    match attempt.map(|a| a.state) {
        Some(record::AttemptState::Issued) => {}
        Some(record::AttemptState::Validating) => {
            return Err(Error::invalid_state(
                "a validate of this token is in progress",
            ));
        }
        _ => {
            // Already validated (a double submit, a replay): the stored outcome, never a
            // second validate.
            let mut map = out(write, &record);
            map.insert("respond".into(), finished(&record, Some(index)));
            return Ok(Value::Object(map));
        }
    }
    record.begin_validate(index, now)?;
    let mut map = out(Some(("update", read)), &record);
    let operation = match record.flow {
        Flow::Enrol => Operation::EnrolValidate,
        Flow::Verify => Operation::VerifyValidate,
    };
    map.insert(
        "call".into(),
        json!({"operation": operation.name(), "input": {
            "user_id": record.user_id, "token": input.token, "client": input.client,
        }}),
    );
    Ok(Value::Object(map))
}

fn validated(
    config: &Config,
    mut record: JourneyRecord,
    input: &Value,
    now: u64,
) -> Result<Value, Error> {
    let token = input
        .get("token")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_input("token", "the validated token is missing"))?;
    let mut outcome_fields = input.clone();
    if let Value::Object(map) = &mut outcome_fields {
        map.remove("token");
    }
    let outcome: CallOutcome = from_value("input", &outcome_fields)?;
    let read = record.version;
    let Some(index) = record.attempt_of(token) else {
        return Err(Error::invalid_state(
            "this token belongs to no attempt of the journey",
        ));
    };
    match (&outcome.result, &outcome.error) {
        (Some(result), None) => {
            // The canonical result reads back through the tolerant parser as iProov's answer.
            let text = serde_json::to_vec(result).unwrap_or_default();
            let result = crate::ops::validate::parse_validate(
                config,
                &crate::http::Response::new(200, &[], &text),
            )
            .map_err(|e| Error::invalid_input("result", e.message()))?;
            record.validated(index, &result, now)?;
        }
        (None, Some(error)) => {
            let error =
                crate::flows::json::error_from_json(record.flow.validate_operation(), error)?;
            record.validate_failed(index, &error, now)?;
        }
        _ => {
            return Err(Error::invalid_input(
                "result",
                "give exactly one of result and error",
            ));
        }
    }
    let mut map = out(Some(("update", read)), &record);
    map.insert("respond".into(), finished(&record, Some(index)));
    Ok(Value::Object(map))
}

/// What the browser learns of an issued token, the first time and every time it asks again
/// (a reloaded page needs the SDK's URL as much as the token).
fn issued(config: &Config, record: &JourneyRecord, open: &StoredAttempt) -> Value {
    json!({
        "journey_id": record.id,
        "token": open.token,
        "sdk_url": config.streaming_url(),
        "attempt": open.number,
        "attempts_left": record.attempts_left(),
    })
}

/// What the browser learns of a finished attempt (the one at `index`, else the last).
fn finished(record: &JourneyRecord, index: Option<usize>) -> Value {
    let attempt = index
        .and_then(|i| record.attempts.get(i))
        .or_else(|| record.attempts.last());
    let next = if record.passed().is_some() {
        "done"
    } else if record.attempts_left() == 0 && record.open().is_none() {
        "exhausted"
    } else {
        "start_attempt"
    };
    let mut respond = json!({
        "journey_id": record.id,
        "passed": attempt.is_some_and(|a| a.state == record::AttemptState::Passed),
        "attempts_left": record.attempts_left(),
        "next": next,
    });
    if let (Some(a), Value::Object(map)) = (attempt, &mut respond) {
        map.insert("attempt".into(), json!(a.number));
        map.insert("state".into(), json!(a.state.as_str()));
        if let Some(reason) = &a.reason {
            map.insert("reason".into(), json!(reason));
        }
        if let Some(code) = &a.error_code {
            map.insert("error_code".into(), json!(code));
        }
    }
    respond
}
