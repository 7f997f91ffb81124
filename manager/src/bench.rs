//! The benchmark state's wiring, shared by the manager Lambda's tick, `runner-controller tick`
//! and `serve`: the sweeper (stale jobs errored, left-over locks freed, the portal told) and
//! the store the worker pool reads ([`rc_control::Manager::tend_bench_pool`]).
//!
//! Environment: `RC_BENCH_TABLE` (the state table), and `RC_PORTAL_SECRET` or
//! `RC_PORTAL_SECRET_PARAM` (an SSM SecureString) when a portal is set.

use rc_aws::ssm::Parameters;
use rc_aws::{AwsError, DynamoBenchStore, HttpPortal, WallClock};
use rc_bench::portal::PortalTarget;
use rc_bench::sweeper::SweepReport;
use rc_config::{Benchmarks, Config};
use rc_core::Timestamp;

/// Why the benchmark wiring could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BenchSetupError {
    /// A portal is configured and no secret names its signing key.
    #[error("benchmarks.portal is set: set RC_PORTAL_SECRET or RC_PORTAL_SECRET_PARAM")]
    NoPortalSecret,
    /// The secret parameter could not be read.
    #[error("reading RC_PORTAL_SECRET_PARAM: {0}")]
    Secret(#[source] AwsError),
}

/// The environment variable `name`, when set and not empty.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `RC_PORTAL_SECRET`, or the SSM SecureString `RC_PORTAL_SECRET_PARAM` names; `None` when the
/// config has no portal.
pub async fn portal_secret(
    bench: &Benchmarks,
    aws: &aws_config::SdkConfig,
) -> Result<Option<Vec<u8>>, BenchSetupError> {
    if bench.portal.is_none() {
        return Ok(None);
    }
    if let Some(secret) = var("RC_PORTAL_SECRET") {
        return Ok(Some(secret.into_bytes()));
    }
    let name = var("RC_PORTAL_SECRET_PARAM").ok_or(BenchSetupError::NoPortalSecret)?;
    let secret = Parameters::new(aws_sdk_ssm::Client::new(aws))
        .get_secure(&name)
        .await
        .map_err(BenchSetupError::Secret)?;
    Ok(Some(secret.into_bytes()))
}

/// The benchmark store, when `benchmarks` is configured and `RC_BENCH_TABLE` is set: what the
/// jobs queue's wake-ups need to tend the worker pool.
pub fn store_from_env(config: &Config, aws: &aws_config::SdkConfig) -> Option<DynamoBenchStore> {
    let table = var("RC_BENCH_TABLE").filter(|_| config.benchmarks.is_some())?;
    Some(DynamoBenchStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        table,
    ))
}

/// The sweeper's ports, when `benchmarks` is configured and `RC_BENCH_TABLE` is set.
pub struct Sweeper {
    store: DynamoBenchStore,
    portal: Option<(HttpPortal, Vec<u8>)>,
}

impl Sweeper {
    /// `None` when there is nothing to sweep (no section, or no table named).
    ///
    /// # Errors
    ///
    /// A portal is configured but its secret cannot be had.
    pub async fn from_env(
        config: &Config,
        aws: &aws_config::SdkConfig,
    ) -> Result<Option<Self>, BenchSetupError> {
        let (Some(bench), Some(store)) = (&config.benchmarks, store_from_env(config, aws)) else {
            return Ok(None);
        };
        let secret = portal_secret(bench, aws).await?;
        Ok(Some(Sweeper {
            store,
            portal: bench
                .portal
                .as_ref()
                .zip(secret)
                .map(|(p, s)| (HttpPortal::new(&p.url), s)),
        }))
    }

    /// The benchmark store, which the worker pool reads too.
    pub fn store(&self) -> &DynamoBenchStore {
        &self.store
    }

    /// One pass at `now`; with `dry_run`, what it would do, as failures-free report lines.
    pub async fn sweep(
        &self,
        bench: &Benchmarks,
        now: Timestamp,
        dry_run: bool,
    ) -> Result<SweepReport, rc_bench::PortError> {
        if dry_run {
            let planned = rc_bench::sweeper::plan(&self.store, bench, now).await?;
            let mut report = SweepReport::default();
            for action in planned {
                match action {
                    rc_core::bench::sweep::SweepAction::Error { id, .. } => report.errored.push(id),
                    rc_core::bench::sweep::SweepAction::Unlock { team, .. } => {
                        report.unlocked.push(team)
                    }
                }
            }
            return Ok(report);
        }
        let target = self
            .portal
            .as_ref()
            .map(|(portal, secret)| PortalTarget { portal, secret });
        rc_bench::sweeper::sweep(&self.store, target.as_ref(), &WallClock, bench, now).await
    }
}
