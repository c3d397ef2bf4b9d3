#![no_main]
//! The call driver as the JS hosts pump it (`host::driver_new`, `driver_start`,
//! `driver_poll`, `driver_response`, `driver_failure`, and `Driver::cancel` as Python's
//! does): any number of calls, started, polled, answered, failed and cancelled in any
//! order at any times, the access tokens coming from access-token answers the input makes
//! iProov send.
//!
//! The oracle: no poll text (audit records, `failed` errors, `sleep`/`wait`) but the `send`
//! payload (the wire request) and the `done` payload (the caller's result) shows a
//! credential the call knows: the config's, the managed tokens the driver holds (the
//! current one and the one dropped before it, as modelled from its token status), and any
//! token the call itself sent. Each `send` is a request the host can read line by line with
//! exactly the `Authorization` its operation takes: the Basic credentials for the token
//! request, the configured or the current managed token for the users API, none for the
//! claim and availability calls.
use base64::Engine;
use iproov_core::driver::{Driver, TransportFailure};
use iproov_core::host;
use iproov_core::{Operation, flows::TokenStatus};
use iproov_core_fuzz::{
    CONF_TOKEN, Cred, FuzzConfig, Known, MANAGED_TOKENS, OAUTH_USERNAME, PASSWORD, Reader,
    body_from, check, check_error, check_error_text, config_from, input_for, operation_name,
};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

/// A managed token as the harness knows it: which of the harness's, or one the fuzzer's own
/// bytes made (unknown to the oracle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Managed(u8),
    Other,
}

