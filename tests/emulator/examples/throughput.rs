//! Rough throughput of the emulator over loopback HTTP/1.1 keep-alive.
//!
//! `cargo run --release -p iproov-emulator --example throughput [REQUESTS] [CONNECTIONS]`
//!
//! Starts an in-process emulator on 127.0.0.1:0 and, for each scenario,
//! sends REQUESTS requests (default 20000) over CONNECTIONS concurrent
//! clients (default 32), then prints requests per second. Client and
//! server share the machine, so the figure is a lower bound for the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use iproov_emulator::{Config, Emulator, Region};
use serde_json::json;
use tokio::time::Instant;

const KEY: &str = "eudefaultkey0000000000000000000000000000";
const SECRET: &str = "eudefaultsecret0000000000000000000000000";

#[derive(Clone, Copy, Debug)]
enum Scenario {
    Availability,
    EnrolToken,
}

async fn run(emu: &Emulator, scenario: Scenario, total: usize, connections: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let base = emu.region_url(Region::Eu);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let next = Arc::clone(&next);
            let base = base.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let response = match scenario {
                        Scenario::Availability => {
                            http.get(format!("{base}/availability?api_key={KEY}"))
                                .send()
                                .await
                        }
                        Scenario::EnrolToken => {
                            let body = json!({"api_key": KEY, "secret": SECRET,
                                              "resource": "bench", "user_id": format!("u{i}")});
                            http.post(format!("{base}/claim/enrol/token"))
                                .json(&body)
                                .send()
                                .await
                        }
                    };
                    let response = response.expect("request");
                    assert!(response.status().is_success());
                    response.bytes().await.expect("body");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let secs = started.elapsed().as_secs_f64();
    total as f64 / secs
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let connections: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let emu = Emulator::start(Config::default(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("start emulator");
    println!("requests per scenario: {total}, concurrent connections: {connections}");
    for scenario in [Scenario::Availability, Scenario::EnrolToken] {
        // Warm-up, not measured.
        run(&emu, scenario, 500, connections).await;
        let rate = run(&emu, scenario, total, connections).await;
        println!("{scenario:?}: {rate:.0} requests/second");
    }
    emu.shutdown().await;
}
