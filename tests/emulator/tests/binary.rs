//! The `iproov-emulator` binary: first stdout line, config printing,
//! `--config`, and a clean exit (code 0) on SIGTERM and SIGINT.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_iproov-emulator");

async fn spawn(args: &[&str]) -> (Child, BufReader<ChildStdout>, String) {
    spawn_with(args, Stdio::null()).await
}

/// The emulator with `args` and its stderr as given, once it printed its first line (returned).
async fn spawn_with(args: &[&str], stderr: Stdio) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    tokio::time::timeout(Duration::from_secs(20), stdout.read_line(&mut first))
        .await
        .expect("first line in time")
        .unwrap();
    (child, stdout, first.trim_end().to_owned())
}

/// `listening on http://127.0.0.1:PORT` -> PORT.
fn port_of(first_line: &str) -> u16 {
    let rest = first_line
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"));
    rest.parse().unwrap()
}

/// Sends a signal with the system `kill` (the crate forbids unsafe code).
async fn signal(child: &Child, name: &str) {
    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args([format!("-{name}"), pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

/// Whether nothing accepts connections on 127.0.0.1:PORT any more (the process seen gone).
fn refuses(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(10),
    )
    .is_err()
}

async fn wait_exit(child: &mut Child) -> i32 {
    tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits in time")
        .unwrap()
        .code()
        .expect("exit code, not a signal")
}

#[tokio::test]
async fn prints_address_and_config_then_exits_0_on_sigterm() {
    let (mut child, mut stdout, first) = spawn(&["--port", "0"]).await;
    let port = port_of(&first);
    let url = format!(
        "http://127.0.0.1:{port}/eu/api/v2/availability?api_key=eudefaultkey0000000000000000000000000000"
    );
    let body: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(body["up"], true);
    signal(&child, "TERM").await;
    assert_eq!(wait_exit(&mut child).await, 0);
    assert!(
        refuses(port),
        "port {port} still accepts connections after the exit"
    );
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    assert!(rest.contains("\"api_key\": \"eudefaultkey0000000000000000000000000000\""));
    assert!(rest.contains("\"oauth_password\": \"eu-default-oauth-password\""));
}

#[tokio::test]
async fn exits_0_on_ctrl_c() {
    let (mut child, _stdout, first) = spawn(&[]).await;
    let port = port_of(&first);
    signal(&child, "INT").await;
    assert_eq!(wait_exit(&mut child).await, 0);
    assert!(
        refuses(port),
        "port {port} still accepts connections after the exit"
    );
}

#[tokio::test]
async fn loads_a_config_file() {
    let dir = std::env::temp_dir().join(format!("iproov-emulator-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    let key = "sgkey000000000000000000000000000000000000"[..40].to_owned();
    let config = serde_json::json!({
        "claim_token_lifetime_secs": 30,
        "service_providers": [{
            "name": "sg-only", "region": "sg", "api_key": key, "secret": "s",
            "oauth_username": "u", "oauth_password": "p", "rate_limit_per_second": 3
        }]
    });
    std::fs::write(&path, config.to_string()).unwrap();
    let (mut child, mut stdout, first) =
        spawn(&["--config", path.to_str().unwrap(), "--host", "127.0.0.1"]).await;
    let port = port_of(&first);
    let url = format!("http://127.0.0.1:{port}/sg/api/v2/availability?api_key={key}");
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    signal(&child, "TERM").await;
    assert_eq!(wait_exit(&mut child).await, 0);
    assert!(
        refuses(port),
        "port {port} still accepts connections after the exit"
    );
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    assert!(rest.contains("\"claim_token_lifetime_secs\": 30"));
    assert!(rest.contains("\"rate_limit_per_second\": 3"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn bad_arguments_and_configs_exit_2() {
    for args in [
        vec!["--port", "notaport"],
        vec!["--bogus"],
        vec!["--config", "/nonexistent/emulator.json"],
    ] {
        let status = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}");
    }
}

/// The binary with stderr piped: (child, stdout reader, first line, stderr reader).
async fn spawn_logged(
    args: &[&str],
) -> (
    Child,
    String,
    tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
) {
    let (mut child, mut stdout, first) = spawn_with(args, Stdio::piped()).await;
    // Drained, so the emulator never blocks on its stdout.
    tokio::spawn(async move { tokio::io::copy(&mut stdout, &mut tokio::io::sink()).await });
    let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    (child, first, stderr)
}

#[tokio::test]
async fn logs_each_request_to_stderr_as_one_masked_line() {
    let (mut child, first, mut stderr) = spawn_logged(&[]).await;
    let port = port_of(&first);
    let planted = "planted-secret-on-stderr-01";
    let reply = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/eu/api/v2/claim/enrol/token"
        ))
        .json(&serde_json::json!({
            "api_key": "eudefaultkey0000000000000000000000000000", "secret": planted,
            "resource": "r", "user_id": "u", "client": "line\nbreak"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let line = tokio::time::timeout(Duration::from_secs(20), stderr.next_line())
        .await
        .expect("a log line in time")
        .unwrap()
        .expect("a line, not the end of stderr");
    assert!(
        line.starts_with("journal #1 POST /eu/api/v2/claim/enrol/token ("),
        "{line}"
    );
    assert!(
        line.contains(r#""secret":"***""#) && line.contains(r#""client":"line\nbreak""#),
        "{line}"
    );
    assert!(
        !line.contains(planted) && !line.contains("eudefaultkey0"),
        "{line}"
    );
    signal(&child, "TERM").await;
    assert_eq!(wait_exit(&mut child).await, 0);
}

#[tokio::test]
async fn no_request_log_keeps_stderr_quiet() {
    let (mut child, first, mut stderr) = spawn_logged(&["--no-request-log"]).await;
    let port = port_of(&first);
    let url = format!(
        "http://127.0.0.1:{port}/eu/api/v2/availability?api_key=eudefaultkey0000000000000000000000000000"
    );
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    // The journal has it all the same.
    let journal: serde_json::Value =
        reqwest::get(format!("http://127.0.0.1:{port}/__emulator/journal"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(journal["requests"][0]["query"], "api_key=***");
    signal(&child, "TERM").await;
    assert_eq!(wait_exit(&mut child).await, 0);
    let mut rest = Vec::new();
    while let Some(line) = stderr.next_line().await.unwrap() {
        rest.push(line);
    }
    assert_eq!(rest, ["shutting down"]);
}
