//! The stored record of one user's limits (table `users`), and of the whole service's budget
//! (the same table, under [`SERVICE_KEY`], which no user_id can be).
//!
//! Every token request of a user goes through a compare-and-set of this record, so it is
//! where instances agree: which journey is the user's current one at each flow (a reload or
//! a second tab resumes it), whether a token request for it is already on its way (a second
//! instance waits rather than asks iProov again), and how many token requests the user made
//! in the window (a bot cannot run up the bill).

use crate::error::Error;
use crate::flows::journey::Flow;
use crate::json_object::json_object;
use crate::json_value::to_json_value;
use serde::Serialize;
use serde_json::Value;

/// The key of the service-wide budget's record: `#` is not allowed in a user_id.
pub const SERVICE_KEY: &str = "#service";

/// A fixed-window counter: `count` events since `start_ms`. A window that ended counts 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    /// When the window began (Unix ms).
    pub start_ms: u64,
    /// Events in it.
    pub count: u32,
}
json_object! {
    Window, deny_unknown_fields;
    req start_ms, req count,
}

impl Window {
    /// Events counted at `now` in windows of `window_ms`.
    pub fn count_at(&self, now: u64, window_ms: u64) -> u32 {
        if now >= self.start_ms.saturating_add(window_ms) {
            0
        } else {
            self.count
        }
    }

    /// Counts one event at `now` (a new window begins if the last one ended).
    pub fn take(&mut self, now: u64, window_ms: u64) {
        if self.count_at(now, window_ms) == 0 {
            *self = Self {
                start_ms: now,
                count: 0,
            };
        }
        self.count = self.count.saturating_add(1);
    }

    /// Gives one event back (a token request that never left).
    pub fn give_back(&mut self) {
        self.count = self.count.saturating_sub(1);
    }

    /// How long from `now` until this window ends.
    pub fn ends_in(&self, now: u64, window_ms: u64) -> u64 {
        self.start_ms.saturating_add(window_ms).saturating_sub(now)
    }
}

/// A token request on its way for one of the user's journeys: no other instance asks for
/// one until it ends or `until_ms` passes (its instance died).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requesting {
    /// The journey it is for.
    pub journey_id: String,
    /// The claiming instance's mark (its pump's random id): its own claim is not another's.
    pub by: String,
    /// When it was claimed (Unix ms).
    pub since_ms: u64,
    /// When the claim lapses (Unix ms).
    pub until_ms: u64,
}
json_object! {
    Requesting, deny_unknown_fields;
    req journey_id, req by, req since_ms, req until_ms,
}

/// One flow of the user's: the current journey and the token request on its way, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlowSlot {
    /// The user's current journey at this flow (resumed when the browser gives none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journey_id: Option<String>,
    /// A token request in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requesting: Option<Requesting>,
}
json_object! {
    FlowSlot, deny_unknown_fields;
    opt journey_id, opt requesting,
}

/// The record (see the module docs). JSON: `{"id", "version", "expires_at_ms", "tokens":
/// {"start_ms", "count"}, "enrol"?: {...}, "verify"?: {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    /// The user_id, or [`SERVICE_KEY`].
    pub id: String,
    /// Bumped by every write (compare-and-set, as for journeys).
    pub version: u64,
    /// After this the store may delete the record (Unix ms).
    pub expires_at_ms: u64,
    /// Token requests in the current window.
    pub tokens: Window,
    /// The enrol flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrol: Option<FlowSlot>,
    /// The verify flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<FlowSlot>,
}
json_object! {
    UserRecord, deny_unknown_fields;
    req id, req version, req expires_at_ms, opt tokens, opt enrol, opt verify,
}

impl UserRecord {
    /// A record not stored yet (`version` 0: the host inserts it).
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            version: 0,
            expires_at_ms: 0,
            tokens: Window::default(),
            enrol: None,
            verify: None,
        }
    }

    /// Reads a stored record (`invalid_input`, field `record` or the one named).
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        crate::operation::from_json_value("record", value)
    }

    /// The record as JSON, to store. It holds no token and no secret.
    pub fn to_json(&self) -> Value {
        to_json_value(self)
    }

    /// The slot of `flow`.
    pub fn slot(&self, flow: Flow) -> Option<&FlowSlot> {
        match flow {
            Flow::Enrol => self.enrol.as_ref(),
            Flow::Verify => self.verify.as_ref(),
        }
    }

    /// The slot of `flow`, made when missing.
    pub fn slot_mut(&mut self, flow: Flow) -> &mut FlowSlot {
        match flow {
            Flow::Enrol => self.enrol.get_or_insert_with(FlowSlot::default),
            Flow::Verify => self.verify.get_or_insert_with(FlowSlot::default),
        }
    }

    /// The token request of `flow` still on its way at `now`, if any.
    pub fn requesting(&self, flow: Flow, now: u64) -> Option<&Requesting> {
        self.slot(flow)
            .and_then(|s| s.requesting.as_ref())
            .filter(|r| now < r.until_ms)
    }

    /// Marks the change: the next version, kept `retention_ms` after `now`.
    pub fn touch(&mut self, now: u64, retention_ms: u64) {
        self.version = self.version.saturating_add(1);
        self.expires_at_ms = self.expires_at_ms.max(now.saturating_add(retention_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_window_counts_until_it_ends() {
        let mut w = Window::default();
        w.take(1_000, 100);
        w.take(1_050, 100);
        assert_eq!(w.count_at(1_099, 100), 2);
        assert_eq!(w.ends_in(1_060, 100), 40);
        assert_eq!(w.count_at(1_100, 100), 0);
        w.take(1_100, 100);
        assert_eq!((w.start_ms, w.count), (1_100, 1));
    }

    #[test]
    fn a_record_round_trips_and_refuses_unknown_keys() {
        let mut record = UserRecord::new("u-1");
        record.slot_mut(Flow::Verify).journey_id = Some("j".into());
        record.slot_mut(Flow::Verify).requesting = Some(Requesting {
            journey_id: "j".into(),
            by: "p".into(),
            since_ms: 5,
            until_ms: 10,
        });
        record.touch(5, 100);
        let back = UserRecord::from_json(&record.to_json()).unwrap();
        assert_eq!(back, record);
        assert!(back.requesting(Flow::Verify, 9).is_some());
        assert!(back.requesting(Flow::Verify, 10).is_none());
        assert!(back.requesting(Flow::Enrol, 9).is_none());
        let mut bad = record.to_json();
        bad["extra"] = json!(1);
        assert_eq!(
            UserRecord::from_json(&bad).unwrap_err().code(),
            "invalid_input"
        );
    }
}
