//! The production [`Runtime`]: tokio's timer and the operating system's entropy source.

use std::time::Duration;

use rand::rngs::OsRng;
use rand::TryRngCore;
use rc_control::ports::Runtime;

/// Sleeps on tokio's clock and draws randomness from the operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioRuntime;

impl Runtime for TokioRuntime {
    async fn sleep(&self, wait: Duration) {
        tokio::time::sleep(wait).await;
    }

    /// # Panics
    ///
    /// If the operating system cannot supply random bytes (`getrandom` failing on Linux means
    /// the kernel itself is broken; no name is better than a guessable one).
    fn random_u128(&self) -> u128 {
        let mut random = [0u8; 16];
        OsRng
            .try_fill_bytes(&mut random)
            .expect("the operating system supplies random bytes");
        u128::from_be_bytes(random)
    }
}
