//! The bench agent's loop, the entrypoint of every benchmarker task.
//!
//! For each message: read the job; start it only if it is still `pending` (a conditional write,
//! so a message received twice never runs twice); run the benchmarker while heartbeating (the
//! message's visibility and the job's `heartbeat_at`); judge the run; store the result; post it
//! to the portal; and only then delete the message. A failure before the result is stored
//! leaves the message to come back and the job to the sweeper; nothing is lost and nothing runs
//! twice.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use rc_config::Benchmarks;
use rc_core::bench::outcome::{judge, RunReport};
use rc_core::bench::sweep::heartbeat_every;
use rc_core::bench::{BenchJob, BenchMessage, JobStatus};

use crate::portal::{deliver, PortalTarget};
use crate::ports::{
    BenchQueue, BenchStore, Benchmarker, Clock, Delivery, PortError, Portal, RunSpec,
};

/// SIGKILL this long after the deadline's SIGTERM (the contract's 5 s).
pub const KILL_GRACE: Duration = Duration::from_secs(5);
/// `--once` waits this long for a job (and SQS's longest long poll is the same 20 s).
pub const ONCE_WAIT: Duration = Duration::from_secs(20);
/// Portal attempts per result: 1 + 2 + 4 + 8 s between them.
const PORTAL_ATTEMPTS: u32 = 5;
/// Store attempts for the result before the message is left to come back.
const STORE_ATTEMPTS: u32 = 5;

/// How the agent runs, from the `benchmarks` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSettings {
    /// The benchmarker's argv with `{target}` in it.
    pub command: Vec<String>,
    /// The hard deadline.
    pub deadline: Duration,
    /// SIGKILL after SIGTERM.
    pub kill_grace: Duration,
    /// Time between heartbeats.
    pub heartbeat_every: Duration,
    /// How long a received message stays hidden; renewed at every heartbeat.
    pub visibility: Duration,
    /// Exit after this long without a job.
    pub idle_exit: Duration,
    /// One job (or none within [`ONCE_WAIT`]), then exit.
    pub once: bool,
}

impl AgentSettings {
    /// Settings for `bench`'s pool.
    pub fn from_config(bench: &Benchmarks, once: bool) -> Self {
        let heartbeat = heartbeat_every(bench.stale_after);
        AgentSettings {
            command: bench.pool.command.clone(),
            deadline: bench.pool.deadline,
            kill_grace: KILL_GRACE,
            heartbeat_every: heartbeat,
            // Three missed heartbeats before another worker may see the message; it then finds
            // the job running and drops the message, so a slow heartbeat never runs a job twice.
            visibility: heartbeat * 3 + Duration::from_secs(10),
            idle_exit: bench.pool.idle_exit,
            once,
        }
    }

    /// The run of `job`: `{target}` replaced, identity in the environment.
    pub fn spec(&self, job: &BenchJob) -> RunSpec {
        RunSpec {
            argv: self
                .command
                .iter()
                .map(|a| a.replace("{target}", &job.target))
                .collect(),
            env: vec![
                ("RC_BENCH_TARGET".into(), job.target.clone()),
                ("RC_BENCH_JOB_ID".into(), job.id.to_string()),
                ("RC_BENCH_TEAM".into(), job.team.clone()),
            ],
            deadline: self.deadline,
            kill_grace: self.kill_grace,
        }
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// The job ran and its result is stored (and posted, if a portal is set).
    Ran(BenchJob),
    /// Nothing to run (unreadable message, job gone, already started or ended); the message is
    /// deleted.
    Skipped(String),
    /// A port failed before the result was safe; the message is left to come back.
    Failed(PortError),
}

/// The agent's ports and settings.
pub struct Agent<'a, S, Q, P, C, B> {
    /// Jobs and locks.
    pub store: &'a S,
    /// The FIFO queue.
    pub queue: &'a Q,
    /// The portal and its secret, when results are posted.
    pub portal: Option<PortalTarget<'a, P>>,
    /// The clock.
    pub clock: &'a C,
    /// What runs the benchmark.
    pub benchmarker: &'a B,
    /// How to run.
    pub settings: AgentSettings,
}

