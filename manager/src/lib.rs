//! The manager: turns queued-job messages into ephemeral ECS runners.
//!
//! The webhook puts a [`JobMessage`](rc_core::message::JobMessage) on the jobs queue for every
//! routed `workflow_job` event; the manager reads them in batches, decides per runner class with
//! [`rc_core::scale_up::plan_scale_up`] on freshly observed tasks and runners, and for each
//! launch registers a just-in-time runner with GitHub, stores its config in an SSM SecureString
//! and starts the class's task with a client token. Each handled job gets a delayed re-check,
//! which launches again if the job still waits (another job took its runner).
//!
//! `max_runners` holds across concurrent deciders because each class's observe → decide →
//! launch runs under that class's lease ([`rc_aws::lock`]): in DynamoDB when `RC_LOCK_TABLE` is
//! set (Lambda), else in process (`serve`, where the queue loop and the tick share a manager).
//!
//! The same [`Manager`] runs in the Lambda (`main.rs`, one SQS batch per invocation) and in
//! `runner-controller serve` ([`run_queue_loop`], an SQS long-poll loop).
//!
//! # Layout
//!
//! - [`batch`]: one batch of messages in, a [`Disposition`] per message out.
//! - [`launch`]: JIT config → SSM parameter → RunTask, undone on failure.
//! - [`naming`]: runner names, client tokens, parameter names.
//! - [`queue`]: SQS plumbing shared by the Lambda and `serve`.
//! - [`tick`]: the once-a-minute pass: warm pools, the reaper, lost-webhook recovery.
//! - [`wiring`]: building a [`Manager`] from the environment.
//! - `metrics`: the batch's EMF metrics.

pub mod batch;
pub mod launch;
mod metrics;
pub mod naming;
pub mod queue;
pub mod tick;
pub mod wiring;

use rc_aws::ssm::Parameters;
use rc_aws::{
    AwsError, ClassLocks, ClusterObserver, EcsClusterObserver, EcsTaskLauncher, SqsJobQueue,
};
use rc_core::observed::ObservedTask;

pub use batch::Disposition;
pub use launch::{LaunchFailure, Launched, Purpose};
pub use queue::run_queue_loop;
pub use rc_aws::QueueMessage;
pub use tick::{run_tick_loop, TickReport};
pub use wiring::{ManagerEnv, WiringError};

/// The controller identity when `RC_CONTROLLER_ID` is unset; terraform sets the deployment's
/// name, so two deployments sharing a cluster or a GitHub scope never touch each other's runners.
pub const DEFAULT_CONTROLLER_ID: &str = "runner-controller";

/// Everything the manager talks to, built once per process (a Lambda cold start, or `serve`).
///
/// Generic over the GitHub client and the AWS capabilities so that tests and the simulator can
/// stand in for any of them; production uses the defaults.
pub struct Manager<G, L = EcsTaskLauncher, O = EcsClusterObserver, Q = SqsJobQueue> {
    github: G,
    launcher: L,
    observer: O,
    queue: Q,
    parameters: Parameters,
    ssm_prefix: String,
    /// Per-class leases held around observe → decide → launch (batches and the tick's pools).
    locks: ClassLocks,
    /// Our controller identity (`RC_CONTROLLER_ID`): tagged on every task we start, labelled on
    /// every runner we register; tasks and runners of other identities are never touched.
    controller: String,
    /// Whether the tick's redelivery sweep has deliveries to read (see
    /// [`Manager::without_redelivery_sweep`]).
    redelivery_sweep: bool,
}

impl<G, L, O, Q> Manager<G, L, O, Q> {
    /// A manager over these clients. JIT configs are stored under `ssm_prefix`
    /// (`{ssm_prefix}/{random}`, see [`naming::parameter_name`]), the path the task role may
    /// read by exact name and the reaper lists.
    pub fn new(
        github: G,
        launcher: L,
        observer: O,
        queue: Q,
        parameters: Parameters,
        ssm_prefix: impl Into<String>,
    ) -> Self {
        Manager {
            github,
            launcher,
            observer,
            queue,
            parameters,
            ssm_prefix: ssm_prefix.into(),
            locks: ClassLocks::in_process(),
            controller: DEFAULT_CONTROLLER_ID.to_owned(),
            redelivery_sweep: true,
        }
    }

    /// Acts as controller `id` instead of [`DEFAULT_CONTROLLER_ID`].
    #[must_use]
    pub fn with_controller_id(mut self, id: impl Into<String>) -> Self {
        self.controller = id.into();
        self
    }

    /// Takes class leases from `locks` instead of from this manager alone: a DynamoDB table
    /// shared by every invocation. Without it, only the users of this one manager exclude
    /// each other (`serve`'s queue loop and tick).
    #[must_use]
    pub fn with_class_locks(mut self, locks: ClassLocks) -> Self {
        self.locks = locks;
        self
    }

    /// Turns the tick's redelivery sweep off: token credentials without `RC_GITHUB_HOOK_ID`
    /// name no webhook whose deliveries could be read. The rescue scan still runs.
    #[must_use]
    pub fn without_redelivery_sweep(mut self) -> Self {
        self.redelivery_sweep = false;
        self
    }

    /// The GitHub client.
    pub fn github(&self) -> &G {
        &self.github
    }

    /// The task launcher, for the tick's stop actions.
    pub fn launcher(&self) -> &L {
        &self.launcher
    }
}

impl<G, L, O: ClusterObserver, Q> Manager<G, L, O, Q> {
    /// Every live task of the cluster that this controller started. Another deployment's tasks
    /// count towards its limits, not ours (even in a class of the same name), and are never
    /// reaped or trimmed by us: batches, pools and the reaper all observe through here.
    async fn own_live_tasks(&self) -> Result<Vec<ObservedTask>, AwsError> {
        let mut tasks = self.observer.live_tasks().await?;
        tasks.retain(|t| t.is_owned_by(&self.controller));
        Ok(tasks)
    }
}
