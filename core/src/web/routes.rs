//! The routes every host serves under its mount point, and the page's files with the headers
//! they are served with.

use serde::Serialize;

/// One route: `path` under the mount point, its `method`, and either a `route` name the host
/// answers ([`super::read_input`]'s routes, or `config`) or a `file` of the page (in the
/// package's `web/static` directory, served as it is with `content_type` and `headers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// The path under the mount point (`/token`).
    pub path: &'static str,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// `token`, `validate`, `exit`, `emulator_complete`, `config`, `health` or `file`.
    pub route: &'static str,
    /// Served only with the page (hosts' `page` option, on by default).
    pub page: bool,
    /// Served only when the service points at the emulator (hosts' `emulator_url`).
    pub emulator: bool,
    /// The page's file, for `route: "file"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<&'static str>,
    /// The file's `Content-Type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'static str>,
    /// The file's other headers, `[name, value]` pairs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(&'static str, &'static str)>,
}

/// Scripts only from the page's origin, fetches only to it; iProov's own web SDK needs its
/// hosts added (README: "A real iProov service in the page").
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; connect-src 'self'; \
    style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'none'";

/// iProov's Web SDK loads its assets (models, workers) from here unless told otherwise.
pub const SDK_ASSETS: &str = "https://cdn.iproov.app";

/// The origin (`scheme://host[:port]`) of an `https` URL, or `None` for anything else: the
/// only form a policy may name a host in (no path, no wildcard, no other scheme).
fn https_origin(url: &str) -> Option<String> {
    // Nothing that could end a directive or a source in a policy, anywhere in the URL.
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ';' | ',' | '\'' | '"'))
    {
        return None;
    }
    let rest = url.strip_prefix("https://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let fine = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    fine.then(|| format!("https://{host}"))
}

/// The page's `Content-Security-Policy`. Without iProov's Web SDK (the emulator's stand-in,
/// or your own page): [`PAGE_CSP`]. With it (`sdk_script`: the URL the page loads the SDK
/// from, `https` only): scripts also from the SDK's origin, and WebAssembly
/// (`'wasm-unsafe-eval'`, which the SDK runs); fetches and the streaming socket to the
/// region's host (`sdk_url`: the `wss://` URL the journey answers give, and its `https`
/// twin) and the assets' origin (`assets_url`, default [`SDK_ASSETS`]); workers and images
/// from the assets' origin and `blob:`; inline styles, which the SDK injects (a nonce would
/// need the page templated per response). Fails with `invalid_input` (field `sdk_script` or
/// `assets_url`) for a URL that is not `https`, or `sdk_url` for one that is not `wss`.
pub fn page_csp(
    sdk_script: Option<&str>,
    sdk_url: &str,
    assets_url: Option<&str>,
) -> Result<String, crate::Error> {
    let Some(script) = sdk_script else {
        return Ok(PAGE_CSP.to_owned());
    };
    let script = https_origin(script)
        .ok_or_else(|| crate::Error::invalid_input("sdk_script", "an https URL"))?;
    let assets = https_origin(assets_url.unwrap_or(SDK_ASSETS))
        .ok_or_else(|| crate::Error::invalid_input("assets_url", "an https URL"))?;
    let stream = sdk_url
        .strip_prefix("wss://")
        .and_then(|rest| https_origin(&format!("https://{rest}")))
        .ok_or_else(|| crate::Error::invalid_input("sdk_url", "a wss URL"))?;
    let stream_host = stream.trim_start_matches("https://");
    Ok(format!(
        "default-src 'self'; script-src 'self' {script} 'wasm-unsafe-eval'; connect-src 'self' \
         wss://{stream_host} {stream} {assets}; worker-src 'self' blob: {assets}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: {assets}; media-src \
         'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ))
}

const fn api(path: &'static str, method: &'static str, route: &'static str) -> Route {
    Route {
        path,
        method,
        route,
        page: false,
        emulator: false,
        file: None,
        content_type: None,
        headers: Vec::new(),
    }
}

fn file(path: &'static str, name: &'static str, content_type: &'static str) -> Route {
    let mut headers = vec![
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-cache"),
    ];
    if name.ends_with(".html") {
        headers.push(("Content-Security-Policy", PAGE_CSP));
    }
    Route {
        page: true,
        file: Some(name),
        content_type: Some(content_type),
        headers,
        ..api(path, "GET", "file")
    }
}

/// Every route, in the order hosts match them.
pub fn routes() -> Vec<Route> {
    vec![
        api("/token", "POST", "token"),
        api("/validate", "POST", "validate"),
        api("/exit", "POST", "exit"),
        file("/", "index.html", "text/html; charset=utf-8"),
        file(
            "/journey.mjs",
            "journey.mjs",
            "text/javascript; charset=utf-8",
        ),
        file("/page.css", "page.css", "text/css; charset=utf-8"),
        Route {
            page: true,
            ..api("/config", "GET", "config")
        },
        api("/health", "GET", "health"),
        Route {
            emulator: true,
            ..api("/emulator/complete", "POST", "emulator_complete")
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_html_with_its_policy_and_the_api_is_post() {
        let all = routes();
        let page = all.iter().find(|r| r.path == "/").unwrap();
        assert_eq!(page.file, Some("index.html"));
        assert!(
            page.headers
                .contains(&("Content-Security-Policy", PAGE_CSP))
        );
        assert!(PAGE_CSP.contains("script-src 'self'") && PAGE_CSP.contains("connect-src 'self'"));
        for route in &all {
            assert_eq!(
                route.method == "POST",
                route.file.is_none() && route.route != "config" && route.route != "health"
            );
            assert_eq!(route.route == "file", route.file.is_some());
        }
        let json = serde_json::to_value(all.iter().find(|r| r.path == "/config").unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"path": "/config", "method": "GET", "route": "config",
                "page": true, "emulator": false})
        );
    }

    #[test]
    fn the_policy_opens_exactly_what_the_sdk_needs() {
        assert_eq!(
            page_csp(None, "wss://eu.rp.secure.iproov.me/ws", None).unwrap(),
            PAGE_CSP
        );
        let csp = page_csp(
            Some("https://cdn.example.com/iproov/iProovMe.js"),
            "wss://eu.rp.secure.iproov.me/ws",
            None,
        )
        .unwrap();
        assert!(csp.contains("script-src 'self' https://cdn.example.com 'wasm-unsafe-eval'"));
        assert!(csp.contains("connect-src 'self' wss://eu.rp.secure.iproov.me https://eu.rp.secure.iproov.me https://cdn.iproov.app"));
        assert!(csp.contains("frame-ancestors 'none'"));
        for (script, sdk_url, field) in [
            (
                "http://cdn.example.com/x.js",
                "wss://eu.rp.secure.iproov.me/ws",
                "sdk_script",
            ),
            (
                "https://*.example.com/x.js",
                "wss://eu.rp.secure.iproov.me/ws",
                "sdk_script",
            ),
            (
                "https://cdn.example.com/x.js",
                "ws://127.0.0.1:9/ws",
                "sdk_url",
            ),
            (
                "https://cdn.example.com/x.js; script-src *",
                "wss://eu.rp.secure.iproov.me/ws",
                "sdk_script",
            ),
        ] {
            let error = page_csp(Some(script), sdk_url, None).unwrap_err();
            assert_eq!(error.field(), Some(field), "{script} {sdk_url}");
        }
    }
}
