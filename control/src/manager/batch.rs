//! One batch of jobs-queue messages: read them, ask GitHub about re-checked jobs, observe the
//! cluster once, decide per class with [`plan_scale_up`], launch, schedule the re-checks.
//!
//! Every message ends in a [`Disposition`]: done (SQS deletes it), retry (SQS delivers it again
//! after the queue's visibility timeout), or retry after a longer wait (the class is full). An
//! unreadable message is done: it would fail the same way forever. A message of a newer format
//! version is the exception: it is retried until the queue's redrive policy moves it to the
//! dead-letter queue, so a rollback in the middle of a deploy loses no job.
//!
//! Per message:
//!
//! - `queued`, attempt 0 (the webhook's): decided on observed state right away, unless the job
//!   was created more than `manager.replay_check_after` ago ([`needs_job_check`]): a replayed or
//!   long-delayed delivery is checked with GitHub first, as a re-check is.
//! - `queued`, attempt n > 0 (a delayed re-check): GitHub is asked first; a job that started,
//!   finished or vanished needs nothing more. One still queued is decided like a new one, so a
//!   job whose runner another job took gets a runner of its own.
//! - `in_progress`: pickup latency is recorded, and a class with a warm pool open refills it at
//!   once instead of at the next tick ([`replenish_on_take`]).
//! - `completed`: nothing.
//! - `bench_wake` (a benchmark request was queued): done at once; a batch holding any tends
//!   the benchmark worker pool once, after its jobs ([`Manager::handle_batch_with_bench`]). A
//!   wake-up asks for a level-triggered pass, so duplicates and losses are harmless (the tick
//!   tends the pool every minute anyway) and a burst of requests costs one pass per batch.
//!
//! Observe → decide → launch runs under each class's lease (see [`super`]); a class whose lease
//! another decider holds past [`LOCK_WAIT`](crate::ports::lease::LOCK_WAIT) has its jobs handed
//! back (`lock_busy`).
//!
//! Launched or covered, a queued job gets its next re-check, until `recheck_attempts`; after
//! that the tick's rescue scan is the safety net. What follows each decision, and every delay,
//! comes from [`rc_core::schedule`].

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};

use rc_bench::ports::BenchStore;
use rc_config::{Config, RunnerClass};
use rc_core::message::{needs_job_check, JobMessage, JobRef, JobStatus};
use rc_core::observed::{ClassView, ObservedRunner, ObservedTask, Origin};
use rc_core::scale_up::{plan_scale_up, JobDecision, JobId, QueuedJob};
use rc_core::schedule::{
    after_recheck_send, follow_up, next_recheck, Disposition, FollowUp, LaunchResult,
};
use rc_core::warm::{in_window, replenish_on_take};
use rc_core::Timestamp;

use super::bench_pool::PoolPass;
use super::launch::{LaunchFailure, Purpose};
use super::metrics::BatchMetrics;
use super::Manager;
use crate::ports::lease::release_all;
use crate::ports::{AwsError, ClassLeases, GithubApi, GithubError, JobQueue, Ports, QueueMessage};

/// GitHub and AWS calls a batch makes at once (re-check lookups, launches). A burst fills
/// batches of 10, and one launch takes three round trips (JIT config, parameter, RunTask);
/// done one after another, a batch would take seconds while the manager runs one batch at a
/// time. Ten stays well inside GitHub's limit on concurrent requests and ECS's RunTask burst.
const CONCURRENT_CALLS: usize = 10;

/// The reason of jobs handed back because another decider held their class's lease.
const LOCK_BUSY: &str = "lock_busy";

/// The `Class` dimension of decisions about messages that name no class.
const NO_CLASS: &str = "none";

/// The reason of a benchmark pool wake-up.
const BENCH_WAKE: &str = "bench_wake";

/// A queued job waiting for a decision, and the message it came in.
struct Waiting {
    message: usize,
    job: JobRef,
    attempt: u32,
}

/// What became of one waiting job.
struct JobOutcome {
    message: usize,
    reason: &'static str,
    launched: bool,
    disposition: Disposition,
}

