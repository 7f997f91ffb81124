//! EC2 capacity: Auto Scaling Groups, instance launch and termination, and ECS managed scaling.
//!
//! Managed scaling is modelled as the capacity provider's CloudWatch alarms behave: once a
//! minute it looks at the tasks that were already waiting a minute ago (the datapoint the alarm
//! evaluates), estimates the instances they need beyond those launching, and raises desired
//! capacity; after a scale-out it waits out the instance warm-up before the next. It scales in
//! an instance that has been empty for 15 minutes (managed termination protection keeps busy
//! instances). It runs for every policy, as it does in production with managed scaling on; our
//! cluster autoscaler only gets there first.

use rc_control::ports::{ContainerInstance, GroupDescription, ProviderGroup};
use rc_core::{CpuUnits, MemMib, TaskSize};

use super::api::{ApiError, ApiKind};
use super::{Event, InstanceId, Provider, ProviderKind, TaskId, World};

impl<M> World<'_, M> {
    pub(crate) fn instance_ready(&mut self, instance: InstanceId) {
        let now = self.now;
        let inst = &mut self.instances[instance.0 as usize];
        if inst.terminated_at.is_some() {
            return;
        }
        inst.ready_at = Some(now);
        if let Some(task) = inst.dedicated_to {
            self.tasks[task.0 as usize].placed_at = Some(now);
            self.task_started(task);
            return;
        }
        if inst.tasks == 0 {
            inst.empty_since = Some(now);
        }
        if let Some(provider) = inst.provider {
            self.place_waiting(provider);
            if self.params.cp_scale_in_after.is_zero() {
                self.terminate_if_empty(instance);
            }
        }
    }

    pub(crate) fn terminate_if_empty(&mut self, instance: InstanceId) {
        let now = self.now;
        let inst = &mut self.instances[instance.0 as usize];
        if inst.tasks > 0 || inst.terminated_at.is_some() {
            return;
        }
        inst.terminated_at = Some(now);
        self.alive_instances -= 1;
        if let Some(since) = inst.empty_since.take() {
            self.stats.idle_instance_ms += now.saturating_since(since).as_millis() as u64;
        }
        if let Some(provider) = inst.provider {
            let p = &mut self.providers[provider];
            p.alive.remove(&instance);
            p.desired = p.desired.saturating_sub(1);
        }
    }

    /// Instances of `provider`'s type that `tasks` need beyond the instances still launching
    /// (first-fit decreasing).
    pub(super) fn instances_needed(&self, provider: &Provider, tasks: &[TaskId]) -> u32 {
        let ProviderKind::Ec2(ty) = provider.kind else {
            return 0;
        };
        let whole = TaskSize {
            cpu: CpuUnits(ty.registered_cpu()),
            memory: MemMib(ty.registered_memory_mib),
        };
        let mut sizes: Vec<TaskSize> = tasks
            .iter()
            .map(|t| self.classes[self.tasks[t.0 as usize].class].size)
            .filter(|s| s.cpu <= whole.cpu && s.memory <= whole.memory)
            .collect();
        sizes.sort_by_key(|s| std::cmp::Reverse((s.cpu, s.memory)));
        let launching = provider
            .alive
            .iter()
            .filter(|i| self.instances[i.0 as usize].ready_at.is_none())
            .count();
        let mut bins: Vec<TaskSize> = vec![whole; launching];
        for size in sizes {
            match bins
                .iter_mut()
                .find(|b| size.cpu <= b.cpu && size.memory <= b.memory)
            {
                Some(bin) => {
                    bin.cpu.0 -= size.cpu.0;
                    bin.memory.0 -= size.memory.0;
                }
                None => bins.push(TaskSize {
                    cpu: CpuUnits(whole.cpu.0 - size.cpu.0),
                    memory: MemMib(whole.memory.0 - size.memory.0),
                }),
            }
        }
        (bins.len() - launching) as u32
    }

    /// The capacity provider's once-a-minute scaling.
    pub(crate) fn managed_scaling(&mut self) {
        let seen_before = self.now - self.params.cp_metric_period;
        for index in 0..self.providers.len() {
            let p = &self.providers[index];
            if self.now >= p.warmup_until {
                let old: Vec<TaskId> = p
                    .waiting
                    .iter()
                    .copied()
                    .filter(|t| self.tasks[t.0 as usize].created_at <= seen_before)
                    .collect();
                let needed = self.instances_needed(p, &old);
                if needed > 0 {
                    let to = (p.alive.len() as u32 + needed).min(p.max);
                    if to > p.desired {
                        self.raise(index, to);
                        self.providers[index].warmup_until = self.now + self.params.cp_warmup;
                    }
                }
            }
            let scale_in_before = self.now - self.params.cp_scale_in_after;
            let idle: Vec<InstanceId> = self.providers[index]
                .alive
                .iter()
                .copied()
                .filter(|i| {
                    let inst = &self.instances[i.0 as usize];
                    inst.tasks == 0 && inst.empty_since.is_some_and(|s| s <= scale_in_before)
                })
                .collect();
            for instance in idle {
                self.terminate_if_empty(instance);
            }
        }
    }

    /// Launches instances of `provider` at once for every task waiting on it: the oracle's
    /// perfect cluster autoscaler.
    pub(crate) fn grant_capacity(&mut self, provider: usize) {
        let p = &self.providers[provider];
        let waiting: Vec<TaskId> = p.waiting.iter().copied().collect();
        let needed = self.instances_needed(p, &waiting);
        if needed > 0 {
            let to = (p.alive.len() as u32 + needed).min(p.max);
            self.raise(provider, to);
        }
    }

    /// Raises desired capacity and launches the instances.
    fn raise(&mut self, provider: usize, to: u32) {
        let now = self.now;
        let p = &mut self.providers[provider];
        for (_, since) in std::mem::take(&mut p.unanswered) {
            self.stats
                .reactions_ms
                .push(now.saturating_since(since).as_millis() as u64);
        }
        p.desired = to;
        let ProviderKind::Ec2(ty) = p.kind else {
            return;
        };
        let missing = to.saturating_sub(p.alive.len() as u32);
        let capacity = TaskSize {
            cpu: CpuUnits(ty.registered_cpu()),
            memory: MemMib(ty.registered_memory_mib),
        };
        for _ in 0..missing {
            let instance = self.add_instance(Some(provider), capacity, ty.usd_per_hour);
            self.providers[provider].alive.insert(instance);
            let launch = self.sample(self.params.instance_launch);
            self.schedule_at(now + launch, Event::InstanceReady(instance));
        }
    }

    /// `ecs:DescribeCapacityProviders`: the Auto Scaling Group behind each named provider
    /// (none for Fargate's).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ecs_capacity_providers(
        &mut self,
        names: &[String],
    ) -> Result<Vec<ProviderGroup>, ApiError> {
        self.call(ApiKind::EcsDescribeCapacityProviders)?;
        Ok(self
            .providers
            .iter()
            .filter(|p| names.contains(&p.name))
            .map(|p| ProviderGroup {
                capacity_provider: p.name.clone(),
                group: matches!(p.kind, ProviderKind::Ec2(_)).then(|| p.group()),
            })
            .collect())
    }

    /// `autoscaling:DescribeAutoScalingGroups` of the named groups.
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn asg_describe(&mut self, names: &[String]) -> Result<Vec<GroupDescription>, ApiError> {
        self.call(ApiKind::AsgDescribeGroups)?;
        let mut groups = Vec::new();
        for p in self.providers.iter().filter(|p| names.contains(&p.group())) {
            let ProviderKind::Ec2(ty) = p.kind else {
                continue;
            };
            let (ready, launching): (Vec<InstanceId>, Vec<InstanceId>) = p
                .alive
                .iter()
                .partition(|i| self.instances[i.0 as usize].ready_at.is_some());
            groups.push(GroupDescription {
                name: p.group(),
                desired: p.desired,
                max: p.max,
                pending: launching.iter().map(|&i| instance_id(i)).collect(),
                in_service: ready.iter().map(|&i| instance_id(i)).collect(),
                tagged_capacity: Some(TaskSize {
                    cpu: CpuUnits(ty.registered_cpu()),
                    memory: MemMib(ty.registered_memory_mib),
                }),
            });
        }
        Ok(groups)
    }

    /// `ecs:ListContainerInstances` + `ecs:DescribeContainerInstances` (counted as one): every
    /// registered instance of the cluster with what it offers and what is free.
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ecs_container_instances(&mut self) -> Result<Vec<ContainerInstance>, ApiError> {
        self.call(ApiKind::EcsDescribeContainerInstances)?;
        let mut registered = Vec::new();
        for p in &self.providers {
            let ProviderKind::Ec2(ty) = p.kind else {
                continue;
            };
            for &i in &p.alive {
                let instance = &self.instances[i.0 as usize];
                if instance.ready_at.is_none() {
                    continue;
                }
                registered.push(ContainerInstance {
                    ec2_instance_id: instance_id(i),
                    active: true,
                    registered: TaskSize {
                        cpu: CpuUnits(ty.registered_cpu()),
                        memory: MemMib(ty.registered_memory_mib),
                    },
                    remaining: instance.free,
                });
            }
        }
        Ok(registered)
    }

    /// `autoscaling:SetDesiredCapacity` with `HonorCooldown=false`. Lowering is accepted and
    /// ignored: scale-in belongs to managed scaling, and no policy here lowers.
    ///
    /// # Errors
    ///
    /// [`ApiError::AboveMax`] above the group's max (counted as a violation); throttling or
    /// 5xx on every attempt.
    pub fn asg_set_desired(&mut self, group: &str, desired: u32) -> Result<(), ApiError> {
        self.call(ApiKind::AsgSetDesiredCapacity)?;
        let Some(index) = self.providers.iter().position(|p| p.group() == group) else {
            return Ok(());
        };
        if desired > self.providers[index].max {
            self.stats.asg_over_max += 1;
            return Err(ApiError::AboveMax);
        }
        if desired > self.providers[index].desired {
            self.raise(index, desired);
        }
        Ok(())
    }
}

/// The EC2 instance id of a simulated instance.
fn instance_id(instance: InstanceId) -> String {
    format!("i-{:017x}", instance.0)
}
