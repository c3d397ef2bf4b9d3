//! The journey service's steps: what to write, what to call, what to answer.

use iproov_core::service::{ServicePolicy, step};
use iproov_core::{Config, Region, Secret};
use serde_json::{Value, json};

const T0: u64 = 1_751_270_400_000;
const USER: &str = "8c4e2a6f-1b3d-4f7a-9c2e-5d8b0f3a6e19";

fn config() -> Config {
    Config::for_region(Region::Eu).with_service_credentials("k".repeat(40), Secret::new("sec-x1"))
}

fn policy() -> ServicePolicy {
    ServicePolicy {
        stale_validate_ms: 60_000,
        ..ServicePolicy::default()
    }
}

fn run(action: &str, stored: &Value, input: Value, now: u64) -> Value {
    step(&config(), &policy(), action, stored, &input, "j-1", now)
        .unwrap_or_else(|e| panic!("{action}: {}", e.message()))
}

fn fails(action: &str, stored: &Value, input: Value, now: u64) -> String {
    step(&config(), &policy(), action, stored, &input, "j-1", now)
        .err()
        .map(|e| format!("{} {}", e.code(), e.message()))
        .unwrap_or_else(|| panic!("{action} should fail"))
}

fn token(n: u8) -> String {
    format!("{:02x}", n).repeat(32)
}

/// start + token_issued: the record to keep after attempt `n`'s token.
fn new_attempt(stored: &Value, n: u8, now: u64) -> Value {
    let s = run(
        "start",
        stored,
        json!({"flow": "verify", "user_id": USER}),
        now,
    );
    assert_eq!(s["call"]["operation"], "verify_token", "{s}");
    let t = run(
        "token_issued",
        &s["record"],
        json!({"result": {"token": token(n), "user_id": USER}}),
        now,
    );
    assert_eq!(t["respond"]["token"], token(n));
    t["record"].clone()
}

fn validate(stored: &Value, n: u8, outcome: Value, now: u64) -> Value {
    let f = run(
        "finish",
        stored,
        json!({"token": token(n), "client": "Mozilla/5.0"}),
        now,
    );
    assert_eq!(f["write"], "update");
    assert_eq!(f["call"]["operation"], "verify_validate");
    assert_eq!(
        f["record"]["attempts"][n as usize - 1]["state"],
        "validating"
    );
    let mut input = outcome;
    input["token"] = json!(token(n));
    run("validated", &f["record"], input, now + 1)
}

#[test]
fn a_pass_on_the_first_attempt() {
    let s = run(
        "start",
        &Value::Null,
        json!({"flow": "verify", "user_id": USER}),
        T0,
    );
    assert_eq!(
        s["write"],
        Value::Null,
        "nothing is stored before a token exists"
    );
    let t = run(
        "token_issued",
        &s["record"],
        json!({"result": {"token": token(1)}}),
        T0 + 1,
    );
    assert_eq!(t["write"], "insert");
    assert_eq!(
        t["respond"],
        json!({"journey_id": "j-1", "token": token(1), "attempt": 1, "attempts_left": 2,
               "sdk_url": "wss://eu.rp.secure.iproov.me/ws"})
    );
    // The browser asks again: the same token, no second token request.
    let again = run(
        "start",
        &t["record"],
        json!({"flow": "verify", "user_id": USER, "journey_id": "j-1"}),
        T0 + 2,
    );
    assert!(again.get("call").is_none());
    assert_eq!(
        again["respond"], t["respond"],
        "the same answer again, the SDK's URL included"
    );
    let v = validate(
        &t["record"],
        1,
        json!({"result": {"passed": true, "token": token(1), "type": "verify", "frame": "AAAA"}}),
        T0 + 3,
    );
    assert_eq!(v["write"], "update");
    assert_eq!(v["expected_version"], 2);
    assert_eq!(v["respond"]["passed"], true);
    assert_eq!(v["respond"]["next"], "done");
    let record = v["record"].to_string();
    assert!(
        !record.contains(&token(1)),
        "the token is forgotten: {record}"
    );
    assert!(!record.contains("AAAA"), "no image is kept: {record}");
    // A double submit: the stored outcome, no validate.
    let twice = run(
        "finish",
        &v["record"],
        json!({"token": token(1), "client": "x"}),
        T0 + 4,
    );
    assert!(twice.get("call").is_none());
    assert_eq!(twice["respond"]["passed"], true);
}

