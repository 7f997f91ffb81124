//! Auto Scaling Groups as the cluster autoscaler sees them: desired and max size, which
//! instances are alive, and the one action it takes, raising desired capacity.
//!
//! Lifecycle states become two lists here (pending and in service); instances in any other
//! state (standby, terminating, warm pool) neither count towards desired capacity nor take
//! tasks, so the planner never sees them.

use aws_sdk_autoscaling::types::{AutoScalingGroup, LifecycleState};
use aws_sdk_autoscaling::Client;
use rc_core::{CpuUnits, MemMib, TaskSize};

use crate::error::from_sdk;
use crate::AwsError;
pub use rc_control::ports::capacity::{
    AutoScaling, GroupDescription, INSTANCE_CPU_TAG, INSTANCE_MEMORY_TAG,
};

/// DescribeAutoScalingGroups takes at most 100 names per call with `MaxRecords` 100 (Auto
/// Scaling API reference).
const NAMES_PER_CALL: usize = 100;

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
                .map_err(|e| from_sdk("autoscaling:DescribeAutoScalingGroups", e))?;
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
            .map_err(|e| from_sdk("autoscaling:SetDesiredCapacity", e))?;
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
