//! The journey service's pump against an in-memory store and a scripted iProov: every
//! transition, the limits across journeys and instances, and every store fault (issues 22, 23).

#[path = "common/world.rs"]
mod world;

use iproov_core::service::Action;
use serde_json::{Value, json};
use world::{Answer, USER, World, api_error, connection_error, unknown_outcome};

fn token_of(answer: &Value) -> String {
    answer["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {answer}"))
        .to_owned()
}

fn id_of(answer: &Value) -> String {
    answer["journey_id"].as_str().unwrap().to_owned()
}

fn fail(reason: &str) -> Answer {
    Answer::Ok(json!({"passed": false, "reason": reason, "type": "verify"}))
}

#[test]
fn a_pass_on_the_first_attempt_is_stored_before_its_audit_records() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    assert_eq!(started["attempt"], 1);
    assert_eq!(started["attempts_left"], 2);
    assert_eq!(started["sdk_url"], "wss://eu.rp.secure.iproov.me/ws");
    let id = id_of(&started);
    let done = w.finish(&id, &token_of(&started)).unwrap();
    assert_eq!(done["passed"], true);
    assert_eq!(done["next"], "done");
    let record = w.journey(&id);
    assert_eq!(record["attempts"][0]["state"], "passed");
    assert!(
        record["attempts"][0].get("token").is_none(),
        "a finished attempt keeps no token"
    );
    // The token request's and the validate's records, each after its outcome.
    assert_eq!(w.audit.len(), 2);
    // The user's claim was released, and the journey is the user's current one.
    let user = &w.users[USER];
    assert_eq!(user["verify"]["journey_id"], id);
    assert!(user["verify"].get("requesting").is_none());
    assert_eq!(user["tokens"]["count"], 1);
    // A double submit gets the stored outcome, never a second validate.
    assert_eq!(w.finish(&id, &token_of(&started)).unwrap()["passed"], true);
    assert_eq!(w.calls_of("verify_validate"), 1);
}

#[test]
fn a_reload_or_a_second_tab_resumes_the_users_journey_and_its_count() {
    let mut w = World::new(json!({}), false);
    let first = w.start("verify", None).unwrap();
    // The page lost the journey id (a reload): the same open token, no second request.
    let again = w.start("verify", None).unwrap();
    assert_eq!(token_of(&again), token_of(&first));
    assert_eq!(w.calls_of("verify_token"), 1);
    w.answer("verify_validate", fail("too_much_movement"));
    let failed = w.finish(&id_of(&first), &token_of(&first)).unwrap();
    assert_eq!(
        (failed["passed"].clone(), failed["next"].clone()),
        (json!(false), json!("start_attempt"))
    );
    // "Start over" (no journey id): attempt 2 of the same journey, not a fresh count.
    let second = w.start("verify", None).unwrap();
    assert_eq!(id_of(&second), id_of(&first));
    assert_eq!(second["attempt"], 2);
    assert_eq!(second["attempts_left"], 1);
}

#[test]
fn the_attempt_limit_holds_across_new_journeys_until_its_window_ends() {
    let mut w = World::new(json!({"attempt_window_ms": 600_000}), false);
    let mut id = String::new();
    for n in 1..=3 {
        let started = w.start("verify", None).unwrap();
        id = id_of(&started);
        w.answer("verify_validate", fail("eyes_closed"));
        let out = w.finish(&id, &token_of(&started)).unwrap();
        assert_eq!(out["attempt"], n);
    }
    assert_eq!(w.journey(&id)["attempts"].as_array().unwrap().len(), 3);
    let last = w.finish(&id, &World::token(3)).unwrap();
    assert_eq!(last["next"], "exhausted");
    let wait = last["retry_after_ms"].as_u64().unwrap();
    assert!(wait > 0 && wait <= 600_000, "{last}");
    // Reload, start over, the old id: refused with when to try again; no token request.
    for journey_id in [None, Some(id.as_str())] {
        let refused = w.start("verify", journey_id).unwrap_err();
        assert_eq!(refused["code"], "limit_exceeded");
        assert_eq!(refused["kind"], "limit_exceeded");
        assert_eq!(refused["limit"], "attempts");
        assert!(refused["retry_after_ms"].as_u64().unwrap() > 0);
    }
    assert_eq!(w.calls_of("verify_token"), 3);
    // After the window: a new journey, every attempt again.
    w.now += 600_001;
    let fresh = w.start("verify", None).unwrap();
    assert_ne!(id_of(&fresh), id);
    assert_eq!(fresh["attempt"], 1);
    assert_eq!(fresh["attempts_left"], 2);
}

