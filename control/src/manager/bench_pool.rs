//! The benchmark worker pool: the second kind of pool, beside the runner classes.
//!
//! A worker needs no GitHub registration and no secret, only a task: the step observes the
//! pool (its live tasks, tagged origin `bench`, and the jobs waiting and running in the
//! benchmark store), stops the workers [`stuck_workers`] finds stuck in their boot, asks
//! [`workers_to_start`] how many to add (a stopped worker's slot is free again, so its
//! replacement starts in the same pass), and starts them through [`Manager::start_task`], the
//! RunTask path every pool shares. Idle workers leave by themselves (`idle_exit`).
//!
//! The tick, `serve`'s loop and wake-ups on the jobs queue
//! ([`Manager::handle_batch_with_bench`]) may all tend the pool at once: the pass runs under
//! the pool's own lease ([`POOL_LEASE`]), so `max_workers` holds across them as `max_runners`
//! does across a class's deciders.

use std::time::Duration;

use rc_bench::ports::BenchStore;
use rc_config::Benchmarks;
use rc_core::bench::job::JobStatus;
use rc_core::bench::pool::{stuck_workers, workers_to_start, Workers};
use rc_core::naming::bench_worker_token;
use rc_core::observed::{tags, Origin};
use rc_core::Timestamp;
use serde::Serialize;

use super::Manager;
use crate::ports::lease::release_all;
use crate::ports::{ClassLeases, Ports, RunTaskRequest, TaskLauncher};

/// The lease the pool's passes take. Class names are letters, digits, `-` and `_`, so no
/// class's lease has this name.
pub const POOL_LEASE: &str = "bench:pool";

/// The ECS stop reason of a worker stuck in its boot.
const STUCK_REASON: &str = "runner-controller: benchmark worker not running within boot_timeout";

/// What one pass over the pool saw and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PoolPass {
    /// Jobs waiting for a worker.
    pub waiting: u32,
    /// Live workers, booting ones included, and those running a job.
    pub workers: u32,
    /// Jobs running.
    pub busy: u32,
    /// Task ARNs started.
    pub started: Vec<String>,
    /// Task ARNs of workers stopped because they were stuck in their boot.
    pub stopped: Vec<String>,
    /// The first failure, if any (the next pass tries again).
    pub failure: Option<String>,
}

impl<P: Ports> Manager<P> {
    /// Stops the workers stuck in their boot for `boot_timeout` (`manager.boot_timeout`) and
    /// tops the benchmark pool up at `now` for the jobs `store` holds, under [`POOL_LEASE`]. A
    /// pass whose lease stays held elsewhere does nothing and says so in `failure`: the holder
    /// is tending the same pool, and the next pass comes within seconds (`serve`) or a minute.
    pub async fn tend_bench_pool<S: BenchStore>(
        &self,
        store: &S,
        bench: &Benchmarks,
        boot_timeout: Duration,
        now: Timestamp,
    ) -> PoolPass {
        let lease = match self.ports.leases().acquire(POOL_LEASE).await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                let why = "another pass holds the pool's lease".to_owned();
                return failed(PoolPass::default(), why);
            }
            Err(err) => return failed(PoolPass::default(), err.to_string()),
        };
        let pass = self.tend_leased(store, bench, boot_timeout, now).await;
        release_all(self.ports.leases(), vec![lease]).await;
        pass
    }

    async fn tend_leased<S: BenchStore>(
        &self,
        store: &S,
        bench: &Benchmarks,
        boot_timeout: Duration,
        now: Timestamp,
    ) -> PoolPass {
        let mut pass = PoolPass::default();
        let team_ids: Vec<String> = bench.teams.iter().map(|t| t.id.clone()).collect();
        let (teams, tasks) = (store.teams(&team_ids).await, self.own_live_tasks().await);
        let (teams, tasks) = match (teams, tasks) {
            (Ok(teams), Ok(tasks)) => (teams, tasks),
            (Err(err), _) => return failed(pass, err.to_string()),
            (_, Err(err)) => return failed(pass, err.to_string()),
        };
        for job in teams.iter().filter_map(|t| t.row.active.as_ref()) {
            match job.status {
                JobStatus::Pending => pass.waiting += 1,
                JobStatus::Running => pass.busy += 1,
                _ => {}
            }
        }
        let live = tasks
            .iter()
            .filter(|t| t.origin == Some(Origin::Bench))
            .count();
        pass.workers = u32::try_from(live).unwrap_or(u32::MAX);
        for stuck in stuck_workers(&tasks, now, boot_timeout) {
            let stopped = self
                .ports
                .launcher()
                .stop_task(&stuck.task_arn, STUCK_REASON)
                .await;
            match stopped {
                Ok(()) => {
                    tracing::info!(task = %stuck.task_arn, state = ?stuck.state, age_s = stuck.age.as_secs(), "benchmark worker stuck in its boot stopped");
                    pass.stopped.push(stuck.task_arn);
                }
                // Still live: it keeps its slot, and the next pass tries again.
                Err(err) => {
                    tracing::warn!(task = %stuck.task_arn, error = %err, "stopping a stuck benchmark worker failed");
                    pass.failure.get_or_insert(err.to_string());
                }
            }
        }
        let stopped = u32::try_from(pass.stopped.len()).unwrap_or(u32::MAX);
        let workers = Workers {
            live: pass.workers.saturating_sub(stopped),
            busy: pass.busy,
        };
        let pool = &bench.pool;
        for index in 0..workers_to_start(pool, now, pass.waiting, workers) {
            let request = RunTaskRequest {
                task_definition: pool.task_definition.clone(),
                capacity_provider: pool.capacity_provider.clone(),
                container: pool.container.clone(),
                size: pool.size,
                environment: Vec::new(),
                tags: vec![
                    (tags::CONTROLLER.to_owned(), self.controller.clone()),
                    (tags::ORIGIN.to_owned(), Origin::Bench.as_str().to_owned()),
                ],
                client_token: bench_worker_token(now, index),
            };
            match self.start_task(&request).await {
                Ok(arn) => {
                    tracing::info!(task = %arn, waiting = pass.waiting, "benchmark worker started");
                    pass.started.push(arn);
                }
                Err(err) => return failed(pass, err.to_string()),
            }
        }
        pass
    }
}

fn failed(mut pass: PoolPass, why: String) -> PoolPass {
    tracing::warn!(error = %why, "benchmark pool: the next pass tries again");
    pass.failure.get_or_insert(why);
    pass
}
