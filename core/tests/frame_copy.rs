//! A validate answer with a large base64 frame is copied exactly once: from the response body
//! into the result. Measured with a counting allocator (bytes, not time).

use iproov_core::ops::validate::parse_validate;
use iproov_core::{Config, Region, Response};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region as AllocRegion, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_60_kb_frame_is_copied_once() {
    const FRAME: usize = 60_000;
    // Base64 with JSON-escaped slashes, as iProov sends it.
    let frame: String = "ABC/".chars().cycle().take(FRAME).collect();
    let escaped = frame.replace('/', "\\/");
    let body = format!(
        r#"{{"passed":true,"token":"abc","type":"verify","frame_available":"true","frame":"{escaped}"}}"#
    );
    let config = Config::for_region(Region::Eu);
    let headers = Vec::new();
    let response = Response::new(200, &headers, body.as_bytes());

    let region = AllocRegion::new(GLOBAL);
    let result = parse_validate(&config, &response).unwrap();
    let allocated = region.change().bytes_allocated;

    assert_eq!(result.frame.as_deref(), Some(frame.as_str()));
    assert!(
        allocated < FRAME + FRAME / 2,
        "parsing allocated {allocated} bytes for a {FRAME}-byte frame: more than one copy"
    );
}
