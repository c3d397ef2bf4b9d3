//! 200 simultaneous clients, each with its own connection, running a full
//! enrol + verify + management flow; none may see an error.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{EU, Env, start};
use iproov_emulator::Region;
use reqwest::Method;
use serde_json::json;
use tokio::sync::Barrier;

const CLIENTS: usize = 200;

async fn one_client(env: Arc<Env>, barrier: Arc<Barrier>, i: usize) -> Result<(), String> {
    // Each client has its own connection pool, so 200 sockets are open.
    let http = reqwest::Client::new();
    let base = env.emu.region_url(Region::Eu);
    let user = format!("user{i}");
    barrier.wait().await;

    let post =
        |path: &str, body: serde_json::Value| http.post(format!("{base}{path}")).json(&body).send();
    let expect_ok = |r: reqwest::Response| async move {
        let status = r.status();
        let body: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{status}: {body}"))
        }
    };
    let err = |e: reqwest::Error| e.to_string();

    let token = expect_ok(
        post("/claim/enrol/token", Env::claim_body(EU, &user))
            .await
            .map_err(err)?,
    )
    .await?;
    let token = token["token"].as_str().ok_or("no token")?.to_owned();
    let control = format!("{}/claims/{token}/complete", env.emu.control_url());
    expect_ok(
        http.post(control)
            .json(&json!({"passed": true}))
            .send()
            .await
            .map_err(err)?,
    )
    .await?;
    let validate = json!({"api_key": EU.key, "secret": EU.secret, "token": token, "user_id": user, "client": "c"});
    let result = expect_ok(post("/claim/enrol/validate", validate).await.map_err(err)?).await?;
    if result["passed"] != true {
        return Err(format!("not passed: {result}"));
    }
    let verify = expect_ok(
        post("/claim/verify/token", Env::claim_body(EU, &user))
            .await
            .map_err(err)?,
    )
    .await?;
    if verify["token"].as_str().map(str::len) != Some(64) {
        return Err(format!("bad verify token: {verify}"));
    }
    let oauth = http
        .post(format!("{base}/{}/access_token", EU.key))
        .basic_auth(EU.user, Some(EU.pass))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(err)?;
    let oauth = expect_ok(oauth).await?;
    let bearer = oauth["access_token"].as_str().ok_or("no access token")?;
    let got = http
        .request(Method::GET, format!("{base}/users/{user}"))
        .bearer_auth(bearer)
        .send()
        .await
        .map_err(err)?;
    let got = expect_ok(got).await?;
    if got["status"] != "Active" {
        return Err(format!("bad user: {got}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_simultaneous_clients() {
    let env = Arc::new(start().await);
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(one_client(Arc::clone(&env), Arc::clone(&barrier), i)))
        .collect();
    let mut failures = Vec::new();
    for task in tasks {
        let outcome = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("client finished in time")
            .expect("client task did not panic");
        if let Err(e) = outcome {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    let state = env.control(Method::GET, "/state", None).await.ok();
    assert_eq!(state["users"].as_array().unwrap().len(), CLIENTS);
    assert_eq!(state["claims"].as_array().unwrap().len(), 2 * CLIENTS);
}
