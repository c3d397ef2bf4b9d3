//! What the call driver and the journey pump tell an operator: events whose names, fields,
//! levels and metrics are decided here once, so that every host's logs, spans and metrics say
//! the same thing. Hosts only map them: a log line at `level` with `message` and the
//! attributes as structured fields; a span named `name` from `start_ms` to `end_ms` (the
//! sends of a call are children of the call's span); each of `metrics` recorded.
//!
//! Fields follow OpenTelemetry's HTTP semantic conventions (`http.request.method`,
//! `url.template`, `server.address`, `server.port`, `http.response.status_code`, `error.type`)
//! plus `iproov.*` ones. No event carries a credential, a claim token, the API key, a frame, a
//! raw URL or a `user_id`: paths are templates (`/claim/{token}/invalidate`,
//! `/{api_key}/access_token`), and a journey is named by its random id.
//!
//! An event as JSON: `{"name", "level": "debug" | "info" | "warning" | "error", "message",
//! "start_ms"?, "end_ms", "attributes": {...}, "metrics": [{"name", "kind": "counter" |
//! "histogram", "value", "unit"?}]}`.

use crate::operation::Operation;
use serde_json::{Map, Value, json};

/// One HTTP request (a client span): its answer's status or its transport failure.
pub const SEND: &str = "iproov.send";
/// One API call, every send and retry of it (a span, parent of its sends).
pub const CALL: &str = "iproov.call";
/// A retry scheduled after a failed send.
pub const RETRY: &str = "iproov.retry";
/// The users API's OAuth access token was fetched (info), or reused by a call's first send
/// (debug, with `iproov.token.uses`: the requests it has authorized, this one included).
pub const TOKEN: &str = "iproov.token";
/// One journey request (start, finish, replay) and how it ended.
pub const JOURNEY: &str = "iproov.journey";

/// Calls made, by operation and outcome (a counter).
pub const METRIC_CALLS: &str = "iproov.client.calls";
/// A call's duration, by operation and outcome (a histogram, ms).
pub const METRIC_CALL_DURATION: &str = "iproov.client.call.duration";
/// Journey requests, by action and outcome (a counter).
pub const METRIC_JOURNEYS: &str = "iproov.journeys";
/// The attempts a journey took, recorded once when it ends (passed, or out of attempts), by
/// the last attempt's outcome (a histogram).
pub const METRIC_ATTEMPTS: &str = "iproov.journey.attempts";

/// An event's level, lowest first: a host that maps only some levels (a logger set to
/// WARNING, no tracing) names the lowest it takes, and a call builds only the events at or
/// above it (building one costs a call a few microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A send, a call that succeeded.
    Debug,
    /// A retry, a token fetch, a call failed by its input or by iProov's answer.
    Info,
    /// A call failed by iProov or the network, an outcome unknown, a rate limit.
    Warning,
    /// A store failure.
    Error,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::Debug, Level::Info, Level::Warning, Level::Error];

    /// Its name in an event (`"debug"`, `"info"`, `"warning"`, `"error"`).
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    /// The lowest level a host maps, from its name: `""` for none (no event is built), an
    /// unknown name as `debug` (every event: a host that maps something loses nothing).
    pub fn lowest(name: &str) -> Option<Level> {
        match name {
            "" => None,
            _ => Some(
                Level::ALL
                    .into_iter()
                    .find(|level| level.name() == name)
                    .unwrap_or(Level::Debug),
            ),
        }
    }
}

/// The path of `operation` as a template: nothing of the request's own values.
pub fn url_template(operation: Operation) -> &'static str {
    match operation {
        Operation::EnrolToken => "/claim/enrol/token",
        Operation::VerifyToken => "/claim/verify/token",
        Operation::EnrolImage => "/claim/enrol/image",
        Operation::EnrolValidate => "/claim/enrol/validate",
        Operation::VerifyValidate => "/claim/verify/validate",
        Operation::AccessToken => "/{api_key}/access_token",
        Operation::ActivateUser => "/users/{user_id}/activate",
        Operation::SuspendUser => "/users/{user_id}/suspend",
        Operation::GetUser | Operation::UpdateUser | Operation::DeleteUser => "/users/{user_id}",
        Operation::InvalidateClaim => "/claim/{token}/invalidate",
        Operation::Availability => "/availability",
    }
}

/// The HTTP method of `operation`'s request.
pub fn method(operation: Operation) -> &'static str {
    match operation {
        Operation::GetUser | Operation::Availability => "GET",
        Operation::UpdateUser => "PUT",
        Operation::DeleteUser => "DELETE",
        _ => "POST",
    }
}

