//! A stateful local stand-in for the iProov REST API v2.
//!
//! It exists so that clients of the API can be tested end to end without
//! network access or iProov credentials: every region is served under
//! `/{region}/api/v2`, and a control API under `/__emulator/` replaces the
//! phone (completing claims), iPortal (SP settings) and the network's
//! failures (injected faults). It is an independent reading of the API
//! facts and deliberately does not share code with `iproov-core`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use iproov_emulator::{Config, Emulator, Region};
//! let emulator = Emulator::start(Config::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("{}", emulator.region_url(Region::Eu)); // http://127.0.0.1:PORT/eu/api/v2
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```

mod clock;
mod config;
mod control;
mod error;
mod extract;
mod faults;
mod holds;
mod inject;
mod journal;
mod journal_body;
mod json_errors;
mod mask;
mod modes;
mod presets;
mod rate_limit;
mod record;
mod region;
mod routes;
mod server;
mod state;
mod syntax;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{AssuranceType, Config, KEY_LEN, ServiceProviderConfig, padded_key};
pub use control::PLACEHOLDER_PNG;
pub use faults::{FaultAction, FaultSpec, MatchMode};
pub use journal::RequestLog;
pub use modes::{AccessTokenKeyStatus, Modes, UnknownUser, VerifyValidateKeyStatus};
pub use region::Region;
pub use state::AppState;

/// The whole HTTP surface: six region prefixes plus `/__emulator`, every
/// request outside `/__emulator` journaled first.
pub fn app(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for region in Region::ALL {
        router = router.nest(
            &region.prefix(),
            routes::region_router(Arc::clone(&state), region),
        );
    }
    router
        .nest("/__emulator", control::router(Arc::clone(&state)))
        .fallback(|| async { error::ApiError::not_found() })
        .layer(axum::middleware::from_fn_with_state(
            state,
            record::record_requests,
        ))
}

/// A running emulator. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds `addr` (port 0 picks a free port) and serves in a background
    /// task of the current tokio runtime.
    pub async fn start(config: Config, addr: SocketAddr) -> std::io::Result<Self> {
        Self::start_with_log(config, addr, None).await
    }

    /// The same, writing one line per API request to `log` as it arrives
    /// (the binary: [`RequestLog::stderr`]).
    pub async fn start_with_log(
        config: Config,
        addr: SocketAddr,
        log: Option<RequestLog>,
    ) -> std::io::Result<Self> {
        config
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = AppState::with_log(config, log);
        let (stop, stopped) = oneshot::channel::<()>();
        let app = app(Arc::clone(&state));
        let task = tokio::spawn(async move {
            server::serve(listener, app, async {
                // A dropped sender also means stop.
                let _ = stopped.await;
            })
            .await;
        });
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://ADDR/{region}/api/v2`, the stand-in for the region's base URL.
    pub fn region_url(&self, region: Region) -> String {
        format!("{}{}", self.base_url(), region.prefix())
    }

    /// `http://ADDR/__emulator`.
    pub fn control_url(&self) -> String {
        format!("{}/__emulator", self.base_url())
    }

    /// Shared state, for in-process inspection.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The configuration in force, including rate-limit changes.
    pub fn effective_config(&self) -> Config {
        control::effective_config(&self.state)
    }

    /// Graceful stop: no new connections, open requests get up to 5 s.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}
