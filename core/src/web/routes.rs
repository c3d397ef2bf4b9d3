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
}
