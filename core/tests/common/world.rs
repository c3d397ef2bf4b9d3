//! A world for the journey pump: an in-memory store (compare-and-set as the real ones do,
//! with faults on demand), a spool, and a scripted iProov. Shared by the service tests.

#![allow(dead_code)]

use iproov_core::driver::DriverOptions;
use iproov_core::service::{Action, Event, Pump, ServicePolicy, Table};
use iproov_core::surface;
use iproov_core::{Config, Region, Secret};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};

pub const T0: u64 = 1_751_270_400_000;
pub const USER: &str = "8c4e2a6f-1b3d-4f7a-9c2e-5d8b0f3a6e19";
pub const SECRET: &str = "sec-world-Kq7Zr2Wx9";
pub const PASSWORD: &str = "pw-world-Hd4Lk8Ns1";

pub fn config(oauth: bool) -> Config {
    let config = Config::for_region(Region::Eu)
        .with_service_credentials("k".repeat(40), Secret::new(SECRET));
    if oauth {
        config
            .with_oauth("oauth-world", Secret::new(PASSWORD))
            .unwrap()
    } else {
        config
    }
}

/// `value`, once checked against core's surface table `shape` (the generated host types).
pub fn surfaced(shape: &str, value: Value) -> Value {
    let shapes = surface::shapes();
    let found = surface::find(&shapes, shape).unwrap();
    if let Err(e) = found.check(&value, &shapes) {
        panic!("core's {shape} table does not describe {value}: {e}");
    }
    value
}

/// A pump's answer, once it fits one of the answer shapes hosts type it as (a replay's
/// `{replayed, reason?}` is the host's own business).
pub fn surfaced_answer(answer: &Value) -> Value {
    let shapes = surface::shapes();
    if answer.get("replayed").is_some() {
        return answer.clone();
    }
    let fits = ["JourneyStarted", "JourneyFinished", "JourneyForgotten"]
        .into_iter()
        .any(|name| {
            surface::find(&shapes, name)
                .unwrap()
                .check(answer, &shapes)
                .is_ok()
        });
    assert!(
        fits,
        "no answer shape of core's surface table describes {answer}"
    );
    answer.clone()
}

/// What the scripted iProov answers.
#[derive(Debug, Clone)]
pub enum Answer {
    Ok(Value),
    Err(Value),
}

pub fn api_error(code: &str, status: u16) -> Answer {
    let kind = match (code, status) {
        ("too_many_requests", _) => "rate_limited",
        ("server_error", _) => "server",
        _ => "api",
    };
    Answer::Err(
        json!({"code": code, "status": status, "kind": kind, "message": format!("iProov returned {status} {code}")}),
    )
}

pub fn unknown_outcome() -> Answer {
    Answer::Err(json!({"code": "outcome_unknown", "kind": "outcome_unknown",
                       "operation": "enrol_validate", "message": "the answer was lost"}))
}

pub fn connection_error() -> Answer {
    Answer::Err(json!({"code": "connection_error", "kind": "connection", "message": "refused"}))
}

pub struct World {
    pub config: Config,
    pub setup: iproov_core::service::Resolved,
    pub journeys: BTreeMap<String, Value>,
    pub users: BTreeMap<String, Value>,
    pub audit: Vec<(String, Value)>,
    pub spool: Vec<Value>,
    /// Tombstones of spool entries (their ids).
    pub done: Vec<String>,
    pub logged: Vec<String>,
    /// Every call made: (operation, input).
    pub calls: Vec<(String, Value)>,
    /// Answers per operation, taken in order; a token request without one gets a new token.
    pub script: BTreeMap<String, VecDeque<Answer>>,
    /// Store actions that fail: a predicate over (kind, table) and how many times.
    pub faults: Vec<(String, usize)>,
    pub next_token: u8,
    pub next_id: u32,
    pub now: u64,
}

impl World {
    pub fn new(policy: Value, oauth: bool) -> Self {
        let policy = ServicePolicy::from_json(&policy).unwrap();
        let setup = policy.resolve(&DriverOptions::default()).unwrap();
        Self {
            config: config(oauth),
            setup,
            journeys: BTreeMap::new(),
            users: BTreeMap::new(),
            audit: Vec::new(),
            spool: Vec::new(),
            done: Vec::new(),
            logged: Vec::new(),
            calls: Vec::new(),
            script: BTreeMap::new(),
            faults: Vec::new(),
            next_token: 1,
            next_id: 1,
            now: T0,
        }
    }

    pub fn answer(&mut self, operation: &str, answer: Answer) {
        self.script
            .entry(operation.to_owned())
            .or_default()
            .push_back(answer);
    }