#[test]
fn a_pass_ends_the_journey_and_the_next_login_starts_a_new_one() {
    let mut w = World::new(json!({}), false);
    let first = w.start("verify", None).unwrap();
    w.finish(&id_of(&first), &token_of(&first)).unwrap();
    // Named by the browser, the passed journey answers done.
    let named = w.start("verify", Some(&id_of(&first))).unwrap();
    assert_eq!(named["next"], "done");
    // The next login (no id): a new journey; passes do not use up attempts.
    let next = w.start("verify", None).unwrap();
    assert_ne!(id_of(&next), id_of(&first));
    assert_eq!(next["attempts_left"], 2);
}

#[test]
fn token_requests_per_user_are_bounded_whatever_they_end_with() {
    let mut w = World::new(json!({"user_token_requests": 4}), false);
    for _ in 0..4 {
        w.answer("verify_token", api_error("server_error", 500));
        let failed = w.start("verify", None).unwrap_err();
        assert_eq!(failed["kind"], "server");
    }
    let refused = w.start("verify", None).unwrap_err();
    assert_eq!(refused["code"], "limit_exceeded");
    assert_eq!(refused["limit"], "user_token_requests");
    assert_eq!(w.calls_of("verify_token"), 4);
    // The failed requests released their claims: nothing is left "in progress".
    assert!(w.users[USER]["verify"].get("requesting").is_none());
    // Each failed token request's audit record is kept with the journey.
    assert_eq!(w.audit.len(), 4);
}

#[test]
fn the_service_budget_caps_token_requests_over_every_user() {
    let mut w = World::new(
        json!({"service_token_requests": 2, "service_window_ms": 1000}),
        false,
    );
    for user in ["user-a", "user-b"] {
        let mut pump = w.pump(json!({"action": "start", "flow": "verify", "user_id": user}));
        assert!(w.drive(&mut pump).is_ok());
    }
    let mut pump = w.pump(json!({"action": "start", "flow": "verify", "user_id": "user-c"}));
    let refused = w.drive(&mut pump).unwrap_err();
    assert_eq!(refused["limit"], "service_token_requests");
    assert_eq!(w.calls_of("verify_token"), 2);
    w.now += 1_000;
    let mut pump = w.pump(json!({"action": "start", "flow": "verify", "user_id": "user-c"}));
    assert!(w.drive(&mut pump).is_ok());
}

#[test]
fn two_instances_starting_at_once_make_one_token_request() {
    let mut w = World::new(json!({}), false);
    let mut a = w.pump(json!({"action": "start", "flow": "verify", "user_id": USER}));
    let (call, _) = w.until_call(&mut a);
    assert!(matches!(
        call,
        Action::Call {
            operation: "verify_token",
            ..
        }
    ));
    // B arrives while A's token request is out: refused as in progress (no wait asked) ...
    let mut b = w.pump(json!({"action": "start", "flow": "verify", "user_id": USER}));
    let busy = w.drive(&mut b).unwrap_err();
    assert_eq!(busy["code"], "invalid_state");
    assert!(busy["message"].as_str().unwrap().contains("in progress"));
    // ... or, asked to wait, it waits and gets A's token.
    let mut c =
        w.pump(json!({"action": "start", "flow": "verify", "user_id": USER, "wait_ms": 5_000}));
    let (sleep, _) = (c.next(None, w.now), ());
    let mut event = w.act(&sleep);
    let mut next = c.next(event.take(), w.now);
    while !matches!(next, Action::Sleep { .. }) {
        event = w.act(&next);
        next = c.next(event.take(), w.now);
    }
    let a_answer = w.resume(&mut a, &call).unwrap();
    event = w.act(&next);
    let c_answer = loop {
        match c.next(event.take(), w.now) {
            Action::Done { answer } => break answer,
            Action::Failed { error, .. } => panic!("{error:?}"),
            action => event = w.act(&action),
        }
    };
    assert_eq!(token_of(&c_answer), token_of(&a_answer));
    assert_eq!(w.calls_of("verify_token"), 1);
}

