//! What ECS shows of a cluster, translated into core types: its live tasks (with our tags
//! decoded), the Auto Scaling Group behind each capacity provider, and the free capacity of each
//! container instance.
//!
//! The cluster autoscaler plans from these, and the manager's reconcile pass reads the same
//! task list. Strings become core types here, once: `lastStatus` becomes [`TaskState`], task
//! `cpu`/`memory` become [`TaskSize`], tags become typed fields, and a container instance's
//! `status` and agent connection become one `active` flag.

use std::collections::BTreeSet;

use aws_sdk_ecs::types::{DesiredStatus, Resource, Task, TaskField};
use aws_sdk_ecs::Client;
use rc_core::observed::{tags, ObservedTask, Origin, TaskState, JIT_PARAM_ENV};
use rc_core::scale_up::JobId;
use rc_core::{CpuUnits, MemMib, TaskSize, Timestamp};

use crate::error::from_sdk;
use crate::AwsError;
pub use rc_control::ports::ecs::{ClusterObserver, ContainerInstance, ProviderGroup};

/// DescribeTasks, DescribeContainerInstances and DescribeCapacityProviders take at most 100
/// names per call (ECS API reference), and list calls page by 100.
const ECS_BATCH: usize = 100;

/// [`ClusterObserver`] over the ECS API.
#[derive(Clone, Debug)]
pub struct EcsClusterObserver {
    client: Client,
    cluster: String,
}

impl EcsClusterObserver {
    /// An observer of `cluster` (name or ARN).
    pub fn new(client: Client, cluster: impl Into<String>) -> Self {
        EcsClusterObserver {
            client,
            cluster: cluster.into(),
        }
    }

    async fn describe_tasks(&self, arns: Vec<String>) -> Result<Vec<ObservedTask>, AwsError> {
        let answer = self
            .client
            .describe_tasks()
            .cluster(&self.cluster)
            .set_tasks(Some(arns))
            .include(TaskField::Tags)
            .send()
            .await
            .map_err(|e| from_sdk("ecs:DescribeTasks", e))?;
        Ok(answer
            .tasks()
            .iter()
            .filter_map(|task| match observed_task(task) {
                Ok(observed) => Some(observed),
                Err(problem) => {
                    tracing::warn!(task = task.task_arn(), %problem, "skipping unreadable task");
                    None
                }
            })
            .collect())
    }

    async fn describe_container_instances(
        &self,
        arns: Vec<String>,
    ) -> Result<Vec<ContainerInstance>, AwsError> {
        let answer = self
            .client
            .describe_container_instances()
            .cluster(&self.cluster)
            .set_container_instances(Some(arns))
            .send()
            .await
            .map_err(|e| from_sdk("ecs:DescribeContainerInstances", e))?;
        Ok(answer
            .container_instances()
            .iter()
            .filter_map(|instance| {
                Some(ContainerInstance {
                    // Only EC2 instances have one, and only they belong to an Auto Scaling Group.
                    ec2_instance_id: instance.ec2_instance_id()?.to_owned(),
                    active: instance.status() == Some("ACTIVE") && instance.agent_connected(),
                    registered: resources(instance.registered_resources()),
                    remaining: resources(instance.remaining_resources()),
                })
            })
            .collect())
    }
}

impl ClusterObserver for EcsClusterObserver {
    async fn live_tasks(&self) -> Result<Vec<ObservedTask>, AwsError> {
        let mut pages = self
            .client
            .list_tasks()
            .cluster(&self.cluster)
            .desired_status(DesiredStatus::Running)
            .max_results(ECS_BATCH as i32)
            .into_paginator()
            .send();
        let mut tasks = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk("ecs:ListTasks", e))?;
            if !page.task_arns().is_empty() {
                tasks.extend(self.describe_tasks(page.task_arns().to_vec()).await?);
            }
        }
        Ok(tasks)
    }

    async fn provider_groups(&self, names: &[String]) -> Result<Vec<ProviderGroup>, AwsError> {
        let mut groups = Vec::with_capacity(names.len());
        for chunk in names.chunks(ECS_BATCH) {
            let answer = self
                .client
                .describe_capacity_providers()
                .set_capacity_providers(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| from_sdk("ecs:DescribeCapacityProviders", e))?;
            groups.extend(answer.capacity_providers().iter().filter_map(|provider| {
                Some(ProviderGroup {
                    capacity_provider: provider.name()?.to_owned(),
                    group: provider
                        .auto_scaling_group_provider()
                        .map(|asg| group_name(asg.auto_scaling_group_arn()).to_owned()),
                })
            }));
        }
        Ok(groups)
    }

    async fn container_instances(&self) -> Result<Vec<ContainerInstance>, AwsError> {
        let mut pages = self
            .client
            .list_container_instances()
            .cluster(&self.cluster)
            .max_results(ECS_BATCH as i32)
            .into_paginator()
            .send();
        let mut instances = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk("ecs:ListContainerInstances", e))?;
            let arns = page.container_instance_arns();
            if !arns.is_empty() {
                instances.extend(self.describe_container_instances(arns.to_vec()).await?);
            }
        }
        Ok(instances)
    }

    async fn recent_job_repos(&self) -> Result<BTreeSet<String>, AwsError> {
        let mut repos = BTreeSet::new();
        // Not filtered by `startedBy`: ECS allows that filter only on its own, and the
        // desired status is needed to see stopped tasks. The tag tells our tasks apart.
        for status in [DesiredStatus::Running, DesiredStatus::Stopped] {
            let mut pages = self
                .client
                .list_tasks()
                .cluster(&self.cluster)
                .desired_status(status)
                .max_results(ECS_BATCH as i32)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| from_sdk("ecs:ListTasks", e))?;
                if page.task_arns().is_empty() {
                    continue;
                }
                let answer = self
                    .client
                    .describe_tasks()
                    .cluster(&self.cluster)
                    .set_tasks(Some(page.task_arns().to_vec()))
                    .include(TaskField::Tags)
                    .send()
                    .await
                    .map_err(|e| from_sdk("ecs:DescribeTasks", e))?;
                repos.extend(answer.tasks().iter().flat_map(|task| {
                    task.tags()
                        .iter()
                        .filter(|t| t.key() == Some(tags::REPO))
                        .filter_map(|t| t.value().map(str::to_owned))
                }));
            }
        }
        Ok(repos)
    }
}

