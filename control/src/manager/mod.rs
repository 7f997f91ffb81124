//! The manager: turns queued-job messages into ephemeral runners, and once a minute tends warm
//! pools, reaps and recovers lost jobs.
//!
//! The webhook puts a [`JobMessage`](rc_core::message::JobMessage) on the jobs queue for every
//! routed `workflow_job` event; the manager's driver hands them over in batches
//! ([`Manager::handle_batch`]), which decides per runner class with
//! [`rc_core::scale_up::plan_scale_up`] on freshly observed tasks and runners, and for each
//! launch registers a just-in-time runner with GitHub, stores its config in a secret and starts
//! the class's task with a client token. Each handled job gets a delayed re-check, which
//! launches again if the job still waits (another job took its runner).
//!
//! `max_runners` holds across concurrent deciders because each class's observe → decide →
//! launch runs under that class's lease ([`ClassLeases`](crate::ports::ClassLeases)).
//!
//! # Layout
//!
//! - [`batch`]: one batch of messages in, a [`Disposition`] per message out.
//! - [`launch`]: JIT config → secret → RunTask, undone on failure.
//! - [`tick`]: the once-a-minute pass: warm pools, the reaper, lost-webhook recovery.
//! - [`bench_pool`]: the benchmark worker pool, the second kind of pool.
//! - [`metrics`]: the batch's counts, as EMF records for the driver to write.

pub mod batch;
pub mod bench_pool;
pub mod launch;
pub mod metrics;
pub mod tick;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rc_config::RunnerClass;
use rc_core::book::Book;
use rc_core::observed::{ObservedRunner, ObservedTask};
use rc_core::warm::{pickup_target, sized_from_demand};
use rc_core::Timestamp;

use crate::ports::{AwsError, ClusterObserver, DemandStore, GithubApi, GithubError, Ports};

pub use batch::BatchOutcome;
pub use launch::{LaunchFailure, Launched, Purpose};
pub use rc_core::schedule::Disposition;
pub use tick::{Decision, Outcome, Step, TickCounts, TickReport};

/// The controller identity when none is configured; terraform sets the deployment's name, so
/// two deployments sharing a cluster or a GitHub scope never touch each other's runners.
pub const DEFAULT_CONTROLLER_ID: &str = "runner-controller";

/// The manager over one set of ports, built once per process (a Lambda cold start, `serve`, or
/// one simulated run).
pub struct Manager<P: Ports> {
    ports: P,
    /// JIT configs are stored under this path (`{ssm_prefix}/{random}`), the path the task role
    /// may read by exact name and the reaper lists.
    ssm_prefix: String,
    /// Our controller identity: tagged on every task we start, labelled on every runner we
    /// register; tasks and runners of other identities are never touched.
    controller: String,
    /// Whether the tick's redelivery sweep has deliveries to read (see
    /// [`Manager::without_redelivery_sweep`]).
    redelivery_sweep: bool,
    /// What this process remembers of runners and job starts between invocations (see
    /// [`rc_core::book`]); shared with whoever handed it over in [`Manager::with_book`].
    book: Arc<Mutex<Book>>,
}

impl<P: Ports> Manager<P> {
    /// A manager over `ports`, storing JIT configs under `ssm_prefix`, acting as
    /// [`DEFAULT_CONTROLLER_ID`].
    pub fn new(ports: P, ssm_prefix: impl Into<String>) -> Self {
        Manager {
            ports,
            ssm_prefix: ssm_prefix.into(),
            controller: DEFAULT_CONTROLLER_ID.to_owned(),
            redelivery_sweep: true,
            book: Arc::default(),
        }
    }

    /// Remembers in `book` instead of a memory of its own: a driver that builds a manager per
    /// invocation (the simulator) keeps the book a warm process would keep.
    #[must_use]
    pub fn with_book(mut self, book: Arc<Mutex<Book>>) -> Self {
        self.book = book;
        self
    }

    /// Acts as controller `id` instead of [`DEFAULT_CONTROLLER_ID`].
    #[must_use]
    pub fn with_controller_id(mut self, id: impl Into<String>) -> Self {
        self.controller = id.into();
        self
    }

    /// Turns the tick's redelivery sweep off: token credentials without a hook id name no
    /// webhook whose deliveries could be read. The rescue scan still runs.
    #[must_use]
    pub fn without_redelivery_sweep(mut self) -> Self {
        self.redelivery_sweep = false;
        self
    }

    /// The ports.
    pub fn ports(&self) -> &P {
        &self.ports
    }

    /// The book. It is never held across an await, so a panic elsewhere cannot leave it
    /// half-written: a poisoned lock is still a consistent book.
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Merges `class`'s demand with what other processes stored and, unless `dry_run`, stores
    /// the union, when a window open at `now` is sized from demand. The caller holds the
    /// class's lease. Best effort: on a failure the pool is sized from this process's own
    /// demand, as before.
    async fn share_demand(&self, class: &RunnerClass, now: Timestamp, dry_run: bool) {
        if !sized_from_demand(class, now) {
            return;
        }
        let store = self.ports.demand();
        let stored = match store.load(&class.name).await {
            Ok(stored) => stored,
            Err(err) => {
                tracing::warn!(class = %class.name, error = %err, "cannot read the shared demand; sizing from this process's own");
                return;
            }
        };
        let merged = {
            let mut book = self.book();
            book.merge_demand(&class.name, &stored);
            book.shared_demand(&class.name)
        };
        if merged != stored && !dry_run {
            if let Err(err) = store.save(&class.name, &merged).await {
                tracing::warn!(class = %class.name, error = %err, "cannot store the shared demand");
            }
        }
    }

    /// `class`'s warm target at `now`, its pickup target sized from the demand this process
    /// knows (its own, and what [`Manager::share_demand`] brought in).
    fn warm_target(&self, class: &RunnerClass, now: Timestamp) -> u32 {
        let demand = self.book().demand(&class.name, now);
        pickup_target(class, now, &demand)
    }

    /// Deletes a runner's registration. Once it is gone the book forgets it at once, so no
    /// batch counts it as idle until the next listing.
    async fn delete_registration(&self, runner_id: u64) -> Result<(), GithubError> {
        let deleted = self.ports.github().delete_runner(runner_id).await;
        if matches!(deleted, Ok(()) | Err(GithubError::NotFound(_))) {
            self.book().deleted(runner_id);
        }
        deleted
    }

    /// Every live task of the cluster that this controller started. Another deployment's tasks
    /// count towards its limits, not ours (even in a class of the same name), and are never
    /// reaped or trimmed by us: batches, pools and the reaper all observe through here.
    async fn own_live_tasks(&self) -> Result<Vec<ObservedTask>, AwsError> {
        let mut tasks = self.ports.observer().live_tasks().await?;
        tasks.retain(|t| t.is_owned_by(&self.controller));
        Ok(tasks)
    }

    /// Lists the scope's runners and hands the listing to the book, which batches reuse while
    /// it is fresh: the tick's listing and a batch's own alike.
    async fn list_runners(&self, now: Timestamp) -> Result<Vec<ObservedRunner>, GithubError> {
        let runners = self.ports.github().list_runners().await?;
        self.book().listed(now, runners.clone());
        Ok(runners)
    }
}