#[test]
fn two_instances_finishing_at_once_send_one_validate() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let (id, token) = (id_of(&started), token_of(&started));
    let mut a =
        w.pump(json!({"action": "finish", "journey_id": id, "token": token, "client": "ua", "spool": true}));
    let (call, _) = w.until_call(&mut a);
    let mut b =
        w.pump(json!({"action": "finish", "journey_id": id, "token": token, "client": "ua", "spool": true}));
    assert!(
        w.drive(&mut b).unwrap_err()["message"]
            .as_str()
            .unwrap()
            .contains("in progress")
    );
    assert_eq!(w.resume(&mut a, &call).unwrap()["passed"], true);
    assert_eq!(w.finish(&id, &token).unwrap()["passed"], true);
    assert_eq!(w.calls_of("verify_validate"), 1);
}

#[test]
fn a_store_down_before_sending_sends_nothing_and_says_so() {
    let mut w = World::new(json!({}), false);
    w.fail("read:users", 1);
    let error = w.start("verify", None).unwrap_err();
    assert_eq!(error["code"], "store_unavailable");
    assert_eq!(error["kind"], "store_unavailable");
    assert_eq!(error["store_operation"], "get");
    assert!(error.get("result").is_none());
    assert!(w.calls.is_empty());
    let started = w.start("verify", None).unwrap();
    w.fail("update:journeys", 1);
    let error = w.finish(&id_of(&started), &token_of(&started)).unwrap_err();
    assert_eq!(error["code"], "store_unavailable");
    assert_eq!(error["journey_id"], id_of(&started));
    assert_eq!(w.calls_of("verify_validate"), 0);
}

#[test]
fn a_pass_survives_a_store_that_fails_after_iproov_answered() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let (id, token) = (id_of(&started), token_of(&started));
    // The outcome write fails past the retry time: spooled, and the caller gets the pass.
    w.fail("update:journeys", 1); // the `validating` write works ...
    w.faults.clear();
    let mut pump =
        w.pump(json!({"action": "finish", "journey_id": id, "token": token, "client": "ua", "spool": true}));
    let (call, _) = w.until_call(&mut pump);
    w.fail("update:journeys", 1_000);
    w.fail("append_audit", 1_000);
    let error = w.resume(&mut pump, &call).unwrap_err();
    assert_eq!(error["code"], "store_unavailable");
    assert_eq!(error["result"]["passed"], true);
    assert_eq!(error["result"]["next"], "done");
    assert_eq!(w.spool.len(), 1);
    assert_eq!(w.spool[0]["outcome"]["result"]["passed"], true);
    assert!(w.spool[0]["outcome"]["result"].get("token").is_none());
    assert_eq!(w.spool[0]["token_sha256"].as_str().unwrap().len(), 64);
    assert!(w.logged[0].contains(&id) && w.logged[0].contains("passed=true"));
    assert!(!w.logged[0].contains(&token));
    // Still `validating` in the store, until the spool is replayed.
    assert_eq!(w.journey(&id)["attempts"][0]["state"], "validating");
    w.faults.clear();
    let entry = w.spool[0].clone();
    let replayed = w.replay();
    assert_eq!(replayed, vec![Ok(json!({"replayed": true}))]);
    assert_eq!(w.journey(&id)["attempts"][0]["state"], "passed");
    assert_eq!(w.audit.iter().filter(|(j, _)| *j == id).count(), 2);
    // The same entry again (a host that died before dropping it) leaves the journey as is.
    let version = w.journey(&id)["version"].clone();
    w.spool.push(entry);
    assert!(w.replay()[0].is_ok());
    assert_eq!(w.journey(&id)["version"], version);
    // An entry for a journey that is gone (retention, erased) is dropped, said so.
    w.spool
        .push(json!({"id": "e-gone", "journey_id": "gone", "audit": [], "at_ms": 1}));
    assert_eq!(w.replay()[0].as_ref().unwrap()["replayed"], false);
    assert_eq!(w.calls_of("verify_validate"), 1);
}

