//! Where a runner's JIT config waits for its task: one SecureString parameter per launch, under
//! a name only that task is told.

use std::future::Future;

use rc_core::reaper::JitParameter;

use super::AwsError;

/// The JIT config parameters under one path.
pub trait JitSecrets: Send + Sync {
    /// Writes `value` as a secret named `name`, with `description` (not secret: the runner
    /// name) as its description, overwriting any value of that name.
    ///
    /// # Errors
    ///
    /// The failure; the write may have landed anyway, so callers delete the name on failure.
    fn put_secure(
        &self,
        name: &str,
        value: &str,
        description: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Deletes the parameter; one that is already gone counts as deleted.
    ///
    /// # Errors
    ///
    /// The failure.
    fn delete(&self, name: &str) -> impl Future<Output = Result<(), AwsError>> + Send;

    /// Every parameter under `path`, metadata only (never a value).
    ///
    /// # Errors
    ///
    /// The failure of any page: there is no partial answer, because one parameter missing from
    /// the list would make its launch's new registration look like a ghost to the reaper.
    fn list_jit_parameters(
        &self,
        path: &str,
    ) -> impl Future<Output = Result<Vec<JitParameter>, AwsError>> + Send;
}
