//! The emulator clock: real time since start plus an offset that tests can
//! advance, so expiry (claim tokens, access tokens, rate-limit windows) can be
//! tested without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, as seen by the emulator.
pub type Millis = u64;

/// The clock's end: 9999-12-31T23:59:59.999Z, the last instant the API's
/// date-time format (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, four-digit years) can
/// write. The clock saturates here, so any advance leaves every date
/// printable (issue 18: a huge advance used to make every later clock read
/// panic).
pub const MAX_MILLIS: Millis = 253_402_300_799_999;

/// Monotonic clock anchored at the wall-clock time of start-up.
#[derive(Debug)]
pub struct Clock {
    start_wall: Millis,
    start: Instant,
    offset_ms: AtomicU64,
}

impl Clock {
    /// Anchors the clock at the current wall-clock time.
    // The workspace bans `now()` for the sans-IO core; the emulator is the
    // IO side and this is the one place that reads the real clock.
    #[allow(clippy::disallowed_methods)]
    pub fn new() -> Self {
        let start_wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            start_wall,
            start: Instant::now(),
            offset_ms: AtomicU64::new(0),
        }
    }

    /// Emulator time: start time + real elapsed time + advanced offset,
    /// at most [`MAX_MILLIS`].
    pub fn now(&self) -> Millis {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.start_wall
            .saturating_add(elapsed)
            .saturating_add(self.offset_ms.load(Ordering::Relaxed))
            .min(MAX_MILLIS)
    }

    /// Moves the emulator clock forward by `ms` (never backwards: expiry
    /// must be monotonic). The offset saturates at [`MAX_MILLIS`], which
    /// already puts `now` at the clock's end.
    pub fn advance_ms(&self, ms: u64) {
        let _ = self
            .offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                Some(offset.saturating_add(ms).min(MAX_MILLIS))
            });
    }

    /// Total offset added so far.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Drops the offset (used by the control API's reset).
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// Formats emulator time like the spec's examples (`2016-04-16T16:06:05Z`).
/// Times past [`MAX_MILLIS`] print as it: humantime cannot write year
/// 10000 and its `Display` error would panic in `to_string`.
pub fn format_rfc3339(at: Millis) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(at.min(MAX_MILLIS));
    humantime::format_rfc3339_seconds(at).to_string()
}

/// Parses an RFC 3339 UTC timestamp (`yyyy-MM-ddTHH:mm:ss[.SSS]Z`).
pub fn parse_rfc3339(text: &str) -> Option<Millis> {
    let at = humantime::parse_rfc3339(text).ok()?;
    let ms = at.duration_since(UNIX_EPOCH).ok()?.as_millis();
    u64::try_from(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now() {
        let clock = Clock::new();
        let before = clock.now();
        clock.advance_ms(100_000);
        assert!(clock.now() >= before + 100_000);
        clock.reset();
        assert!(clock.now() < before + 100_000);
    }

    #[test]
    fn huge_advances_saturate_and_stay_printable() {
        let clock = Clock::new();
        clock.advance_ms(u64::MAX);
        clock.advance_ms(u64::MAX);
        assert_eq!(clock.now(), MAX_MILLIS);
        assert_eq!(format_rfc3339(clock.now()), "9999-12-31T23:59:59Z");
        assert_eq!(format_rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn rfc3339_round_trip() {
        let at = parse_rfc3339("2016-04-16T16:06:05.123Z").unwrap();
        assert_eq!(format_rfc3339(at), "2016-04-16T16:06:05Z");
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
