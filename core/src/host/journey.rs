//! The journey service ([`crate::service`]) as text: its setup, its store's statements, and
//! the pump a host runs for each request. Documented for JS in `bindings-js/NATIVE.md`.

use super::{json_arg, to_text};
use crate::driver::DriverOptions;
use crate::error::Error;
use crate::operation::JsonConfig;
use crate::service::{Event, Pump, Resolved, ServicePolicy};
use serde_json::{Value, json};

/// The service's setup from its policy (`""`: every default; see [`ServicePolicy`]) and the
/// client's driver options (`""`: the defaults): the checked policy with what core derived,
/// as JSON text for the host to keep and hand to every pump. Fails with `invalid_input`
/// naming the field (a zero limit, a `stale_validate_ms` the client's validate would outrun).
pub fn service_setup(policy_json: &str, options_json: &str) -> Result<String, Error> {
    let policy = match json_arg("policy", policy_json)? {
        Value::Null => ServicePolicy::default(),
        value => ServicePolicy::from_json(&value)?,
    };
    let options = DriverOptions::from_json_text(options_json.as_bytes())?;
    Ok(to_text(&policy.resolve(&options)?.to_json()))
}

/// A journey record as a history shows it (no token), as JSON text.
pub fn service_view(record_json: &str) -> Result<String, Error> {
    Ok(to_text(&crate::service::view(&json_arg(
        "record",
        record_json,
    )?)?))
}

/// The store's statements for `dialect` (`sqlite`, `postgres`), as JSON text
/// ([`crate::service::schema::schema`]).
pub fn store_schema(dialect: &str) -> Result<String, Error> {
    Ok(to_text(&crate::service::schema::schema(dialect)?))
}

/// What to do with a spool's text at `now` ([`crate::service::spool::due`]), as JSON text:
/// `{"replay": [entry], "keep": [line], "dropped": n}`.
pub fn spool_due(text: &str, now: u64) -> String {
    to_text(&crate::service::spool::due(text, now))
}

/// The tombstone line of spool entry `id` (JSON text, no newline).
pub fn spool_tombstone(id: &str, now: u64) -> String {
    to_text(&crate::service::spool::tombstone(id, now))
}

/// The canonical JSON of the error a host raises when a store call it makes outside a pump
/// raised (a history, a deletion of what expired): `store_operation` names the store method
/// (`journeys_of`, `audit_of`, `delete_expired`); [`Error::store_unavailable`], with no journey
/// and no result (nothing was sent to iProov). The store's own error never goes in (it may
/// quote a connection string or a password): the host chains it as the cause. A name that
/// is not one of the store's methods is given as `store` (a host bug, not a caller's text).
pub fn store_error(store_operation: &str) -> String {
    const METHODS: [&str; 8] = [
        "get",
        "insert",
        "update",
        "append_audit",
        "journeys_of",
        "audit_of",
        "delete_expired",
        "forget",
    ];
    let operation = METHODS
        .into_iter()
        .find(|m| *m == store_operation)
        .unwrap_or("store");
    super::error_json(&Error::store_unavailable(operation, None, None))
}

/// A pump for one request ([`Pump::new`]): `setup_json` from [`service_setup`],
/// `request_json` the request, `new_id` a fresh random id. Fails with `invalid_input`.
pub fn pump_new(
    config: &JsonConfig,
    setup_json: &str,
    request_json: &str,
    new_id: &str,
    now: u64,
) -> Result<Pump, Error> {
    let setup = Resolved::from_json(&json_arg("setup", setup_json)?)?;
    let request = json_arg("request", request_json)?;
    Pump::new(config.config.clone(), setup, &request, new_id, now)
}

