//! Build + parse cost per operation: `cargo bench -p iproov-core --bench operations`.
//! Goal: verify-validate without a frame under 2 us on the project machine.

use base64::Engine;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use iproov_core::driver::{CallContext, Driver, DriverOptions};
use iproov_core::ops::claim::{
    ClaimInput, build_enrol_token, build_verify_token, parse_claim_token,
};
use iproov_core::ops::oauth::{AccessTokenInput, build_access_token, parse_access_token};
use iproov_core::ops::users::{UserInput, build_get_user, parse_user};
use iproov_core::ops::validate::{ValidateInput, build_verify_validate, parse_validate};
use iproov_core::{Config, Operation, Region, Response, Secret};

const USER: &str = "5f1c2a9e-7b3d-4c8e-9a01-2d6f4b8c0e13";
const TOKEN: &str = "3170b2a6f1e94c8a9d0e7b5c4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b7542";

fn config() -> Config {
    Config::for_region(Region::Eu)
        .with_service_credentials(
            "0123456789abcdefghij0123456789abcdefghij",
            Secret::new("s3cret"),
        )
        .with_oauth("oauth-user", Secret::new("oauth-pass"))
        .expect("valid OAuth credentials")
}

fn validate_body(frame_len: usize) -> Vec<u8> {
    // A frame as iProov sends it: base64 of binary image data (here deterministic
    // pseudo-random bytes, so every base64 symbol is equally likely), slashes JSON-escaped.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..frame_len * 3 / 4)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let frame = base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .replace('/', "\\/");
    let frame_field = if frame_len > 0 {
        format!(r#","frame_available":true,"frame":"{frame}""#)
    } else {
        String::new()
    };
    format!(
        r#"{{"passed":true,"token":"{TOKEN}","type":"verify","risk_profile":"D_33_1A","assurance_type":"genuine_presence","signals":{{"anti_spoofing":{{"passed":true}},"matching":{{"passed":true}}}}{frame_field}}}"#
    )
    .into_bytes()
}

fn benches(c: &mut Criterion) {
    let config = config();
    let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    let claim = ClaimInput {
        resource: "Login".into(),
        user_id: USER.into(),
        assurance_type: None,
        risk_profile: None,
    };
    let claim_body = format!(
        r#"{{"token":"{TOKEN}","fallback":[],"primary":"","user_id":"{USER}","pod":"edge02.eu4"}}"#
    )
    .into_bytes();
    c.bench_function("enrol_token build+parse", |b| {
        b.iter(|| {
            let request = build_enrol_token(&config, black_box(&claim)).unwrap();
            black_box(request);
            parse_claim_token(
                &config,
                &Response::new(200, &headers, black_box(&claim_body)),
            )
            .unwrap()
        })
    });
    c.bench_function("verify_token build+parse", |b| {
        b.iter(|| {
            black_box(build_verify_token(&config, black_box(&claim)).unwrap());
            parse_claim_token(
                &config,
                &Response::new(200, &headers, black_box(&claim_body)),
            )
            .unwrap()
        })
    });
    let validate = ValidateInput {
        user_id: USER.into(),
        token: TOKEN.into(),
        client: "Mozilla/5.0".into(),
        risk_profile: None,
        activate: None,
    };
    for (label, frame_len) in [
        ("verify_validate build+parse (no frame)", 0),
        ("verify_validate build+parse (60 KB frame)", 60_000),
    ] {
        let body = validate_body(frame_len);
        c.bench_function(label, |b| {
            b.iter(|| {
                black_box(build_verify_validate(&config, black_box(&validate)).unwrap());
                parse_validate(&config, &Response::new(200, &headers, black_box(&body))).unwrap()
            })
        });
    }
    let token_body = br#"{"access_token":"eyJhbGciOi.example","token_type":"Bearer","expires_in":3600,"scope":["user-read"]}"#;
    c.bench_function("access_token build+parse", |b| {
        b.iter(|| {
            black_box(
                build_access_token(&config, black_box(&AccessTokenInput::default())).unwrap(),
            );
            parse_access_token(
                &config,
                &Response::new(200, &headers, black_box(token_body)),
            )
            .unwrap()
        })
    });
    let user_body = format!(r#"{{"user_id":"{USER}","name":"{USER}","status":"Active","activation_date":"2024-05-01T12:30:00Z"}}"#).into_bytes();
    let user = UserInput {
        user_id: USER.into(),
    };
    c.bench_function("get_user build+parse", |b| {
        b.iter(|| {
            black_box(build_get_user(&config, black_box(&user)).unwrap());
            parse_user(
                &config,
                &Response::new(200, &headers, black_box(&user_body)),
            )
            .unwrap()
        })
    });
    let error_body =
        br#"{"error":"invalid_key","error_description":"Invalid Public and/or Private Key"}"#;
    c.bench_function("verify_token 401 invalid_key parse", |b| {
        b.iter(|| {
            parse_claim_token(
                &config,
                &Response::new(401, &headers, black_box(error_body)),
            )
            .unwrap_err()
        })
    });
    // One whole call through the call driver (start, poll, answer, poll): what every
    // client pays on top of build + parse (its audit record included).
    let mut driver = Driver::new(config.clone(), DriverOptions::default(), 7).unwrap();
    let input = format!(r#"{{"resource":"Login","user_id":"{USER}"}}"#).into_bytes();
    let mut now = 1_751_270_400_000u64;
    c.bench_function("enrol_token through the call driver", |b| {
        b.iter(|| {
            now += 1;
            let id = driver.start(
                Operation::EnrolToken,
                black_box(&input),
                CallContext::default(),
                now,
            );
            let _ = black_box(driver.poll(id, now));
            driver.on_response(id, &Response::new(200, &headers, &claim_body), now);
            black_box(driver.poll(id, now))
        })
    });
}

criterion_group!(operations, benches);
criterion_main!(operations);
