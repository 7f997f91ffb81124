//! Bounded retries with capped exponential backoff and full jitter, for the two SSM calls.
//!
//! The SDK's own retries are off (see `main.rs`) so that one policy, tested here, decides how
//! often a call is repeated. The caller says which errors are worth another attempt; anything
//! else, or the last attempt's error, is returned as is.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all, the first included; at least 1.
    pub max_attempts: u32,
    /// Upper bound of the first wait; doubled after each attempt.
    pub base: Duration,
    /// Upper bound of any single wait.
    pub cap: Duration,
}

impl Backoff {
    /// Six attempts over at most 6.2 s of waiting (200 ms doubling). Tasks launched in one burst
    /// start together and can meet SSM's per-account throttling together (GetParameter 40 TPS
    /// by default, AWS "Systems Manager endpoints and quotas"), so the jitter spreads them out;
    /// a task that still cannot reach SSM after that is better failed and replaced.
    pub const SSM: Backoff = Backoff {
        max_attempts: 6,
        base: Duration::from_millis(200),
        cap: Duration::from_secs(4),
    };

    /// The wait before attempt `attempt + 1`: uniform in `[0, min(cap, base * 2^(attempt-1))]`
    /// ("full jitter", AWS Architecture Blog, "Exponential Backoff And Jitter").
    fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.cap);
        // RandomState is seeded per instance from the OS: enough randomness for jitter without
        // a dependency.
        let random = RandomState::new().build_hasher().finish();
        ceiling.mul_f64(random as f64 / u64::MAX as f64)
    }
}

/// Runs `op` until it succeeds, fails with an error `is_transient` rejects, or has run
/// `policy.max_attempts` times; returns its last result.
pub async fn retry<T, E, F, Fut>(
    policy: &Backoff,
    is_transient: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(error) if attempt < policy.max_attempts && is_transient(&error) => {
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const FAST: Backoff = Backoff {
        max_attempts: 4,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(2),
    };

    #[derive(Debug, PartialEq)]
    enum Fault {
        Throttled,
        Denied,
    }

    fn transient(fault: &Fault) -> bool {
        *fault == Fault::Throttled
    }

    /// Runs `retry` over a scripted sequence of outcomes; returns the result and the calls made.
    fn run(script: Vec<Result<&'static str, Fault>>) -> (Result<&'static str, Fault>, usize) {
        let calls = Cell::new(0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime builds");
        let mut script = script.into_iter();
        let result = runtime.block_on(retry(&FAST, transient, || {
            calls.set(calls.get() + 1);
            let next = script.next().expect("the script covers every attempt");
            async move { next }
        }));
        (result, calls.get())
    }

    #[test]
    fn transient_failures_are_retried_until_success() {
        let script = vec![Err(Fault::Throttled), Err(Fault::Throttled), Ok("deleted")];
        assert_eq!(run(script), (Ok("deleted"), 3));
    }

    #[test]
    fn gives_up_after_max_attempts_with_the_last_error() {
        let script = (0..4).map(|_| Err(Fault::Throttled)).collect();
        assert_eq!(run(script), (Err(Fault::Throttled), 4));
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        let script = vec![Err(Fault::Throttled), Err(Fault::Denied), Ok("never")];
        assert_eq!(run(script), (Err(Fault::Denied), 2));
    }

    #[test]
    fn delays_stay_under_the_growing_capped_ceiling() {
        let policy = Backoff {
            max_attempts: 30,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for _ in 0..100 {
            assert!(policy.delay(1) <= Duration::from_millis(100));
            assert!(policy.delay(3) <= Duration::from_millis(400));
            assert!(policy.delay(29) <= Duration::from_secs(1));
        }
    }
}
