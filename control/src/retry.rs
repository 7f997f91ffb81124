//! Retrying a call whose failure says "try again later" (throttling, 5xx, placement), waiting
//! as a [`Backoff`] says: one loop for every call the orchestration and the adapters retry.
//!
//! The AWS SDK already retries throttling inside one call (its standard mode: three attempts);
//! these attempts come on top, each going back through any rate limiter in front of the call,
//! so a burst waits for room instead of failing the launch.

use std::future::Future;

use rc_core::schedule::Backoff;

use crate::ports::Runtime;

/// Runs `call` until it succeeds, fails in a way `retryable` rejects, or has been tried as often
/// as `backoff` allows, sleeping on `runtime` in between; returns its last result. `what` names
/// the call in the warning logged before each retry (never a secret: it is logged).
pub async fn retry<T, E, F, Fut>(
    backoff: Backoff,
    runtime: &impl Runtime,
    what: &str,
    retryable: impl Fn(&E) -> bool,
    mut call: F,
) -> Result<T, E>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(err) if retryable(&err) => match backoff.wait_before(attempt + 1) {
                Some(wait) => {
                    tracing::warn!(error = %err, attempt, ?wait, "retrying {what}");
                    runtime.sleep(wait).await;
                    attempt += 1;
                }
                None => return Err(err),
            },
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ready::run_ready;
    use std::cell::Cell;
    use std::sync::Mutex;
    use std::time::Duration;

    const BACKOFF: Backoff = Backoff {
        attempts: 3,
        first_wait: Duration::from_millis(250),
    };

    /// Records the sleeps instead of taking them.
    #[derive(Default)]
    struct Recorded(Mutex<Vec<Duration>>);

    impl Runtime for Recorded {
        async fn sleep(&self, wait: Duration) {
            self.0.lock().unwrap().push(wait);
        }
        fn random_u128(&self) -> u128 {
            0
        }
    }

    #[test]
    fn retries_retryable_failures_with_doubling_waits() {
        let (calls, runtime) = (Cell::new(0), Recorded::default());
        let result: Result<(), String> = run_ready(retry(
            BACKOFF,
            &runtime,
            "test call",
            |_| true,
            || {
                calls.set(calls.get() + 1);
                async { Err("throttled".to_owned()) }
            },
        ));
        assert_eq!(result, Err("throttled".to_owned()));
        assert_eq!(calls.get(), 3);
        assert_eq!(
            *runtime.0.lock().unwrap(),
            [Duration::from_millis(250), Duration::from_millis(500)]
        );
    }

    #[test]
    fn stops_at_success_or_a_final_failure() {
        let (calls, runtime) = (Cell::new(0), Recorded::default());
        let throttled = |e: &String| e == "throttled";
        let result = run_ready(retry(BACKOFF, &runtime, "test call", throttled, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move {
                match n {
                    1 => Err("throttled".to_owned()),
                    _ => Ok(n),
                }
            }
        }));
        assert_eq!(result, Ok(2));
        calls.set(0);
        let result: Result<(), String> =
            run_ready(retry(BACKOFF, &runtime, "test call", throttled, || {
                calls.set(calls.get() + 1);
                async { Err("denied".to_owned()) }
            }));
        assert_eq!(result, Err("denied".to_owned()));
        assert_eq!(calls.get(), 1);
    }
}