/// The host and port of a base URL (`https://eu.rp.secure.iproov.me/api/v2`).
pub fn server(base_url: &str) -> (String, u16) {
    let (scheme, rest) = base_url.split_once("://").unwrap_or(("https", base_url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let default = if scheme == "http" { 80 } else { 443 };
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host.to_owned(), port.parse().unwrap_or(default))
        }
        _ => (authority.to_owned(), default),
    }
}

/// An event under construction.
#[derive(Debug, Clone)]
pub struct Event {
    name: &'static str,
    level: &'static str,
    message: String,
    start_ms: Option<u64>,
    end_ms: u64,
    attributes: Map<String, Value>,
    metrics: Vec<Value>,
}

impl Event {
    /// An event `name` at `level` ending at `end_ms`.
    pub fn new(
        name: &'static str,
        level: &'static str,
        end_ms: u64,
        message: impl Into<String>,
    ) -> Self {
        Self {
            name,
            level,
            message: message.into(),
            start_ms: None,
            end_ms,
            attributes: Map::new(),
            metrics: Vec::new(),
        }
    }

    /// From when (a span's start).
    #[must_use]
    pub fn since(mut self, start_ms: u64) -> Self {
        self.start_ms = Some(start_ms);
        self
    }

    /// One attribute.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.to_owned(), value.into());
        self
    }

    /// One attribute when there is a value.
    #[must_use]
    pub fn with_opt(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    /// One metric recording, with the attributes named in `by` as its dimensions.
    #[must_use]
    pub fn metric(
        mut self,
        name: &str,
        kind: &str,
        value: u64,
        unit: Option<&str>,
        by: &[&str],
    ) -> Self {
        let dims: Map<String, Value> = by
            .iter()
            .filter_map(|k| {
                self.attributes
                    .get(*k)
                    .map(|v| ((*k).to_owned(), v.clone()))
            })
            .collect();
        let mut metric = json!({"name": name, "kind": kind, "value": value, "attributes": dims});
        if let (Some(unit), Value::Object(map)) = (unit, &mut metric) {
            map.insert("unit".into(), json!(unit));
        }
        self.metrics.push(metric);
        self
    }

    /// The event as JSON (see the module docs).
    pub fn into_json(self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), json!(self.name));
        map.insert("level".into(), json!(self.level));
        map.insert("message".into(), json!(self.message));
        if let Some(start) = self.start_ms {
            map.insert("start_ms".into(), json!(start));
        }
        map.insert("end_ms".into(), json!(self.end_ms));
        map.insert("attributes".into(), Value::Object(self.attributes));
        map.insert("metrics".into(), Value::Array(self.metrics));
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_and_templates() {
        assert_eq!(
            server("https://eu.rp.secure.iproov.me/api/v2"),
            ("eu.rp.secure.iproov.me".into(), 443)
        );
        assert_eq!(
            server("http://127.0.0.1:8080/eu/api/v2"),
            ("127.0.0.1".into(), 8080)
        );
        assert_eq!(
            server("https://u:p@proxy.example:8443/x"),
            ("proxy.example".into(), 8443)
        );
        assert_eq!(server("http://[::1]:9000/"), ("[::1]".into(), 9000));
        for op in Operation::ALL {
            let template = url_template(op);
            assert!(template.starts_with('/'));
            assert!(!template.contains("..") && !template.contains('?'));
        }
        let event = Event::new(CALL, "debug", 5, "m")
            .since(1)
            .with("iproov.operation", "get_user")
            .with("iproov.outcome", "ok")
            .metric(
                METRIC_CALLS,
                "counter",
                1,
                None,
                &["iproov.operation", "iproov.outcome"],
            )
            .into_json();
        assert_eq!(event["metrics"][0]["attributes"]["iproov.outcome"], "ok");
        assert_eq!(event["start_ms"], 1);
    }

    #[test]
    fn levels_are_ordered_and_named_once() {
        assert_eq!(Level::lowest(""), None);
        assert_eq!(Level::lowest("warning"), Some(Level::Warning));
        assert_eq!(Level::lowest("verbose"), Some(Level::Debug));
        assert!(Level::Debug < Level::Info && Level::Info < Level::Warning);
        assert!(Level::Warning < Level::Error);
        for level in Level::ALL {
            assert_eq!(Level::lowest(level.name()), Some(level));
        }
    }
}
