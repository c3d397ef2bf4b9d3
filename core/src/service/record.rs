//! The stored journey: what iProov's integration guide asks an integrator to keep, and every
//! transition of it. Hosts store the record as JSON with its `version` and write it back only
//! if the version they read is still the stored one (compare-and-set); they decide nothing.

use crate::error::{Error, ErrorKind};
use crate::flows::ResultSummary;
use crate::flows::journey::Flow;
use crate::json_object::json_object;
use crate::json_value::to_json_value;
use crate::ops::claim::AssuranceType;
use crate::ops::validate::ValidateResult;
use crate::validation::{check_token, check_user_id};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Where an attempt stands in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    /// Token issued; the SDK may run; no validate yet.
    Issued,
    /// A validate of the token may be on its way to iProov: no other instance may send one.
    Validating,
    /// Validate said `passed: true`.
    Passed,
    /// Validate said `passed: false`.
    Failed,
    /// Validate answered with an iProov error (e.g. `invalid_token`).
    Error,
    /// The validate may have reached iProov but its answer was lost (or the instance sending
    /// it died): inconclusive, never to be validated again.
    OutcomeUnknown,
    /// The token was never validated within its lifetime.
    Expired,
    /// iProov's SDK ended without a capture to validate (the person cancelled, no camera,
    /// permission denied, an SDK error): `exit` says how.
    Exited,
}

impl AttemptState {
    /// Every state.
    pub const ALL: [AttemptState; 8] = [
        Self::Issued,
        Self::Validating,
        Self::Passed,
        Self::Failed,
        Self::Error,
        Self::OutcomeUnknown,
        Self::Expired,
        Self::Exited,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Validating => "validating",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Error => "error",
            Self::OutcomeUnknown => "outcome_unknown",
            Self::Expired => "expired",
            Self::Exited => "exited",
        }
    }

    /// True once the attempt is over (its token is forgotten).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Issued | Self::Validating)
    }
}

/// One attempt as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAttempt {
    /// 1 for the first.
    pub number: u32,
    /// The claim token while the attempt is open; removed once it ends (the guide keeps the
    /// token only for the SDK and the validate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// SHA-256 of the token (hex): what is kept to recognise a replayed token.
    pub token_sha256: String,
    /// Where it stands.
    pub state: AttemptState,
    /// When the token was issued (Unix ms).
    pub issued_at_ms: u64,
    /// When a validate began (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validating_since_ms: Option<u64>,
    /// The `stale_validate_ms` of the instance that began the validate (ms): how long after
    /// `validating_since_ms` any instance may presume it dead. The validating instance's
    /// limit, not the reader's: an instance with a shorter one would otherwise settle a slow
    /// validate of an instance whose client may still be waiting for iProov (issue 23 item
    /// 3). Absent in records written before it was kept: the reader's limit then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_validate_ms: Option<u64>,
    /// When it ended (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at_ms: Option<u64>,
    /// iProov's failure reason (`failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The error's code (`error`, `outcome_unknown`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The validated result without images (`passed`, `failed`; an `error` whose pass
    /// the journey could not take).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultSummary>,
    /// Who settled it without iProov's answer: `stale` (its validate's instance never
    /// wrote an outcome: a late answer still replaces it) or `users_api` (an inconclusive
    /// enrol, checked against iProov's user since).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settled_by: Option<String>,
    /// True when the attempt does not count against the user's attempts: it ended by a
    /// fault that was not the user's (iProov's or the service's side).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_counted: bool,
    /// The client (the browser's User-Agent) that finished or exited the attempt, at most
    /// [`CLIENT_CHARS`] characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// How iProov's SDK ended without a capture: its event (`canceled`, `error`, ...) and
    /// its feedback code, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<Exit>,
}

/// The longest client text kept with an attempt.
pub const CLIENT_CHARS: usize = 256;