    /// The next `times` store actions named `what` (`read:journeys`, `update:journeys`,
    /// `insert:users`, `append_audit`, ...) raise.
    pub fn fail(&mut self, what: &str, times: usize) {
        self.faults.push((what.to_owned(), times));
    }

    pub fn calls_of(&self, operation: &str) -> usize {
        self.calls.iter().filter(|(op, _)| op == operation).count()
    }

    pub fn token(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    /// Runs one request to its end; a request the pump refuses to start is an `Err` too.
    pub fn request(&mut self, request: Value) -> Result<Value, Value> {
        let id = format!("j-{}", self.next_id);
        self.next_id += 1;
        let mut pump = Pump::new(
            self.config.clone(),
            self.setup.clone(),
            &request,
            &id,
            self.now,
        )
        .map_err(|e| e.to_json())?;
        self.drive(&mut pump)
    }

    pub fn pump(&mut self, request: Value) -> Pump {
        let id = format!("j-{}", self.next_id);
        self.next_id += 1;
        Pump::new(
            self.config.clone(),
            self.setup.clone(),
            &request,
            &id,
            self.now,
        )
        .unwrap()
    }

    fn faulty(&mut self, what: &str) -> bool {
        for (name, times) in &mut self.faults {
            if name == what && *times > 0 {
                *times -= 1;
                return true;
            }
        }
        false
    }

    fn table(&mut self, table: Table) -> &mut BTreeMap<String, Value> {
        match table {
            Table::Journeys => &mut self.journeys,
            Table::Users => &mut self.users,
        }
    }

    /// Carries out one action; `None` when it is final.
    pub fn act(&mut self, action: &Action) -> Option<Event> {
        let name = |kind: &str, table: &Table| format!("{kind}:{}", table.as_str());
        Some(match action {
            Action::Read { table, id } => {
                if self.faulty(&name("read", table)) {
                    return Some(Event::StoreFailed);
                }
                Event::Read(self.table(*table).get(id).cloned())
            }
            Action::Insert { table, record } => {
                if self.faulty(&name("insert", table)) {
                    return Some(Event::StoreFailed);
                }
                let id = record["id"].as_str().unwrap().to_owned();
                match self.table(*table).entry(id) {
                    std::collections::btree_map::Entry::Occupied(_) => Event::Written(false),
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(record.clone());
                        Event::Written(true)
                    }
                }
            }
            Action::Update {
                table,
                record,
                expected_version,
            } => {
                if self.faulty(&name("update", table)) {
                    return Some(Event::StoreFailed);
                }
                let id = record["id"].as_str().unwrap().to_owned();
                let rows = self.table(*table);
                match rows.get(&id) {
                    Some(stored) if stored["version"] == json!(expected_version) => {
                        rows.insert(id, record.clone());
                        Event::Written(true)
                    }
                    _ => Event::Written(false),
                }
            }
            Action::AppendAudit {
                journey_id,
                records,
            } => {
                if self.faulty("append_audit") {
                    return Some(Event::StoreFailed);
                }
                for record in records {
                    self.audit.push((journey_id.clone(), record.clone()));
                }
                Event::Written(true)
            }
            Action::Call {
                operation, input, ..
            } => {
                self.calls.push(((*operation).to_owned(), input.clone()));
                let scripted = self
                    .script
                    .get_mut(*operation)
                    .and_then(VecDeque::pop_front);
                let record = json!({"operation": operation, "outcome": "x"});
                let answer = scripted.unwrap_or_else(|| self.default_answer(operation, input));
                match answer {
                    Answer::Ok(result) => Event::Called {
                        result: Some(result),
                        error: None,
                        audit: vec![record],
                    },
                    Answer::Err(error) => Event::Called {
                        result: None,
                        error: Some(error),
                        audit: vec![record],
                    },
                }
            }
            Action::Sleep { until_ms } => {
                self.now = self.now.max(*until_ms);
                Event::Slept
            }
            Action::Forget { user_id } => {
                if self.faulty("forget") {
                    return Some(Event::StoreFailed);
                }
                let gone: Vec<String> = self
                    .journeys
                    .iter()
                    .filter(|(_, j)| j["user_id"] == json!(user_id))
                    .map(|(id, _)| id.clone())
                    .collect();
                let before = self.audit.len();
                self.audit.retain(|(j, _)| !gone.contains(j));
                let audit_records = (before - self.audit.len()) as u64;
                self.journeys.retain(|id, _| !gone.contains(id));
                self.users.remove(user_id);
                Event::Forgotten {
                    journeys: gone.len() as u64,
                    audit_records,
                }
            }
            Action::Spool { entry, log } => {
                if self.faulty("spool") {
                    return Some(Event::Spooled(false));
                }
                self.spool.push(entry.clone());
                self.logged.extend(log.clone());
                Event::Spooled(true)
            }
            Action::Unspool { id } => {
                self.done.push(id.clone());
                Event::Spooled(true)
            }
            Action::Done { .. } | Action::Failed { .. } => return None,
        })
    }