/// Why nothing was launched for a message outside [`JobDecision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// The message is not a job message this build reads.
    Malformed,
    /// The message has a format version newer than this build's.
    NewerVersion,
    /// The class was removed from the config since the webhook routed the job.
    UnknownClass,
    /// A re-check found the job running, finished, or not waiting for a runner.
    NoLongerQueued,
    /// A re-check found the job gone (deleted run, or a repository we cannot see).
    JobGone,
}

impl Skip {
    fn reason(self) -> &'static str {
        match self {
            Skip::Malformed => "malformed",
            Skip::NewerVersion => "newer_version",
            Skip::UnknownClass => "unknown_class",
            Skip::NoLongerQueued => "no_longer_queued",
            Skip::JobGone => "job_gone",
        }
    }
}

/// What became of a batch.
#[derive(Debug)]
pub struct BatchOutcome {
    /// One per message, in the batch's order.
    pub dispositions: Vec<Disposition>,
    /// What the batch decided and launched, per class.
    pub metrics: BatchMetrics,
    /// Benchmark pool wake-ups in the batch.
    pub bench_wakes: u32,
    /// The pool pass they asked for, when the driver has the benchmark store
    /// ([`Manager::handle_batch_with_bench`]).
    pub pool: Option<PoolPass>,
}

/// What one batch observed: every runner of the scope and every live task of the cluster.
struct Observed {
    runners: Vec<ObservedRunner>,
    tasks: Vec<ObservedTask>,
}

impl Observed {
    fn class(&self, name: &str) -> ClassView {
        ClassView::observe(name, &self.tasks, &self.runners)
    }
}

/// The batch's messages and what has been decided for them so far.
struct Batch<'m> {
    messages: &'m [QueueMessage],
    dispositions: Vec<Disposition>,
    metrics: BatchMetrics,
}

