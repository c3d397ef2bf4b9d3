//! The spool: a host's local, append-only file (JSON lines) where a validated outcome waits
//! until the store has it, so that no pass iProov gave is lost to a database outage, a full
//! disk or a killed process.
//!
//! Write-ahead: once iProov answered a validate, the pump spools the outcome (durably) before
//! it writes the journey, and tombstones the entry (`{"done": id}`) once the outcome and its
//! audit records are in the store. An entry without a tombstone is replayed into the store by
//! a `replay` pump ([`super::Pump`]); replaying is idempotent (an outcome already stored
//! changes nothing). What a host does with the file, and when, is decided by [`due`]: it
//! takes the file (an atomic rename, so one process at a time), replays what `due` says, and
//! appends back what it says to keep plus every entry whose replay failed.
//!
//! An entry holds what the journey record and the audit table keep: the attempt's token only
//! as its SHA-256 (the audit records carry it, as the audit table does), no image, no
//! credential. Audit records may be appended twice when a process dies between a replay and
//! dropping its entry (a record is never lost; one may repeat).

use super::policy::{CLAIM_MARGIN_MS, STORE_RETRY_MS};
use crate::error::Error;
use crate::json_object::json_object;
use crate::operation::from_json_value as from_value;
use serde_json::{Map, Value, json};

/// An entry is replayed once it is this old (ms): the instance that wrote it is done with it
/// by then (its store retries, [`STORE_RETRY_MS`], and a margin), unless it died.
pub const DUE_MS: u64 = STORE_RETRY_MS + CLAIM_MARGIN_MS;

/// A tombstone whose entry is not in the file (another process took the file meanwhile) is
/// kept this long for it, then dropped (ms).
pub const TOMBSTONE_MS: u64 = 10 * DUE_MS;

/// One spooled outcome, or audit records alone. JSON: `{"id", "journey_id", "token_sha256"?,
/// "outcome"?: {"result": {...}} | {"error": {...}}, "audit": [...], "at_ms"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpoolEntry {
    /// The entry's id (the pump's).
    pub id: String,
    /// The journey.
    pub journey_id: String,
    /// The attempt's token, as its SHA-256 (with an outcome).
    pub token_sha256: Option<String>,
    /// The validate's outcome: `{"result"}` (no images, no token) or `{"error"}`.
    pub outcome: Option<Value>,
    /// Audit records still to append.
    pub audit: Vec<Value>,
    /// When it was spooled (Unix ms).
    pub at_ms: u64,
}
json_object! {
    SpoolEntry, deny_unknown_fields;
    req id, req journey_id, opt token_sha256, opt outcome, opt audit, req at_ms,
}

impl SpoolEntry {
    /// The entry's JSON (one line of the spool).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), json!(self.id));
        map.insert("journey_id".into(), json!(self.journey_id));
        if let Some(sha) = &self.token_sha256 {
            map.insert("token_sha256".into(), json!(sha));
        }
        if let Some(outcome) = &self.outcome {
            map.insert("outcome".into(), outcome.clone());
        }
        map.insert("audit".into(), Value::Array(self.audit.clone()));
        map.insert("at_ms".into(), json!(self.at_ms));
        Value::Object(map)
    }

    /// Reads a spool line's JSON (`invalid_input`, field `entry` or the one named).
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        from_value("entry", value)
    }
}

/// The outcome of a validate as the spool keeps it: what the record keeps (no image, no
/// token).
pub(super) fn kept_outcome(outcome: &Value) -> Value {
    let mut kept = outcome.clone();
    if let Some(Value::Object(result)) = kept.get_mut("result") {
        for key in ["frame", "frame_jpeg", "iso_19794_5", "token"] {
            result.remove(key);
        }
    }
    kept
}

