//! The ports: what the benchmark flows need from the world, in core types.
//!
//! Each trait is small and each method says what it guarantees, because the flows' correctness
//! rests on those guarantees (the conditional writes above all). Production implements them over
//! DynamoDB, SQS FIFO and HTTP (`rc-aws`); [`crate::memory`] implements them in memory.

use std::future::Future;
use std::time::Duration;

use rc_core::bench::board::TeamRow;
use rc_core::bench::outcome::RunReport;
use rc_core::bench::{BenchJob, BenchJobId, BenchMessage};
use rc_core::Timestamp;

/// A port call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {detail}")]
pub struct PortError {
    /// What was attempted, e.g. `store:create`.
    pub operation: &'static str,
    /// What went wrong.
    pub detail: String,
    /// Whether the same call may succeed later (throttling, a timeout, a 5xx).
    pub retryable: bool,
}

impl PortError {
    /// A failure worth retrying.
    pub fn transient(operation: &'static str, detail: impl Into<String>) -> Self {
        PortError {
            operation,
            detail: detail.into(),
            retryable: true,
        }
    }

    /// A failure retrying will not fix.
    pub fn rejected(operation: &'static str, detail: impl Into<String>) -> Self {
        PortError {
            operation,
            detail: detail.into(),
            retryable: false,
        }
    }
}

/// The answer to [`BenchStore::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The job is recorded and holds its team's lock.
    Recorded,
    /// The team's lock is held by this job (`None`: it was freed between the attempt and the
    /// look-up); nothing was recorded.
    Busy(Option<BenchJobId>),
}

/// Where jobs and the one-active-job-per-team locks live.
pub trait BenchStore: Send + Sync {
    /// Records a pending `job` and takes its team's lock, both or neither: of two simultaneous
    /// calls for one team, at most one answers [`Created::Recorded`].
    fn create(&self, job: &BenchJob) -> impl Future<Output = Result<Created, PortError>> + Send;

    /// Undoes [`BenchStore::create`]: deletes the job and frees the lock if it still names it.
    fn discard(&self, job: &BenchJob) -> impl Future<Output = Result<(), PortError>> + Send;

    /// The job with this id.
    fn get(
        &self,
        id: &BenchJobId,
    ) -> impl Future<Output = Result<Option<BenchJob>, PortError>> + Send;

    /// Up to `limit` jobs older than `before` (all, if `None`), newest first, and the cursor of
    /// the next page.
    fn list(
        &self,
        before: Option<&BenchJobId>,
        limit: usize,
    ) -> impl Future<Output = Result<(Vec<BenchJob>, Option<BenchJobId>), PortError>> + Send;

    /// Each named team's lock holder and latest finished job; teams without either may be
    /// left out. The jobs in [`TeamRow::active`] are read along, absent when missing.
    fn teams(
        &self,
        teams: &[String],
    ) -> impl Future<Output = Result<Vec<TeamLock>, PortError>> + Send;

    /// Writes `job` (now `running`) if the stored job is still `pending`; `false` otherwise.
    fn start(&self, job: &BenchJob) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Sets a running job's heartbeat to `at`; `false` when it is no longer running.
    fn heartbeat(
        &self,
        id: &BenchJobId,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Writes `job` (now terminal) if the stored job still has status `from`, then frees the
    /// team's lock if it names this job and records the job as the team's latest result.
    /// `false` (nothing written) when the stored job is no longer `from`.
    fn finish(
        &self,
        job: &BenchJob,
        from: rc_core::bench::JobStatus,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;

    /// Frees `team`'s lock if it still names `id`.
    fn unlock(
        &self,
        team: &str,
        id: &BenchJobId,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// One team's state in the store: its lock and its latest result.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamLock {
    /// The team.
    pub team: String,
    /// The job id its lock names, if held.
    pub holder: Option<BenchJobId>,
    /// The row: the holder job (if it still exists) and the latest result.
    pub row: TeamRow,
}

/// One received queue message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The message body.
    pub body: String,
    /// The handle that extends or deletes this receipt.
    pub receipt: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

/// The FIFO queue of benchmark jobs: one message group per team, first come first served.
pub trait BenchQueue: Send + Sync {
    /// Queues `message` in its team's group, deduplicated by job id.
    fn send(&self, message: &BenchMessage) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Waits up to `wait` for one message, hidden from others for `visibility`.
    fn receive(
        &self,
        wait: Duration,
        visibility: Duration,
    ) -> impl Future<Output = Result<Option<Delivery>, PortError>> + Send;

    /// Keeps a received message hidden for `visibility` from now.
    fn extend(
        &self,
        receipt: &str,
        visibility: Duration,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Deletes a received message for good.
    fn delete(&self, receipt: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The manager's wake-up: a job waits, so the benchmark worker pool is tended now rather than
/// at the next tick. Best effort by design: a lost wake-up only waits for the tick.
pub trait PoolWaker: Send + Sync {
    /// Asks the manager for a pool pass, on behalf of `job` (named for logs only).
    fn wake(&self, job: &BenchJobId) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// No wake-ups: the pool waits for the tick (a driver that tends the pool itself).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWake;

impl PoolWaker for NoWake {
    async fn wake(&self, _job: &BenchJobId) -> Result<(), PortError> {
        Ok(())
    }
}

/// The contest portal's result callback.
pub trait Portal: Send + Sync {
    /// POSTs `body` with `signature` as `X-RC-Signature-256`; `Ok` only on a 2xx.
    fn post(
        &self,
        body: &[u8],
        signature: &str,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// Time, read at the edges and passed into the core.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// What runs one benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// The argv, `{target}` already replaced.
    pub argv: Vec<String>,
    /// Extra environment: `RC_BENCH_TARGET`, `RC_BENCH_JOB_ID`, `RC_BENCH_TEAM`.
    pub env: Vec<(String, String)>,
    /// SIGTERM at this long after the start.
    pub deadline: Duration,
    /// SIGKILL this long after the SIGTERM.
    pub kill_grace: Duration,
}

/// Runs a benchmarker to its end; never outlives `deadline + kill_grace` by more than the time
/// to reap it.
pub trait Benchmarker: Send + Sync {
    /// Runs `spec` and reports how it ended.
    fn run(&self, spec: &RunSpec) -> impl Future<Output = RunReport> + Send;
}