/// Translates one described task; the error says which field could not be read.
///
/// # Errors
///
/// A missing ARN, status or creation time, or an unknown status.
pub fn observed_task(task: &Task) -> Result<ObservedTask, String> {
    let arn = task.task_arn().ok_or("no taskArn")?;
    let status = task.last_status().ok_or("no lastStatus")?;
    let state =
        TaskState::from_ecs(status).ok_or_else(|| format!("unknown lastStatus {status}"))?;
    let created_at = task
        .created_at()
        .and_then(|at| at.to_millis().ok())
        .ok_or("no createdAt")?;
    let tag = |key: &str| {
        task.tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value())
    };
    Ok(ObservedTask {
        arn: arn.to_owned(),
        state,
        // Every task we start sets task-level cpu and memory; one without them (another
        // workload's) counts as taking nothing, which only makes us add fewer instances for it.
        size: TaskSize {
            cpu: task.cpu().and_then(parse_cpu).unwrap_or_default(),
            memory: task.memory().and_then(parse_memory).unwrap_or_default(),
        },
        capacity_provider: task.capacity_provider_name().map(str::to_owned),
        created_at: Timestamp(created_at),
        // Image pulls start once the task is placed, i.e. after PROVISIONING; `startedAt` is
        // later, when the containers run. Either starts the boot clock (see `rc_core::reaper`).
        boot_started_at: task
            .pull_started_at()
            .or(task.started_at())
            .and_then(|at| at.to_millis().ok())
            .map(Timestamp),
        controller: tag(tags::CONTROLLER).map(str::to_owned),
        class: tag(tags::CLASS).map(str::to_owned),
        job_id: tag(tags::JOB_ID).and_then(|v| v.parse().ok()).map(JobId),
        runner_name: tag(tags::RUNNER).map(str::to_owned),
        origin: tag(tags::ORIGIN).and_then(Origin::from_tag),
        headroom: tag(tags::HEADROOM)
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_secs),
        min_step: tag(tags::MIN_STEP)
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0),
        jit_parameter: jit_parameter(task),
    })
}

/// The JIT parameter the task was told to read: [`JIT_PARAM_ENV`] in its container overrides,
/// which DescribeTasks returns as RunTask was given them.
fn jit_parameter(task: &Task) -> Option<String> {
    task.overrides()?
        .container_overrides()
        .iter()
        .flat_map(|container| container.environment())
        .find(|variable| variable.name() == Some(JIT_PARAM_ENV))
        .and_then(|variable| variable.value())
        .map(str::to_owned)
}

/// Task cpu as ECS reports it: CPU units (`"1024"`), or vCPUs (`"1 vCPU"`, `"0.5 vcpu"`) as a
/// task definition may spell it.
fn parse_cpu(value: &str) -> Option<CpuUnits> {
    let value = value.trim();
    match strip_unit(value, "vcpu") {
        Some(vcpus) => scaled(vcpus, 1024).map(CpuUnits),
        None => value.parse().ok().map(CpuUnits),
    }
}

/// Task memory as ECS reports it: MiB (`"2048"`), or GB (`"2 GB"`) as a task definition may
/// spell it, where ECS counts 1 GB as 1024 MiB.
fn parse_memory(value: &str) -> Option<MemMib> {
    let value = value.trim();
    match strip_unit(value, "gb") {
        Some(gb) => scaled(gb, 1024).map(MemMib),
        None => value.parse().ok().map(MemMib),
    }
}

