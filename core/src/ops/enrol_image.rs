//! `POST /claim/enrol/image`: photo enrol, registering a trusted image against an enrol token.
//!
//! Call it after `build_enrol_token`, instead of the SDK capture. The user is active afterwards
//! without an enrol validate. One image per token: a second call gives `invalid_token`.

use crate::config::Config;
use crate::decode::parse_json;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::json_object::json_object;
use crate::multipart::Multipart;
use crate::ops::bare_request;
use crate::validation::check_token;
use serde::{Deserialize, Serialize};

/// Largest image accepted. iProov says "2 MB"; the smaller reading (10^6) is used so that an
/// accepted image is never refused by the server.
pub const MAX_IMAGE_BYTES: usize = 2_000_000;

/// Where the trusted image came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// Read from an NFC document chip (e.g. passport DG2).
    Eid,
    /// Captured optically from a physical ID document.
    Oid,
    /// An existing trusted image of the user.
    Selfie,
}

impl ImageSource {
    /// Every source.
    pub const ALL: [ImageSource; 3] = [Self::Eid, Self::Oid, Self::Selfie];

    /// The API's (lowercase) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eid => "eid",
            Self::Oid => "oid",
            Self::Selfie => "selfie",
        }
    }

    /// Parses `eid`, `oid` or `selfie` in any case (iProov's own .NET demo sends `EID`).
    /// Fails with `invalid_input` (field `source`).
    pub fn parse(value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "eid" => Ok(Self::Eid),
            "oid" => Ok(Self::Oid),
            "selfie" => Ok(Self::Selfie),
            _ => {
                // A short piece only: the value is the caller's and may be of any size.
                let shown: String = value.chars().take(20).collect();
                Err(Error::invalid_input(
                    "source",
                    format!("{shown:?} is not one of eid, oid, selfie"),
                ))
            }
        }
    }
}

/// The image formats iProov accepts, recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// JPEG 2000 (JP2 file or raw J2K codestream).
    Jp2,
}

impl ImageFormat {
    /// Recognises the format from the first bytes, or `None`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        const JP2: &[u8] = b"\x00\x00\x00\x0cjP  \r\n\x87\n";
        const J2K: &[u8] = b"\xff\x4f\xff\x51";
        if bytes.starts_with(PNG) {
            Some(Self::Png)
        } else if bytes.starts_with(b"\xff\xd8\xff") {
            Some(Self::Jpeg)
        } else if bytes.starts_with(JP2) || bytes.starts_with(J2K) {
            Some(Self::Jp2)
        } else {
            None
        }
    }

    fn file(self) -> (&'static str, &'static str) {
        match self {
            Self::Png => ("image.png", "image/png"),
            Self::Jpeg => ("image.jpg", "image/jpeg"),
            Self::Jp2 => ("image.jp2", "image/jp2"),
        }
    }
}

/// What a photo enrol needs besides the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolImageInput {
    /// The enrol token from `build_enrol_token`.
    pub token: String,
    /// Where the image came from.
    pub source: ImageSource,
    /// Only 0 is supported by iProov; `None` sends 0.
    pub rotation: Option<i64>,
    /// The PNG, JPEG or JP2 bytes, at most [`MAX_IMAGE_BYTES`].
    pub image: Vec<u8>,
}

/// Describes the multipart `POST /claim/enrol/image`. The image is checked first (known
/// format by magic bytes, non-empty, at most [`MAX_IMAGE_BYTES`]); failures are `invalid_input`
/// with field `image`, `rotation` or `token`.
pub fn build_enrol_image(config: &Config, input: &EnrolImageInput) -> Result<Request, Error> {
    check_token(&input.token)?;
    let rotation = input.rotation.unwrap_or(0);
    if rotation != 0 {
        return Err(Error::invalid_input(
            "rotation",
            format!(
                "{rotation} is not supported; iProov accepts only 0 (rotate the image yourself)"
            ),
        ));
    }
    if input.image.is_empty() {
        return Err(Error::invalid_input("image", "is empty"));
    }
    if input.image.len() > MAX_IMAGE_BYTES {
        return Err(Error::invalid_input(
            "image",
            format!(
                "has {} bytes; iProov accepts at most 2 MB ({MAX_IMAGE_BYTES} bytes)",
                input.image.len()
            ),
        ));
    }
    let format = ImageFormat::sniff(&input.image)
        .ok_or_else(|| Error::invalid_input("image", "is not a PNG, JPEG or JPEG 2000 image"))?;
    let api_key = config.require_api_key()?;
    let secret = config.require_secret()?;
    let (filename, content_type) = format.file();
    let mut form = Multipart::default();
    form.text("api_key", api_key);
    form.text("secret", secret.expose());
    form.text("rotation", "0");
    form.text("token", &input.token);
    form.text("source", input.source.as_str());
    form.file("image", filename, content_type, &input.image);
    let (content_type, body) = form.finish();
    Ok(bare_request(config, Method::Post, &["/claim/enrol/image"])
        .with_body(&content_type, body)
        .holding_secret(secret))
}

/// The answer to a photo enrol (`EnrolResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrolImageResult {
    /// Whether the image was registered.
    pub success: bool,
    /// The enrol token, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The enrolled user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}
json_object! {
    EnrolImageResult, allow_unknown_fields;
    req success, opt token, opt user_id,
}

/// Reads the answer to a photo enrol: 400 `invalid_enrol_image`, `invalid_source` and
/// `invalid_token` are API errors; a 200 without `success` is a `decode_error`.
pub fn parse_enrol_image(
    config: &Config,
    response: &Response<'_>,
) -> Result<EnrolImageResult, Error> {
    parse_json(config, response)
}
