//! Each class's recent demand, shared by every manager process: pools sized from a pickup
//! target then follow all the arrivals, not the share one process happened to handle, and a
//! cold process starts from what the others saw instead of from `min`.

use std::future::Future;

use rc_core::book::SharedDemand;

use super::AwsError;

/// Shared demand by class name. Its writers hold the class's lease
/// ([`super::ClassLeases`]), so a read, merge and write is never interleaved with another's.
pub trait DemandStore: Send + Sync {
    /// What is stored for `class`; nothing stored is the empty demand.
    ///
    /// # Errors
    ///
    /// The store's failure.
    fn load(&self, class: &str) -> impl Future<Output = Result<SharedDemand, AwsError>> + Send;

    /// Replaces what is stored for `class`.
    ///
    /// # Errors
    ///
    /// The store's failure.
    fn save(
        &self,
        class: &str,
        demand: &SharedDemand,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}