#[test]
fn a_process_killed_after_iproovs_answer_loses_nothing() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let id = id_of(&started);
    let mut pump = w.pump(
        json!({"action": "finish", "journey_id": id, "token": token_of(&started),
                                 "client": "ua", "spool": true}),
    );
    let (call, _) = w.until_call(&mut pump);
    let mut event = w.act(&call);
    // The answer goes to the spool first; the process dies before the store write.
    let action = pump.next(event.take(), w.now);
    assert!(
        matches!(action, Action::Spool { log: None, .. }),
        "{action:?}"
    );
    let _ = w.act(&action);
    drop(pump);
    assert_eq!(w.journey(&id)["attempts"][0]["state"], "validating");
    assert_eq!(w.replay(), vec![Ok(json!({"replayed": true}))]);
    assert_eq!(w.journey(&id)["attempts"][0]["state"], "passed");
    // And the user's next request answers the pass (nothing was validated twice).
    assert_eq!(w.start("verify", Some(&id)).unwrap()["next"], "done");
    assert_eq!(w.calls_of("verify_validate"), 1);
}

#[test]
fn without_a_spool_the_outcome_still_reaches_the_caller() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let mut pump = w.pump(json!({"action": "finish", "journey_id": id_of(&started),
                                 "token": token_of(&started), "client": "ua"}));
    let (call, _) = w.until_call(&mut pump);
    w.fail("update:journeys", 1_000);
    let error = w.resume(&mut pump, &call).unwrap_err();
    assert_eq!(error["result"]["passed"], true);
    assert!(w.spool.is_empty());
    assert!(w.logged.last().unwrap().contains("no spool"));
}

#[test]
fn a_store_that_comes_back_within_the_retry_time_takes_the_outcome() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let mut pump = w.pump(json!({"action": "finish", "journey_id": id_of(&started),
                                 "token": token_of(&started), "client": "ua", "spool": true}));
    let (call, _) = w.until_call(&mut pump);
    w.fail("update:journeys", 3);
    let before = w.now;
    assert_eq!(w.resume(&mut pump, &call).unwrap()["passed"], true);
    assert!(w.now > before, "the pump slept between tries");
    assert!(
        w.pending().is_empty(),
        "the write-ahead entry has its tombstone"
    );
    assert_eq!(w.spool.len(), 1);
    assert_eq!(
        w.journey(&id_of(&started))["attempts"][0]["state"],
        "passed"
    );
}

#[test]
fn audit_records_the_store_refused_wait_in_the_spool() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    w.fail("append_audit", 1);
    let done = w.finish(&id_of(&started), &token_of(&started)).unwrap();
    assert_eq!(done["passed"], true);
    // The write-ahead entry keeps its records (no tombstone): its replay appends them.
    assert_eq!(w.pending().len(), 1);
    assert_eq!(w.pending()[0]["audit"].as_array().unwrap().len(), 1);
    w.replay();
    assert_eq!(w.audit.len(), 2);
    assert_eq!(
        w.journey(&id_of(&started))["attempts"][0]["state"],
        "passed"
    );
}

#[test]
fn a_late_answer_replaces_an_outcome_settled_as_unknown() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let (id, token) = (id_of(&started), token_of(&started));
    let mut slow =
        w.pump(json!({"action": "finish", "journey_id": id, "token": token, "client": "ua", "spool": true}));
    let (call, _) = w.until_call(&mut slow);
    // Past the stale limit another request settles the attempt `outcome_unknown` ...
    w.now += w.setup.stale_validate_ms() + 1;
    let settled = w.finish(&id, &token).unwrap();
    assert_eq!(settled["state"], "outcome_unknown");
    // ... then iProov's answer arrives: it stands.
    assert_eq!(w.resume(&mut slow, &call).unwrap()["passed"], true);
    assert_eq!(w.journey(&id)["attempts"][0]["state"], "passed");
}