impl<P: Ports> Manager<P> {
    /// Handles one batch read at `now`: a disposition per message, in order, and the batch's
    /// metrics for the driver to write.
    pub async fn handle_batch(
        &self,
        config: &Config,
        now: Timestamp,
        messages: &[QueueMessage],
    ) -> BatchOutcome {
        let mut batch = Batch {
            messages,
            dispositions: vec![Disposition::Done; messages.len()],
            metrics: BatchMetrics::default(),
        };
        let mut waiting: BTreeMap<&str, Vec<Waiting>> = BTreeMap::new();
        let mut taken: Vec<&RunnerClass> = Vec::new();
        let mut rechecks: Vec<(&RunnerClass, Waiting)> = Vec::new();
        // Jobs that started: class, runner, created, started; the refill times of pickup targets.
        let mut starts: Vec<(&RunnerClass, String, Timestamp, Timestamp)> = Vec::new();
        let mut bench_wakes = 0u32;
        for (index, message) in messages.iter().enumerate() {
            let parsed = match JobMessage::from_json(&message.body) {
                Ok(parsed) => parsed,
                Err(err) if err.is_from_newer_build() => {
                    tracing::warn!(message_id = %message.id, error = %err, reason = Skip::NewerVersion.reason(), "leaving message for a newer build or the DLQ");
                    batch
                        .metrics
                        .decision(NO_CLASS, Skip::NewerVersion.reason());
                    batch.dispositions[index] = Disposition::Retry;
                    continue;
                }
                Err(err) => {
                    tracing::warn!(message_id = %message.id, error = %err, reason = Skip::Malformed.reason(), "dropping message");
                    batch.metrics.decision(NO_CLASS, Skip::Malformed.reason());
                    continue;
                }
            };
            let job = match &parsed {
                JobMessage::BenchWake { job } => {
                    tracing::info!(message_id = %message.id, job = %job, reason = BENCH_WAKE, "benchmark pool wake-up");
                    batch.metrics.decision(NO_CLASS, BENCH_WAKE);
                    bench_wakes = bench_wakes.saturating_add(1);
                    continue;
                }
                JobMessage::Queued { job, .. } | JobMessage::Lifecycle { job, .. } => job,
            };
            let Some(class) = config.class(&job.class) else {
                tracing::warn!(job_id = job.job_id, class = %job.class, reason = Skip::UnknownClass.reason(), "dropping message");
                batch
                    .metrics
                    .decision(&job.class, Skip::UnknownClass.reason());
                continue;
            };
            match parsed {
                JobMessage::Queued { job, attempt }
                    if needs_job_check(now, job.created_at, attempt, &config.manager) =>
                {
                    batch.metrics.recheck(&class.name);
                    rechecks.push((
                        class,
                        Waiting {
                            message: index,
                            job,
                            attempt,
                        },
                    ));
                }
                JobMessage::Queued { job, attempt } => {
                    if attempt == 0 {
                        let created = Timestamp::from_datetime(job.created_at);
                        self.book().arrived(&class.name, JobId(job.job_id), created);
                    }
                    waiting.entry(&class.name).or_default().push(Waiting {
                        message: index,
                        job,
                        attempt,
                    });
                }
                JobMessage::Lifecycle {
                    job,
                    status: JobStatus::InProgress,
                    started_at,
                    runner_name,
                } => {
                    self.book()
                        .started(JobId(job.job_id), runner_name.as_deref(), now);
                    if let Some(started_at) = started_at {
                        let millis = (started_at - job.created_at).num_milliseconds().max(0);
                        tracing::info!(job_id = job.job_id, class = %class.name, runner = runner_name.as_deref(), pickup_ms = millis, "job started");
                        batch.metrics.pickup_latency(&class.name, millis);
                        if let Some(runner) = runner_name {
                            let created = Timestamp::from_datetime(job.created_at);
                            let started = Timestamp::from_datetime(started_at);
                            starts.push((class, runner, created, started));
                        }
                    }
                    if in_window(class, now) && !taken.iter().any(|c| c.name == class.name) {
                        taken.push(class);
                    }
                }
                JobMessage::Lifecycle {
                    job, runner_name, ..
                } => {
                    self.book()
                        .completed(JobId(job.job_id), runner_name.as_deref(), now);
                }
                // Counted above; the pass comes after the batch's jobs.
                JobMessage::BenchWake { .. } => {}
            }
        }
        // The futures are made up front: a stream that maps with a closure over borrowed data
        // is not provably Send for every lifetime (rust-lang/rust#102211), and `serve` spawns this.
        let lookups: Vec<_> = rechecks
            .into_iter()
            .map(|(class, recheck)| self.recheck(class, recheck, now))
            .collect();
        let states: Vec<_> = stream::iter(lookups)
            .buffer_unordered(CONCURRENT_CALLS)
            .collect()
            .await;
        // Re-checked jobs still waiting: evidence against the book's listing if it counts them
        // as covered (see `observe`).
        let mut doubted: Vec<(&str, JobId)> = Vec::new();
        for (class, recheck, state) in states {
            let (job, attempt) = (&recheck.job, recheck.attempt);
            match state {
                Ok(None) => {
                    doubted.push((&class.name, JobId(job.job_id)));
                    waiting.entry(&class.name).or_default().push(recheck);
                }
                Ok(Some(skip)) => {
                    tracing::info!(job_id = job.job_id, class = %class.name, attempt, reason = skip.reason(), "decision");
                    batch.metrics.decision(&class.name, skip.reason());
                }
                Err(err) => {
                    tracing::warn!(job_id = job.job_id, class = %class.name, attempt, error = %err, "re-check: job state unknown");
                    batch.dispositions[recheck.message] = Disposition::Retry;
                }
            }
        }
        // Re-checks resolved concurrently come back in any order; decide in message order.
        for jobs in waiting.values_mut() {
            jobs.sort_by_key(|w| w.message);
        }
        let leases = self
            .lease_classes(&mut waiting, &mut taken, &mut batch)
            .await;
        if !waiting.is_empty() || !taken.is_empty() {
            match self.observe(now, &doubted).await {
                Ok(observed) => {
                    self.measure_refills(&starts, &observed);
                    // Under the leases: this batch's arrivals and refills join the other
                    // processes' before any pool is sized.
                    let leased = waiting
                        .keys()
                        .copied()
                        .chain(taken.iter().map(|c| c.name.as_str()));
                    for class in leased.collect::<BTreeSet<&str>>() {
                        let class = config.class(class).expect("only configured classes lease");
                        self.share_demand(class, now, false).await;
                    }
                    for (class, jobs) in &waiting {
                        let class = config.class(class).expect("only configured classes wait");
                        self.scale_up(config, class, jobs, &observed, &mut batch)
                            .await;
                    }
                    for class in taken {
                        self.replenish(config, class, now, &observed, &mut batch.metrics)
                            .await;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot observe runners and tasks; retrying the batch's jobs");
                    for job in waiting.values().flatten() {
                        batch.dispositions[job.message] = Disposition::Retry;
                    }
                }
            }
        }
        release_all(self.ports.leases(), leases).await;
        BatchOutcome {
            dispositions: batch.dispositions,
            metrics: batch.metrics,
            bench_wakes,
            pool: None,
        }
    }

    /// [`Manager::handle_batch`], then one benchmark pool pass
    /// ([`Manager::tend_bench_pool`]) when the batch carried wake-ups, `benchmarks` is
    /// configured and the driver has the benchmark `store`. The wake-ups are done whatever the
    /// pass does: a pass that fails or finds the pool's lease held leaves the pool to the tick.
    pub async fn handle_batch_with_bench<S: BenchStore>(
        &self,
        config: &Config,
        now: Timestamp,
        messages: &[QueueMessage],
        store: Option<&S>,
    ) -> BatchOutcome {
        let mut outcome = self.handle_batch(config, now, messages).await;
        if outcome.bench_wakes == 0 {
            return outcome;
        }
        match (store, &config.benchmarks) {
            (Some(store), Some(bench)) => {
                let boot_timeout = config.manager.boot_timeout;
                let pass = self.tend_bench_pool(store, bench, boot_timeout, now).await;
                tracing::info!(?pass, wakes = outcome.bench_wakes, "benchmark pool woken");
                outcome.pool = Some(pass);
            }
            _ => tracing::warn!(
                wakes = outcome.bench_wakes,
                "benchmark pool wake-ups without a benchmark store or section; the tick has none either"
            ),
        }
        outcome
    }

    /// Takes the lease of every class the batch may launch for, in name order (two batches
    /// never wait on each other crosswise). A class whose lease stays held, or cannot be read,
    /// is dropped from the batch: its jobs go back to SQS (`lock_busy`), its warm top-up is
    /// left to the tick.
    async fn lease_classes<'c>(
        &self,
        waiting: &mut BTreeMap<&'c str, Vec<Waiting>>,
        taken: &mut Vec<&'c RunnerClass>,
        batch: &mut Batch<'_>,
    ) -> Vec<<P::Leases as ClassLeases>::Lease> {
        let classes: BTreeSet<&str> = waiting
            .keys()
            .copied()
            .chain(taken.iter().map(|c| c.name.as_str()))
            .collect();
        let mut leases = Vec::with_capacity(classes.len());
        for class in classes {
            match self.ports.leases().acquire(class).await {
                Ok(Some(lease)) => {
                    leases.push(lease);
                    continue;
                }
                Ok(None) => tracing::info!(
                    class,
                    reason = LOCK_BUSY,
                    "class lease held elsewhere; handing its jobs back"
                ),
                Err(err) => {
                    tracing::warn!(class, error = %err, "cannot take the class lease; handing its jobs back")
                }
            }
            for job in waiting.remove(class).into_iter().flatten() {
                batch.metrics.decision(class, LOCK_BUSY);
                batch.dispositions[job.message] = Disposition::Retry;
            }
            taken.retain(|c| c.name != class);
        }
        leases
    }

