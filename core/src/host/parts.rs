//! The same functions with native arguments and results (header pairs, bytes, a [`Request`])
//! for a host whose glue converts objects natively (pyo3): the text forms in `mod.rs` read
//! their texts into these types and call these, so both kinds of host get one behaviour.

use super::to_text;
use crate::config::Config;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::operation::{self, JsonConfig, Operation};
use crate::ops::enrol_image::{self, EnrolImageInput, ImageSource};

/// Builds the photo enrol (`POST /claim/enrol/image`) from the image's bytes (no base64
/// round trip): `source` is `eid`, `oid` or `selfie`; `rotation` `None` sends 0. Fails with
/// `invalid_input` (`token`, `source`, `image`, `rotation`).
pub fn build_enrol_image(
    config: &JsonConfig,
    token: &str,
    source: &str,
    image: &[u8],
    rotation: Option<i64>,
) -> Result<Request, Error> {
    image_request(&config.config, token, source, image, rotation)
}

/// [`build_enrol_image`] for a config core holds (the driver's).
pub(super) fn image_request(
    config: &Config,
    token: &str,
    source: &str,
    image: &[u8],
    rotation: Option<i64>,
) -> Result<Request, Error> {
    let input = EnrolImageInput {
        token: token.to_owned(),
        source: ImageSource::parse(source)?,
        rotation,
        image: image.to_vec(),
    };
    enrol_image::build_enrol_image(config, &input)
}

/// Core's redacted view (JSON, as [`super::redact_request`] gives) of a request core built,
/// given by its parts (a driver's request cannot be built again): `Authorization` and every
/// credential of `config` replaced by `[REDACTED]`. Fails with `invalid_input` (`method`) for
/// a method core never builds.
pub fn redact_request_parts(
    config: &JsonConfig,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<String, Error> {
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        _ => {
            return Err(Error::invalid_input(
                "method",
                "is not GET, POST, PUT or DELETE",
            ));
        }
    };
    let mut request = Request::new(method, url, "");
    request.headers = headers;
    request.body = body;
    for secret in config.config.secrets() {
        request = request.holding_secret(secret);
    }
    Ok(to_text(&request.redacted()))
}

/// Parses a response with its headers as `(name, value)` pairs (a repeated header kept): the
/// result as [`operation::parse_to_split_text`] gives it, or the API / decode error.
pub fn parse_pairs(
    operation: &str,
    config: &JsonConfig,
    status: u32,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<String, Error> {
    let op = Operation::parse(operation)?;
    let status = u16::try_from(status)
        .map_err(|_| Error::invalid_input("status", "is not an HTTP status"))?;
    operation::parse_to_split_text(op, config, &Response::new(status, headers, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::test_support::{eu_config, json};

    #[test]
    fn an_image_as_bytes_builds_as_its_base64_input_does() {
        let config = eu_config();
        let png = b"\x89PNG\r\n\x1a\n0123456789";
        let built = build_enrol_image(&config, "tok", "OID", png, None).unwrap();
        let input = format!(
            r#"{{"token": "tok", "source": "oid", "image": {{"base64": "{}"}}}}"#,
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png)
        );
        let from_text = super::super::build_request("enrol_image", &config, &input).unwrap();
        assert_eq!(built.url, from_text.url);
        assert_eq!(built.headers.len(), from_text.headers.len());
        assert_eq!(built.body.len(), from_text.body.len());
        let err = build_enrol_image(&config, "tok", "scan", png, None).unwrap_err();
        assert_eq!(err.field(), Some("source"));
        let (method, url) = (built.method.as_str(), built.url.clone());
        let view = redact_request_parts(&config, method, url, built.headers, built.body);
        assert_eq!(json(&view.unwrap())["method"], "POST");
        let err = redact_request_parts(&config, "TRACE", String::new(), vec![], vec![]);
        assert_eq!(err.unwrap_err().field(), Some("method"));
    }

    #[test]
    fn headers_as_pairs_parse_as_their_json_does() {
        let config = eu_config();
        let pairs = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        let body = br#"{"token": "abc", "user_id": "u-1"}"#;
        let from_pairs = parse_pairs("enrol_token", &config, 200, &pairs, body).unwrap();
        let from_json = super::super::parse(
            "enrol_token",
            &config,
            200,
            r#"[["Content-Type", "application/json"]]"#,
            body,
        )
        .unwrap();
        assert_eq!(from_pairs, from_json);
        let err = parse_pairs("enrol_token", &config, 70_000, &pairs, body).unwrap_err();
        assert_eq!(err.field(), Some("status"));
    }
}
