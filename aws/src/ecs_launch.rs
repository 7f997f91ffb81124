//! Starting and stopping runner tasks: ECS `RunTask` and `StopTask` behind [`TaskLauncher`].
//!
//! The manager decides what to start and hands over a [`RunTaskRequest`] in core terms (task
//! definition, capacity provider, [`TaskSize`], environment, tags, client token); this adapter
//! spells it as ECS wants it. A `RunTask` answer that starts no task is an error here, never an
//! empty success: ECS reports placement problems (`RESOURCE:MEMORY`, `AGENT`, ...) in its
//! `failures` list with HTTP 200, and a caller that missed them would drop the job.

use std::future::Future;

use aws_sdk_ecs::types::{
    CapacityProviderStrategyItem, ContainerOverride, KeyValuePair, Tag, TaskOverride,
};
use aws_sdk_ecs::Client;
use rc_core::observed::STARTED_BY;
use rc_core::TaskSize;

use crate::AwsError;

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

/// [`TaskLauncher`] over the ECS API.
#[derive(Clone, Debug)]
pub struct EcsTaskLauncher {
    client: Client,
    cluster: String,
}

impl EcsTaskLauncher {
    /// A launcher into `cluster` (name or ARN).
    pub fn new(client: Client, cluster: impl Into<String>) -> Self {
        EcsTaskLauncher {
            client,
            cluster: cluster.into(),
        }
    }
}

impl TaskLauncher for EcsTaskLauncher {
    async fn run_task(&self, request: &RunTaskRequest) -> Result<String, LaunchError> {
        let strategy = CapacityProviderStrategyItem::builder()
            .capacity_provider(&request.capacity_provider)
            .weight(1)
            .build()
            .expect("the capacity provider, the strategy's only required field, is set");
        let environment = request
            .environment
            .iter()
            .map(|(name, value)| KeyValuePair::builder().name(name).value(value).build())
            .collect();
        // ECS takes container cpu and memory as integers and task-level ones as strings.
        let container = ContainerOverride::builder()
            .name(&request.container)
            .cpu(saturating_i32(request.size.cpu.0))
            .memory(saturating_i32(request.size.memory.0))
            .set_environment(Some(environment))
            .build();
        let overrides = TaskOverride::builder()
            .cpu(request.size.cpu.0.to_string())
            .memory(request.size.memory.0.to_string())
            .container_overrides(container)
            .build();
        let tags = request
            .tags
            .iter()
            .map(|(key, value)| Tag::builder().key(key).value(value).build())
            .collect();
        let answer = self
            .client
            .run_task()
            .cluster(&self.cluster)
            .task_definition(&request.task_definition)
            .capacity_provider_strategy(strategy)
            .count(1)
            .overrides(overrides)
            .set_tags(Some(tags))
            .started_by(STARTED_BY)
            .client_token(&request.client_token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:RunTask", e))?;
        if let Some(arn) = answer.tasks().first().and_then(|task| task.task_arn()) {
            return Ok(arn.to_owned());
        }
        let reasons = answer
            .failures()
            .iter()
            .map(|failure| {
                let reason = failure.reason().unwrap_or("unknown");
                match failure.detail() {
                    Some(detail) => format!("{reason} ({detail})"),
                    None => reason.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        Err(LaunchError::NotPlaced {
            reasons: if reasons.is_empty() {
                "no failures reported".to_owned()
            } else {
                reasons
            },
        })
    }

    async fn stop_task(&self, task_arn: &str, reason: &str) -> Result<(), AwsError> {
        self.client
            .stop_task()
            .cluster(&self.cluster)
            .task(task_arn)
            .reason(reason)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ecs:StopTask", e))?;
        Ok(())
    }
}

/// Task sizes are validated far below `i32::MAX`; saturate rather than wrap if one is not.
fn saturating_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
