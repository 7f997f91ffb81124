//! The tick: one reconcile pass at `now` over warm pools, the reaper and lost webhooks.
//!
//! EventBridge invokes the manager Lambda once a minute with a scheduled event (`main.rs`),
//! `runner-controller serve` runs `rc_manager`'s `run_tick_loop`, and `runner-controller tick` runs one pass
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
//!    ([`rc_core::warm::pickup_target`]), top-up launches (origin `warm`) first, because they shorten the next jobs' pickup, then trims of
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

use rc_config::Config;
use rc_core::observed::{ObservedRunner, ObservedTask};
use rc_core::reaper::JitParameter;
use rc_core::recovery::ApiBudget;
use rc_core::Timestamp;

use super::Manager;
use crate::ports::lease::release_all;
use crate::ports::{AwsError, ClassLeases, GithubError, JitSecrets, Ports};

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

impl<P: Ports> Manager<P> {
    /// Runs one pass as of `now` (see the [module docs](self)); with `dry_run`, decides without
    /// acting. Never fails as a whole: a step that cannot run is a failed decision in the
    /// report, and the next pass starts afresh from what it observes.
    pub async fn tick(&self, config: &Config, now: Timestamp, dry_run: bool) -> TickReport {
        let budget_per_tick = config.manager.github_api_budget_per_tick;
        let mut report = TickReport::new(now, dry_run, budget_per_tick);
        // Leases first, then the observation they protect: a batch that launched just before
        // shows its tasks, and none launches for these classes until the pools are tended.
        let (leases, busy) = self.lease_pools(config, &mut report).await;
        match self.observe_for_tick(now).await {
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
        release_all(self.ports.leases(), leases).await;
        let mut budget = ApiBudget::new(budget_per_tick);
        let loss_suspected = self
            .sweep_deliveries(config, now, &mut budget, &mut report)
            .await;
        self.book().swept(now, loss_suspected);
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
    ) -> (Vec<<P::Leases as ClassLeases>::Lease>, BTreeSet<String>) {
        let (mut leases, mut busy) = (Vec::new(), BTreeSet::new());
        if report.dry_run {
            return (leases, busy);
        }
        let names: BTreeSet<&str> = config.classes.iter().map(|c| c.name.as_str()).collect();
        for class in names {
            let outcome = match self.ports.leases().acquire(class).await {
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

    /// Lists afresh, whatever the book holds: the reaper decides from this listing. The book
    /// keeps it for the batches of the next minute.
    async fn observe_for_tick(&self, now: Timestamp) -> Result<Observed, ObserveError> {
        let runners = self.list_runners(now).await?;
        let parameters = self
            .ports
            .secrets()
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
