//! The ports: every way the orchestration reaches the world, as small traits in core types.
//!
//! Production implements them over the AWS SDK (`rc-aws`) and octocrab (`rc-github`); the
//! simulator implements them over its virtual services. Nothing else reaches the orchestration,
//! so what the simulator shows is what production does.
//!
//! | Port | Trait | Production | What for |
//! |---|---|---|---|
//! | GitHub | [`GithubApi`] | REST API (App or token) | JIT configs, runners, jobs, deliveries |
//! | Tasks | [`TaskLauncher`], [`ClusterObserver`] | ECS | start, stop, list tasks; providers, instances |
//! | Capacity | [`AutoScaling`] | EC2 Auto Scaling | group sizes, raising desired capacity |
//! | Queue | [`JobQueue`] | SQS standard queue | re-checks (delayed sends) |
//! | Secrets | [`JitSecrets`] | SSM Parameter Store | one JIT config per launch |
//! | Leases | [`ClassLeases`] | DynamoDB, or in process | one decider per class at a time |
//! | Demand | [`DemandStore`] | DynamoDB, or in process | arrivals shared for pickup targets |
//! | Runtime | [`Runtime`] | tokio, the OS RNG | sleeping between retries, secret names |

pub mod capacity;
pub mod demand;
pub mod ecs;
mod error;
pub mod github;
pub mod lease;
pub mod queue;
pub mod runtime;
pub mod secrets;

pub use capacity::{AutoScaling, GroupDescription};
pub use demand::DemandStore;
pub use ecs::{
    ClusterObserver, ContainerInstance, LaunchError, ProviderGroup, RunTaskRequest, TaskLauncher,
};
pub use error::AwsError;
pub use github::{GithubApi, GithubError, JitConfig, JitRequest, JobState};
pub use lease::ClassLeases;
pub use queue::{JobQueue, QueueMessage};
pub use runtime::Runtime;
pub use secrets::JitSecrets;

/// The manager's ports, one type per role: what a [`crate::Manager`] is built over.
///
/// A deployment names its adapters once here instead of in every signature; one type may play
/// several roles (the simulator's world plays all of them).
pub trait Ports: Send + Sync {
    /// GitHub.
    type Github: GithubApi;
    /// Starting and stopping tasks.
    type Launcher: TaskLauncher;
    /// Reading the cluster.
    type Observer: ClusterObserver;
    /// The jobs queue.
    type Queue: JobQueue;
    /// JIT config parameters.
    type Secrets: JitSecrets;
    /// Class leases.
    type Leases: ClassLeases;
    /// Demand shared between manager processes.
    type Demand: DemandStore;
    /// Sleeping and randomness.
    type Runtime: Runtime;

    /// GitHub.
    fn github(&self) -> &Self::Github;
    /// Starting and stopping tasks.
    fn launcher(&self) -> &Self::Launcher;
    /// Reading the cluster.
    fn observer(&self) -> &Self::Observer;
    /// The jobs queue.
    fn queue(&self) -> &Self::Queue;
    /// JIT config parameters.
    fn secrets(&self) -> &Self::Secrets;
    /// Class leases.
    fn leases(&self) -> &Self::Leases;
    /// Demand shared between manager processes.
    fn demand(&self) -> &Self::Demand;
    /// Sleeping and randomness.
    fn runtime(&self) -> &Self::Runtime;
}
