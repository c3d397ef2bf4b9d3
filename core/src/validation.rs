//! Input checks run before anything is built, so that a bad value never reaches iProov.
//!
//! The patterns are iProov's (OpenAPI 2.13 and the docs), matched by hand: they are simple
//! character classes, and a hand-written check is exact, fast and adds no regex engine to the
//! wasm build.

use crate::error::Error;
use serde::Serialize;

/// Longest `user_id` iProov accepts.
pub const USER_ID_MAX_LEN: usize = 256;
/// Longest claim token this library accepts (iProov issues 64 hex characters).
pub const TOKEN_MAX_LEN: usize = 256;
/// Longest display name this library sends.
pub const NAME_MAX_LEN: usize = 256;

fn is_user_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '\'' | '+' | '_' | '@' | '.' | '-')
}

/// Checks a `user_id` against iProov's pattern `[a-zA-Z0-9'\+_@\.-]{1,256}` (whole string),
/// and refuses `.` and `..`, which the pattern allows but no URL path can carry. On failure:
/// `invalid_input` naming `field` and the first offending character.
pub fn check_user_id(field: &str, user_id: &str) -> Result<(), Error> {
    if user_id.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    let fast = user_id
        .as_bytes()
        .iter()
        .all(|b| b.is_ascii() && is_user_id_char(char::from(*b)));
    if !fast && let Some(bad) = user_id.chars().find(|c| !is_user_id_char(*c)) {
        return Err(Error::invalid_input(
            field,
            format!("character {bad:?} is not allowed; use only letters, digits and ' + _ @ . -"),
        ));
    }
    if user_id == "." || user_id == ".." {
        // iProov's pattern allows them, but no users API call could ever address this user:
        // every URL parser resolves `/users/..` as a dot segment (RFC 3986 §5.2.4).
        return Err(Error::invalid_input(
            field,
            "is '.' or '..', which URL parsers resolve as a dot segment: no users API call \
             could address this user; choose another id",
        ));
    }
    if user_id.len() > USER_ID_MAX_LEN {
        return Err(Error::invalid_input(
            field,
            format!(
                "is {} characters long; at most {USER_ID_MAX_LEN}",
                user_id.len()
            ),
        ));
    }
    Ok(())
}

/// Normalises an optional risk profile: an empty one counts as not given (iProov rejects `""`),
/// anything else must match `^[a-zA-Z0-9_-]{0,100}$`.
pub fn check_risk_profile(risk_profile: Option<&str>) -> Result<Option<&str>, Error> {
    let Some(profile) = risk_profile.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    if profile.len() > 100 {
        return Err(Error::invalid_input(
            "risk_profile",
            "is longer than 100 characters",
        ));
    }
    if let Some(bad) = profile
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
    {
        return Err(Error::invalid_input(
            "risk_profile",
            format!("character {bad:?} is not allowed; use letters, digits, _ and -"),
        ));
    }
    Ok(Some(profile))
}

/// Checks an invalidate `reason` against `^[a-zA-Z0-9_.:=()’'"/\s]{1,800}$`.
pub fn check_reason(reason: &str) -> Result<(), Error> {
    let count = reason.chars().count();
    if count == 0 {
        return Err(Error::invalid_input("reason", "must not be empty"));
    }
    if count > 800 {
        return Err(Error::invalid_input(
            "reason",
            format!("is {count} characters long; at most 800"),
        ));
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '_' | '.' | ':' | '=' | '(' | ')' | '\u{2019}' | '\'' | '"' | '/'
            )
            || c.is_whitespace()
    };
    if let Some(bad) = reason.chars().find(|c| !allowed(*c)) {
        return Err(Error::invalid_input(
            "reason",
            format!("character {bad:?} is not allowed by iProov"),
        ));
    }
    Ok(())
}

/// Checks a claim token: non-empty, at most 256 characters of `[A-Za-z0-9_-]`. It also goes
/// into a URL path (invalidate), so nothing else may pass.
pub fn check_token(token: &str) -> Result<(), Error> {
    if token.is_empty() {
        return Err(Error::invalid_input("token", "must not be empty"));
    }
    if token.len() > TOKEN_MAX_LEN {
        return Err(Error::invalid_input(
            "token",
            format!("is longer than {TOKEN_MAX_LEN} characters"),
        ));
    }
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-');
    if !token.as_bytes().iter().all(allowed)
        && let Some(bad) = token
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
    {
        return Err(Error::invalid_input(
            "token",
            format!("character {bad:?} cannot occur in an iProov claim token"),
        ));
    }
    Ok(())
}

/// Checks that a required text input is present and not blank.
pub fn check_required_text(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    Ok(())
}

