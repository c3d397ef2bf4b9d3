//! Registry of injected faults and of the requests received, both fed by
//! the middleware in `inject.rs` and driven by the control API.
//!
//! A fault rule applies to the next `times` API requests whose path
//! matches; it is consumed as it fires, so "fail the next N calls" needs no
//! clean-up.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::holds::{Holds, MAX_HOLD_MS};
use crate::region::Region;

/// How a rule's `path` is compared with a request path.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// The full path (`/eu/api/v2/claim/enrol/token`) ends with `path`.
    #[default]
    Suffix,
    /// `path` equals the path below the region prefix
    /// (`/claim/enrol/token`) or the full path.
    Exact,
}

/// A fault as posted to `POST /__emulator/faults`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultSpec {
    /// Path to match, see [`MatchMode`].
    pub path: String,
    /// Comparison mode (`"match": "suffix" | "exact"`).
    #[serde(default, rename = "match")]
    pub match_mode: MatchMode,
    /// Only requests with this method (case-insensitive), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests under this region's prefix, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Only requests whose body is a JSON object holding each of these
    /// top-level fields with an equal value (`{"token": "..."}`: one
    /// claim's validate, whatever else is in flight), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_fields: Option<serde_json::Map<String, Value>>,
    /// How many matching requests the rule applies to (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// Delay before the action (and before the real handler), any kind.
    #[serde(default)]
    pub delay_ms: u64,
    /// Hold the request, before `delay_ms` and the action, until a release
    /// (`POST /__emulator/faults/release`), a reset, the rules cleared, or
    /// `hold_ms` (see `holds.rs`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hold: bool,
    /// The longest a `hold` lasts, in ms (default and maximum 60000).
    #[serde(default = "max_hold_ms")]
    pub hold_ms: u64,
    /// What happens to the request.
    #[serde(flatten)]
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

fn max_hold_ms() -> u64 {
    MAX_HOLD_MS
}

/// The kinds of fault.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status instead of running the handler. Body: `json`
    /// (sent as application/json), else `html` (text/html), else a JSON
    /// error body whose `error` fits the status (`server_error`,
    /// `too_many_requests`, ...).
    Status {
        /// HTTP status code.
        status: u16,
        /// JSON body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        json: Option<Value>,
        /// HTML body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        html: Option<String>,
        /// Extra headers, e.g. `{"Retry-After": "3"}`.
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    /// Only `delay_ms`; the request is then handled normally.
    Delay,
    /// Close the TCP connection with a reset and no response at all.
    Reset {
        /// Run the real handler first (its state changes happen), then reset.
        #[serde(default)]
        after_handler: bool,
    },
    /// Send the status line, headers (with the full `Content-Length`) and
    /// only part of the body, then close the connection.
    Cut {
        /// Bytes of the body actually sent (default: half).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        send_bytes: Option<usize>,
        /// Replace the handler's response with this status + `json`/`html`
        /// body; when neither body is given the real handler runs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Synthetic JSON body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        json: Option<Value>,
        /// Synthetic HTML body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        html: Option<String>,
    },
}

/// A registered rule: its id, its spec and how many uses are left.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRule {
    /// Id for `DELETE /__emulator/faults/{id}`.
    pub id: u64,
    /// Uses left.
    pub remaining: u32,
    /// The rule as posted.
    #[serde(flatten)]
    pub spec: FaultSpec,
}

/// What is known about a request when faults are matched.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Region of the prefix.
    pub region: Region,
    /// Path below the region prefix.
    pub relative_path: &'a str,
    /// Full request path.
    pub full_path: &'a str,
    /// The body read as JSON, when a rule with `body_fields` made the
    /// middleware read it (and it was JSON).
    pub body: Option<&'a Value>,
}

