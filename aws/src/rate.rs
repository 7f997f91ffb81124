//! A limiter shared by every caller of one AWS operation in this process, so a burst of calls
//! waits its turn instead of failing with `ThrottlingException`.
//!
//! AWS throttles per account and Region with token buckets of its own, whose capacity it does
//! not publish; spacing our calls evenly at or below the published rate keeps one burst of
//! launches (a matrix workflow queueing dozens of jobs at once) from spending its retries
//! against a bucket that is already empty. It is a token bucket holding one token: no burst
//! above the rate, and an idle spell does not bank calls. The limiter reads tokio's clock, so
//! tests drive it with a paused clock; it lives in the adapters because the core never reads a
//! clock.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// At most a given number of calls per second, evenly spaced.
#[derive(Debug)]
pub struct RateLimiter {
    /// Time between two calls.
    interval: Duration,
    /// The earliest time the next call may go.
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// At most `per_second` calls per second.
    ///
    /// # Panics
    ///
    /// If `per_second` is not a positive finite number (the setting is validated where it is
    /// read).
    pub fn new(per_second: f64) -> Self {
        assert!(
            per_second.is_finite() && per_second > 0.0,
            "the rate must be positive"
        );
        RateLimiter {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: Mutex::new(None),
        }
    }

    /// Waits until one more call fits the rate, then returns. Each caller reserves its slot
    /// before it waits, so concurrent callers are served in the order they asked, and a caller
    /// that gives up waiting still uses its slot (erring towards fewer calls).
    pub async fn acquire(&self) {
        let now = Instant::now();
        let slot = {
            let mut next = self.next.lock().expect("no code panics while holding it");
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Seconds since `start`, rounded to the millisecond, on tokio's (paused) clock. Rates in
    /// these tests give whole-millisecond intervals: tokio's timer rounds sleeps up to one.
    fn since(start: Instant) -> f64 {
        (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_at_the_rate() {
        let limiter = RateLimiter::new(4.0);
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..7 {
            limiter.acquire().await;
            at.push(since(start));
        }
        assert_eq!(at, [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_spell_banks_no_burst() {
        let limiter = RateLimiter::new(2.0);
        limiter.acquire().await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        let quiet = Instant::now();
        let mut at = Vec::new();
        for _ in 0..3 {
            limiter.acquire().await;
            at.push(since(quiet));
        }
        assert_eq!(at, [0.0, 0.5, 1.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_schedule() {
        let limiter = Arc::new(RateLimiter::new(4.0));
        let start = Instant::now();
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move {
                    limiter.acquire().await;
                    since(start)
                })
            })
            .collect();
        let mut at = Vec::new();
        for call in calls {
            at.push(call.await.expect("no panic"));
        }
        at.sort_by(f64::total_cmp);
        assert_eq!(at, [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]);
    }
}
