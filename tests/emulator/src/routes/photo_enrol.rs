//! `POST /claim/enrol/image`: photo enrol with a trusted image, sent as
//! `multipart/form-data`. A successful call creates an Active user at once.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::{Extension, Json};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{authenticate_sp, has_content_type};
use crate::region::Region;
use crate::state::{AppState, ClaimKind, ClaimStatus, User, UserStatus};

/// Largest accepted image (spec: 2 MB).
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// The form parts of the request.
#[derive(Debug, Default)]
struct Parts {
    text: HashMap<String, String>,
    image: Option<Bytes>,
}

/// `POST /claim/enrol/image`.
///
/// Check order: content type, credentials (401), photo enrol enabled for
/// the SP (401 `invalid_key`, see README), token (missing -> `missing_data`,
/// unusable -> `invalid_token`), `rotation`, `source`, image, then that the
/// user is not enrolled meanwhile.
pub async fn enrol_image(
    State(state): State<Arc<AppState>>,
    Extension(region): Extension<Region>,
    req: Request,
) -> ApiResult<Json<Value>> {
    if !has_content_type(req.headers(), "multipart/form-data") {
        return Err(ApiError::invalid_request(
            "Content-Type must be multipart/form-data",
        ));
    }
    let parts = read_parts(req).await?;
    let field = |name: &str| parts.text.get(name).map(String::as_str);

    let now = state.clock.now();
    let mut world = state.world();
    let sp = authenticate_sp(&world, region, field("api_key"), field("secret"))?;
    if !sp.photo_enrol {
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid_key",
            "Photo enrol is not enabled for this service provider",
        ));
    }
    let token = field("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::missing_data("token"))?
        .to_owned();
    let claim = world
        .claims
        .get(&token)
        .filter(|c| c.api_key == sp.api_key && c.kind == ClaimKind::Enrol)
        .ok_or_else(|| ApiError::invalid_token("Unknown enrol token"))?;
    if claim.is_expired(now) {
        return Err(ApiError::invalid_token("Token has expired"));
    }
    if claim.status != ClaimStatus::Pending {
        return Err(ApiError::invalid_token("Token has already been used"));
    }
    let user_id = claim.user_id.clone();
    match field("rotation").map(str::trim) {
        Some("0") => {}
        Some(_) => return Err(ApiError::invalid_request("Only rotation 0 is supported")),
        None => return Err(ApiError::invalid_request("Missing rotation")),
    }
    // The spec defaults source to eid; clients send it in any case (.NET
    // sends `EID`/`Selfie`), so it is matched case-insensitively.
    let source = field("source").unwrap_or("eid").to_ascii_lowercase();
    if !["eid", "oid", "selfie"].contains(&source.as_str()) {
        return Err(ApiError::invalid_source());
    }
    check_image(parts.image.as_ref())?;
    if world.live_user(&sp.api_key, &user_id, now).is_some() {
        return Err(ApiError::already_enrolled());
    }

    if let Some(claim) = world.claims.get_mut(&token) {
        claim.status = ClaimStatus::ImageEnrolled;
    }
    let user = User::new(&user_id, UserStatus::Active, now);
    world
        .users
        .insert((sp.api_key.clone(), user_id.clone()), user);
    Ok(Json(
        json!({"token": token, "user_id": user_id, "success": true}),
    ))
}

async fn read_parts(req: Request) -> ApiResult<Parts> {
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::invalid_request(format!("Malformed multipart body: {e}")))?;
    let mut parts = Parts::default();
    loop {
        let next = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::invalid_request(format!("Malformed multipart body: {e}")))?;
        let Some(field) = next else { break };
        let name = field.name().unwrap_or_default().to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError::invalid_request(format!("Malformed multipart body: {e}")))?;
        if name == "image" {
            parts.image = Some(data);
        } else {
            let text = String::from_utf8(data.to_vec())
                .map_err(|_| ApiError::invalid_request(format!("Part {name} is not UTF-8")))?;
            parts.text.insert(name, text);
        }
    }
    Ok(parts)
}

/// Missing, empty, oversized, or not PNG/JPEG/JP2 (by magic bytes) images
/// are all `invalid_enrol_image`. Face geometry is not checked.
fn check_image(image: Option<&Bytes>) -> ApiResult<()> {
    let image = image
        .filter(|i| !i.is_empty())
        .ok_or_else(|| ApiError::invalid_enrol_image("Missing image"))?;
    if image.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::invalid_enrol_image("Image is larger than 2 MB"));
    }
    const SIGNATURES: [&[u8]; 4] = [
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"\x00\x00\x00\x0cjP  \r\n\x87\n",
        b"\xff\x4f\xff\x51",
    ];
    if SIGNATURES.iter().any(|sig| image.starts_with(sig)) {
        Ok(())
    } else {
        Err(ApiError::invalid_enrol_image(
            "Image must be PNG, JPEG or JPEG 2000",
        ))
    }
}