#[test]
fn a_validate_is_presumed_dead_after_its_own_instances_limit_not_the_readers() {
    let reader = World::new(json!({}), false).setup;
    let long = reader.stale_validate_ms() * 4;
    // The validating instance has the longer limit (a slower client).
    let mut w = World::new(json!({"stale_validate_ms": long}), false);
    let started = w.start("verify", None).unwrap();
    let (id, token) = (id_of(&started), token_of(&started));
    let mut slow =
        w.pump(json!({"action": "finish", "journey_id": id, "token": token, "client": "ua", "spool": true}));
    let (call, _) = w.until_call(&mut slow);
    assert_eq!(w.journey(&id)["attempts"][0]["stale_validate_ms"], long);
    // Another instance, whose own limit is shorter, past that limit: still in progress.
    w.setup = reader;
    w.now += w.setup.stale_validate_ms() + 1;
    let error = w.finish(&id, &token).unwrap_err();
    assert_eq!(error["code"], "invalid_state", "{error}");
    assert_eq!(w.journey(&id)["attempts"][0]["state"], "validating");
    // Past the validating instance's limit: settled.
    w.now += long;
    assert_eq!(w.finish(&id, &token).unwrap()["state"], "outcome_unknown");
    assert_eq!(w.resume(&mut slow, &call).unwrap()["passed"], true);
}

#[test]
fn a_validating_attempt_stored_without_its_limit_is_settled_by_the_readers() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let (id, token) = (id_of(&started), token_of(&started));
    let mut slow =
        w.pump(json!({"action": "finish", "journey_id": id, "token": token, "client": "ua", "spool": true}));
    w.until_call(&mut slow);
    // A record written before the limit was kept on the attempt.
    let attempt = &mut w.journeys.get_mut(&id).unwrap()["attempts"][0];
    assert!(
        attempt
            .as_object_mut()
            .unwrap()
            .remove("stale_validate_ms")
            .is_some()
    );
    w.now += w.setup.stale_validate_ms() + 1;
    assert_eq!(w.finish(&id, &token).unwrap()["state"], "outcome_unknown");
}

#[test]
fn a_record_with_fields_of_a_newer_version_is_read_and_finished() {
    // Every instance reads what any instance wrote: during a rolling deploy an older reader
    // meets fields a newer writer added (as `stale_validate_ms` once was), and must not refuse
    // the user's journey over them.
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let (id, token) = (id_of(&started), token_of(&started));
    let record = w.journeys.get_mut(&id).unwrap();
    record["a_later_field"] = json!({"kept": true});
    record["attempts"][0]["a_later_field"] = json!(1);
    assert_eq!(w.finish(&id, &token).unwrap()["passed"], true);
    assert_eq!(w.journey(&id)["attempts"][0]["state"], "passed");
}

#[test]
fn a_validate_that_never_left_gives_the_token_back() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    w.answer("verify_validate", connection_error());
    let error = w.finish(&id_of(&started), &token_of(&started)).unwrap_err();
    assert_eq!(error["kind"], "connection");
    assert_eq!(
        w.journey(&id_of(&started))["attempts"][0]["state"],
        "issued"
    );
    assert_eq!(
        w.finish(&id_of(&started), &token_of(&started)).unwrap()["passed"],
        true
    );
}

#[test]
fn an_inconclusive_verify_is_not_counted_and_gets_a_new_token() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    w.answer("verify_validate", unknown_outcome());
    let out = w.finish(&id_of(&started), &token_of(&started)).unwrap();
    assert_eq!(out["state"], "outcome_unknown");
    assert_eq!(
        out["attempts_left"], 3,
        "a fault not the user's does not count"
    );
    let again = w.start("verify", None).unwrap();
    assert_eq!(again["attempt"], 2);
    assert_eq!(
        w.calls_of("get_user"),
        0,
        "verify journeys need no reconciling"
    );
}

fn inconclusive_enrol(oauth: bool) -> (World, String) {
    let mut w = World::new(json!({}), oauth);
    let started = w.start("enrol", None).unwrap();
    w.answer("enrol_validate", unknown_outcome());
    let out = w.finish(&id_of(&started), &token_of(&started)).unwrap();
    assert_eq!(out["state"], "outcome_unknown");
    (w, id_of(&started))
}

#[test]
fn an_inconclusive_enrol_that_iproov_completed_is_done() {
    let (mut w, id) = inconclusive_enrol(true);
    let done = w.start("enrol", None).unwrap();
    assert_eq!(done["next"], "done");
    assert_eq!(done["passed"], true);
    assert_eq!(w.calls_of("get_user"), 1);
    assert_eq!(
        w.calls_of("enrol_token"),
        1,
        "no token request for an enrolled user"
    );
    assert_eq!(w.journey(&id)["attempts"][0]["settled_by"], "users_api");
}

