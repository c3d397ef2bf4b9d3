//! The emulator's mutable world: service providers (with their rate-limit
//! windows), claims, users and OAuth access tokens.
//!
//! Everything lives behind one mutex because every operation is a few map
//! look-ups; handlers never hold the lock across an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::Value;

use crate::clock::{Clock, Millis, format_rfc3339};
use crate::config::{AssuranceType, Config, ServiceProviderConfig};
use crate::faults::Faults;
use crate::journal::{Journal, RequestLog};
use crate::modes::Modes;
use crate::presets::{Preset, PresetKind};
use crate::region::Region;

/// Shared state handed to every handler.
#[derive(Debug)]
pub struct AppState {
    /// Configuration as loaded (reset restores SPs from it).
    pub config: Config,
    /// Emulator clock used for all expiry.
    pub clock: Clock,
    /// The world, see [`World`].
    world: Mutex<World>,
    /// Fault injection and request counting.
    pub faults: Faults,
    /// Every API request as received, credentials masked.
    pub journal: Journal,
    /// Answer of `GET /availability`; when false the other API endpoints
    /// answer 500 `server_error`.
    pub up: AtomicBool,
}

/// Claims, users and tokens.
#[derive(Debug, Default)]
pub struct World {
    /// SPs by API key.
    pub sps: HashMap<String, ServiceProvider>,
    /// Claims by token.
    pub claims: HashMap<String, Claim>,
    /// Users by (api_key, user_id).
    pub users: HashMap<(String, String), User>,
    /// Access tokens by token string.
    pub access_tokens: HashMap<String, AccessToken>,
    /// Answers where the sources disagree (from the config, switchable).
    pub modes: Modes,
    /// The active preset, if any.
    pub preset: Option<Preset>,
}

/// A configured SP plus its runtime rate-limit window.
#[derive(Debug, Clone)]
pub struct ServiceProvider {
    /// Static settings (rate limit may be changed via the control API).
    pub config: ServiceProviderConfig,
    /// Emulator times of recent token requests (sliding 1 s window).
    pub recent_token_requests: VecDeque<Millis>,
}

/// Enrol or verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimKind {
    /// From `/claim/enrol/token`.
    Enrol,
    /// From `/claim/verify/token`.
    Verify,
}

impl ClaimKind {
    /// The value of the validate response's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrol => "enrol",
            Self::Verify => "verify",
        }
    }
}

/// Where a claim is in its life.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ClaimStatus {
    /// Issued; no capture has completed yet.
    Pending,
    /// The (emulated) device finished the capture.
    Completed(Outcome),
    /// Validate has been called once; further validates fail.
    Validated(Outcome),
    /// An image was registered with it via `/claim/enrol/image`.
    ImageEnrolled,
    /// Invalidated via `/claim/{token}/invalidate`.
    Invalidated {
        /// The reason given.
        reason: String,
    },
}

/// What the capture produced, as set by the control API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Authoritative result.
    pub passed: bool,
    /// Failure reason, returned on failure only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Base64 PNG frame, if one was captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<String>,
    /// `signals` object to return.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<Value>,
    /// `return_frame_quality` object to return.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_frame_quality: Option<Value>,
}

/// One enrol/verify transaction.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// The 64-hex token.
    pub token: String,
    /// Enrol or verify.
    pub kind: ClaimKind,
    /// Owning SP.
    pub api_key: String,
    /// Asserted user.
    pub user_id: String,
    /// `resource` from the request.
    pub resource: String,
    /// Assurance type used.
    pub assurance_type: AssuranceType,
    /// Risk profile stored with the claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_profile: Option<String>,
    /// Issue time (emulator clock).
    pub created_at: Millis,
    /// Time after which an unclaimed token is dead.
    pub expires_at: Millis,
    /// Life-cycle state.
    pub status: ClaimStatus,
    /// The `client` (the user's device, e.g. its User-Agent) that the validate carried, once
    /// a validate succeeded: what a test reads to see what its backend sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

impl Claim {
    /// A token that was never completed expires; completed ones stay
    /// validatable (the spec's 2 minutes is the time to *claim* it).
    pub fn is_expired(&self, now: Millis) -> bool {
        self.status == ClaimStatus::Pending && now >= self.expires_at
    }
}

/// User status, capitalised like the spec example (`Active`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UserStatus {
    /// Enrol capture done, not yet validated.
    Inactive,
    /// Can be verified.
    Active,
    /// Exists, but cannot get verify tokens.
    Suspended,
    /// Gone; answers as if it never existed.
    Deleted,
}

/// One enrolled user of one SP.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Identifier.
    pub user_id: String,
    /// Display name (defaults to the user_id, as v2.11 documented).
    pub name: String,
    /// Current status.
    pub status: UserStatus,
    /// Last activation.
    pub activation_date: Option<Millis>,
    /// Last suspension.
    pub suspension_date: Option<Millis>,
    /// A status change requested with a future `date_time`.
    pub scheduled: Option<(UserStatus, Millis)>,
}