    fn default_answer(&mut self, operation: &str, input: &Value) -> Answer {
        match operation {
            "enrol_token" | "verify_token" => {
                let token = Self::token(self.next_token);
                self.next_token += 1;
                Answer::Ok(json!({"token": token, "user_id": input["user_id"]}))
            }
            "enrol_validate" | "verify_validate" => Answer::Ok(json!({
                "passed": true, "token": input["token"],
                "type": if operation == "enrol_validate" { "enrol" } else { "verify" },
            })),
            "get_user" => Answer::Ok(json!({"user_id": input["user_id"], "status": "Active"})),
            _ => Answer::Ok(json!({"user_id": input["user_id"], "status": "Deleted"})),
        }
    }

    /// Runs a pump to its end: `Ok(answer)` or `Err(error JSON)`.
    pub fn drive(&mut self, pump: &mut Pump) -> Result<Value, Value> {
        let mut event = None;
        for _ in 0..500 {
            let action = pump.next(event.take(), self.now);
            match &action {
                Action::Done { answer } => return Ok(surfaced_answer(answer)),
                Action::Failed { error, log } => {
                    self.logged.extend(log.clone());
                    return Err(surfaced("ErrorJson", error.to_json()));
                }
                _ => event = self.act(&action),
            }
        }
        panic!("the pump did not finish in 500 steps");
    }

    /// Runs a pump until its next action is a call (not made): the action.
    pub fn until_call(&mut self, pump: &mut Pump) -> (Action, Option<Event>) {
        let mut event = None;
        for _ in 0..500 {
            let action = pump.next(event.take(), self.now);
            if matches!(
                action,
                Action::Call { .. } | Action::Done { .. } | Action::Failed { .. }
            ) {
                return (action, None);
            }
            event = self.act(&action);
        }
        panic!("no call in 500 steps");
    }

    /// Goes on with a pump stopped by [`World::until_call`] (the call is made now).
    pub fn resume(&mut self, pump: &mut Pump, action: &Action) -> Result<Value, Value> {
        let mut event = self.act(action);
        for _ in 0..500 {
            let action = pump.next(event.take(), self.now);
            match &action {
                Action::Done { answer } => return Ok(surfaced_answer(answer)),
                Action::Failed { error, log } => {
                    self.logged.extend(log.clone());
                    return Err(surfaced("ErrorJson", error.to_json()));
                }
                _ => event = self.act(&action),
            }
        }
        panic!("the pump did not finish in 500 steps");
    }

    /// Spool entries without a tombstone.
    pub fn pending(&self) -> Vec<Value> {
        self.spool
            .iter()
            .filter(|e| !self.done.iter().any(|d| e["id"] == json!(d)))
            .cloned()
            .collect()
    }

    pub fn start(&mut self, flow: &str, journey_id: Option<&str>) -> Result<Value, Value> {
        let mut request = json!({"action": "start", "flow": flow, "user_id": USER, "spool": true});
        if let Some(id) = journey_id {
            request["journey_id"] = json!(id);
        }
        let mut pump = self.pump(request);
        self.drive(&mut pump)
    }

    pub fn finish(&mut self, journey_id: &str, token: &str) -> Result<Value, Value> {
        let mut pump = self.pump(json!({"action": "finish", "journey_id": journey_id,
                                        "token": token, "client": "Mozilla/5.0", "spool": true}));
        self.drive(&mut pump)
    }

    /// Replays every entry without a tombstone; keeps those whose replay failed.
    pub fn replay(&mut self) -> Vec<Result<Value, Value>> {
        let entries = self.pending();
        self.spool.clear();
        self.done.clear();
        entries
            .into_iter()
            .map(|entry| {
                let mut pump = self.pump(json!({"action": "replay", "entry": entry.clone()}));
                let out = self.drive(&mut pump);
                if out.is_err() {
                    self.spool.push(entry);
                }
                out
            })
            .collect()
    }

    pub fn journey(&self, id: &str) -> Value {
        self.journeys.get(id).cloned().unwrap_or(Value::Null)
    }

    /// Everything the world holds, as one text (for leak checks).
    pub fn everything(&self) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?}",
            self.journeys, self.users, self.audit, self.spool, self.logged
        )
    }
}