#[test]
fn an_inconclusive_enrol_of_a_half_made_user_starts_over() {
    let (mut w, _) = inconclusive_enrol(true);
    w.answer(
        "get_user",
        Answer::Ok(json!({"user_id": USER, "status": "Inactive"})),
    );
    let again = w.start("enrol", None).unwrap();
    assert_eq!(again["attempt"], 2);
    assert_eq!(w.calls_of("delete_user"), 1);
    // Checked once: a later start does not ask again.
    w.start("enrol", None).unwrap();
    assert_eq!(w.calls_of("get_user"), 1);
}

#[test]
fn an_inconclusive_enrol_of_a_suspended_user_names_the_operators_action() {
    let (mut w, _) = inconclusive_enrol(true);
    w.answer(
        "get_user",
        Answer::Ok(json!({"user_id": USER, "status": "SUSPENDED"})),
    );
    let error = w.start("enrol", None).unwrap_err();
    assert_eq!(error["code"], "inactive_user");
    assert!(error["message"].as_str().unwrap().contains("activate"));
    assert_eq!(w.calls_of("enrol_token"), 1);
}

#[test]
fn an_inconclusive_enrol_without_oauth_names_what_to_configure() {
    let (mut w, _) = inconclusive_enrol(false);
    w.answer("enrol_token", api_error("already_enrolled", 400));
    let error = w.start("enrol", None).unwrap_err();
    assert_eq!(error["code"], "already_enrolled");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("oauth_username")
    );
    assert_eq!(w.calls_of("get_user"), 0);
}

#[test]
fn a_token_answer_for_another_user_is_not_taken() {
    let mut w = World::new(json!({}), false);
    w.answer(
        "verify_token",
        Answer::Ok(json!({"token": World::token(9), "user_id": "someone-else"})),
    );
    let error = w.start("verify", None).unwrap_err();
    assert_eq!(error["code"], "invalid_input");
    assert_eq!(error["field"], "user_id");
    assert!(w.users[USER]["verify"].get("requesting").is_none());
    let next = w.start("verify", None).unwrap();
    assert_eq!(next["attempt"], 1);
}

#[test]
fn a_pass_at_a_weaker_assurance_is_not_this_journeys_pass() {
    let mut w = World::new(json!({}), false);
    let mut pump = w.pump(json!({"action": "start", "flow": "verify", "user_id": USER,
                                 "assurance_type": "genuine_presence"}));
    let started = w.drive(&mut pump).unwrap();
    assert_eq!(w.calls[0].1["assurance_type"], "genuine_presence");
    w.answer(
        "verify_validate",
        Answer::Ok(json!({"passed": true, "type": "verify", "assurance_type": "liveness"})),
    );
    let out = w.finish(&id_of(&started), &token_of(&started)).unwrap();
    assert_eq!(out["passed"], false);
    assert_eq!(out["state"], "error");
    assert_eq!(out["attempts_left"], 3);
}

#[test]
fn another_users_journey_is_no_such_journey() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let mut pump = w.pump(
        json!({"action": "start", "flow": "verify", "user_id": "intruder",
                                 "journey_id": id_of(&started)}),
    );
    assert_eq!(
        w.drive(&mut pump).unwrap_err()["message"],
        "no such journey"
    );
    let mut pump = w.pump(json!({"action": "finish", "journey_id": id_of(&started),
                                 "token": token_of(&started), "client": "ua", "user_id": "intruder"}));
    assert_eq!(
        w.drive(&mut pump).unwrap_err()["message"],
        "no such journey"
    );
    assert_eq!(w.calls_of("verify_validate"), 0);
}

#[test]
fn nothing_secret_reaches_the_store_the_spool_or_a_log() {
    let mut w = World::new(json!({}), true);
    let started = w.start("enrol", None).unwrap();
    w.fail("update:journeys", 0);
    let mut pump = w.pump(json!({"action": "finish", "journey_id": id_of(&started),
                                 "token": token_of(&started), "client": "ua", "spool": true}));
    let (call, _) = w.until_call(&mut pump);
    w.fail("update:journeys", 100);
    let _ = w.resume(&mut pump, &call);
    let all = w.everything();
    for secret in [world::SECRET, world::PASSWORD] {
        assert!(!all.contains(secret));
    }
    assert!(!format!("{pump:?}").contains(&token_of(&started)));
}

