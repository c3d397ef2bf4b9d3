//! HTTP dates (RFC 9110 §5.6.7), for `Retry-After`: the three formats a recipient must accept.
//!
//! - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
//! - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT` (a two-digit year: 70-99 is 19xx)
//! - asctime: `Sun Nov  6 08:49:37 1994`
//!
//! Written here rather than taken from a crate because it is one small function, and the edge
//! (wasm) build counts every kilobyte.

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LONG_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The HTTP date `text` as Unix seconds; `None` unless it is exactly one of the three formats,
/// names a real date and time, gives the right day of the week, and is not before 1970.
pub(crate) fn parse_http_date(text: &str) -> Option<u64> {
    let (weekday, date) = if let Some((day, rest)) = text.split_once(", ") {
        let rest = rest.strip_suffix(" GMT")?;
        if let Some(day) = DAYS.iter().position(|d| *d == day) {
            (day, imf_fixdate(rest)?)
        } else {
            (LONG_DAYS.iter().position(|d| *d == day)?, rfc850(rest)?)
        }
    } else {
        let (day, rest) = text.split_once(' ')?;
        (DAYS.iter().position(|d| *d == day)?, asctime(rest)?)
    };
    let seconds = date.unix_seconds()?;
    // 1970-01-01 was a Thursday (index 3 from Monday).
    (((seconds / 86_400) + 3) % 7 == weekday as u64).then_some(seconds)
}

struct DateTime {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
}

impl DateTime {
    fn unix_seconds(&self) -> Option<u64> {
        let leap = self.year.is_multiple_of(4)
            && (!self.year.is_multiple_of(100) || self.year.is_multiple_of(400));
        let month_days = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let in_month = *month_days.get(usize::try_from(self.month.checked_sub(1)?).ok()?)?;
        if self.year < 1970
            || self.day == 0
            || self.day > in_month
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
        {
            return None;
        }
        // Days from 1970-01-01 to the date (the civil-from-days inverse, for years from March).
        let (y, m) = if self.month <= 2 {
            (self.year - 1, self.month + 9)
        } else {
            (self.year, self.month - 3)
        };
        let era = y / 400;
        let year_of_era = y % 400;
        let day_of_year = (153 * m + 2) / 5 + self.day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = (era * 146_097 + day_of_era).checked_sub(719_468)?;
        Some(days * 86_400 + self.hour * 3_600 + self.minute * 60 + self.second)
    }
}

/// `06 Nov 1994 08:49:37`
fn imf_fixdate(text: &str) -> Option<DateTime> {
    let mut parts = text.split(' ');
    let day = digits(parts.next()?, 2)?;
    let month = month(parts.next()?)?;
    let year = digits(parts.next()?, 4)?;
    let time = parts.next()?;
    date_time(year, month, day, time, parts.next())
}

/// `06-Nov-94 08:49:37`
fn rfc850(text: &str) -> Option<DateTime> {
    let (date, time) = text.split_once(' ')?;
    let mut parts = date.split('-');
    let day = digits(parts.next()?, 2)?;
    let month = month(parts.next()?)?;
    let short_year = digits(parts.next()?, 2)?;
    let year = if short_year >= 70 {
        1900 + short_year
    } else {
        2000 + short_year
    };
    date_time(year, month, day, time, parts.next())
}

/// `Nov  6 08:49:37 1994` (a one-digit day is padded with a space)
fn asctime(text: &str) -> Option<DateTime> {
    let (month_name, rest) = text.split_once(' ')?;
    let month = month(month_name)?;
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let (day_text, rest) = rest.split_once(' ')?;
    let day = match day_text.len() {
        1 => digits(day_text, 1)?,
        _ => digits(day_text, 2)?,
    };
    let (time, year_text) = rest.split_once(' ')?;
    date_time(digits(year_text, 4)?, month, day, time, None)
}

fn date_time(year: u64, month: u64, day: u64, time: &str, extra: Option<&str>) -> Option<DateTime> {
    if extra.is_some() {
        return None;
    }
    let mut parts = time.split(':');
    let hour = digits(parts.next()?, 2)?;
    let minute = digits(parts.next()?, 2)?;
    let second = digits(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    Some(DateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

fn month(name: &str) -> Option<u64> {
    let index = MONTHS.iter().position(|m| *m == name)?;
    u64::try_from(index + 1).ok()
}

/// Exactly `len` ASCII digits.
fn digits(text: &str, len: usize) -> Option<u64> {
    if text.len() != len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_http_date;

    #[test]
    fn reads_the_three_formats() {
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), Some(784_111_777), "{text}");
        }
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Wed, 01 May 2024 12:30:10 GMT"),
            Some(1_714_566_610)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT"),
            Some(1_709_251_199)
        );
        assert_eq!(
            parse_http_date("Wed, 01-May-24 12:30:10 GMT"),
            None,
            "long day name"
        );
        assert_eq!(
            parse_http_date("Wednesday, 01-May-24 12:30:10 GMT"),
            Some(1_714_566_610)
        );
        assert_eq!(
            parse_http_date("Wed May  1 12:30:10 2024"),
            Some(1_714_566_610)
        );
        assert_eq!(
            parse_http_date("Fri Dec 31 23:59:59 1999"),
            Some(946_684_799)
        );
    }

    #[test]
    fn refuses_what_is_not_a_real_date_in_one_of_them() {
        for text in [
            "",
            "Wed, 01 May 2024",
            "Thu, 01 May 2024 12:30:10 GMT", // 1 May 2024 was a Wednesday
            "Wed, 01 May 2024 12:30:10 UTC",
            "Wed, 1 May 2024 12:30:10 GMT",
            "Wed, 01 May 2024 24:00:00 GMT",
            "Thu, 30 Feb 2024 00:00:00 GMT",
            "Fri, 29 Feb 2023 00:00:00 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Wed, 01 May 2024 12:30:10 GMT ",
            "Wed, 01 May 2024 12:30 GMT",
            "Wed, 01 May +024 12:30:10 GMT",
            "Wed May 01 12:30:10 2024 GMT",
            "soon",
            "60",
        ] {
            assert_eq!(parse_http_date(text), None, "{text:?}");
        }
    }

    proptest::proptest! {
        /// Any date from 1970 to 9999, in each of the three formats, reads back as the
        /// `httpdate` crate reads it.
        #[test]
        fn agrees_with_the_httpdate_crate(seconds in 0u64..253_402_300_800) {
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
            let imf = httpdate::fmt_http_date(time);
            // "Sun, 06 Nov 1994 08:49:37 GMT"
            let parts: Vec<&str> = imf.split([' ', ',']).filter(|p| !p.is_empty()).collect();
            let [day, date, month, year, clock, _gmt] = parts[..] else { panic!("{imf}") };
            let long_day = super::LONG_DAYS[super::DAYS.iter().position(|d| *d == day).unwrap()];
            let rfc850 = format!("{long_day}, {date}-{month}-{} {clock} GMT", &year[2..]);
            let asctime = format!("{day} {month} {:>2} {clock} {year}", date.trim_start_matches('0'));
            proptest::prop_assert_eq!(parse_http_date(&imf), Some(seconds));
            proptest::prop_assert_eq!(parse_http_date(&asctime), Some(seconds), "{}", asctime);
            // A two-digit year names 1970-2069 only.
            if (1970..2070).contains(&year.parse::<u64>().unwrap()) {
                proptest::prop_assert_eq!(parse_http_date(&rfc850), Some(seconds), "{}", rfc850);
            }
            let theirs = httpdate::parse_http_date(&asctime).ok();
            proptest::prop_assert_eq!(theirs, Some(time));
        }
    }
}
