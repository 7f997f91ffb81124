//! Starting and stopping runner tasks: ECS `RunTask` and `StopTask` behind [`TaskLauncher`].
//!
//! The manager decides what to start and hands over a [`RunTaskRequest`] in core terms (task
//! definition, capacity provider, [`TaskSize`], environment, tags, client token); this adapter
//! spells it as ECS wants it. A `RunTask` answer that starts no task is an error here, never an
//! empty success: ECS reports placement problems (`RESOURCE:MEMORY`, `AGENT`, ...) in its
//! `failures` list with HTTP 200, and a caller that missed them would drop the job.

use aws_sdk_ecs::types::{
    CapacityProviderStrategyItem, ContainerOverride, KeyValuePair, PlacementStrategy,
    PlacementStrategyType, Tag, TaskOverride,
};
use aws_sdk_ecs::Client;
use rc_core::observed::STARTED_BY;
use rc_core::packing::{places_on_instances, BINPACK_FIELD};

use crate::error::from_sdk;
use crate::AwsError;
pub use rc_control::ports::ecs::{LaunchError, RunTaskRequest, TaskLauncher};

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
        // Packed as the simulator packs them (see `rc_core::packing::BINPACK_FIELD`); Fargate
        // refuses placement strategies.
        let placement = places_on_instances(&request.capacity_provider).then(|| {
            PlacementStrategy::builder()
                .r#type(PlacementStrategyType::Binpack)
                .field(BINPACK_FIELD)
                .build()
        });
        let answer = self
            .client
            .run_task()
            .cluster(&self.cluster)
            .task_definition(&request.task_definition)
            .capacity_provider_strategy(strategy)
            .set_placement_strategy(placement.map(|p| vec![p]))
            .count(1)
            .overrides(overrides)
            .set_tags(Some(tags))
            .started_by(STARTED_BY)
            .client_token(&request.client_token)
            .send()
            .await
            .map_err(|e| from_sdk("ecs:RunTask", e))?;
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
            .map_err(|e| from_sdk("ecs:StopTask", e))?;
        Ok(())
    }
}

/// Task sizes are validated far below `i32::MAX`; saturate rather than wrap if one is not.
fn saturating_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}