/// The SDK events an attempt may end with, without a capture (iProov's Web SDK 5.x), and
/// whether each counts against the user: a person who cancelled used an attempt; a device
/// that cannot run the check (no camera, permission denied, unsupported, an SDK error) did
/// not decide anything (the user's token limit still bounds such tokens). Not among them:
/// the SDK's notices during a capture (`permission`, `multiple_cameras`: its camera selector
/// has the devices, with `enable_camera_selector`), after which the capture goes on.
pub const EXIT_EVENTS: [(&str, bool); 5] = [
    ("canceled", true),
    ("error", false),
    ("no_camera", false),
    ("permission_denied", false),
    ("unsupported", false),
];

/// How an attempt ended without a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exit {
    /// The SDK's event ([`EXIT_EVENTS`]).
    pub event: String,
    /// Its feedback code, at most 64 characters of `[a-z0-9_]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
}
json_object! {
    Exit, deny_unknown_fields;
    req event, opt feedback,
}

impl Exit {
    /// Refuses an event the SDK does not send (`invalid_input`, field `event`) or a feedback
    /// that is not an SDK code (field `feedback`); gives whether the exit counts against the
    /// user ([`EXIT_EVENTS`]).
    pub fn check(&self) -> Result<bool, Error> {
        let Some(&(_, counts)) = EXIT_EVENTS.iter().find(|(e, _)| *e == self.event) else {
            return Err(Error::invalid_input(
                "event",
                "canceled, error, no_camera, permission_denied or unsupported",
            ));
        };
        let code = |f: &String| {
            !f.is_empty()
                && f.len() <= 64
                && f.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if self.feedback.as_ref().is_some_and(|f| !code(f)) {
            return Err(Error::invalid_input(
                "feedback",
                "an SDK feedback code: [a-z0-9_], at most 64",
            ));
        }
        Ok(counts)
    }
}
// Stored records are read by every instance, of whatever version wrote them: a field a newer
// version adds must not make an older reader refuse the user's journey (a rolling deploy), so
// they are read tolerantly, unlike what a host or a browser hands in.
json_object! {
    StoredAttempt, allow_unknown_fields;
    req number, opt token, req token_sha256, req state, req issued_at_ms, opt validating_since_ms,
    opt stale_validate_ms, opt ended_at_ms, opt reason, opt error_code, opt result, opt settled_by, opt not_counted,
    opt client, opt exit,
}

impl StoredAttempt {
    /// Ended without a conclusive answer by a fault (not the user's), and not yet checked
    /// against iProov's users API.
    fn inconclusive(&self) -> bool {
        let faulted = self.state == AttemptState::OutcomeUnknown
            || (self.state == AttemptState::Error && self.not_counted && self.result.is_none());
        faulted && self.settled_by.as_deref() != Some("users_api")
    }

    /// True when the attempt counts against the user's attempts (see
    /// [`crate::service::ServicePolicy::max_attempts`]): not an outcome unknown, not a
    /// fault of iProov's or the service's side.
    pub fn counts(&self) -> bool {
        !self.not_counted && self.state != AttemptState::OutcomeUnknown
    }
}

/// A journey as stored: one user's attempts at one flow. See the module docs of
/// [`crate::service`] for the transitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JourneyRecord {
    /// The journey's id (what the browser holds).
    pub id: String,
    /// Bumped by every transition; stores write a record only over the version it came from.
    pub version: u64,
    /// Enrol or verify.
    pub flow: Flow,
    /// The user (from the application, never from the browser).
    pub user_id: String,
    /// GPA or LA, when chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assurance_type: Option<AssuranceType>,
    /// The `resource` sent with each token request.
    pub resource: String,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// How long after `created_at_ms` the journey takes new attempts (ms); absent in records
    /// of schema 1 (no window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
    /// After this the store may delete the journey (Unix ms): [`JourneyRecord::touch`] moves
    /// it on with every change.
    pub expires_at_ms: u64,
    /// How long a journey is kept after its last change (ms).
    pub retention_ms: u64,
    /// A token not validated this long after it was issued is expired (ms).
    pub token_ttl_ms: u64,
    /// When the journey began (Unix ms).
    pub created_at_ms: u64,
    /// When it last changed (Unix ms).
    pub updated_at_ms: u64,
    /// Every attempt, oldest first.
    pub attempts: Vec<StoredAttempt>,
}
json_object! {
    JourneyRecord, allow_unknown_fields;
    req id, req version, req flow, req user_id, opt assurance_type, req resource, req max_attempts,
    opt window_ms, req expires_at_ms, req retention_ms,
    req token_ttl_ms, req created_at_ms, req updated_at_ms, opt attempts,
}