/// The number before a case-insensitive unit suffix, if `value` ends with it.
fn strip_unit<'a>(value: &'a str, unit: &str) -> Option<&'a str> {
    let split = value.len().checked_sub(unit.len())?;
    let (number, suffix) = value.split_at_checked(split)?;
    suffix.eq_ignore_ascii_case(unit).then(|| number.trim())
}

fn scaled(number: &str, factor: u32) -> Option<u32> {
    let value: f64 = number.parse().ok()?;
    (value >= 0.0).then(|| (value * f64::from(factor)).round() as u32)
}

/// CPU and MEMORY out of an ECS resource list; other resources (ports, GPUs) do not bound our
/// runner tasks.
fn resources(list: &[Resource]) -> TaskSize {
    let value = |name: &str| {
        list.iter()
            .find(|r| r.name() == Some(name))
            .map_or(0, |r| u32::try_from(r.integer_value()).unwrap_or(0))
    };
    TaskSize {
        cpu: CpuUnits(value("CPU")),
        memory: MemMib(value("MEMORY")),
    }
}

/// A capacity provider names its group by ARN (`...:autoScalingGroupName/NAME`) or by name;
/// DescribeAutoScalingGroups and SetDesiredCapacity take the name.
fn group_name(arn_or_name: &str) -> &str {
    arn_or_name
        .split_once(":autoScalingGroupName/")
        .map_or(arn_or_name, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::primitives::DateTime;
    use aws_sdk_ecs::types::{ContainerOverride, KeyValuePair, Tag, TaskOverride};

    #[test]
    fn parses_cpu_and_memory_spellings() {
        assert_eq!(parse_cpu("1024"), Some(CpuUnits(1024)));
        assert_eq!(parse_cpu("1 vCPU"), Some(CpuUnits(1024)));
        assert_eq!(parse_cpu(".25 vcpu"), Some(CpuUnits(256)));
        assert_eq!(parse_cpu("lots"), None);
        assert_eq!(parse_memory("3072"), Some(MemMib(3072)));
        assert_eq!(parse_memory("2GB"), Some(MemMib(2048)));
        assert_eq!(parse_memory("0.5 GB"), Some(MemMib(512)));
        assert_eq!(parse_memory("-1 GB"), None);
    }

    #[test]
    fn group_name_from_arn_or_name() {
        let arn = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:\
                   0b5f2a1e-9a33-4b5e-a1d1-1d0d0c1f2e3a:autoScalingGroupName/runners-large";
        assert_eq!(group_name(arn), "runners-large");
        assert_eq!(group_name("runners-large"), "runners-large");
    }

    fn provisioning_task(status: &str) -> Task {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        Task::builder()
            .task_arn("arn:aws:ecs:eu-west-1:123456789012:task/runners/abc")
            .last_status(status)
            .cpu("2048")
            .memory("4096")
            .capacity_provider_name("large")
            .created_at(DateTime::from_millis(1_700_000_000_123))
            .tags(tag(tags::CLASS, "large"))
            .tags(tag(tags::JOB_ID, "42"))
            .tags(tag(tags::ORIGIN, "job"))
            .tags(tag(tags::MIN_STEP, "3"))
            .overrides(
                TaskOverride::builder()
                    .container_overrides(
                        ContainerOverride::builder()
                            .name("runner")
                            .environment(KeyValuePair::builder().name("OTHER").value("x").build())
                            .environment(
                                KeyValuePair::builder()
                                    .name(JIT_PARAM_ENV)
                                    .value("/rc/jit/0123abcd")
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .tags(tag(tags::CONTROLLER, "blue"))
            .build()
    }

    #[test]
    fn decodes_our_tags() {
        let observed = observed_task(&provisioning_task("PROVISIONING")).expect("a complete task");
        assert_eq!(observed.state, TaskState::Provisioning);
        assert_eq!(observed.size.cpu, CpuUnits(2048));
        assert_eq!(observed.created_at, Timestamp(1_700_000_000_123));
        assert_eq!(observed.job_id, Some(JobId(42)));
        assert_eq!(observed.origin, Some(Origin::Job));
        assert_eq!(observed.min_step, Some(3));
        assert_eq!(observed.runner_name, None);
        assert_eq!(observed.jit_parameter.as_deref(), Some("/rc/jit/0123abcd"));
        assert_eq!(observed.controller.as_deref(), Some("blue"));
        assert_eq!(observed.boot_started_at, None, "still waiting for capacity");
        assert!(observed_task(&provisioning_task("HIBERNATING")).is_err());
        let mut pulling = provisioning_task("PENDING");
        pulling.pull_started_at = Some(DateTime::from_millis(1_700_000_060_000));
        let observed = observed_task(&pulling).expect("a complete task");
        assert_eq!(observed.boot_started_at, Some(Timestamp(1_700_000_060_000)));
    }
}
