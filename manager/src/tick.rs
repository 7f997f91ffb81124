//! The tick: one reconcile pass at `now` over warm pools, the reaper and lost webhooks.
//!
//! EventBridge invokes the manager Lambda once a minute with a scheduled event (`main.rs`),
//! `runner-controller serve` runs [`run_tick_loop`], and `runner-controller tick` runs one pass
//! as if the clock read `--at`. Every decision comes from the core ([`rc_core::warm`],
//! [`rc_core::reaper`], [`rc_core::recovery`]); this module observes, executes and reports.
//!
//! # One pass, in order
//!
//! 1. **Observe once**: GitHub runners, then the SSM JIT parameters, then the live ECS tasks,
//!    the order [`rc_core::reaper`] documents (a launch in flight shows its parameter or task by
//!    the time they are read, so its fresh registration is not taken for a ghost). Every later
//!    decision of the pass uses this one observation; if any list fails, the pool and reaper
//!    steps are skipped, because a partial list makes live runners look like ghosts.
//! 2. **Warm pools**, class by class, each under its class's lease (taken before step 1, so
//!    no batch launches for the class between the observation and the top-up): the target
//!    ([`rc_core::warm::warm_target`]), top-up launches (origin `warm`) first, because they shorten the next jobs' pickup, then trims of
//!    warm runners idle past `idle_timeout` above the target.
//! 3. **Reaper** ([`rc_core::reaper::plan_reap`]): stuck tasks, ghost registrations, stale
//!    parameters, idle on-demand runners. Runners this pass just started are not in the
//!    observation, so their new registrations cannot be mistaken for ghosts.
//! 4. **Redelivery sweep**, then 5. **rescue scan** (see `recovery`), sharing one GitHub API
//!    budget (`manager.github_api_budget_per_tick`). They come last because they are the least
//!    urgent and the only budgeted GitHub calls.
//!
//! Stopping a runner is busy-safe: its GitHub registration is deleted first (GitHub answers
//! 422 for a runner running a job, and then it is left alone), then its task is stopped, then
//! its JIT parameter is deleted.
//!
//! A dry run makes the same reads and decisions and changes nothing.

mod pool;
mod reap;
mod recovery;
mod report;

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use rc_aws::config_source::{LastKnownGood, CONFIG_MAX_AGE};
use rc_aws::{AwsError, ClusterObserver, JobQueue, Lease, TaskLauncher};
use rc_config::Config;
use rc_core::observed::{ObservedRunner, ObservedTask};
use rc_core::reaper::JitParameter;
use rc_core::recovery::ApiBudget;
use rc_core::Timestamp;
use rc_github::api::{GithubApi, GithubError};
use rc_github::client::GithubClient;

use crate::queue::emit_rate_limit;
use crate::Manager;

pub use report::{Decision, Outcome, Step, TickCounts, TickReport};

/// What one pass observed: complete lists, read in the reaper's order.
struct Observed {
    runners: Vec<ObservedRunner>,
    parameters: Vec<JitParameter>,
    tasks: Vec<ObservedTask>,
}

/// Why a pass could not observe.
#[derive(Debug, thiserror::Error)]
enum ObserveError {
    #[error("listing GitHub runners: {0}")]
    Runners(#[from] GithubError),
    #[error("listing JIT parameters: {0}")]
    Parameters(#[source] AwsError),
    #[error("listing ECS tasks: {0}")]
    Tasks(#[source] AwsError),
}

impl<G, L, O, Q> Manager<G, L, O, Q>
where
    G: GithubApi,
    L: TaskLauncher,
    O: ClusterObserver,
    Q: JobQueue,
{
    /// Runs one pass as of `now` (see the [module docs](self)); with `dry_run`, decides without
    /// acting. Never fails as a whole: a step that cannot run is a failed decision in the
    /// report, and the next pass starts afresh from what it observes.
    pub async fn tick(&self, config: &Config, now: Timestamp, dry_run: bool) -> TickReport {
        let budget_per_tick = config.manager.github_api_budget_per_tick;
        let mut report = TickReport::new(now, dry_run, budget_per_tick);
        // Leases first, then the observation they protect: a batch that launched just before
        // shows its tasks, and none launches for these classes until the pools are tended.
        let (leases, busy) = self.lease_pools(config, &mut report).await;
        match self.observe_for_tick().await {
            Ok(observed) => {
                for class in config.classes.iter().filter(|c| !busy.contains(&c.name)) {
                    self.tend_pool(config, class, now, &observed, &mut report)
                        .await;
                }
                self.reap(config, now, &observed, &mut report).await;
            }
            Err(err) => report.push(
                Step::Observe,
                None,
                "observe runners, JIT parameters and tasks; warm pools and the reaper wait for the next tick"
                    .to_owned(),
                Outcome::Failed(err.to_string()),
                &(),
            ),
        }
        self.locks.release_all(leases).await;
        let mut budget = ApiBudget::new(budget_per_tick);
        self.sweep_deliveries(config, now, &mut budget, &mut report)
            .await;
        self.rescue_scan(config, now, &mut budget, &mut report)
            .await;
        report.github_budget_left = budget.remaining();
        report
    }

    /// The lease of every class, in name order, and the classes whose lease stayed held: those
    /// are reported and their pools left to the next tick. A dry run launches nothing and
    /// takes no lease.
    async fn lease_pools(
        &self,
        config: &Config,
        report: &mut TickReport,
    ) -> (Vec<Lease>, BTreeSet<String>) {
        let (mut leases, mut busy) = (Vec::new(), BTreeSet::new());
        if report.dry_run {
            return (leases, busy);
        }
        let names: BTreeSet<&str> = config.classes.iter().map(|c| c.name.as_str()).collect();
        for class in names {
            let outcome = match self.locks.acquire(class).await {
                Ok(Some(lease)) => {
                    leases.push(lease);
                    continue;
                }
                Ok(None) => Outcome::Nothing,
                Err(err) => Outcome::Failed(err.to_string()),
            };
            let reason = "leave the pool to the next tick: another decider holds the class's lease";
            report.push(Step::Pool, Some(class), reason.to_owned(), outcome, &());
            busy.insert(class.to_owned());
        }
        (leases, busy)
    }

    async fn observe_for_tick(&self) -> Result<Observed, ObserveError> {
        let runners = self.github.list_runners().await?;
        let parameters = self
            .parameters
            .list_jit_parameters(&self.ssm_prefix)
            .await
            .map_err(ObserveError::Parameters)?;
        let tasks = self.own_live_tasks().await.map_err(ObserveError::Tasks)?;
        Ok(Observed {
            runners,
            parameters,
            tasks,
        })
    }
}

/// Runs a tick every `every`, on multiples of `every` of the wall clock (on the minute for one
/// minute), until `shutdown` completes: `serve`'s stand-in for the EventBridge schedule. The
/// config is re-read as the Lambda does ([`CONFIG_MAX_AGE`]); a tick in progress when
/// `shutdown` completes is finished first, so no stop is cut between its steps.
///
/// # Panics
///
/// If `every` is zero.
pub async fn run_tick_loop<L, O, Q>(
    manager: &Manager<GithubClient, L, O, Q>,
    config: &LastKnownGood,
    every: Duration,
    shutdown: impl Future<Output = ()>,
) where
    L: TaskLauncher,
    O: ClusterObserver,
    Q: JobQueue,
{
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
        emit_rate_limit(manager.github());
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
