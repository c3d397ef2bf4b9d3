//! The emulator clock: real time since start plus an offset that tests can
//! advance, so expiry (claim tokens, access tokens, rate-limit windows) can be
//! tested without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, as seen by the emulator.
pub type Millis = u64;

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

    /// Emulator time: start time + real elapsed time + advanced offset.
    pub fn now(&self) -> Millis {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.start_wall
            .saturating_add(elapsed)
            .saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the emulator clock forward (never backwards: expiry must be
    /// monotonic).
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
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
pub fn format_rfc3339(at: Millis) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(at)).to_string()
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
        clock.advance(Duration::from_secs(100));
        assert!(clock.now() >= before + 100_000);
        clock.reset();
        assert!(clock.now() < before + 100_000);
    }

    #[test]
    fn rfc3339_round_trip() {
        let at = parse_rfc3339("2016-04-16T16:06:05.123Z").unwrap();
        assert_eq!(format_rfc3339(at), "2016-04-16T16:06:05Z");
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
