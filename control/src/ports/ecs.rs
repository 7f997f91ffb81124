//! The cluster: what runs in it, and starting and stopping tasks.
//!
//! Tasks are described in core types ([`ObservedTask`]); the production adapter translates ECS's
//! strings once, the simulator's ECS builds the same values.

use std::collections::BTreeSet;
use std::future::Future;

use rc_core::observed::ObservedTask;
use rc_core::TaskSize;

use super::AwsError;

/// Starts and stops tasks in one ECS cluster.
pub trait TaskLauncher: Send + Sync {
    /// Starts one task and returns its ARN.
    ///
    /// With the same `client_token` ECS starts nothing new and answers with the first task, so a
    /// retried request is harmless on real ECS (emulators may not honour the token).
    ///
    /// # Errors
    ///
    /// [`LaunchError::NotPlaced`] when ECS answered but started nothing, else the AWS failure.
    fn run_task(
        &self,
        request: &RunTaskRequest,
    ) -> impl Future<Output = Result<String, LaunchError>> + Send;

    /// Asks ECS to stop a task; stopping one that already stopped succeeds.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry.
    fn stop_task(
        &self,
        task_arn: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// One runner task to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTaskRequest {
    /// Task definition family, `family:revision` or ARN.
    pub task_definition: String,
    /// Capacity provider the task is placed with (the strategy's only entry, weight 1).
    pub capacity_provider: String,
    /// The container the size and environment apply to.
    pub container: String,
    /// Task-level cpu and memory; the container gets the same, being the task's only workload.
    pub size: TaskSize,
    /// Extra environment variables for the container. Task overrides are readable by anyone
    /// with `ecs:DescribeTasks`, so never a secret here.
    pub environment: Vec<(String, String)>,
    /// Task tags, key then value.
    pub tags: Vec<(String, String)>,
    /// Idempotency token, at most 64 ASCII characters from `!` to `~` (ECS API reference).
    pub client_token: String,
}

impl RunTaskRequest {
    /// The value of its tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a task did not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The call itself failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// ECS answered but placed nothing, with its reasons (e.g. `RESOURCE:MEMORY`).
    #[error("ecs:RunTask started no task: {reasons}")]
    NotPlaced {
        /// The `failures` entries as `reason (detail)`, comma-separated.
        reasons: String,
    },
}

impl LaunchError {
    /// Whether the same request may succeed later. Placement failures are: capacity frees up
    /// and instances register.
    pub fn is_retryable(&self) -> bool {
        match self {
            LaunchError::Aws(err) => err.is_retryable(),
            LaunchError::NotPlaced { .. } => true,
        }
    }

    /// A short label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            LaunchError::Aws(err) => err.metric_label(),
            LaunchError::NotPlaced { .. } => "not_placed",
        }
    }
}

/// Reads the state of one ECS cluster.
pub trait ClusterObserver: Send + Sync {
    /// Every task whose desired status is RUNNING, PROVISIONING ones included. Tasks ECS
    /// describes in a shape we cannot read are logged and left out.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry.
    fn live_tasks(&self) -> impl Future<Output = Result<Vec<ObservedTask>, AwsError>> + Send;

    /// The Auto Scaling Group behind each of the named capacity providers. A provider ECS does
    /// not know is absent from the answer; Fargate's providers are present with no group.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry.
    fn provider_groups(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<ProviderGroup>, AwsError>> + Send;

    /// Every container instance registered with the cluster, in any status but INACTIVE.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry.
    fn container_instances(
        &self,
    ) -> impl Future<Output = Result<Vec<ContainerInstance>, AwsError>> + Send;

    /// The repositories (`rc:repo` tag) of the tasks we started for jobs that ECS still lists:
    /// live ones, and stopped ones, which ECS keeps listing for about an hour after they stop.
    /// The tick's rescue scan looks for lost jobs in these repositories.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry.
    fn recent_job_repos(&self) -> impl Future<Output = Result<BTreeSet<String>, AwsError>> + Send;
}

/// A capacity provider and the Auto Scaling Group it scales.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderGroup {
    /// Capacity provider name.
    pub capacity_provider: String,
    /// Auto Scaling Group name; `None` for providers without one (`FARGATE`, `FARGATE_SPOT`).
    pub group: Option<String>,
}

/// One registered container instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInstance {
    /// The EC2 instance behind it.
    pub ec2_instance_id: String,
    /// ECS places tasks on it: status ACTIVE and its agent connected.
    pub active: bool,
    /// What it offered when it registered (its capacity after the agent's reservation).
    pub registered: TaskSize,
    /// What is still free.
    pub remaining: TaskSize,
}

/// A shared observer observes: one value can serve the manager and the autoscaler.
impl<T: ClusterObserver> ClusterObserver for &T {
    fn live_tasks(&self) -> impl Future<Output = Result<Vec<ObservedTask>, AwsError>> + Send {
        (**self).live_tasks()
    }

    fn provider_groups(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<ProviderGroup>, AwsError>> + Send {
        (**self).provider_groups(names)
    }

    fn container_instances(
        &self,
    ) -> impl Future<Output = Result<Vec<ContainerInstance>, AwsError>> + Send {
        (**self).container_instances()
    }

    fn recent_job_repos(&self) -> impl Future<Output = Result<BTreeSet<String>, AwsError>> + Send {
        (**self).recent_job_repos()
    }
}