impl<S, Q, P, C, B> Agent<'_, S, Q, P, C, B>
where
    S: BenchStore,
    Q: BenchQueue,
    P: Portal,
    C: Clock,
    B: Benchmarker,
{
    /// Takes and handles messages until `--once` is satisfied or `idle_exit` passes without
    /// work; returns what became of each message.
    pub async fn run(&self) -> Vec<Handled> {
        let started = self.clock.now();
        let mut idle_since = started;
        let mut handled = Vec::new();
        loop {
            let now = self.clock.now();
            let limit = if self.settings.once {
                ONCE_WAIT.saturating_sub(now.saturating_since(started))
            } else {
                self.settings
                    .idle_exit
                    .saturating_sub(now.saturating_since(idle_since))
            };
            if limit.is_zero() {
                return handled;
            }
            let wait = limit.min(ONCE_WAIT).max(Duration::from_secs(1));
            match self.queue.receive(wait, self.settings.visibility).await {
                Ok(Some(delivery)) => {
                    handled.push(self.handle(&delivery).await);
                    if self.settings.once {
                        return handled;
                    }
                    idle_since = self.clock.now();
                }
                // A long poll came back empty after its full wait: for `--once` that is the
                // "none within 20 s".
                Ok(None) if self.settings.once => return handled,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "receiving a benchmark job failed");
                    self.clock.sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Handles one received message.
    pub async fn handle(&self, delivery: &Delivery) -> Handled {
        let message = match BenchMessage::from_json(&delivery.body) {
            Ok(m) => m,
            Err(reason) => return self.skip(delivery, reason).await,
        };
        let job = match self.store.get(&message.id).await {
            Ok(Some(job)) => job,
            Ok(None) => {
                return self
                    .skip(delivery, format!("job {} does not exist", message.id))
                    .await
            }
            Err(e) => return Handled::Failed(e),
        };
        if job.status != JobStatus::Pending {
            let reason = format!("job {} is already {}", job.id, job.status);
            return self.skip(delivery, reason).await;
        }
        let running = job
            .start(self.clock.now())
            .expect("a pending job can start");
        match self.store.start(&running).await {
            Ok(true) => {}
            Ok(false) => {
                let reason = format!("job {} was started or ended by someone else", job.id);
                return self.skip(delivery, reason).await;
            }
            Err(e) => return Handled::Failed(e),
        }
        tracing::info!(job = %running.id, team = %running.team, "benchmark started");
        let report = self.run_with_heartbeats(&running, &delivery.receipt).await;
        let outcome = judge(&report, self.settings.deadline);
        let finished = running
            .finish(&outcome, self.clock.now())
            .expect("a running job can end");
        tracing::info!(job = %finished.id, status = %finished.status, score = ?finished.score, "benchmark finished");
        match self.store_result(&finished).await {
            Ok(true) => {}
            Ok(false) => {
                let reason = format!("job {} was ended by the sweeper while it ran", finished.id);
                return self.skip(delivery, reason).await;
            }
            Err(e) => return Handled::Failed(e),
        }
        if let Some(target) = &self.portal {
            if let Err(e) = deliver(target, self.clock, &finished, PORTAL_ATTEMPTS).await {
                // The result is stored and visible through the API; the portal can fetch it.
                tracing::error!(job = %finished.id, error = %e, "portal never accepted the result");
            }
        }
        if let Err(e) = self.queue.delete(&delivery.receipt).await {
            // It comes back, finds the job ended, and is deleted then.
            tracing::warn!(job = %finished.id, error = %e, "could not delete the message");
        }
        Handled::Ran(finished)
    }

    async fn run_with_heartbeats(&self, job: &BenchJob, receipt: &str) -> RunReport {
        let spec = self.settings.spec(job);
        let run = pin!(self.benchmarker.run(&spec));
        let beats = pin!(async {
            loop {
                self.clock.sleep(self.settings.heartbeat_every).await;
                if let Err(e) = self.queue.extend(receipt, self.settings.visibility).await {
                    tracing::warn!(job = %job.id, error = %e, "extending the message failed");
                }
                match self.store.heartbeat(&job.id, self.clock.now()).await {
                    Ok(true) => {}
                    // Swept while alive (heartbeats lost for `stale_after`): the run still ends
                    // at its deadline, and its result is then dropped.
                    Ok(false) => tracing::warn!(job = %job.id, "the job is no longer running"),
                    Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
                }
            }
        });
        match select(run, beats).await {
            Either::Left((report, _)) => report,
            Either::Right(((), _)) => unreachable!("heartbeats never end"),
        }
    }

    async fn store_result(&self, finished: &BenchJob) -> Result<bool, PortError> {
        let mut attempt = 1;
        loop {
            match self.store.finish(finished, JobStatus::Running).await {
                Err(e) if e.retryable && attempt < STORE_ATTEMPTS => {
                    tracing::warn!(job = %finished.id, error = %e, "storing the result failed; retrying");
                    self.clock.sleep(Duration::from_secs(1 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn skip(&self, delivery: &Delivery, reason: String) -> Handled {
        tracing::info!(%reason, "benchmark message dropped");
        if let Err(e) = self.queue.delete(&delivery.receipt).await {
            tracing::warn!(error = %e, "could not delete the message");
        }
        Handled::Skipped(reason)
    }
}
