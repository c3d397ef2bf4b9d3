//! The journey service: iProov's "store the token, the user_id, the attempts and the validated
//! result" done once for every host, with validate sent once across every instance, the
//! user's limits kept across journeys and instances, and no validated outcome lost to a
//! failing store.
//!
//! A host's service runs one [`Pump`] per request (`start` when the browser asks for a token,
//! `finish` when the SDK reports back, `replay` for each spooled outcome once the store is
//! back) and only carries out its actions: store calls, client calls, sleeps, spool appends.
//! See [`pump`] for the loop, [`start`] and [`finish`] for the order of things, [`policy`] for
//! the limits and their defaults, [`schema`] for the tables and their SQL.
//!
//! What is kept (iProov's integration guide): the user_id and each attempt's state,
//! timestamps, error code and validated result (without images) for the user record and
//! audit; the token only while its attempt is open (then its SHA-256, to recognise a replay);
//! the audit records of every call, appended per journey after the outcome they belong to; per
//! user, the current journey of each flow, a token request on its way and the token requests
//! of the window. A journey (and a user's record) may be deleted `retention_ms` after its last
//! change (`expires_at_ms`).
//!
//! Store faults: before anything is sent, the caller gets `store_unavailable` (nothing is
//! lost: nothing happened). Once iProov answered a validate, its outcome goes to the host's
//! spool (a local file, written ahead: [`spool`]) and then to the store, written again for
//! [`policy::STORE_RETRY_MS`] if it fails; if it still fails the caller gets
//! `store_unavailable` carrying the outcome, and the spool brings it into the store later.

pub mod backoff;
mod finish;
mod forget;
pub mod policy;
pub mod pump;
mod record;
pub mod schema;
pub mod spool;
mod start;
mod user;

pub use policy::{Resolved, ServicePolicy};
pub use pump::{Action, Event, Pump, Table};
pub use record::{AttemptState, EXIT_EVENTS, Exit, JourneyRecord, StoredAttempt};
pub use spool::SpoolEntry;
pub use user::{FlowSlot, Requesting, SERVICE_KEY, UserRecord, Window};

use crate::config::Config;
use serde_json::{Value, json};

/// What the browser learns of an issued token, the first time and every time it asks again
/// (a reloaded page needs the SDK's URL as much as the token): `{journey_id, token, sdk_url,
/// attempt, attempts_left}`.
pub(crate) fn issued(config: &Config, record: &JourneyRecord, open: &StoredAttempt) -> Value {
    json!({
        "journey_id": record.id,
        "token": open.token,
        "sdk_url": config.streaming_url(),
        "attempt": open.number,
        "attempts_left": record.attempts_left(),
    })
}

/// What the browser learns of a finished attempt (the one at `index`, else the last):
/// `{journey_id, passed, attempts_left, next, attempt?, state?, reason?, error_code?,
/// retry_after_ms?}`; `next` is `done`, `start_attempt` or `exhausted` (then
/// `retry_after_ms`: when the journey's window lets a new one start).
pub(crate) fn finished(record: &JourneyRecord, index: Option<usize>, now: u64) -> Value {
    let attempt = index
        .and_then(|i| record.attempts.get(i))
        .or_else(|| record.passed())
        .or_else(|| record.attempts.last());
    let exhausted = record.attempts_left() == 0 && record.open().is_none();
    let next = if record.passed().is_some() {
        "done"
    } else if exhausted {
        "exhausted"
    } else {
        "start_attempt"
    };
    let mut respond = json!({
        "journey_id": record.id,
        "passed": attempt.is_some_and(|a| a.state == AttemptState::Passed),
        "attempts_left": record.attempts_left(),
        "next": next,
    });
    if let Value::Object(map) = &mut respond {
        if let Some(a) = attempt {
            map.insert("attempt".into(), json!(a.number));
            map.insert("state".into(), json!(a.state.as_str()));
            if let Some(reason) = &a.reason {
                map.insert("reason".into(), json!(reason));
            }
            if let Some(code) = &a.error_code {
                map.insert("error_code".into(), json!(code));
            }
        }
        if let (true, Some(end)) = (next == "exhausted", record.window_ends_at_ms()) {
            map.insert("retry_after_ms".into(), json!(end.saturating_sub(now)));
        }
    }
    respond
}

/// The record as a history shows it: without any token.
pub fn view(record: &Value) -> Result<Value, crate::Error> {
    Ok(JourneyRecord::from_json(record)?.without_tokens())
}