impl User {
    /// A fresh user record.
    pub fn new(user_id: &str, status: UserStatus, now: Millis) -> Self {
        let mut user = Self {
            user_id: user_id.to_owned(),
            name: user_id.to_owned(),
            status: UserStatus::Inactive,
            activation_date: None,
            suspension_date: None,
            scheduled: None,
        };
        user.set_status(status, now);
        user
    }

    /// Applies a status change and stamps the matching date.
    pub fn set_status(&mut self, status: UserStatus, at: Millis) {
        self.status = status;
        match status {
            UserStatus::Active => self.activation_date = Some(at),
            UserStatus::Suspended => self.suspension_date = Some(at),
            UserStatus::Inactive | UserStatus::Deleted => {}
        }
    }

    /// Applies a scheduled change whose time has come.
    pub fn refresh(&mut self, now: Millis) {
        if let Some((status, at)) = self.scheduled
            && at <= now
        {
            self.scheduled = None;
            if self.status != UserStatus::Deleted {
                self.set_status(status, at);
            }
        }
    }

    /// Whether the record still counts as an existing user.
    pub fn exists(&self) -> bool {
        self.status != UserStatus::Deleted
    }

    /// The `UserResponse` body.
    pub fn to_response(&self) -> Value {
        let mut body = serde_json::json!({
            "user_id": self.user_id,
            "name": self.name,
            "status": self.status,
        });
        if let Some(at) = self.activation_date {
            body["activation_date"] = Value::String(format_rfc3339(at));
        }
        if let Some(at) = self.suspension_date {
            body["suspension_date"] = Value::String(format_rfc3339(at));
        }
        body
    }
}

/// An OAuth access token.
#[derive(Debug, Clone, Serialize)]
pub struct AccessToken {
    /// SP it was issued for.
    pub api_key: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Expiry (emulator clock).
    pub expires_at: Millis,
    /// Requests authorised so far.
    pub uses: u32,
}

impl AppState {
    /// Builds the initial state from a configuration.
    pub fn new(config: Config) -> Arc<Self> {
        Self::with_log(config, None)
    }

    /// The same, writing a line per API request to `log`.
    pub fn with_log(config: Config, log: Option<RequestLog>) -> Arc<Self> {
        let world = World::from_config(&config);
        Arc::new(Self {
            config,
            clock: Clock::new(),
            world: Mutex::new(world),
            faults: Faults::default(),
            journal: Journal::new(log),
            up: AtomicBool::new(true),
        })
    }

    /// Locks the world. A poisoned lock (a panicking handler) is recovered:
    /// the maps stay consistent because no handler panics mid-update.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets everything except the configuration.
    pub fn reset(&self) {
        *self.world() = World::from_config(&self.config);
        self.faults.reset();
        self.journal.clear();
        self.clock.reset();
        self.up.store(true, Ordering::Relaxed);
    }

    /// Whether the service is up: not marked down and no `outage` preset.
    /// Takes the world lock: never call it while holding that lock.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
            && !self
                .world()
                .preset
                .as_ref()
                .is_some_and(|p| p.kind == PresetKind::Outage)
    }

    /// The `slow_network` preset's delay, if that preset is active.
    pub fn network_delay_ms(&self) -> Option<u64> {
        match self.world().preset.as_ref()?.kind {
            PresetKind::SlowNetwork { delay_ms } => Some(delay_ms),
            _ => None,
        }
    }
}

impl World {
    fn from_config(config: &Config) -> Self {
        let sps = config
            .service_providers
            .iter()
            .map(|sp| {
                let runtime = ServiceProvider {
                    config: sp.clone(),
                    recent_token_requests: VecDeque::new(),
                };
                (sp.api_key.clone(), runtime)
            })
            .collect();
        Self {
            sps,
            modes: config.modes,
            ..Self::default()
        }
    }

    /// The SP with `api_key` if `region` is where it lives, as the API sees
    /// it: the `region_mismatch` preset moves an SP elsewhere.
    pub fn sp_in_region(&self, api_key: &str, region: Region) -> Option<&ServiceProvider> {
        let moved = self
            .preset
            .as_ref()
            .is_some_and(|p| p.kind == PresetKind::RegionMismatch && p.applies_to(api_key));
        self.sps
            .get(api_key)
            .filter(|sp| sp.config.region == region && !moved)
    }

    /// A live (not deleted) user of an SP, with scheduled changes applied.
    pub fn live_user(&mut self, api_key: &str, user_id: &str, now: Millis) -> Option<&mut User> {
        let user = self
            .users
            .get_mut(&(api_key.to_owned(), user_id.to_owned()))?;
        user.refresh(now);
        user.exists().then_some(user)
    }
}
