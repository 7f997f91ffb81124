//! The wall clock for the benchmark flows ([`rc_bench::Clock`]): read at the edge, slept with
//! tokio.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rc_core::Timestamp;

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl rc_bench::Clock for WallClock {
    fn now(&self) -> Timestamp {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
