//! Where requests go: one of iProov's regional platforms, or a custom base URL.

use crate::error::Error;
use std::fmt;

/// iProov's multi-tenant platforms. A service provider exists in exactly one of them, and its
/// keys are rejected (401 `invalid_key`) by every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// Europe, `eu.rp.secure.iproov.me`.
    Eu,
    /// United States, `us.rp.secure.iproov.me`.
    Us,
    /// Singapore, `sg.rp.secure.iproov.me`.
    Sg,
    /// Australia, `au.rp.secure.iproov.me`.
    Au,
    /// Jakarta, `jkt.rp.secure.iproov.me`.
    Jkt,
    /// Latin America, `latam.rp.secure.iproov.me`.
    Latam,
}

impl Region {
    /// Every region, in the order the docs list them.
    pub const ALL: [Region; 6] = [
        Region::Eu,
        Region::Us,
        Region::Sg,
        Region::Au,
        Region::Jkt,
        Region::Latam,
    ];

    /// The short lowercase id (`eu`, `us`, ...), as used in configs and error fields.
    pub fn id(self) -> &'static str {
        match self {
            Self::Eu => "eu",
            Self::Us => "us",
            Self::Sg => "sg",
            Self::Au => "au",
            Self::Jkt => "jkt",
            Self::Latam => "latam",
        }
    }

    /// The REST base URL, ending in `/api/v2`.
    pub fn base_url(self) -> String {
        format!("https://{}.rp.secure.iproov.me/api/v2", self.id())
    }

    /// The SDK streaming URL the front end must use with tokens from this region.
    pub fn streaming_url(self) -> String {
        format!("wss://{}.rp.secure.iproov.me/ws", self.id())
    }

    /// The valid ids, comma-separated, for messages.
    pub fn list() -> String {
        Self::ALL.map(Region::id).join(", ")
    }

    /// Parses the usual spellings: the id in any case (`eu`, `EU`), the full name (`Europe`,
    /// `Singapore`, `Latin America`, ...) or the regional host. Fails with `invalid_input`
    /// (field `region`) listing the valid ids.
    pub fn parse(name: &str) -> Result<Self, Error> {
        let lowered = name.trim().to_ascii_lowercase();
        let key = lowered
            .trim_start_matches("https://")
            .trim_end_matches(".rp.secure.iproov.me")
            .replace(['_', '-'], " ");
        let region = match key.as_str() {
            "eu" | "europe" => Self::Eu,
            "us" | "usa" | "united states" => Self::Us,
            "sg" | "singapore" => Self::Sg,
            "au" | "australia" => Self::Au,
            "jkt" | "jakarta" | "indonesia" => Self::Jkt,
            "latam" | "latin america" => Self::Latam,
            _ => {
                return Err(Error::invalid_input(
                    "region",
                    format!(
                        "unknown region {:?}; valid regions are {}",
                        truncate(name, 40),
                        Self::list()
                    ),
                ));
            }
        };
        Ok(region)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// The API endpoint a client talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A regional multi-tenant platform.
    Region(Region),
    /// A dedicated tenant, a proxy or the emulator; always normalised to end in `/api/v2`.
    BaseUrl(String),
}

