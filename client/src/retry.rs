//! When and how long the client waits before trying a request again.

use std::time::Duration;

use reqwest::StatusCode;

/// Retries of idempotent requests (`GET`, and `PUT`, which writes the same
/// complete run each time) after a connection error, a 429 or a 503, with
/// exponential backoff and full jitter, waiting at least as long as the
/// server's `Retry-After` asks (up to `max_delay`). No other status is
/// retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 means no retry).
    pub max_attempts: u32,
    /// The backoff of the first retry; each retry doubles it.
    pub base_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Whether an answer with `status` is worth trying again.
    pub fn retries_status(status: StatusCode) -> bool {
        status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
    }

    /// How long to wait before attempt `attempt + 1` (after `attempt`
    /// failed); at least what `Retry-After` asked for, when it asked.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(20))
            .min(self.max_delay);
        let jittered = ceiling.mul_f64(fastrand::f64());
        match retry_after {
            Some(asked) => asked.min(self.max_delay).max(jittered),
            None => jittered,
        }
    }
}

/// The delay of a `Retry-After` header in seconds (its HTTP-date form is not
/// used by this API).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let policy = RetryPolicy::default();
        for attempt in 1..10 {
            let ceiling = policy.base_delay * 2u32.pow(attempt - 1);
            assert!(policy.delay(attempt, None) <= ceiling.min(policy.max_delay));
        }
        assert!(policy.delay(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3600))),
            policy.max_delay
        );
        assert!(RetryPolicy::retries_status(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!RetryPolicy::retries_status(
            StatusCode::PRECONDITION_FAILED
        ));
    }
}