#[test]
fn a_finished_request_tells_its_outcome_without_a_token_or_a_user() {
    let mut w = World::new(json!({}), false);
    let started = w.start("verify", None).unwrap();
    let mut pump = w.pump(json!({"action": "finish", "journey_id": id_of(&started),
                                 "token": token_of(&started), "client": "ua", "spool": true}));
    assert!(
        pump.event(w.now).is_none(),
        "nothing to tell before the end"
    );
    w.drive(&mut pump).unwrap();
    let told = pump.event(w.now).unwrap();
    assert_eq!(told["name"], "iproov.journey");
    assert_eq!(told["attributes"]["iproov.outcome"], "passed");
    assert_eq!(told["attributes"]["iproov.journey.action"], "finish");
    assert_eq!(told["attributes"]["iproov.journey.id"], id_of(&started));
    assert_eq!(told["metrics"][0]["name"], "iproov.journeys");
    assert_eq!(told["metrics"][1]["name"], "iproov.journey.attempts");
    assert_eq!(
        told["metrics"][1]["value"], 1,
        "a journey that passed at its first attempt"
    );
    let text = told.to_string();
    assert!(!text.contains(&token_of(&started)) && !text.contains(USER));
    let mut pump = w.pump(json!({"action": "start", "flow": "verify", "user_id": USER,
                                 "journey_id": "nope"}));
    assert!(w.drive(&mut pump).is_err());
    assert_eq!(pump.event(w.now).unwrap()["level"], "info");
}

#[test]
fn a_journey_s_attempts_are_recorded_once_at_its_end() {
    // iproov.journey.attempts: one value per journey, when it ends (here: out of attempts
    // after three failures), never at an attempt that leaves another to make.
    let mut w = World::new(json!({}), false);
    let mut recorded = Vec::new();
    let mut journey_id = None;
    for _ in 0..3 {
        let started = w.start("verify", journey_id.as_deref()).unwrap();
        journey_id = Some(id_of(&started));
        w.answer("verify_validate", fail("ambiguous_outcome"));
        let mut pump = w.pump(json!({"action": "finish", "journey_id": id_of(&started),
                                     "token": token_of(&started), "client": "ua", "spool": true}));
        let _ = w.drive(&mut pump).unwrap();
        let told = pump.event(w.now).unwrap();
        recorded.extend(
            told["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["name"] == "iproov.journey.attempts")
                .map(|m| {
                    (
                        m["value"].clone(),
                        m["attributes"]["iproov.outcome"].clone(),
                    )
                }),
        );
    }
    assert_eq!(recorded, [(json!(3), json!("failed"))]);
}

#[test]
fn a_store_failing_between_the_claim_and_the_token_request_blocks_nobody() {
    let mut w = World::new(json!({}), false);
    w.fail("insert:journeys", 1);
    let error = w.start("verify", None).unwrap_err();
    assert_eq!(error["code"], "store_unavailable");
    assert_eq!(error["store_operation"], "insert");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("nothing was sent")
    );
    assert!(w.calls.is_empty());
    // The claim and its count were given back: the next start goes at once.
    assert!(w.users[USER]["verify"].get("requesting").is_none());
    assert_eq!(w.users[USER]["tokens"]["count"], 0);
    let started = w.start("verify", None).unwrap();
    assert_eq!(started["attempt"], 1);
    assert_eq!(w.users[USER]["tokens"]["count"], 1);
}

#[test]
fn a_store_failing_after_the_token_was_issued_says_it_was_sent() {
    let mut w = World::new(json!({}), false);
    let mut pump = w.pump(json!({"action": "start", "flow": "verify", "user_id": USER}));
    let (call, _) = w.until_call(&mut pump);
    w.fail("update:journeys", 1_000);
    let error = w.resume(&mut pump, &call).unwrap_err();
    assert_eq!(error["store_operation"], "update");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("after iProov issued a token")
    );
}

