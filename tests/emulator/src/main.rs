//! `iproov-emulator [--host H] [--port P] [--config FILE] [--no-request-log]`
//!
//! Prints `listening on http://H:P` as the first stdout line (scripts wait
//! for it and read the port from it), then the effective configuration as
//! JSON, and serves until SIGTERM or Ctrl-C, which stop it gracefully with
//! exit code 0. Each API request is logged to stderr as it arrives, one
//! line, credentials masked (the request journal's line).

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use iproov_emulator::{Config, Emulator, RequestLog};

const USAGE: &str =
    "usage: iproov-emulator [--host HOST] [--port PORT] [--config FILE.json] [--no-request-log]
  --host            address to bind (default 127.0.0.1)
  --port            port to bind; 0 picks a free one (default 0)
  --config          JSON configuration (default: built-in service providers, see README.md)
  --no-request-log  no stderr line per API request (the journal keeps them still)";

#[derive(Debug)]
struct Args {
    host: String,
    port: u16,
    config: Option<String>,
    request_log: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        host: "127.0.0.1".to_owned(),
        port: 0,
        config: None,
        request_log: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--host" => args.host = value("--host")?,
            "--port" => {
                args.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?;
            }
            "--config" => args.config = Some(value("--config")?),
            "--no-request-log" => args.request_log = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn load_config(path: Option<&str>) -> Result<Config, String> {
    match path {
        None => Ok(Config::default()),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            Config::from_json(&text).map_err(|e| format!("{path}: {e}"))
        }
    }
}

/// Installs the SIGTERM and SIGINT (Ctrl-C) handlers at once, so a signal
/// sent right after the "listening" line is seen, and returns a future that
/// resolves on either.
#[cfg(unix)]
fn termination() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Ctrl-C only, where there is no SIGTERM.
#[cfg(not(unix))]
fn termination() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = match load_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let addr: SocketAddr = match format!("{}:{}", args.host, args.port).parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("error: bad --host/--port: {e}");
            return ExitCode::from(2);
        }
    };
    let log = args.request_log.then(RequestLog::stderr);
    let emulator = match Emulator::start_with_log(config, addr, log).await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };

    let stop = match termination() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let config_json =
        serde_json::to_string_pretty(&emulator.effective_config()).unwrap_or_default();
    // A closed stdout must not stop the server; the line is best effort.
    let _ = writeln!(out, "listening on {}", emulator.base_url());
    let _ = out.flush();
    let _ = writeln!(out, "effective configuration:\n{config_json}");
    let _ = out.flush();
    drop(out);

    stop.await;
    eprintln!("shutting down");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