/// Whether a host should replay its spool after a request: when the file holds lines
/// (`lines`: its size before the request, or the request spooled one) and this service has
/// not replayed yet (`replayed_ms: None`: crash recovery, at the first request) or last did
/// at least [`DUE_MS`] ago. Not after every request: an entry is due only [`DUE_MS`] after it
/// was written, so a replay right after a validate only renames, reads and writes back the
/// file its neighbours are appending to; once per [`DUE_MS`], an entry a failed store left
/// is replayed within twice that, and the pairs of entry and tombstone of the validates in
/// between are dropped in one pass.
pub fn replay_due(lines: bool, replayed_ms: Option<u64>, now: u64) -> bool {
    lines && replayed_ms.is_none_or(|at| now >= at.saturating_add(DUE_MS))
}

/// What to do with a spool's text (its lines, as read) at `now`: `{"replay": [entry, ...],
/// "keep": [line, ...], "dropped": n}`. `replay`: entries without a tombstone, old enough
/// ([`DUE_MS`]) that their writer is done with them; `keep`: the lines to append back (young
/// entries, and tombstones whose entry is elsewhere, for [`TOMBSTONE_MS`]); `dropped`:
/// lines that are not an entry or a tombstone (a write a crash cut short) plus entries with
/// their tombstone.
pub fn due(text: &str, now: u64) -> Value {
    let mut entries: Vec<(String, Value, u64)> = Vec::new();
    let mut tombstones: Vec<(String, Value, u64)> = Vec::new();
    let mut dropped = 0u64;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            dropped += 1;
            continue;
        };
        let at = value.get("at_ms").and_then(Value::as_u64).unwrap_or(0);
        if let Some(id) = value.get("done").and_then(Value::as_str) {
            tombstones.push((id.to_owned(), value.clone(), at));
        } else if let Ok(entry) = SpoolEntry::from_json(&value) {
            entries.push((entry.id, value, at));
        } else {
            dropped += 1;
        }
    }
    let done = |id: &str| tombstones.iter().any(|(t, _, _)| t == id);
    let mut replay = Vec::new();
    let mut keep = Vec::new();
    for (id, value, at) in &entries {
        if done(id) {
            dropped += 1;
        } else if now >= at.saturating_add(DUE_MS) {
            replay.push(value.clone());
        } else {
            keep.push(value.to_string());
        }
    }
    for (id, value, at) in &tombstones {
        let found = entries.iter().any(|(e, _, _)| e == id);
        if found {
            dropped += 1;
        } else if now < at.saturating_add(TOMBSTONE_MS) {
            keep.push(value.to_string());
        }
    }
    json!({"replay": replay, "keep": keep, "dropped": dropped})
}

/// The tombstone line of entry `id`.
pub fn tombstone(id: &str, now: u64) -> Value {
    json!({"done": id, "at_ms": now})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, at: u64) -> String {
        json!({"id": id, "journey_id": "j", "audit": [], "at_ms": at}).to_string()
    }

    #[test]
    fn a_spool_with_lines_is_replayed_first_then_once_per_due_ms() {
        assert!(
            replay_due(true, None, 5),
            "crash recovery: the first request"
        );
        assert!(!replay_due(false, None, 5), "an empty spool: nothing to do");
        assert!(!replay_due(true, Some(1_000), 1_000 + DUE_MS - 1));
        assert!(replay_due(true, Some(1_000), 1_000 + DUE_MS));
        assert!(!replay_due(false, Some(0), u64::MAX));
    }

    #[test]
    fn due_replays_old_entries_keeps_young_ones_and_drops_the_done() {
        let now = 1_000_000;
        let text = [
            entry("old", now - DUE_MS),
            entry("young", now - 1),
            entry("done", now - DUE_MS),
            tombstone("done", now).to_string(),
            tombstone("elsewhere", now - 1).to_string(),
            tombstone("ancient", now - TOMBSTONE_MS).to_string(),
            "{\"id\": \"cut sho".to_owned(),
        ]
        .join("\n");
        let out = due(&text, now);
        assert_eq!(out["replay"].as_array().unwrap().len(), 1);
        assert_eq!(out["replay"][0]["id"], "old");
        let keep: Vec<String> = out["keep"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keep.len(), 2);
        assert!(keep[0].contains("young") && keep[1].contains("elsewhere"));
        // The done entry with its tombstone, and the cut line.
        assert_eq!(out["dropped"], 3);
    }
}
