//! Per-class leases: at most one holder observes, decides and launches for a runner class at a
//! time, so `max_runners` holds when several deciders act at once.

use std::future::Future;
use std::time::Duration;

use super::AwsError;

/// How long an acquire keeps trying before it gives up. One holder's observe → decide → launch
/// takes well under a second on the AWS APIs (three round trips per launch, ten at once);
/// a few seconds cover a queue of waiters without holding a Lambda invocation for long.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Leases by class name.
pub trait ClassLeases: Send + Sync {
    /// A held lease; give it back with [`ClassLeases::release`].
    type Lease: Send + Sync;

    /// Takes `class`'s lease, waiting up to [`LOCK_WAIT`] for its holder; `None` if it stayed
    /// held.
    ///
    /// # Errors
    ///
    /// The store's failure other than the lease being held.
    fn acquire(
        &self,
        class: &str,
    ) -> impl Future<Output = Result<Option<Self::Lease>, AwsError>> + Send;

    /// Gives a lease back. One that expired and was taken by another holder is left to it.
    ///
    /// # Errors
    ///
    /// The store's failure; the lease then expires on its own.
    fn release(&self, lease: Self::Lease) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Gives every lease back. A failure is only logged: that lease expires on its own, and the
/// decisions made under it are already carried out.
pub async fn release_all<L: ClassLeases>(leases: &L, held: Vec<L::Lease>) {
    for lease in held {
        if let Err(err) = leases.release(lease).await {
            tracing::warn!(error = %err, "could not release a class lease; it expires on its own");
        }
    }
}