    /// A re-check's job state, with what it is about.
    async fn recheck<'c>(
        &self,
        class: &'c RunnerClass,
        recheck: Waiting,
        now: Timestamp,
    ) -> (&'c RunnerClass, Waiting, Result<Option<Skip>, GithubError>) {
        let state = self.still_queued(&recheck.job, now).await;
        (class, recheck, state)
    }

    /// `None` if the job still waits for a runner, else why nothing is needed. A job this
    /// process saw start needs no call.
    async fn still_queued(
        &self,
        job: &JobRef,
        now: Timestamp,
    ) -> Result<Option<Skip>, GithubError> {
        if self.book().has_started(JobId(job.job_id), now) {
            return Ok(Some(Skip::NoLongerQueued));
        }
        match self.ports.github().job_state(&job.repo, job.job_id).await {
            Ok(state) if state.is_queued() => Ok(None),
            Ok(_) => Ok(Some(Skip::NoLongerQueued)),
            Err(GithubError::NotFound(_)) => Ok(Some(Skip::JobGone)),
            Err(err) => Err(err),
        }
    }

    /// Every runner of the scope, then every live task of the cluster (the reaper's order): a
    /// task started in between shows as booting, its runner not yet listed. The runners come
    /// from the book while its listing is fresh ([`rc_core::book`]).
    ///
    /// A `doubted` job (a re-check found it still queued) that the remembered listing counts as
    /// covered, by an idle runner or its own booting one, says the listing is wrong about a
    /// runner: another job may have taken it unseen. The runners are then listed afresh, after
    /// the tasks, which only makes them newer than the tasks they are joined to. A doubted job
    /// the listing does not cover (its class at `max_runners`, its own task gone) is not left
    /// waiting on a runner that may not exist, whatever the listing's age, so a class held at
    /// its limit does not list on every redelivery of its re-checks.
    async fn observe(
        &self,
        now: Timestamp,
        doubted: &[(&str, JobId)],
    ) -> Result<Observed, ObserveError> {
        let remembered = self.book().runners(now).map(<[_]>::to_vec);
        let listed_now = remembered.is_none();
        let runners = match remembered {
            Some(runners) => runners,
            None => self.list_runners(now).await?,
        };
        let tasks = self.own_live_tasks().await?;
        let mut observed = Observed { runners, tasks };
        let covered = |(class, job): &(&str, JobId)| observed.class(class).state().may_cover(*job);
        if !listed_now && doubted.iter().any(covered) {
            observed.runners = self.list_runners(now).await?;
        }
        Ok(observed)
    }

    /// Decides and acts for the waiting jobs of one class.
    async fn scale_up(
        &self,
        config: &Config,
        class: &RunnerClass,
        jobs: &[Waiting],
        observed: &Observed,
        batch: &mut Batch<'_>,
    ) {
        let view = observed.class(&class.name);
        let state = view.state();
        let queued: Vec<QueuedJob> = jobs
            .iter()
            .map(|w| QueuedJob {
                job_id: JobId(w.job.job_id),
                attempt: w.attempt,
            })
            .collect();
        let plan = plan_scale_up(class.max_runners, &state, &queued);
        let covered = plan
            .iter()
            .filter(|(_, d)| *d == JobDecision::CoveredByIdle)
            .count();
        self.book().claimed(
            view.idle
                .iter()
                .take(covered)
                .map(|r| r.runner_name.as_str()),
        );
        let actions: Vec<_> = jobs
            .iter()
            .zip(plan)
            .map(|(waiting, (_, decision))| {
                self.act(config, class, waiting, decision, batch.messages)
            })
            .collect();
        let outcomes: Vec<JobOutcome> = stream::iter(actions)
            .buffer_unordered(CONCURRENT_CALLS)
            .collect()
            .await;
        for outcome in outcomes {
            if outcome.launched {
                batch.metrics.launched(&class.name, Origin::Job);
            }
            batch.metrics.decision(&class.name, outcome.reason);
            batch.dispositions[outcome.message] = outcome.disposition;
        }
    }

    /// Carries out one job's decision; independent of the batch's other jobs, so a batch's
    /// launches run side by side.
    async fn act(
        &self,
        config: &Config,
        class: &RunnerClass,
        waiting: &Waiting,
        decision: JobDecision,
        messages: &[QueueMessage],
    ) -> JobOutcome {
        let (job, attempt) = (&waiting.job, waiting.attempt);
        let mut reason = decision.reason();
        let mut runner = None;
        let launch = match decision {
            JobDecision::Launch => match self
                .launch(config, class, Purpose::Job { job, attempt })
                .await
            {
                Ok(launched) => {
                    tracing::info!(job_id = job.job_id, class = %class.name, runner = %launched.runner_name, task = %launched.task_arn, attempt, "runner launched");
                    runner = Some(launched.runner_name);
                    LaunchResult::Started
                }
                Err(failure @ LaunchFailure::AlreadyRegistered(_)) => {
                    reason = failure.reason();
                    LaunchResult::AlreadyStarted
                }
                Err(failure) => {
                    reason = failure.reason();
                    tracing::warn!(job_id = job.job_id, class = %class.name, attempt, error = %failure, "launch failed");
                    LaunchResult::Failed
                }
            },
            // Not consulted for the other decisions.
            _ => LaunchResult::Failed,
        };
        let receive_count = messages[waiting.message].receive_count;
        let disposition = match follow_up(decision, launch, receive_count) {
            FollowUp::Recheck => self.schedule_recheck(config, job, attempt).await,
            FollowUp::Settle(disposition) => disposition,
        };
        tracing::info!(job_id = job.job_id, class = %class.name, attempt, runner = runner.as_deref(), reason, "decision");
        JobOutcome {
            message: waiting.message,
            reason,
            launched: runner.is_some(),
            disposition,
        }
    }

    /// Sends the job's next re-check, unless it has had them all. A send that fails fails the
    /// message: its redelivery finds the job covered and sends the re-check again.
    async fn schedule_recheck(&self, config: &Config, job: &JobRef, attempt: u32) -> Disposition {
        let Some((next_attempt, delay)) = next_recheck(&config.manager, attempt) else {
            return Disposition::Done;
        };
        let next = JobMessage::Queued {
            job: job.clone(),
            attempt: next_attempt,
        };
        let sent = self.ports.queue().send(&next, delay).await;
        if let Err(err) = &sent {
            tracing::warn!(job_id = job.job_id, error = %err, "could not schedule the re-check");
        }
        after_recheck_send(sent.is_ok())
    }

    /// Books, for each job that started on a runner launched after it arrived, the time from
    /// that runner's RunTask to the job's start: the refill time pools with a pickup target are
    /// sized with ([`rc_core::demand`]). A wait for a free slot under `max_runners` is left
    /// out, since no idle pool can shorten it; a wait for an instance is in.
    fn measure_refills(
        &self,
        starts: &[(&RunnerClass, String, Timestamp, Timestamp)],
        observed: &Observed,
    ) {
        for (class, runner, created, started) in starts {
            let launched_after = observed.tasks.iter().find(|t| {
                t.runner_name.as_deref() == Some(runner.as_str()) && t.created_at >= *created
            });
            if let Some(task) = launched_after {
                self.book().refilled(
                    &class.name,
                    *started,
                    started.saturating_since(task.created_at),
                );
            }
        }
    }

    /// Tops up `class`'s warm pool after a job took one of its runners. Best effort: the tick
    /// tops up within a minute whatever happens here.
    async fn replenish(
        &self,
        config: &Config,
        class: &RunnerClass,
        now: Timestamp,
        observed: &Observed,
        metrics: &mut BatchMetrics,
    ) {
        let mut pool = observed.class(&class.name).pool();
        // The observation predates this batch's own launches, which count towards max_runners.
        pool.live_tasks += metrics.launched_count(&class.name);
        let target = self.warm_target(class, now);
        for index in 0..replenish_on_take(class, target, now, &pool) {
            match self
                .launch(
                    config,
                    class,
                    Purpose::Warm {
                        decided_at: now,
                        index,
                    },
                )
                .await
            {
                Ok(launched) => {
                    metrics.launched(&class.name, Origin::Warm);
                    tracing::info!(class = %class.name, runner = %launched.runner_name, task = %launched.task_arn, reason = "replenish_on_take", "warm runner launched");
                }
                Err(failure) => {
                    tracing::warn!(class = %class.name, error = %failure, "warm top-up failed; the tick will retry");
                    return;
                }
            }
        }
    }
}

/// Why the batch could not observe runners and tasks.
#[derive(Debug, thiserror::Error)]
enum ObserveError {
    #[error("listing GitHub runners: {0}")]
    Github(#[from] GithubError),
    #[error("listing ECS tasks: {0}")]
    Aws(#[from] AwsError),
}
