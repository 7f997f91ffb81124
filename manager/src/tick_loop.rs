//! `serve`'s stand-in for the tick's EventBridge schedule, on the wall clock.

use std::future::Future;
use std::time::Duration;

use rc_aws::config_source::{LastKnownGood, CONFIG_MAX_AGE};
use rc_core::Timestamp;

use crate::queue::emit_rate_limit;
use crate::Manager;

/// Runs a tick every `every`, on multiples of `every` of the wall clock (on the minute for one
/// minute), until `shutdown` completes: `serve`'s stand-in for the EventBridge schedule. The
/// config is re-read as the Lambda does ([`CONFIG_MAX_AGE`]); a tick in progress when
/// `shutdown` completes is finished first, so no stop is cut between its steps.
///
/// # Panics
///
/// If `every` is zero.
pub async fn run_tick_loop(
    manager: &Manager,
    config: &LastKnownGood,
    every: Duration,
    shutdown: impl Future<Output = ()>,
) {
    assert!(!every.is_zero(), "the tick period must be positive");
    tokio::pin!(shutdown);
    loop {
        let wait = until_next_multiple(wall_clock(), every);
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(wait) => {}
        }
        let config = config.current(CONFIG_MAX_AGE).await;
        let report = manager.tick(&config, wall_clock(), false).await;
        tracing::info!(failures = report.failures(), "{}", report.summary());
        report.emit_metrics();
        emit_rate_limit(&manager.ports().github);
    }
}

/// The tick's clock: drivers read it once per pass and hand it down.
pub fn wall_clock() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

/// How long from `now` until the next multiple of `every` since the epoch; a full period
/// when `now` is one, so a loop that wakes exactly on time does not tick twice.
fn until_next_multiple(now: Timestamp, every: Duration) -> Duration {
    let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1);
    Duration::from_millis((every_ms - now.0.rem_euclid(every_ms)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_next_minute() {
        let minute = Duration::from_secs(60);
        let at = |secs: i64, ms: i64| Timestamp(secs * 1000 + ms);
        assert_eq!(until_next_multiple(at(120, 0), minute), minute);
        assert_eq!(
            until_next_multiple(at(121, 500), minute),
            Duration::from_millis(58_500)
        );
        assert_eq!(
            until_next_multiple(at(179, 999), minute),
            Duration::from_millis(1)
        );
    }
}
