//! Per-SP rate limit of the token endpoints (sliding one-second window on
//! the emulator clock, so advancing the clock also clears the window).

use crate::clock::Millis;
use crate::error::{ApiError, ApiResult};
use crate::state::ServiceProvider;

/// Window length.
const WINDOW_MS: Millis = 1000;

impl ServiceProvider {
    /// Records one token request, or rejects it with 429 when the SP already
    /// had `rate_limit_per_second` requests in the last second. Rejected
    /// requests do not count against the window.
    pub fn admit_token_request(&mut self, now: Millis) -> ApiResult<()> {
        let Some(limit) = self.config.rate_limit_per_second else {
            return Ok(());
        };
        while let Some(&oldest) = self.recent_token_requests.front() {
            if now.saturating_sub(oldest) >= WINDOW_MS {
                self.recent_token_requests.pop_front();
            } else {
                break;
            }
        }
        if self.recent_token_requests.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            // Whole seconds until the oldest request leaves the window (at least 1).
            let oldest = self.recent_token_requests.front().copied().unwrap_or(now);
            let wait_ms = (oldest + WINDOW_MS).saturating_sub(now);
            return Err(ApiError::too_many_requests(wait_ms.div_ceil(1000).max(1)));
        }
        self.recent_token_requests.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use crate::config::Config;
    use crate::state::ServiceProvider;

    fn sp(limit: Option<u32>) -> ServiceProvider {
        let mut config = Config::default().service_providers.remove(0);
        config.rate_limit_per_second = limit;
        ServiceProvider {
            config,
            recent_token_requests: VecDeque::new(),
        }
    }

    #[test]
    fn window_slides() {
        let mut sp = sp(Some(2));
        assert!(sp.admit_token_request(1000).is_ok());
        assert!(sp.admit_token_request(1100).is_ok());
        let err = sp.admit_token_request(1200).unwrap_err();
        assert_eq!(err.code, "too_many_requests");
        assert_eq!(err.retry_after, Some(1));
        assert!(sp.admit_token_request(2000).is_ok());
    }

    #[test]
    fn unlimited_by_default() {
        let mut sp = sp(None);
        for i in 0..1000 {
            assert!(sp.admit_token_request(i).is_ok());
        }
    }
}
