//! The benchmark worker pool: the second kind of pool, beside the runner classes.
//!
//! A worker needs no GitHub registration and no secret, only a task: the step observes the
//! pool (its live tasks, tagged origin `bench`, and the jobs waiting and running in the
//! benchmark store), asks [`workers_to_start`] how many to add, and starts them through
//! [`Manager::start_task`], the RunTask path every pool shares. Workers leave by themselves
//! (`idle_exit`), so nothing is stopped here.

use rc_bench::ports::BenchStore;
use rc_config::Benchmarks;
use rc_core::bench::job::JobStatus;
use rc_core::bench::pool::{workers_to_start, Workers};
use rc_core::naming::bench_worker_token;
use rc_core::observed::{tags, Origin};
use rc_core::Timestamp;
use serde::Serialize;

use super::Manager;
use crate::ports::{Ports, RunTaskRequest};

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
    /// The first failure, if any (the next pass tries again).
    pub failure: Option<String>,
}

impl<P: Ports> Manager<P> {
    /// Tops the benchmark pool up at `now` for the jobs `store` holds.
    pub async fn tend_bench_pool<S: BenchStore>(
        &self,
        store: &S,
        bench: &Benchmarks,
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
        let workers = Workers {
            live: pass.workers,
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
    pass.failure = Some(why);
    pass
}