#[test]
fn a_validate_in_progress_elsewhere_is_never_sent_again() {
    let record = new_attempt(&Value::Null, 1, T0);
    let f = run(
        "finish",
        &record,
        json!({"token": token(1), "client": "x"}),
        T0 + 1,
    );
    let again = fails(
        "finish",
        &f["record"],
        json!({"token": token(1), "client": "x"}),
        T0 + 2,
    );
    assert!(again.starts_with("invalid_state"), "{again}");
    assert!(again.contains("in progress"), "{again}");
}

#[test]
fn an_instance_that_died_mid_validate_leaves_outcome_unknown_and_a_new_attempt() {
    let record = new_attempt(&Value::Null, 1, T0);
    let f = run(
        "finish",
        &record,
        json!({"token": token(1), "client": "x"}),
        T0 + 1,
    );
    let later = T0 + 1 + 60_000;
    let seen = run(
        "finish",
        &f["record"],
        json!({"token": token(1), "client": "x"}),
        later,
    );
    assert_eq!(seen["write"], "update");
    assert_eq!(seen["respond"]["state"], "outcome_unknown");
    assert_eq!(seen["respond"]["next"], "start_attempt");
    let second = new_attempt(&seen["record"], 2, later + 1);
    assert_eq!(second["attempts"][1]["number"], 2);
}

#[test]
fn failures_until_the_attempts_are_used_up() {
    let mut record = Value::Null;
    for n in 1..=3u8 {
        record = new_attempt(&record, n, T0 + u64::from(n) * 10);
        let v = validate(
            &record,
            n,
            json!({"result": {"passed": false, "reason": "too_much_movement"}}),
            T0 + u64::from(n) * 10 + 1,
        );
        assert_eq!(v["respond"]["reason"], "too_much_movement");
        assert_eq!(
            v["respond"]["next"],
            if n < 3 { "start_attempt" } else { "exhausted" }
        );
        record = v["record"].clone();
    }
    let s = run(
        "start",
        &record,
        json!({"flow": "verify", "user_id": USER, "journey_id": "j-1"}),
        T0 + 100,
    );
    assert!(s.get("call").is_none());
    assert_eq!(s["respond"]["next"], "exhausted");
}

#[test]
fn an_unused_token_expires_and_a_validate_never_sent_can_be_repeated() {
    let record = new_attempt(&Value::Null, 1, T0);
    let f = run(
        "finish",
        &record,
        json!({"token": token(1), "client": "x"}),
        T0 + 1,
    );
    let back = run(
        "validated",
        &f["record"],
        json!({"token": token(1), "error": {"code": "connection_error", "kind": "connection"}}),
        T0 + 2,
    );
    assert_eq!(
        back["record"]["attempts"][0]["state"], "issued",
        "never sent: validate it again"
    );
    let expired = run(
        "start",
        &back["record"],
        json!({"flow": "verify", "user_id": USER, "journey_id": "j-1"}),
        T0 + 200_000,
    );
    assert_eq!(expired["record"]["attempts"][0]["state"], "expired");
    assert_eq!(expired["call"]["operation"], "verify_token");
}

#[test]
fn a_journey_is_only_its_users() {
    let record = new_attempt(&Value::Null, 1, T0);
    let other = fails(
        "start",
        &record,
        json!({"flow": "verify", "user_id": "someone-else", "journey_id": "j-1"}),
        T0 + 1,
    );
    assert!(other.contains("no such journey"), "{other}");
    let unknown = fails(
        "finish",
        &record,
        json!({"token": token(9), "client": "x"}),
        T0 + 1,
    );
    assert!(unknown.starts_with("invalid_state"), "{unknown}");
    // finish with the asking user (web endpoints give it): another user's journey is
    // unknown, and nothing moves to validating; the journey's own user goes on.
    let theirs = fails(
        "finish",
        &record,
        json!({"token": token(1), "client": "x", "user_id": "someone-else"}),
        T0 + 1,
    );
    assert!(
        theirs.starts_with("invalid_state") && theirs.contains("no such journey"),
        "{theirs}"
    );
    let own = run(
        "finish",
        &record,
        json!({"token": token(1), "client": "x", "user_id": USER}),
        T0 + 1,
    );
    assert_eq!(own["call"]["operation"], "verify_validate", "{own}");
}