impl Target {
    /// Accepts a base URL with or without `/api/v2` (appended when missing) and without a
    /// trailing slash. Plain `http` is accepted only for loopback hosts (`127.0.0.0/8`,
    /// `localhost`, `[::1]`): anything else would send the API secret in clear.
    /// Fails with `invalid_input` (field `base_url`).
    pub fn base_url(url: &str) -> Result<Self, Error> {
        let bad = |problem: &str| Err(Error::invalid_input("base_url", problem));
        let trimmed = url.trim().trim_end_matches('/');
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => return bad("must start with https:// (or http:// for a loopback host)"),
        };
        if trimmed
            .chars()
            .any(|c| c.is_whitespace() || c == '?' || c == '#')
        {
            return bad("must not contain spaces, a query or a fragment");
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() || authority.contains('@') {
            return bad("must name a host (and no user info)");
        }
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback(authority) => {}
            "http" => return bad("plain http is only allowed for loopback hosts; use https"),
            _ => return bad("must start with https:// (or http:// for a loopback host)"),
        }
        if path.contains('\\') {
            // The WHATWG URL parser reads `\` as `/` in http(s) URLs.
            return bad("must not contain a backslash");
        }
        let mut segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        if segments.iter().any(|s| is_dot_segment(s)) {
            return bad(
                "must not contain '.' or '..' segments: URL parsers would resolve them and \
                 send requests to another path",
            );
        }
        // `/api/v2` is recognised only as the two whole last segments: a proxy path such as
        // `/iproovapi/v2` is kept as given.
        if segments.ends_with(&["api", "v2"]) {
            segments.truncate(segments.len() - 2);
        }
        let path = segments.join("/");
        let path = path.trim_end_matches('/');
        let mut normalised = format!("{scheme}://{authority}");
        if !path.is_empty() {
            normalised.push('/');
            normalised.push_str(path);
        }
        normalised.push_str("/api/v2");
        Ok(Self::BaseUrl(normalised))
    }

    /// The REST base URL, ending in `/api/v2`.
    pub fn url(&self) -> String {
        match self {
            Self::Region(region) => region.base_url(),
            Self::BaseUrl(url) => url.clone(),
        }
    }

    /// The region, unless this is a custom base URL.
    pub fn region(&self) -> Option<Region> {
        match self {
            Self::Region(region) => Some(*region),
            Self::BaseUrl(_) => None,
        }
    }
}

/// `.` or `..`, also percent-encoded (`%2e`, any case), as URL parsers treat them.
fn is_dot_segment(segment: &str) -> bool {
    let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
    decoded == "." || decoded == ".."
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host == "::1" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets.first() == Some(&"127")
        && octets.iter().all(|o| o.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_usual_spellings() {
        assert_eq!(Region::parse("EU").unwrap(), Region::Eu);
        assert_eq!(Region::parse(" latin-america ").unwrap(), Region::Latam);
        assert_eq!(
            Region::parse("jkt.rp.secure.iproov.me").unwrap(),
            Region::Jkt
        );
        let err = Region::parse("mars").unwrap_err();
        assert_eq!(err.field(), Some("region"));
        assert!(err.message().contains("eu, us, sg, au, jkt, latam"));
    }

    #[test]
    fn base_urls_are_normalised() {
        let t = Target::base_url("http://127.0.0.1:8080/eu").unwrap();
        assert_eq!(t.url(), "http://127.0.0.1:8080/eu/api/v2");
        let t = Target::base_url("https://tenant.example.com/api/v2/").unwrap();
        assert_eq!(t.url(), "https://tenant.example.com/api/v2");
        assert!(Target::base_url("http://example.com").is_err());
        assert!(Target::base_url("http://[::1]:9/x").is_ok());
        assert!(Target::base_url("ftp://127.0.0.1").is_err());
        assert!(Target::base_url("http://127.0.0.1.evil.com").is_err());
        let t = Target::base_url("https://proxy.example.org/iproovapi/v2").unwrap();
        assert_eq!(t.url(), "https://proxy.example.org/iproovapi/v2/api/v2");
        let t = Target::base_url("https://proxy.example.org/iproov/api/v2").unwrap();
        assert_eq!(t.url(), "https://proxy.example.org/iproov/api/v2");
        for bad in [
            "https://p.example.org/a/../b",
            "https://p.example.org/./api/v2",
            "https://p.example.org/x/%2E%2e",
            "https://p.example.org/x\\y",
        ] {
            assert_eq!(
                Target::base_url(bad).unwrap_err().field(),
                Some("base_url"),
                "{bad}"
            );
        }
    }
}