/// Checks a `date_time` (`YYYY-MM-DDTHH:MM:SS[.fraction]` then `Z` or `+00:00`) and returns it
/// in iProov's own format, `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (fraction cut or padded to 3 digits).
pub fn normalise_date_time(value: &str) -> Result<String, Error> {
    let bad = |problem: &str| {
        Error::invalid_input(
            "date_time",
            format!("{problem}; expected UTC like 2024-05-01T12:30:00.000Z"),
        )
    };
    let rest = value
        .strip_suffix('Z')
        .or_else(|| value.strip_suffix("+00:00"))
        .ok_or_else(|| bad("must be in UTC (end in Z)"))?;
    let (main, fraction) = match rest.split_once('.') {
        Some((_, "")) => return Err(bad("has an empty fraction of a second")),
        Some(split) => split,
        None => (rest, ""),
    };
    let bytes = main.as_bytes();
    let shape_ok = bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok || !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 9 {
        return Err(bad("is not a date-time"));
    }
    let number = |range: std::ops::Range<usize>| {
        main.get(range)
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let (hour, minute, second) = (number(11..13), number(14..16), number(17..19));
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(bad("has no such calendar day"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad("has no such time of day"));
    }
    let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
    Ok(format!("{main}.{millis}Z"))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// A reason to think a `user_id` carries personal data, which iProov asks never to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserIdWarning {
    /// Stable code: `looks_like_email`, `looks_like_phone_number` or `looks_sequential`.
    pub code: &'static str,
    /// Why it matters and what to do instead.
    pub message: String,
}

/// Warns (never fails) when a `user_id` looks like personal data or a guessable counter.
/// Call it where user IDs are created; iProov recommends a random, non-identifying ID such as
/// the ones [`crate::user_id`] generates.
pub fn lint_user_id(user_id: &str) -> Vec<UserIdWarning> {
    let mut warnings = Vec::new();
    if let Some((local, domain)) = user_id.split_once('@')
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
    {
        warnings.push(UserIdWarning {
            code: "looks_like_email",
            message: "this user_id looks like an email address; iProov asks for no personal \
                      data in user_id: use a random or pseudonymous ID instead"
                .to_owned(),
        });
    }
    let digits = user_id.chars().filter(char::is_ascii_digit).count();
    let phone_like = user_id
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | '\''));
    if phone_like && (7..=15).contains(&digits) && digits * 10 >= user_id.len() * 7 {
        warnings.push(UserIdWarning {
            code: "looks_like_phone_number",
            message: "this user_id looks like a phone number; iProov asks for no personal \
                      data in user_id: use a random or pseudonymous ID instead"
                .to_owned(),
        });
    } else if !user_id.is_empty() && user_id.len() < 7 && digits == user_id.len() {
        warnings.push(UserIdWarning {
            code: "looks_sequential",
            message: "this user_id is a short number, likely a database counter that others \
                      can guess; use a random or pseudonymous ID instead"
                .to_owned(),
        });
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_pattern_is_exact() {
        assert!(check_user_id("user_id", "a'b+c_d@e.f-9").is_ok());
        assert!(check_user_id("user_id", &"a".repeat(256)).is_ok());
        assert!(check_user_id("user_id", &"a".repeat(257)).is_err());
        assert!(check_user_id("user_id", "").is_err());
        assert!(check_user_id("user_id", "a b").is_err());
        assert!(check_user_id("user_id", "é").is_err());
    }

    #[test]
    fn date_times_are_normalised_to_milliseconds() {
        assert_eq!(
            normalise_date_time("2024-02-29T23:59:59Z").unwrap(),
            "2024-02-29T23:59:59.000Z"
        );
        assert_eq!(
            normalise_date_time("2024-01-01T00:00:00.123456+00:00").unwrap(),
            "2024-01-01T00:00:00.123Z"
        );
        assert!(normalise_date_time("2023-02-29T00:00:00Z").is_err());
        assert!(normalise_date_time("2024-01-01T00:00:00+01:00").is_err());
        assert!(normalise_date_time("2024-01-01 00:00:00Z").is_err());
    }

    #[test]
    fn lint_flags_personal_data() {
        assert_eq!(
            lint_user_id("jane.doe@example.com")[0].code,
            "looks_like_email"
        );
        assert_eq!(
            lint_user_id("+447700900123")[0].code,
            "looks_like_phone_number"
        );
        assert_eq!(lint_user_id("1234")[0].code, "looks_sequential");
        assert!(lint_user_id("3f2a9c1e-7b4d-4e8a-9f00-0123456789ab").is_empty());
    }
}
