//! The request journal: every API request as it arrived (method, path,
//! query, headers, body), credentials masked (`mask.rs`), kept in memory for
//! the control API (`GET /__emulator/journal`) and written as one line to
//! the request log when it arrives.
//!
//! Bounded: a body's parsed form is kept up to 16 KiB (beyond, a 1 KiB
//! excerpt of it), a multipart file part as its length and SHA-256, and the
//! journal holds the newest 10,000 requests (or 32 MiB); older ones are
//! dropped and counted.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use axum::http::request::Parts;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::clock::format_rfc3339;
use crate::journal_body::read_view;
use crate::mask::Masker;
use crate::region::Region;
use crate::state::AppState;

/// The newest requests the journal keeps.
pub const MAX_ENTRIES: usize = 10_000;
/// ... and the most bytes (of their JSON) it keeps.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// The log line's body excerpt, in characters.
const LOG_EXCERPT: usize = 500;

/// One journal entry, masked, with what the filters look at.
#[derive(Debug, Clone)]
struct Entry {
    seq: u64,
    method: String,
    path: String,
    size: usize,
    json: Value,
}

#[derive(Debug, Default)]
struct Inner {
    entries: VecDeque<Entry>,
    last_seq: u64,
    bytes: usize,
    dropped: u64,
}

/// The journal and its request log.
#[derive(Debug, Default)]
pub struct Journal {
    inner: Mutex<Inner>,
    log: Option<RequestLog>,
}

/// Which entries `GET /__emulator/journal` answers.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Filter {
    /// The (masked) full path ends with it.
    pub path: Option<String>,
    /// The method, case-insensitive.
    pub method: Option<String>,
    /// Only entries with a larger `seq`.
    pub since: Option<u64>,
    /// At most this many (the oldest that match: the next page is
    /// `since` = the last one's `seq`); 0 answers only `last_seq`.
    pub limit: Option<usize>,
}

impl Journal {
    /// A journal writing each entry's line to `log`, if given.
    pub fn new(log: Option<RequestLog>) -> Self {
        Self {
            inner: Mutex::default(),
            log,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets every entry; `seq` keeps counting, so a `since` taken before
    /// still means "after that".
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.bytes = 0;
        inner.dropped = 0;
    }

    /// `{"requests": [entries, oldest first], "last_seq", "dropped"}`.
    pub fn answer(&self, filter: &Filter) -> Value {
        let inner = self.lock();
        let requests: Vec<&Value> = inner
            .entries
            .iter()
            .filter(|e| filter.since.is_none_or(|since| e.seq > since))
            .filter(|e| filter.path.as_deref().is_none_or(|p| e.path.ends_with(p)))
            .filter(|e| {
                filter
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
            })
            .take(filter.limit.unwrap_or(usize::MAX))
            .map(|e| &e.json)
            .collect();
        json!({"requests": requests, "last_seq": inner.last_seq, "dropped": inner.dropped})
    }

    fn push(&self, mut entry: Value, method: String, path: String) -> (u64, Value) {
        let mut inner = self.lock();
        inner.last_seq += 1;
        let seq = inner.last_seq;
        entry["seq"] = json!(seq);
        let size = entry.to_string().len();
        inner.bytes += size;
        inner.entries.push_back(Entry {
            seq,
            method,
            path,
            size,
            json: entry.clone(),
        });
        while inner.entries.len() > MAX_ENTRIES || inner.bytes > MAX_BYTES {
            let Some(old) = inner.entries.pop_front() else {
                break;
            };
            inner.bytes -= old.size;
            inner.dropped += 1;
        }
        (seq, entry)
    }
}

/// Records one API request (its body already read, `complete` when whole)
/// and writes its log line. Answers nothing: the request goes on as it came.
pub async fn record(state: &AppState, parts: &Parts, body: &Bytes, complete: bool) {
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let view = read_view(content_type, body).await;
    let path = parts.uri.path();
    let query = parts.uri.query();

    // Credentials found by position in this request are masked by value
    // everywhere else in it too.
    let mut found: Vec<String> = view.secrets();
    let mut api_keys: Vec<String> = view.api_keys();
    let segments: Vec<&str> = path.split('/').collect();
    if segments.last() == Some(&"access_token") && segments.len() >= 2 {
        let key = crate::mask::percent_decode(segments[segments.len() - 2]);
        found.push(key.clone());
        api_keys.push(key);
    }
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if crate::mask::is_secret_name(&name) {
            found.push(value.clone().into_owned());
        }
        if name == "api_key" {
            api_keys.push(value.into_owned());
        }
    }
    let mut bearer = None;
    for value in parts.headers.get_all(axum::http::header::AUTHORIZATION) {
        let value = String::from_utf8_lossy(value.as_bytes());
        if let Some((scheme, credentials)) = value.trim().split_once(' ') {
            let credentials = credentials.trim().to_owned();
            if scheme.eq_ignore_ascii_case("basic") {
                found.extend(basic_parts(&credentials));
            } else if scheme.eq_ignore_ascii_case("bearer") {
                bearer = Some(credentials.clone());
            }
            found.push(credentials);
        }
    }

