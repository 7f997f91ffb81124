//! The manager Lambda and `serve`'s manager loops: the orchestration's [`rc_control::Manager`]
//! wired to AWS and GitHub.
//!
//! What the manager decides and does (batches, launches, re-checks, the tick) is written once in
//! `rc-control` over ports, and the simulator runs that same code. This crate only supplies the
//! production ports ([`AwsPorts`]), reads the environment ([`wiring`]), turns SQS events and
//! receives into batches and carries out their dispositions ([`queue`]), runs the tick on the
//! wall clock ([`tick_loop`]), and writes metrics.
//!
//! # Layout
//!
//! - [`bench`]: the benchmark sweeper and store, for the tick's benchmark steps.
//! - [`queue`]: SQS plumbing shared by the Lambda and `serve`.
//! - [`tick_loop`]: `serve`'s stand-in for the tick's EventBridge schedule.
//! - [`wiring`]: building a [`Manager`] from the environment.

pub mod bench;
pub mod queue;
pub mod tick_loop;
pub mod wiring;

use rc_aws::ssm::Parameters;
use rc_aws::{ClassLocks, EcsClusterObserver, EcsTaskLauncher, SqsJobQueue, TokioRuntime};
use rc_control::ports::Ports;
use rc_github::client::GithubClient;

pub use queue::run_queue_loop;
pub use rc_control::manager::{
    tick, BatchOutcome, Disposition, LaunchFailure, Launched, Purpose, TickReport,
    DEFAULT_CONTROLLER_ID,
};
pub use rc_control::ports::QueueMessage;
pub use tick_loop::{run_tick_loop, wall_clock};
pub use wiring::{ManagerEnv, WiringError};

/// The manager as deployed.
pub type Manager = rc_control::Manager<AwsPorts>;

/// The production ports: GitHub's REST API, ECS, SQS, SSM, the class leases, tokio.
pub struct AwsPorts {
    /// GitHub, as an App or with a token.
    pub github: GithubClient,
    /// RunTask and StopTask.
    pub launcher: EcsTaskLauncher,
    /// The cluster's tasks.
    pub observer: EcsClusterObserver,
    /// The jobs queue (re-checks).
    pub queue: SqsJobQueue,
    /// JIT config parameters.
    pub secrets: Parameters,
    /// Class leases, and the demand shared under them: in DynamoDB when `RC_LOCK_TABLE` is set
    /// (Lambda), else in process (`serve`, where the queue loop and the tick share a manager).
    pub leases: ClassLocks,
}

impl Ports for AwsPorts {
    type Github = GithubClient;
    type Launcher = EcsTaskLauncher;
    type Observer = EcsClusterObserver;
    type Queue = SqsJobQueue;
    type Secrets = Parameters;
    type Leases = ClassLocks;
    type Demand = ClassLocks;
    type Runtime = TokioRuntime;

    fn github(&self) -> &GithubClient {
        &self.github
    }
    fn launcher(&self) -> &EcsTaskLauncher {
        &self.launcher
    }
    fn observer(&self) -> &EcsClusterObserver {
        &self.observer
    }
    fn queue(&self) -> &SqsJobQueue {
        &self.queue
    }
    fn secrets(&self) -> &Parameters {
        &self.secrets
    }
    fn leases(&self) -> &ClassLocks {
        &self.leases
    }
    fn demand(&self) -> &ClassLocks {
        &self.leases
    }
    fn runtime(&self) -> &TokioRuntime {
        &TokioRuntime
    }
}
