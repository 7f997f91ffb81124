//! Retrying a call whose failure says "try again later" (throttling, 5xx, placement), with
//! doubling waits: one helper for every adapter call the launch path retries.
//!
//! The SDK already retries throttling inside one call (its standard mode: three attempts);
//! these attempts come on top, each going back through any rate limiter in front of the call,
//! so a burst waits for room instead of failing the launch.

use std::future::Future;
use std::time::Duration;

/// How many attempts, and the wait before the second one (doubled before each further one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Total attempts, the first included.
    pub attempts: u32,
    /// Wait before the second attempt.
    pub first_wait: Duration,
}

impl Backoff {
    /// Runs `call` until it succeeds, fails in a way `retryable` rejects, or has been tried
    /// `attempts` times; returns its last result. `what` names the call in the warning logged
    /// before each retry (never a secret: it is logged).
    pub async fn run<T, E, F, Fut>(
        self,
        what: &str,
        retryable: impl Fn(&E) -> bool,
        mut call: F,
    ) -> Result<T, E>
    where
        E: std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut wait = self.first_wait;
        let mut attempt = 1;
        loop {
            match call().await {
                Err(err) if retryable(&err) && attempt < self.attempts => {
                    tracing::warn!(error = %err, attempt, ?wait, "retrying {what}");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const BACKOFF: Backoff = Backoff {
        attempts: 3,
        first_wait: Duration::from_millis(250),
    };

    #[tokio::test(start_paused = true)]
    async fn retries_retryable_failures_with_doubling_waits() {
        let calls = Cell::new(0);
        let start = tokio::time::Instant::now();
        let result: Result<(), String> = BACKOFF
            .run(
                "test call",
                |_| true,
                || {
                    calls.set(calls.get() + 1);
                    async { Err("throttled".to_owned()) }
                },
            )
            .await;
        assert_eq!(result, Err("throttled".to_owned()));
        assert_eq!(calls.get(), 3);
        assert_eq!(start.elapsed(), Duration::from_millis(250 + 500));
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_success_or_a_final_failure() {
        let calls = Cell::new(0);
        let result = BACKOFF
            .run(
                "test call",
                |e: &String| e == "throttled",
                || {
                    calls.set(calls.get() + 1);
                    let n = calls.get();
                    async move {
                        match n {
                            1 => Err("throttled".to_owned()),
                            _ => Ok(n),
                        }
                    }
                },
            )
            .await;
        assert_eq!(result, Ok(2));
        calls.set(0);
        let result: Result<(), String> = BACKOFF
            .run(
                "test call",
                |e: &String| e == "throttled",
                || {
                    calls.set(calls.get() + 1);
                    async { Err("denied".to_owned()) }
                },
            )
            .await;
        assert_eq!(result, Err("denied".to_owned()));
        assert_eq!(calls.get(), 1);
    }
}