    let mut masker = {
        let world = state.world();
        if let Some(token) = bearer.as_ref().and_then(|t| world.access_tokens.get(t)) {
            api_keys.push(token.api_key.clone());
        }
        Masker::new(world.access_tokens.keys().cloned())
    };
    let mut service_provider = None;
    for sp in &state.config.service_providers {
        masker.add(sp.api_key.clone());
        masker.add(sp.secret.clone());
        masker.add(sp.oauth_password.clone());
        if service_provider.is_none() && api_keys.contains(&sp.api_key) {
            service_provider = Some(sp.name.clone());
        }
    }
    for value in found {
        masker.add(value);
    }

    let mut headers = Map::new();
    for name in parts.headers.keys() {
        let joined = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| masker.header(name.as_str(), &String::from_utf8_lossy(v.as_bytes())))
            .collect::<Vec<_>>()
            .join(", ");
        headers.insert(name.as_str().to_owned(), Value::String(joined));
    }
    let masked_path = masker.path(path);
    let region = Region::ALL.into_iter().find(|r| {
        path.strip_prefix(&r.prefix())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    });
    let at = state.clock.now();
    let mut entry = json!({
        "seq": 0,
        "at": format_rfc3339(at),
        "at_ms": at,
        "method": parts.method.as_str(),
        "path": masked_path,
        "region": region.map(Region::as_str),
        "headers": headers,
        "body_bytes": body.len(),
    });
    if let Some(query) = query {
        entry["query"] = Value::String(masker.query(query));
    }
    if let Some(name) = service_provider {
        entry["service_provider"] = Value::String(name);
    }
    let (kind, shown, truncated) = view.masked(&masker);
    entry["body_truncated"] = Value::Bool(truncated || !complete);
    if let Some(kind) = kind {
        entry[kind] = shown.clone();
    }
    let method = parts.method.as_str().to_owned();
    let (seq, entry) = state
        .journal
        .push(entry, method.clone(), masked_path.clone());
    if let Some(log) = &state.journal.log {
        let target = match entry.get("query").and_then(Value::as_str) {
            Some(q) => format!("{masked_path}?{q}"),
            None => masked_path,
        };
        let mut excerpt: String = if kind.is_some() {
            shown.to_string()
        } else {
            String::new()
        };
        if excerpt.chars().count() > LOG_EXCERPT {
            excerpt = excerpt.chars().take(LOG_EXCERPT).collect::<String>() + "…";
        }
        // One line: the excerpt is JSON, whose strings escape line breaks.
        let space = if excerpt.is_empty() { "" } else { " " };
        log.send(format!(
            "journal #{seq} {method} {target} ({} bytes){space}{excerpt}",
            body.len()
        ));
    }
}

/// The user and password of a Basic credential (base64 of `user:password`);
/// the password is what is masked by value.
fn basic_parts(credentials: &str) -> Vec<String> {
    use base64::Engine;
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&decoded).into_owned();
    match text.split_once(':') {
        Some((_, password)) => vec![password.to_owned(), text.clone()],
        None => vec![text],
    }
}

/// Where request log lines go: a thread of their own writes them, so a
/// reader that stops reading (a full pipe) never stalls the emulator; lines
/// that find its queue full are dropped, and the next line written says
/// how many.
#[derive(Debug, Clone)]
pub struct RequestLog {
    lines: SyncSender<String>,
    dropped: Arc<AtomicU64>,
}

impl RequestLog {
    /// Lines to standard error (what the binary does).
    pub fn stderr() -> Self {
        Self::to_writer(std::io::stderr())
    }

    /// Lines to `writer`, each followed by `\n` and a flush.
    pub fn to_writer<W: Write + Send + 'static>(mut writer: W) -> Self {
        let (lines, received) = sync_channel::<String>(4096);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = Arc::clone(&dropped);
        // Without the thread (the OS refused one) lines are counted as dropped.
        let _ = std::thread::Builder::new()
            .name("iproov-emulator-log".to_owned())
            .spawn(move || {
                for line in received {
                    let missed = lost.swap(0, Ordering::Relaxed);
                    if missed > 0 {
                        let _ = writeln!(
                            writer,
                            "journal: {missed} log lines dropped (the log was not read fast enough)"
                        );
                    }
                    let _ = writeln!(writer, "{line}");
                    let _ = writer.flush();
                }
            });
        Self { lines, dropped }
    }

    fn send(&self, line: String) {
        if self.lines.try_send(line).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
