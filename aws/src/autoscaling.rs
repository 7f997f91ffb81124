//! Auto Scaling Groups as the cluster autoscaler sees them: desired and max size, which
//! instances are alive, and the one action it takes, raising desired capacity.
//!
//! Lifecycle states become two lists here (pending and in service); instances in any other
//! state (standby, terminating, warm pool) neither count towards desired capacity nor take
//! tasks, so the planner never sees them.

use std::future::Future;

use aws_sdk_autoscaling::types::{AutoScalingGroup, LifecycleState};
use aws_sdk_autoscaling::Client;
use rc_core::{CpuUnits, MemMib, TaskSize};

use crate::AwsError;

/// Tag on an Auto Scaling Group giving the CPU units one instance registers with ECS.
///
/// Read only while no instance of the group is registered (a group scaled to zero): then
/// nothing else tells the instance type's capacity without the EC2 API. The Terraform module
/// sets it from the instance type; a value a little low only adds an instance too many.
pub const INSTANCE_CPU_TAG: &str = "rc:instance-cpu";

/// Tag on an Auto Scaling Group giving the memory (MiB) one instance registers with ECS, after
/// the agent's reservation; see [`INSTANCE_CPU_TAG`].
pub const INSTANCE_MEMORY_TAG: &str = "rc:instance-memory";

/// DescribeAutoScalingGroups takes at most 100 names per call with `MaxRecords` 100 (Auto
/// Scaling API reference).
const NAMES_PER_CALL: usize = 100;

/// Reads and resizes Auto Scaling Groups.
pub trait AutoScaling: Send + Sync {
    /// The named groups; a name with no group is absent from the answer.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry.
    fn describe_groups(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<GroupDescription>, AwsError>> + Send;

    /// Sets the group's desired capacity now, ignoring any cooldown: the caller decided from
    /// tasks already waiting, and a cooldown would only make them wait longer.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry; AWS rejects a value above the group's max.
    fn set_desired_capacity(
        &self,
        group: &str,
        desired: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// One Auto Scaling Group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group name.
    pub name: String,
    /// Desired capacity.
    pub desired: u32,
    /// Maximum size.
    pub max: u32,
    /// Instance ids in a pending lifecycle state.
    pub pending: Vec<String>,
    /// Instance ids in service.
    pub in_service: Vec<String>,
    /// Per-instance capacity from [`INSTANCE_CPU_TAG`] and [`INSTANCE_MEMORY_TAG`], when both
    /// are set and numeric.
    pub tagged_capacity: Option<TaskSize>,
}

/// [`AutoScaling`] over the Auto Scaling API.
#[derive(Clone, Debug)]
pub struct AsgAutoScaling {
    client: Client,
}

impl AsgAutoScaling {
    /// An adapter over `client`.
    pub fn new(client: Client) -> Self {
        AsgAutoScaling { client }
    }
}

impl AutoScaling for AsgAutoScaling {
    async fn describe_groups(&self, names: &[String]) -> Result<Vec<GroupDescription>, AwsError> {
        let mut groups = Vec::with_capacity(names.len());
        for chunk in names.chunks(NAMES_PER_CALL) {
            let answer = self
                .client
                .describe_auto_scaling_groups()
                .set_auto_scaling_group_names(Some(chunk.to_vec()))
                .max_records(NAMES_PER_CALL as i32)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("autoscaling:DescribeAutoScalingGroups", e))?;
            for group in answer.auto_scaling_groups() {
                groups.push(describe(group).ok_or_else(|| AwsError::Unexpected {
                    operation: "autoscaling:DescribeAutoScalingGroups",
                    detail: "a group without name, desired capacity or max size".into(),
                })?);
            }
        }
        Ok(groups)
    }

    async fn set_desired_capacity(&self, group: &str, desired: u32) -> Result<(), AwsError> {
        self.client
            .set_desired_capacity()
            .auto_scaling_group_name(group)
            .desired_capacity(i32::try_from(desired).unwrap_or(i32::MAX))
            .honor_cooldown(false)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("autoscaling:SetDesiredCapacity", e))?;
        Ok(())
    }
}

fn describe(group: &AutoScalingGroup) -> Option<GroupDescription> {
    let mut pending = Vec::new();
    let mut in_service = Vec::new();
    for instance in group.instances() {
        let (Some(id), Some(state)) = (instance.instance_id(), instance.lifecycle_state()) else {
            continue;
        };
        match state {
            LifecycleState::Pending
            | LifecycleState::PendingWait
            | LifecycleState::PendingProceed => pending.push(id.to_owned()),
            LifecycleState::InService => in_service.push(id.to_owned()),
            _ => {}
        }
    }
    let tag = |key: &str| {
        group
            .tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value()?.parse().ok())
    };
    let tagged_capacity =
        tag(INSTANCE_CPU_TAG)
            .zip(tag(INSTANCE_MEMORY_TAG))
            .map(|(cpu, memory)| TaskSize {
                cpu: CpuUnits(cpu),
                memory: MemMib(memory),
            });
    Some(GroupDescription {
        name: group.auto_scaling_group_name()?.to_owned(),
        desired: u32::try_from(group.desired_capacity()?).ok()?,
        max: u32::try_from(group.max_size()?).ok()?,
        pending,
        in_service,
        tagged_capacity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_autoscaling::types::{Instance, TagDescription};

    fn instance(id: &str, state: LifecycleState) -> Instance {
        Instance::builder()
            .instance_id(id)
            .lifecycle_state(state)
            .availability_zone("eu-west-1a")
            .health_status("Healthy")
            .protected_from_scale_in(true)
            .build()
    }

    fn tag(key: &str, value: &str) -> TagDescription {
        TagDescription::builder().key(key).value(value).build()
    }

    #[test]
    fn sorts_instances_by_lifecycle_and_reads_capacity_tags() {
        let group = AutoScalingGroup::builder()
            .auto_scaling_group_name("runners-large")
            .desired_capacity(4)
            .max_size(10)
            .instances(instance("i-1", LifecycleState::InService))
            .instances(instance("i-2", LifecycleState::PendingWait))
            .instances(instance("i-3", LifecycleState::Terminating))
            .instances(instance("i-4", LifecycleState::Standby))
            .tags(tag(INSTANCE_CPU_TAG, "2048"))
            .tags(tag(INSTANCE_MEMORY_TAG, "7680"))
            .build();
        let described = describe(&group).expect("a complete group");
        assert_eq!(described.in_service, ["i-1"]);
        assert_eq!(described.pending, ["i-2"]);
        assert_eq!(
            described.tagged_capacity,
            Some(TaskSize {
                cpu: CpuUnits(2048),
                memory: MemMib(7680)
            })
        );
    }
}