impl FaultSpec {
    /// Method, region and path match (`body_fields` aside).
    fn matches_route(&self, req: &RequestInfo<'_>) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(req.method));
        let region_ok = self.region.is_none_or(|r| r == req.region);
        let path_ok = match self.match_mode {
            MatchMode::Suffix => req.full_path.ends_with(&self.path),
            MatchMode::Exact => req.relative_path == self.path || req.full_path == self.path,
        };
        method_ok && region_ok && path_ok
    }

    fn matches(&self, req: &RequestInfo<'_>) -> bool {
        self.matches_route(req)
            && self.body_fields.as_ref().is_none_or(|fields| {
                req.body
                    .and_then(Value::as_object)
                    .is_some_and(|body| fields.iter().all(|(k, v)| body.get(k) == Some(v)))
            })
    }
}

/// Request counters.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RequestCounts {
    /// All API requests received.
    pub total: u64,
    /// By full path.
    pub paths: BTreeMap<String, u64>,
    /// By `"METHOD /full/path"`.
    pub requests: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
struct Inner {
    rules: Vec<FaultRule>,
    next_id: u64,
    counts: RequestCounts,
}

/// Fault rules, request counts and the requests held.
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
    /// Requests a `hold` rule keeps waiting.
    pub holds: Holds,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a rule; returns its id. A rule with `times: 0` is kept out.
    pub fn add(&self, spec: FaultSpec) -> u64 {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        if spec.times > 0 {
            let remaining = spec.times;
            inner.rules.push(FaultRule {
                id,
                remaining,
                spec,
            });
        }
        id
    }

    /// Removes one rule; false when there was none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.rules.len();
        inner.rules.retain(|r| r.id != id);
        inner.rules.len() != before
    }

    /// Removes every rule and releases the requests held.
    pub fn clear(&self) {
        self.lock().rules.clear();
        self.holds.release();
    }

    /// Pending rules.
    pub fn list(&self) -> Vec<FaultRule> {
        self.lock().rules.clone()
    }

    /// True when a pending rule that matches the request's route needs its
    /// body (`body_fields`): only then does the middleware read the body
    /// before the handler.
    pub fn wants_body(&self, req: &RequestInfo<'_>) -> bool {
        self.lock()
            .rules
            .iter()
            .any(|r| r.spec.body_fields.is_some() && r.spec.matches_route(req))
    }

    /// Counts the request and takes one use of the first matching rule
    /// (oldest first).
    pub fn on_request(&self, req: &RequestInfo<'_>) -> Option<FaultSpec> {
        let mut inner = self.lock();
        let counts = &mut inner.counts;
        counts.total += 1;
        *counts.paths.entry(req.full_path.to_owned()).or_default() += 1;
        let key = format!("{} {}", req.method, req.full_path);
        *counts.requests.entry(key).or_default() += 1;

        let index = inner.rules.iter().position(|r| r.spec.matches(req))?;
        let rule = inner.rules.get_mut(index)?;
        rule.remaining -= 1;
        let spec = rule.spec.clone();
        if rule.remaining == 0 {
            inner.rules.remove(index);
        }
        Some(spec)
    }

    /// Snapshot of the counters.
    pub fn counts(&self) -> RequestCounts {
        self.lock().counts.clone()
    }

    /// Requests whose full path ends with `suffix` (and, if given, had
    /// `method`).
    pub fn count_matching(&self, suffix: &str, method: Option<&str>) -> u64 {
        let inner = self.lock();
        inner
            .counts
            .requests
            .iter()
            .filter(|(key, _)| {
                let (m, path) = key.split_once(' ').unwrap_or(("", key.as_str()));
                path.ends_with(suffix) && method.is_none_or(|want| want.eq_ignore_ascii_case(m))
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Zeroes the counters.
    pub fn clear_counts(&self) {
        self.lock().counts = RequestCounts::default();
    }

    /// Drops rules and counters, releases the requests held.
    pub fn reset(&self) {
        *self.lock() = Inner::default();
        self.holds.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str, mode: MatchMode, times: u32) -> FaultSpec {
        FaultSpec {
            path: path.into(),
            match_mode: mode,
            method: None,
            region: None,
            body_fields: None,
            times,
            delay_ms: 0,
            hold: false,
            hold_ms: MAX_HOLD_MS,
            action: FaultAction::Delay,
        }
    }

    fn info(relative: &'static str, full: &'static str) -> RequestInfo<'static> {
        RequestInfo {
            method: "POST",
            region: Region::Eu,
            relative_path: relative,
            full_path: full,
            body: None,
        }
    }

    #[test]
    fn rules_are_consumed_and_counted() {
        let faults = Faults::default();
        faults.add(spec("/token", MatchMode::Suffix, 2));
        let req = info("/claim/enrol/token", "/eu/api/v2/claim/enrol/token");
        assert!(faults.on_request(&req).is_some());
        assert!(faults.on_request(&req).is_some());
        assert!(faults.on_request(&req).is_none());
        assert_eq!(faults.count_matching("/claim/enrol/token", Some("post")), 3);
        assert_eq!(faults.count_matching("/claim/enrol/token", Some("GET")), 0);
        assert!(faults.list().is_empty());
    }

    #[test]
    fn exact_matches_relative_or_full_path() {
        let faults = Faults::default();
        faults.add(spec("/claim/enrol/token", MatchMode::Exact, 5));
        assert!(
            faults
                .on_request(&info(
                    "/claim/verify/token",
                    "/eu/api/v2/claim/verify/token"
                ))
                .is_none()
        );
        assert!(
            faults
                .on_request(&info("/claim/enrol/token", "/eu/api/v2/claim/enrol/token"))
                .is_some()
        );
        faults.clear();
        faults.add(spec("/eu/api/v2/claim/enrol/token", MatchMode::Exact, 1));
        assert!(
            faults
                .on_request(&info("/claim/enrol/token", "/eu/api/v2/claim/enrol/token"))
                .is_some()
        );
    }

    #[test]
    fn body_fields_pick_one_request_among_others() {
        let faults = Faults::default();
        let mut rule = spec("/claim/enrol/validate", MatchMode::Suffix, 1);
        rule.body_fields = serde_json::from_str(r#"{"token":"b","user_id":"u"}"#).unwrap();
        faults.add(rule);
        fn at(body: Option<&Value>) -> RequestInfo<'_> {
            RequestInfo {
                body,
                ..info("/claim/enrol/validate", "/eu/api/v2/claim/enrol/validate")
            }
        }
        assert!(faults.wants_body(&at(None)));
        assert!(!faults.wants_body(&info("/claim/enrol/token", "/eu/api/v2/claim/enrol/token")));
        let other: Value = serde_json::json!({"token": "a", "user_id": "u"});
        let partial: Value = serde_json::json!({"token": "b"});
        let text: Value = serde_json::json!("token=b&user_id=u");
        let wanted: Value = serde_json::json!({"token": "b", "user_id": "u", "client": "x"});
        for body in [None, Some(&other), Some(&partial), Some(&text)] {
            assert!(faults.on_request(&at(body)).is_none(), "{body:?}");
        }
        assert!(faults.on_request(&at(Some(&wanted))).is_some());
        assert!(faults.list().is_empty() && !faults.wants_body(&at(None)));
        assert_eq!(faults.count_matching("/claim/enrol/validate", None), 5);
    }

    #[test]
    fn spec_json_shape() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"path":"/claim/verify/validate","kind":"status","status":503,"html":"<h1>down</h1>","headers":{"Retry-After":"2"},"times":3}"#,
        )
        .unwrap();
        assert_eq!(spec.times, 3);
        assert!(matches!(
            spec.action,
            FaultAction::Status { status: 503, .. }
        ));
        let cut: FaultSpec =
            serde_json::from_str(r#"{"path":"x","match":"exact","kind":"cut","send_bytes":3}"#)
                .unwrap();
        assert_eq!(cut.match_mode, MatchMode::Exact);
    }
}