/// The pump's next action as JSON text ([`crate::service::Action::to_json`]) after the event
/// (`""` for the first call; see [`crate::service::pump`]). An event that is not JSON, or not
/// one the pump knows, ends the pump with `invalid_input`.
pub fn pump_next(pump: &mut Pump, event_json: &str, now: u64) -> String {
    let event = match json_arg("event", event_json) {
        Ok(Value::Null) => Ok(None),
        Ok(value) => Event::from_json(&value).map(Some),
        Err(error) => Err(error),
    };
    let mut action = match event {
        Ok(event) => pump.next(event, now).to_json(),
        Err(error) => json!({"do": "failed", "error": error.to_json()}),
    };
    if let (Some(told), Value::Object(map)) = (pump.event(now), &mut action) {
        map.insert("event".into(), told);
    }
    if let (Some(backoff), Value::Object(map)) = (pump.backoff(), &mut action) {
        map.insert("backoff".into(), backoff);
    }
    if let (true, Value::Object(map)) = (pump.replay_due(now), &mut action) {
        map.insert("replay".into(), Value::Bool(true));
    }
    to_text(&action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_support::{eu_config, json};

    #[test]
    fn a_store_error_outside_a_pump_names_the_store_method_only() {
        let error = json(&store_error("journeys_of"));
        assert_eq!(
            (&error["code"], &error["kind"], &error["store_operation"]),
            (
                &serde_json::json!("store_unavailable"),
                &serde_json::json!("store_unavailable"),
                &serde_json::json!("journeys_of")
            )
        );
        assert!(error.get("journey_id").is_none() && error.get("result").is_none());
        // Whatever a host passes, only a method name goes into the error.
        let odd = json(&store_error("postgresql://u:pw@db/x"));
        assert_eq!(odd["store_operation"], "store");
        assert!(!odd.to_string().contains("pw@db"), "{odd}");
    }

    #[test]
    fn a_verify_start_as_text() {
        let config = eu_config();
        let setup = service_setup(r#"{"max_attempts": 2}"#, "").unwrap();
        assert_eq!(json(&setup)["policy"]["max_attempts"], 2);
        assert_eq!(
            service_setup(r#"{"max_attempts": 0}"#, "")
                .unwrap_err()
                .field(),
            Some("max_attempts")
        );
        let request = r#"{"action": "start", "flow": "verify", "user_id": "u-1"}"#;
        let mut pump = pump_new(&config, &setup, request, "j-1", 1_000).unwrap();
        let read = json(&pump_next(&mut pump, "", 1_000));
        assert_eq!(
            read,
            serde_json::json!({"do": "read", "table": "users", "id": "u-1"})
        );
        let claim = json(&pump_next(&mut pump, r#"{"read": null}"#, 1_000));
        assert_eq!(claim["do"], "insert");
        assert_eq!(claim["record"]["verify"]["journey_id"], "j-1");
        let bad = json(&pump_next(&mut pump, r#"{"nope": 1}"#, 1_000));
        assert_eq!(bad["do"], "failed", "{bad}");
        assert_eq!(bad["error"]["code"], "invalid_input");
        assert!(!format!("{pump:?}").contains("u-1"));
        assert_eq!(
            json(&store_schema("sqlite").unwrap())["version"],
            crate::service::schema::VERSION
        );
    }

    /// The final action says `"replay": true` when the host's spool has lines and the
    /// service's last replay is at least `DUE_MS` ago (or there was none).
    #[test]
    fn the_final_action_says_when_to_replay_the_spool() {
        let config = eu_config();
        let setup = service_setup("{}", "").unwrap();
        let due = crate::service::spool::DUE_MS;
        for (lines, replayed, now, replay) in [
            (true, None, 1_000, true),
            (false, None, 1_000, false),
            (true, Some(1_000), 1_000 + due - 1, false),
            (true, Some(1_000), 1_000 + due, true),
        ] {
            let request = serde_json::json!({"action": "forget", "user_id": "u-1",
                                             "spool_lines": lines, "replayed_ms": replayed});
            let mut pump = pump_new(&config, &setup, &request.to_string(), "j-1", now).unwrap();
            assert_eq!(json(&pump_next(&mut pump, "", now))["do"], "forget");
            let done = json(&pump_next(
                &mut pump,
                r#"{"forgotten": {"journeys": 0, "audit_records": 0}}"#,
                now,
            ));
            assert_eq!(done["do"], "done", "{done}");
            assert_eq!(
                done.get("replay").is_some(),
                replay,
                "{lines} {replayed:?} {now}: {done}"
            );
        }
    }

    /// iProov's 429 with `Retry-After` on a token request: the failed action carries the
    /// backoff; a start given it is refused after its read, with nothing written or sent.
    #[test]
    fn a_rate_limited_token_request_holds_the_next_starts_back() {
        let config = eu_config();
        let setup = service_setup("{}", "").unwrap();
        let request = r#"{"action": "start", "flow": "verify", "user_id": "u-1"}"#;
        let mut pump = pump_new(&config, &setup, request, "j-1", 1_000).unwrap();
        pump_next(&mut pump, "", 1_000);
        assert_eq!(
            json(&pump_next(&mut pump, r#"{"read": null}"#, 1_000))["do"],
            "insert"
        );
        assert_eq!(
            json(&pump_next(&mut pump, r#"{"written": true}"#, 1_000))["do"],
            "insert"
        );
        let call = json(&pump_next(&mut pump, r#"{"written": true}"#, 1_000));
        assert_eq!(call["operation"], "verify_token");
        let mut limited = crate::Error::api("too_many_requests", 429, None);
        limited.0.retry_after_ms = Some(30_000);
        let called = serde_json::json!({"error": limited.to_json(), "audit": []}).to_string();
        let release = json(&pump_next(&mut pump, &called, 1_500));
        assert_eq!(
            (release["do"].as_str(), release.get("backoff")),
            (Some("update"), None)
        );
        let failed = json(&pump_next(&mut pump, r#"{"written": true}"#, 1_500));
        assert_eq!(failed["error"]["code"], "too_many_requests", "{failed}");
        assert_eq!(
            failed["backoff"],
            serde_json::json!({"verify_token": 31_500})
        );

        let held = serde_json::json!({"action": "start", "flow": "verify", "user_id": "u-2",
                                      "backoff": failed["backoff"]});
        let mut pump = pump_new(&config, &setup, &held.to_string(), "j-2", 11_500).unwrap();
        assert_eq!(json(&pump_next(&mut pump, "", 11_500))["do"], "read");
        let refused = json(&pump_next(&mut pump, r#"{"read": null}"#, 11_500));
        assert_eq!(refused["do"], "failed", "{refused}");
        assert_eq!(refused["error"]["code"], "too_many_requests");
        assert_eq!(refused["error"]["retry_after_ms"], 20_000);
        assert!(refused["error"].get("status").is_none(), "{refused}");
        assert!(
            refused.get("backoff").is_none(),
            "nothing new learned: {refused}"
        );
        // An enrol is another endpoint: not held back.
        let enrol = held.to_string().replace("\"verify\"", "\"enrol\"");
        let mut pump = pump_new(&config, &setup, &enrol, "j-3", 11_500).unwrap();
        pump_next(&mut pump, "", 11_500);
        assert_eq!(
            json(&pump_next(&mut pump, r#"{"read": null}"#, 11_500))["do"],
            "insert"
        );
    }
}