#[test]
fn an_sdk_exit_ends_the_attempt_and_the_next_start_gets_a_new_token() {
    let mut w = World::new(json!({}), false);
    let first = w.start("verify", None).unwrap();
    let exit = |w: &mut World, started: &Value, event: &str| {
        w.request(json!({"action": "exit", "journey_id": id_of(started), "token": token_of(started),
                         "client": "Mozilla/5.0 (X11)", "event": event, "feedback": "user_canceled"}))
    };
    let out = exit(&mut w, &first, "canceled").unwrap();
    assert_eq!(
        (out["state"].clone(), out["attempts_left"].clone()),
        (json!("exited"), json!(2))
    );
    let attempt = &w.journey(&id_of(&first))["attempts"][0];
    assert_eq!(
        attempt["exit"],
        json!({"event": "canceled", "feedback": "user_canceled"})
    );
    assert_eq!(attempt["client"], "Mozilla/5.0 (X11)");
    assert!(attempt.get("token").is_none());
    // A device that cannot run the check does not use an attempt.
    let second = w.start("verify", None).unwrap();
    assert_ne!(token_of(&second), token_of(&first));
    assert_eq!(
        exit(&mut w, &second, "no_camera").unwrap()["attempts_left"],
        2
    );
    // Sent twice (a double click): the stored answer again.
    assert_eq!(
        exit(&mut w, &second, "no_camera").unwrap()["state"],
        "exited"
    );
    let third = w.start("verify", None).unwrap();
    assert_eq!(
        exit(&mut w, &third, "closed_tab").unwrap_err()["field"],
        "event"
    );
    // The SDK's notices during a capture end nothing: its camera selector (multiple_cameras)
    // and its permission prompt are refused as ends, and the attempt stays open.
    for notice in ["multiple_cameras", "permission"] {
        let refused = exit(&mut w, &third, notice).unwrap_err();
        assert_eq!(
            (refused["code"].clone(), refused["field"].clone()),
            (json!("invalid_input"), json!("event")),
            "{notice}"
        );
    }
    assert_eq!(w.start("verify", None).unwrap()["token"], third["token"]);
    assert_eq!(w.calls_of("verify_validate"), 0);
}

#[test]
fn forgetting_a_user_erases_them_at_iproov_first_then_in_the_store() {
    let mut w = World::new(json!({}), true);
    let started = w.start("verify", None).unwrap();
    w.finish(&id_of(&started), &token_of(&started)).unwrap();
    let out = w
        .request(json!({"action": "forget", "user_id": USER, "at_iproov": true}))
        .unwrap();
    assert_eq!(
        out,
        json!({"journeys": 1, "audit_records": 2, "at_iproov": "deleted"})
    );
    assert_eq!(w.calls_of("delete_user"), 1);
    assert!(w.journeys.is_empty() && w.users.is_empty() && w.audit.is_empty());
    // The erased user's journey id is no journey any more.
    let gone = w.start("verify", Some(&id_of(&started))).unwrap_err();
    assert_eq!(gone["message"], "no such journey");
    // iProov no longer knows them either: "absent", and the store is erased all the same.
    w.answer("delete_user", api_error("no_user", 400));
    let again = w
        .request(json!({"action": "forget", "user_id": USER, "at_iproov": true}))
        .unwrap();
    assert_eq!(again["at_iproov"], "absent");
}

#[test]
fn forgetting_at_iproov_fails_before_the_store_is_touched() {
    let mut w = World::new(json!({}), false);
    w.start("verify", None).unwrap();
    let error = w
        .request(json!({"action": "forget", "user_id": USER, "at_iproov": true}))
        .unwrap_err();
    assert_eq!(error["field"], "at_iproov");
    assert_eq!(w.journeys.len(), 1);
    let mut w = World::new(json!({}), true);
    w.start("verify", None).unwrap();
    w.answer("delete_user", api_error("server_error", 500));
    assert_eq!(
        w.request(json!({"action": "forget", "user_id": USER, "at_iproov": true}))
            .unwrap_err()["kind"],
        "server"
    );
    assert_eq!(
        w.journeys.len(),
        1,
        "nothing erased when iProov's deletion failed"
    );
    w.fail("forget", 1);
    assert_eq!(
        w.request(json!({"action": "forget", "user_id": USER}))
            .unwrap_err()["code"],
        "store_unavailable"
    );
    assert_eq!(
        w.request(json!({"action": "forget", "user_id": USER}))
            .unwrap()["at_iproov"],
        "not_asked"
    );
    assert!(w.journeys.is_empty());
}
