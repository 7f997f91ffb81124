//! What the process around the orchestration supplies besides the services: waiting and
//! randomness. The time itself is never read here: every entry point takes `now` as an argument.

use std::future::Future;
use std::time::Duration;

/// Sleeping and random numbers.
pub trait Runtime: Send + Sync {
    /// Completes after `wait` (production: the wall clock; the simulator: at once, its calls
    /// take no virtual time).
    fn sleep(&self, wait: Duration) -> impl Future<Output = ()> + Send;

    /// 128 unpredictable bits for a secret's name (production: the operating system's entropy
    /// source; the simulator: its seeded generator, so a run repeats byte for byte).
    fn random_u128(&self) -> u128;
}