impl Tok {
    fn known(self) -> Known {
        match self {
            Tok::Managed(i) => Known::NONE.with(Cred::Managed(i)),
            Tok::Other => Known::NONE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InFlight {
    TokenRequest,
    Request,
}

#[derive(Debug)]
struct Track {
    id: u64,
    op: Option<Operation>,
    in_flight: Option<InFlight>,
    /// The managed tokens this call sent.
    sent: Known,
}

struct Harness {
    cfg: FuzzConfig,
    driver: Driver,
    calls: Vec<Track>,
    held: Option<Tok>,
    retired: Option<Tok>,
    now: u64,
}

impl Harness {
    fn known(&self, track: Option<&Track>) -> Known {
        let mut known = self.cfg.known;
        for tok in [self.held, self.retired].into_iter().flatten() {
            known = known.union(tok.known());
        }
        known.union(track.map_or(Known::NONE, |t| t.sent))
    }

    fn status(&self) -> TokenStatus {
        self.driver.token_status(self.now)
    }

    /// A call to act on: mostly one the harness started, sometimes any id.
    fn pick(&mut self, r: &mut Reader<'_>) -> (u64, Option<usize>) {
        let pick = r.byte();
        if self.calls.is_empty() || pick == 0xFF {
            let id = u64::from(r.byte());
            return (id, self.calls.iter().position(|t| t.id == id));
        }
        let at = usize::from(pick) % self.calls.len();
        (self.calls[at].id, Some(at))
    }

    fn start(&mut self, r: &mut Reader<'_>) {
        let (name, op) = operation_name(r);
        let input = match op {
            Some(op) => input_for(r, op),
            None => r.text(),
        };
        let attempt = u32::from(r.byte() % 4);
        // Quiet calls (no audit record) take other paths through the driver: fuzz both.
        let quiet = r.byte() % 2 == 1;
        // A bounded wait (browser-facing calls) gives up on long backoffs: fuzz both.
        let max_wait = u64::from(r.byte() % 3) * 1_000;
        match host::driver_start(&mut self.driver, &name, &input, attempt, quiet, max_wait, if quiet { "debug" } else { "" }, self.now) {
            Ok(id) => self.calls.push(Track {
                id,
                op,
                in_flight: None,
                sent: Known::NONE,
            }),
            Err(error) => check_error("driver_start", &error, self.known(None)),
        }
    }

    fn poll(&mut self, r: &mut Reader<'_>) {
        let (id, at) = self.pick(r);
        let text = host::driver_poll(&mut self.driver, id, self.now);
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let mut words = first.split(' ');
        let kind = words.next().expect("a kind");
        let _wake = words.next().expect("a wake flag");
        let records: usize = words.next().expect("a count").parse().expect("a number");
        let mut lines = rest.splitn(records + 1, '\n');
        let mut audit = Vec::new();
        for _ in 0..records {
            audit.push(lines.next().expect("an audit record"));
        }
        let payload = lines.next().unwrap_or("");
        let track = at.map(|at| &self.calls[at]);
        let known = self.known(track);
        for record in &audit {
            serde_json::from_str::<serde_json::Value>(record).expect("a record is JSON");
            check("driver audit record", record, known);
        }
        match kind {
            "send" => {
                let at = at.expect("only a started call sends");
                let (timeout, request) = payload.split_once('\n').expect("timeout, request");
                // A send's time is a duration, never a point that could have passed.
                assert!(timeout.parse::<u64>().expect("a send's time in ms") >= 1);
                let token_request = request
                    .split('\n')
                    .nth(1)
                    .is_some_and(|url| url.ends_with("/access_token"));
                let sent = self.check_send(request, self.calls[at].op, token_request);
                let track = &mut self.calls[at];
                track.sent = track.sent.union(sent);
                track.in_flight = Some(if token_request && track.op != Some(Operation::AccessToken) {
                    InFlight::TokenRequest
                } else {
                    InFlight::Request
                });
            }
            "done" => {
                self.close(at);
            }
            "failed" => {
                check_error_text("driver failed", payload, known);
                self.close(at);
            }
            "sleep" | "wait" => {
                payload.parse::<u64>().expect("a time");
            }
            other => panic!("unknown poll kind {other:?}"),
        }
    }

    fn close(&mut self, at: Option<usize>) {
        if let Some(at) = at {
            self.calls.swap_remove(at);
        }
    }

    /// Checks the `Authorization` of a sent request; gives the managed token it carries.
    fn check_send(&self, request: &str, op: Option<Operation>, token_request: bool) -> Known {
        let (head, _) = request.split_once("\n\n").expect("a head and a body");
        assert!(!head.contains('\r'), "CR in a request head: {head:?}");
        let mut authorization = None;
        for line in head.split('\n').skip(2) {
            let (name, value) = line.split_once(": ").expect("Name: value");
            assert!(!value.chars().any(char::is_control), "{line:?}");
            if name.eq_ignore_ascii_case("authorization") {
                assert!(authorization.is_none(), "two Authorization headers");
                authorization = Some(value);
            }
        }
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{OAUTH_USERNAME}:{PASSWORD}"))
        );
        let configured = self.cfg.known.has(Cred::ConfToken);
        if token_request {
            assert_eq!(authorization, Some(basic.as_str()), "the token request");
            return Known::NONE;
        }
        let op = op.expect("a started call has an operation");
        let Some(bearer) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else {
            assert!(
                !op.needs_access_token() && !(op == Operation::InvalidateClaim && configured),
                "{op} sent without its Bearer token: {authorization:?}"
            );
            assert!(authorization.is_none(), "{op}: {authorization:?}");
            return Known::NONE;
        };
        assert!(op.takes_bearer(), "{op} takes no Bearer token");
        if configured {
            assert_eq!(bearer, CONF_TOKEN, "{op} with a configured token");
            return Known::NONE;
        }
        match MANAGED_TOKENS.iter().position(|t| *t == bearer) {
            Some(i) => {
                let tok = Tok::Managed(i as u8);
                assert!(
                    self.held == Some(tok) || self.held == Some(Tok::Other),
                    "{op} sent {bearer} but the driver holds {:?}",
                    self.held
                );
                tok.known()
            }
            None => {
                assert_eq!(self.held, Some(Tok::Other), "{op} sent an unknown token {bearer}");
                Known::NONE
            }
        }
    }

    fn respond(&mut self, r: &mut Reader<'_>) {
        let (id, at) = self.pick(r);
        let op = at.and_then(|at| self.calls[at].op);
        let statuses = [200u32, 200, 200, 401, 400, 429, 500, 503, 302, 70_000];
        let status = statuses[usize::from(r.byte()) % statuses.len()];
        let headers = match r.byte() % 3 {
            0 => String::new(),
            1 => json!({"Retry-After": (r.byte() / 16).to_string()}).to_string(),
            _ => r.text(),
        };
        let in_flight = at.and_then(|at| self.calls[at].in_flight);
        let answer_op = match in_flight {
            Some(InFlight::TokenRequest) => Some(Operation::AccessToken),
            _ => op,
        };
        let (body, token) = body_from(r, answer_op);
        let before = self.status();
        host::driver_response(&mut self.driver, id, status, &headers, &body, self.now);
        let after = self.status();
        if let Some(at) = at {
            self.calls[at].in_flight = None;
        }
        match in_flight {
            Some(InFlight::TokenRequest) => {
                let accepted = match token.filter(|_| status == 200) {
                    Some(i) => Some(Tok::Managed(i)),
                    None => (after != before
                        && after.has_token
                        && after.uses == Some(0)
                        && after.issued_at_ms == Some(self.now))
                    .then_some(Tok::Other),
                };
                if let Some(tok) = accepted {
                    assert!(after.has_token, "a valid token answer was not accepted");
                    if self.held.is_some() {
                        self.retired = self.held;
                    }
                    self.held = Some(tok);
                }
            }
            Some(InFlight::Request) if before.has_token && !after.has_token => {
                // iProov rejected the token: the driver dropped it.
                self.retired = self.held;
                self.held = None;
            }
            _ => {}
        }
    }

    fn fail(&mut self, r: &mut Reader<'_>) {
        let (id, at) = self.pick(r);
        let names = TransportFailure::ALL;
        let pick = usize::from(r.byte());
        let name = names.get(pick % 12).map_or("weird", |f| f.name());
        let cause = r.text();
        host::driver_failure(&mut self.driver, id, name, &cause, self.now);
        if let Some(at) = at {
            self.calls[at].in_flight = None;
        }
    }

    fn cancel(&mut self, r: &mut Reader<'_>) {
        let (id, at) = self.pick(r);
        self.driver.cancel(id);
        self.close(at);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let cfg = config_from(&mut r);
    let config = match host::new_config(&cfg.json) {
        Ok(config) => config,
        Err(error) => return check_error("new_config", &error, cfg.known),
    };
    let options = match r.byte() % 4 {
        0 => String::new(),
        1 | 2 => json!({
            "retry": {"max_retries": r.byte() % 3, "base_delay_ms": r.byte(), "max_delay_ms": r.u16()},
            "token": {"max_uses": 1 + r.byte() % 3, "margin_ms": r.u16(),
                      "default_expires_in_s": 1 + u32::from(r.byte())},
            "timeout_ms": 1 + u32::from(r.u16()),
            "audit_frames": r.bool(),
        })
        .to_string(),
        _ => r.text(),
    };
    let seed: Vec<u8> = (0..8).map(|_| r.byte()).collect();
    let driver = match host::driver_new(&config, &options, &seed) {
        Ok(driver) => driver,
        Err(error) => return check_error("driver_new", &error, cfg.known),
    };
    let mut h = Harness {
        cfg,
        driver,
        calls: Vec::new(),
        held: None,
        retired: None,
        now: 1_700_000_000_000,
    };
    for _ in 0..64 {
        if r.is_empty() {
            break;
        }
        match r.byte() % 8 {
            0 => h.start(&mut r),
            1 | 2 => h.poll(&mut r),
            3 | 4 => h.respond(&mut r),
            5 => h.fail(&mut r),
            6 => h.cancel(&mut r),
            _ => h.now = h.now.saturating_add(u64::from(r.u16()) * u64::from(r.byte())),
        }
    }
});