/// SHA-256 of a token, lowercase hex.
pub(crate) fn token_sha256(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl JourneyRecord {
    /// Reads a stored record. Fails with `invalid_input` (field `record`, or the one named).
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        let record: Self = crate::operation::from_json_value("record", value)?;
        check_user_id("user_id", &record.user_id)?;
        Ok(record)
    }

    /// The record as JSON, to store. It holds the open attempt's token (which the SDK and the
    /// validate need) and nothing secret otherwise; no image.
    pub fn to_json(&self) -> Value {
        to_json_value(self)
    }

    /// The record as shown in a history: without any token.
    pub fn without_tokens(&self) -> Value {
        let mut copy = self.clone();
        for attempt in &mut copy.attempts {
            attempt.token = None;
        }
        copy.to_json()
    }

    pub(crate) fn touch(&mut self, now: u64) {
        self.version += 1;
        self.updated_at_ms = now.max(self.updated_at_ms);
        self.expires_at_ms = self.updated_at_ms.saturating_add(self.retention_ms);
    }

    fn count(&self) -> u32 {
        u32::try_from(self.attempts.len()).unwrap_or(u32::MAX)
    }

    fn counted(&self) -> u32 {
        let counted = self.attempts.iter().filter(|a| a.counts()).count();
        u32::try_from(counted).unwrap_or(u32::MAX)
    }

    /// When the journey stops taking new attempts (Unix ms; `None`: never).
    pub fn window_ends_at_ms(&self) -> Option<u64> {
        self.window_ms
            .map(|ms| self.created_at_ms.saturating_add(ms))
    }

    /// True when the journey takes no new attempt at `now`: its window ended.
    pub fn window_over(&self, now: u64) -> bool {
        self.window_ends_at_ms().is_some_and(|end| now >= end)
    }

    /// The attempt that passed, if any.
    pub fn passed(&self) -> Option<&StoredAttempt> {
        self.attempts
            .iter()
            .find(|a| a.state == AttemptState::Passed)
    }

    /// The open attempt (issued or validating), if any.
    pub fn open(&self) -> Option<&StoredAttempt> {
        self.attempts.last().filter(|a| !a.state.is_final())
    }

    /// Attempts still allowed (an open one not counted as left; see
    /// [`StoredAttempt::counts`]).
    pub fn attempts_left(&self) -> u32 {
        self.max_attempts.saturating_sub(self.counted())
    }

    /// Applies what time alone decides: an issued token past its lifetime is expired, and a
    /// validate whose instance never wrote its outcome (it died) is outcome unknown once it
    /// began longer ago than the limit that instance stored on the attempt
    /// ([`StoredAttempt::stale_validate_ms`]; for a record from before it was stored, the
    /// reader's `stale_validate_ms`). Returns true when the record changed.
    pub fn settle(&mut self, now: u64, stale_validate_ms: u64) -> bool {
        let ttl = self.token_ttl_ms;
        let Some(last) = self.attempts.last_mut() else {
            return false;
        };
        let ended = match last.state {
            AttemptState::Issued if now >= last.issued_at_ms.saturating_add(ttl) => {
                Some((AttemptState::Expired, None))
            }
            AttemptState::Validating
                if now
                    >= last
                        .validating_since_ms
                        .unwrap_or(last.issued_at_ms)
                        .saturating_add(last.stale_validate_ms.unwrap_or(stale_validate_ms)) =>
            {
                Some((
                    AttemptState::OutcomeUnknown,
                    Some("outcome_unknown".to_owned()),
                ))
            }
            _ => None,
        };
        let Some((state, code)) = ended else {
            return false;
        };
        if state == AttemptState::OutcomeUnknown {
            last.settled_by = Some("stale".to_owned());
        }
        last.state = state;
        last.error_code = code;
        last.token = None;
        last.ended_at_ms = Some(now);
        self.touch(now);
        true
    }

    /// Records a new token as attempt `n + 1`. Fails with `invalid_state` (record unchanged)
    /// after a pass, while an attempt is open, when the attempts are used up, or for a token
    /// seen before; `invalid_input` for a malformed token. (The journey pump checks that the
    /// token answer names this journey's user first: [`crate::flows::journey::check_claim_user`].)
    pub fn token_issued(&mut self, token: &str, now: u64) -> Result<(), Error> {
        check_token(token)?;
        if self.passed().is_some() {
            return Err(Error::invalid_state("the journey already passed"));
        }
        if let Some(open) = self.open() {
            return Err(Error::invalid_state(format!(
                "attempt {} is still {}",
                open.number,
                open.state.as_str()
            )));
        }
        if self.attempts_left() == 0 {
            return Err(Error::invalid_state("every allowed attempt was used"));
        }
        let sha = token_sha256(token);
        if self.attempts.iter().any(|a| a.token_sha256 == sha) {
            return Err(Error::invalid_state(
                "this token belongs to an earlier attempt",
            ));
        }
        self.attempts.push(StoredAttempt {
            number: self.count() + 1,
            token: Some(token.to_owned()),
            token_sha256: sha,
            state: AttemptState::Issued,
            issued_at_ms: now,
            validating_since_ms: None,
            stale_validate_ms: None,
            ended_at_ms: None,
            reason: None,
            error_code: None,
            result: None,
            settled_by: None,
            not_counted: false,
            client: None,
            exit: None,
        });
        self.touch(now);
        Ok(())
    }

    /// Moves the open attempt of `token` to `validating`: the host writes this before the
    /// validate leaves. `stale_validate_ms`: this instance's limit, kept on the attempt for
    /// [`JourneyRecord::settle`]. Fails with `invalid_state` when the token's attempt is not
    /// `issued`.
    pub fn begin_validate(
        &mut self,
        index: usize,
        client: &str,
        now: u64,
        stale_validate_ms: u64,
    ) -> Result<(), Error> {
        let Some(attempt) = self.attempts.get_mut(index) else {
            return Err(Error::invalid_state("no such attempt"));
        };
        if attempt.state != AttemptState::Issued {
            return Err(Error::invalid_state(format!(
                "attempt {} is {}, not issued",
                attempt.number,
                attempt.state.as_str()
            )));
        }
        attempt.state = AttemptState::Validating;
        attempt.validating_since_ms = Some(now);
        attempt.stale_validate_ms = Some(stale_validate_ms);
        attempt.client = Some(client.chars().take(CLIENT_CHARS).collect());
        self.touch(now);
        Ok(())
    }

    /// Ends the issued attempt at `index` without a capture: iProov's SDK reported `exit`
    /// (one of [`EXIT_EVENTS`]) to `client`. Fails with `invalid_input` (field `event` or
    /// `feedback`) for an event or feedback the SDK does not send, and `invalid_state` when
    /// the attempt is not `issued`.
    pub fn exited(
        &mut self,
        index: usize,
        exit: Exit,
        client: &str,
        now: u64,
    ) -> Result<(), Error> {
        let counts = exit.check()?;
        let Some(attempt) = self
            .attempts
            .get_mut(index)
            .filter(|a| a.state == AttemptState::Issued)
        else {
            return Err(Error::invalid_state("the attempt is not open"));
        };
        attempt.state = AttemptState::Exited;
        attempt.token = None;
        attempt.ended_at_ms = Some(now);
        attempt.not_counted = !counts;
        attempt.client = Some(client.chars().take(CLIENT_CHARS).collect());
        attempt.exit = Some(exit);
        self.touch(now);
        Ok(())
    }

    /// Records the validate's result for the attempt at `index` (validating, or settled
    /// `outcome_unknown` meanwhile: iProov's answer is authoritative, however late). A
    /// pass at a weaker assurance than the journey asked for is not a pass of this journey
    /// ([`crate::flows::journey::check_assurance`]): the attempt ends `error` with the
    /// result kept, and does not count against the user.
    pub fn validated(
        &mut self,
        index: usize,
        result: &ValidateResult,
        now: u64,
    ) -> Result<(), Error> {
        if let Err(refused) = crate::flows::journey::check_assurance(self.assurance_type, result) {
            let code = refused.code().to_owned();
            return self.end(index, now, |a| {
                a.state = AttemptState::Error;
                a.error_code = Some(code);
                a.result = Some(ResultSummary::from(result));
                a.not_counted = true;
            });
        }
        self.end(index, now, |a| {
            a.state = if result.passed {
                AttemptState::Passed
            } else {
                AttemptState::Failed
            };
            a.reason = if result.passed {
                None
            } else {
                result.reason.clone()
            };
            a.result = Some(ResultSummary::from(result));
        })
    }

    /// Records the validate's error for the attempt at `index` (validating). The call driver
    /// turns every failure after a validate may have left into `outcome_unknown`, so an
    /// input, connection, timeout or abort error of a validate means it was never sent: the
    /// attempt goes back to `issued` and its token may still be validated.
    pub fn validate_failed(&mut self, index: usize, error: &Error, now: u64) -> Result<(), Error> {
        let never_sent = matches!(
            error.kind(),
            ErrorKind::InvalidInput
                | ErrorKind::InvalidState
                | ErrorKind::Connection
                | ErrorKind::Timeout
                | ErrorKind::Aborted
        );
        if never_sent
            && let Some(a) = self
                .attempts
                .get_mut(index)
                .filter(|a| a.state == AttemptState::Validating)
        {
            a.state = AttemptState::Issued;
            a.validating_since_ms = None;
            a.stale_validate_ms = None;
            self.touch(now);
            return Ok(());
        }
        let state = if error.kind() == ErrorKind::OutcomeUnknown {
            AttemptState::OutcomeUnknown
        } else {
            AttemptState::Error
        };
        // Only a token the user left unfinished (iProov's invalid_token: not streamed, or
        // expired) is the user's doing; iProov's or the service's faults do not count.
        let not_counted = error.kind() != ErrorKind::InvalidToken;
        let code = error.code().to_owned();
        self.end(index, now, |a| {
            a.state = state;
            a.error_code = Some(code);
            a.not_counted = not_counted;
        })
    }

    /// Records that iProov's users API says the enrol of an inconclusive attempt completed
    /// (the user is Active): that attempt passed (`settled_by: users_api`).
    pub fn reconciled_enrolled(&mut self, index: usize, now: u64) -> Result<(), Error> {
        let Some(attempt) = self.attempts.get_mut(index) else {
            return Err(Error::invalid_state("no such attempt"));
        };
        attempt.state = AttemptState::Passed;
        attempt.error_code = None;
        attempt.settled_by = Some("users_api".to_owned());
        attempt.ended_at_ms = attempt.ended_at_ms.or(Some(now));
        self.touch(now);
        Ok(())
    }

    /// Marks every inconclusive attempt as checked against iProov's users API, so the next
    /// start does not ask again.
    pub fn reconciled_checked(&mut self, now: u64) {
        for attempt in &mut self.attempts {
            if attempt.inconclusive() {
                attempt.settled_by = Some("users_api".to_owned());
            }
        }
        self.touch(now);
    }

    /// The enrol attempt whose outcome iProov may know better than the record: ended
    /// `outcome_unknown` or `error` by a fault (the capture may have passed and iProov
    /// enrolled the user), not yet checked against the users API.
    pub fn unreconciled(&self) -> Option<usize> {
        if self.flow != Flow::Enrol {
            return None;
        }
        self.attempts.iter().rposition(StoredAttempt::inconclusive)
    }

    fn end(
        &mut self,
        index: usize,
        now: u64,
        update: impl FnOnce(&mut StoredAttempt),
    ) -> Result<(), Error> {
        // An outcome unknown (settled by staleness, or checked against the users API) takes
        // iProov's answer when it comes after all: a validate is sent once, so an answer
        // for this attempt is the answer.
        let Some(attempt) = self.attempts.get_mut(index).filter(|a| {
            matches!(
                a.state,
                AttemptState::Validating | AttemptState::OutcomeUnknown
            )
        }) else {
            return Err(Error::invalid_state("the attempt is not being validated"));
        };
        attempt.settled_by = None;
        update(attempt);
        attempt.token = None;
        attempt.ended_at_ms = Some(now);
        self.touch(now);
        Ok(())
    }
}
