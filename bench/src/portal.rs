//! The signed result callback, retried with the same body each time.

use std::time::Duration;

use rc_core::bench::portal::{body, sign};
use rc_core::bench::BenchJob;

use crate::ports::{Clock, PortError, Portal};

/// First pause between two attempts; doubled each time, at most [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Where results go: the portal and the secret that signs for it.
pub struct PortalTarget<'a, P> {
    /// The portal.
    pub portal: &'a P,
    /// `RC_PORTAL_SECRET`.
    pub secret: &'a [u8],
}

/// Posts `job`'s result, up to `attempts` times while the failures are retryable, signing the
/// one body built here.
///
/// # Errors
///
/// The last failure, when no attempt got a 2xx.
///
/// # Panics
///
/// If `job` is not finished (callers post only results).
pub async fn deliver<P: Portal, C: Clock>(
    target: &PortalTarget<'_, P>,
    clock: &C,
    job: &BenchJob,
    attempts: u32,
) -> Result<(), PortError> {
    let body = body(job).expect("only finished jobs are posted");
    let signature = sign(target.secret, &body);
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match target.portal.post(&body, &signature).await {
            Ok(()) => return Ok(()),
            Err(e) if !e.retryable || attempt >= attempts => return Err(e),
            Err(e) => {
                tracing::warn!(job = %job.id, attempt, error = %e, "portal callback failed; retrying");
                clock.sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                attempt += 1;
            }
        }
    }
}
