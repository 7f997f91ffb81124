//! One observation for the planner: the PROVISIONING tasks and the headroom to keep
//! ([`headroom_tasks`]), and for each capacity provider they name, its Auto Scaling Group joined
//! with the container instances registered from it.
//!
//! The join goes by EC2 instance id: an instance the group counts (pending or in service) with
//! no container instance yet is still booting and will register with its whole capacity; one
//! that registered offers its `remainingResources` if ECS may place tasks on it. A group's
//! instance capacity is the smallest registered capacity among its instances, per resource
//! (without the EC2 API this is the only measure of the instance type, and the smallest errs
//! towards an instance too many); with no instance registered it falls back to the group's
//! capacity tags ([`INSTANCE_CPU_TAG`](crate::ports::capacity::INSTANCE_CPU_TAG)).

use std::collections::BTreeSet;

use crate::ports::{AutoScaling, AwsError, ClusterObserver, ContainerInstance, GroupDescription};
use rc_core::observed::{ObservedTask, TaskState};
use rc_core::packing::{headroom_tasks, GroupObservation, WaitingTask};
use rc_core::{TaskSize, Timestamp};

/// What the planner needs, as observed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// PROVISIONING tasks that wait on an Auto Scaling Group (Fargate's are left out: Fargate
    /// finds its own capacity).
    pub waiting: Vec<ObservedTask>,
    /// Room to keep free on EC2 capacity providers, as stand-in tasks.
    pub headroom: Vec<WaitingTask>,
    /// The groups behind the capacity providers those tasks name.
    pub groups: Vec<GroupObservation>,
}

/// Observes the cluster at `now`. With no PROVISIONING task and no headroom to keep it stops
/// after listing tasks, so the one-minute safety net costs two API calls when all is quiet.
///
/// # Errors
///
/// The first AWS failure.
pub async fn observe<E: ClusterObserver, A: AutoScaling>(
    ecs: &E,
    asg: &A,
    now: Timestamp,
) -> Result<Observation, AwsError> {
    let live = ecs.live_tasks().await?;
    let mut headroom = headroom_tasks(&live, now);
    let mut waiting: Vec<ObservedTask> = live
        .into_iter()
        .filter(|t| t.state == TaskState::Provisioning)
        .collect();
    if waiting.is_empty() && headroom.is_empty() {
        return Ok(Observation::default());
    }
    let names: BTreeSet<String> = waiting
        .iter()
        .filter_map(|t| t.capacity_provider.clone())
        .chain(headroom.iter().filter_map(|t| t.capacity_provider.clone()))
        .collect();
    let providers = ecs
        .provider_groups(&names.into_iter().collect::<Vec<_>>())
        .await?;
    let on_fargate = |provider: &Option<String>| {
        providers
            .iter()
            .any(|p| p.group.is_none() && provider.as_ref() == Some(&p.capacity_provider))
    };
    waiting.retain(|task| !on_fargate(&task.capacity_provider));
    headroom.retain(|task| !on_fargate(&task.capacity_provider));
    let group_names: Vec<String> = providers.iter().filter_map(|p| p.group.clone()).collect();
    let (described, instances) = futures_util::future::try_join(
        asg.describe_groups(&group_names),
        ecs.container_instances(),
    )
    .await?;
    let groups = providers
        .iter()
        .filter_map(|provider| {
            let name = provider.group.as_ref()?;
            let group = described.iter().find(|g| &g.name == name)?;
            Some(group_observation(
                &provider.capacity_provider,
                group,
                &instances,
            ))
        })
        .collect();
    Ok(Observation {
        waiting,
        headroom,
        groups,
    })
}

/// Joins one group with the cluster's container instances; see the [module docs](self).
pub fn group_observation(
    capacity_provider: &str,
    group: &GroupDescription,
    instances: &[ContainerInstance],
) -> GroupObservation {
    let alive: BTreeSet<&str> = group
        .pending
        .iter()
        .chain(&group.in_service)
        .map(String::as_str)
        .collect();
    let registered: Vec<&ContainerInstance> = instances
        .iter()
        .filter(|i| alive.contains(i.ec2_instance_id.as_str()))
        .collect();
    let registered_ids: BTreeSet<&str> = registered
        .iter()
        .map(|i| i.ec2_instance_id.as_str())
        .collect();
    let measured = registered
        .iter()
        .map(|i| i.registered)
        .reduce(|a, b| TaskSize {
            cpu: a.cpu.min(b.cpu),
            memory: a.memory.min(b.memory),
        });
    GroupObservation {
        capacity_provider: capacity_provider.to_owned(),
        group: group.name.clone(),
        desired: group.desired,
        max: group.max,
        in_service: group.in_service.len() as u32,
        pending: group.pending.len() as u32,
        unregistered: (alive.len() - registered_ids.len()) as u32,
        instance_capacity: measured.or(group.tagged_capacity),
        free: registered
            .iter()
            .filter(|i| i.active)
            .map(|i| i.remaining)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rc_core::{CpuUnits, MemMib};

    fn size(cpu: u32, memory: u32) -> TaskSize {
        TaskSize {
            cpu: CpuUnits(cpu),
            memory: MemMib(memory),
        }
    }

    fn instance(
        id: &str,
        active: bool,
        registered: TaskSize,
        remaining: TaskSize,
    ) -> ContainerInstance {
        ContainerInstance {
            ec2_instance_id: id.into(),
            active,
            registered,
            remaining,
        }
    }

    fn group(pending: &[&str], in_service: &[&str]) -> GroupDescription {
        GroupDescription {
            name: "asg".into(),
            desired: 4,
            max: 10,
            pending: pending.iter().map(|s| s.to_string()).collect(),
            in_service: in_service.iter().map(|s| s.to_string()).collect(),
            tagged_capacity: Some(size(1, 1)),
        }
    }

    #[test]
    fn joins_instances_by_ec2_id() {
        let instances = [
            instance("i-1", true, size(4096, 7680), size(1024, 2048)),
            instance("i-2", false, size(4096, 7600), size(4096, 7600)),
            instance("i-other", true, size(8192, 15_000), size(8192, 15_000)),
        ];
        let g = group_observation("cp", &group(&["i-3"], &["i-1", "i-2", "i-4"]), &instances);
        assert_eq!(g.unregistered, 2, "i-3 and i-4 have not registered");
        assert_eq!(
            g.free,
            [size(1024, 2048)],
            "i-2 is draining, i-other is not ours"
        );
        assert_eq!(g.instance_capacity, Some(size(4096, 7600)));
        assert_eq!((g.in_service, g.pending, g.launching()), (3, 1, 2));
    }

    #[test]
    fn capacity_falls_back_to_tags_with_nothing_registered() {
        let g = group_observation("cp", &group(&[], &[]), &[]);
        assert_eq!(g.instance_capacity, Some(size(1, 1)));
        assert_eq!(g.launching(), 4);
    }
}
