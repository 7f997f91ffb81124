//! ECS: RunTask with client tokens, PROVISIONING until an instance has room, start-up, and the
//! task listings policies observe.
//!
//! Placement is binpack on CPU (the runners' binding resource): a task goes to the registered
//! instance it leaves the least CPU free on. Tasks waiting in PROVISIONING are placed oldest
//! first whenever capacity appears (an instance registers or a task stops).

use std::collections::BTreeSet;
use std::time::Duration;

use rc_core::observed::{ObservedTask, Origin, TaskState};
use rc_core::scale_up::JobId;
use rc_core::{CpuUnits, MemMib, TaskSize};

use super::api::{ApiError, ApiKind, Attempt};
use super::{
    Event, Fate, Instance, InstanceId, Notice, Phase, Placement, ProviderKind, Task, TaskId, World,
};

/// A request to start one runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTask {
    /// Class index (config order).
    pub class: usize,
    /// Why the runner is started.
    pub origin: Origin,
    /// The job it is started for.
    pub job: Option<JobId>,
    /// Launch attempt for that job.
    pub attempt: u32,
    /// The name from the JIT config; `None` lets the runner pick one (baselines).
    pub runner_name: Option<String>,
    /// ECS `clientToken`: a second RunTask with the same token returns the first task.
    pub client_token: Option<String>,
    /// Where it runs.
    pub placement: Placement,
    /// The SSM parameter holding the runner's JIT config (its `RC_JIT_CONFIG_PARAM`); `None`
    /// for baselines, whose runners register on their own.
    pub jit_parameter: Option<String>,
    /// The `rc:controller` tag.
    pub controller: Option<String>,
    /// The `rc:headroom` tag.
    pub headroom: Option<Duration>,
}

impl RunTask {
    /// A launch for no job, with no runner name, client token or parameter: tasks an ECS
    /// service or ops start outside the controller.
    pub fn unmanaged(class: usize, origin: Origin) -> Self {
        RunTask {
            class,
            origin,
            job: None,
            attempt: 0,
            runner_name: None,
            client_token: None,
            placement: Placement::CapacityProvider,
            jit_parameter: None,
            controller: None,
            headroom: None,
        }
    }

    /// A baseline's launch for `job`: first attempt, no runner name, no client token.
    pub fn baseline(class: usize, job: JobId, placement: Placement) -> Self {
        RunTask {
            class,
            origin: Origin::Job,
            job: Some(job),
            attempt: 0,
            runner_name: None,
            client_token: None,
            placement,
            jit_parameter: None,
            controller: None,
            headroom: None,
        }
    }
}

impl<M> World<'_, M> {
    /// `ecs:RunTask` (or, for [`Placement::DedicatedInstance`], `ec2:RunInstances`), retried
    /// like the SDK does with the same client token.
    ///
    /// # Errors
    ///
    /// [`ApiError::ProvisioningQuota`] when the cluster has too many tasks in PROVISIONING;
    /// [`ApiError::Unavailable`] when every attempt failed (some may have started a task).
    pub fn ecs_run_task(&mut self, req: &RunTask) -> Result<ObservedTask, ApiError> {
        let kind = match req.placement {
            Placement::CapacityProvider => ApiKind::EcsRunTask,
            Placement::DedicatedInstance => ApiKind::Ec2RunInstances,
        };
        for _ in 0..self.params.aws_attempts.max(1) {
            match self.attempt(kind) {
                Attempt::Ok => return self.create_task(req).map(|id| self.observe(id)),
                Attempt::Failed { took_effect: true } => {
                    // The answer was lost; whether a task exists shows only in later listings.
                    let _ = self.create_task(req);
                }
                Attempt::Failed { took_effect: false } => {}
            }
        }
        Err(ApiError::Unavailable(kind))
    }

    /// Starts a task without an API call of the policy's: the ECS service scheduler's own
    /// launches (dena baseline) and the oracle's perfect ones.
    pub(crate) fn create_task(&mut self, req: &RunTask) -> Result<TaskId, ApiError> {
        if let Some(existing) = req
            .client_token
            .as_ref()
            .and_then(|t| self.client_tokens.get(t))
        {
            self.stats.deduplicated_run_tasks += 1;
            return Ok(*existing);
        }
        let class = &self.classes[req.class];
        let provider = class.provider;
        let size = class.size;
        let on_ec2 = matches!(self.providers[provider].kind, ProviderKind::Ec2(_));
        if req.placement == Placement::CapacityProvider && on_ec2 {
            let waiting: usize = self.providers.iter().map(|p| p.waiting.len()).sum();
            if waiting >= self.params.provisioning_limit as usize {
                return Err(ApiError::ProvisioningQuota);
            }
        }
        let fate = if self.chance(self.faults.runner_start_failure) {
            Fate::Crashes
        } else if self.chance(self.faults.runner_start_hang) {
            Fate::Hangs
        } else {
            Fate::Registers
        };
        let id = TaskId(self.tasks.len() as u32);
        let runner_name = match &req.runner_name {
            Some(name) => name.clone(),
            None => self.next_runner_name(),
        };
        self.tasks.push(Task {
            class: req.class,
            placement: req.placement,
            origin: req.origin,
            job: req.job,
            runner_name,
            created_at: self.now,
            phase: Phase::Provisioning,
            phase_since: self.now,
            instance: None,
            fate,
            placed_at: None,
            registered_at: None,
            jit_parameter: req.jit_parameter.clone(),
            controller: req.controller.clone(),
            headroom: req.headroom,
            registration: None,
        });
        if let Some(token) = &req.client_token {
            self.client_tokens.insert(token.clone(), id);
        }
        if let (Origin::Job, Some(job)) = (req.origin, req.job) {
            let n = self.launches.entry((job, req.attempt)).or_default();
            *n += 1;
            if *n == 2 {
                self.stats.double_launches += 1;
            }
        }
        self.live[req.class].insert(id);
        if self.live[req.class].len() > self.classes[req.class].max_runners as usize {
            self.stats.over_max += 1;
        }

        match (req.placement, self.providers[provider].kind) {
            (Placement::DedicatedInstance, kind) => {
                let per_vcpu = match kind {
                    ProviderKind::Ec2(ty) => ty.usd_per_vcpu_hour(),
                    ProviderKind::Fargate => crate::params::INSTANCE_TYPES[0].usd_per_vcpu_hour(),
                };
                // The smallest M7 size has 2 vCPUs; prices scale linearly with size.
                let vcpu = f64::from(size.cpu.0.div_ceil(1024).max(2));
                let instance = self.add_instance(None, size, per_vcpu * vcpu);
                self.instances[instance.0 as usize].dedicated_to = Some(id);
                self.occupy(instance, size);
                self.tasks[id.0 as usize].instance = Some(instance);
                self.set_phase(id, Phase::Starting);
                let boot = self.sample(self.params.ec2_runner_boot);
                self.schedule_at(self.now + boot, Event::InstanceReady(instance));
            }
            (Placement::CapacityProvider, ProviderKind::Fargate) => {
                self.tasks[id.0 as usize].placed_at = Some(self.now);
                self.set_phase(id, Phase::Starting);
                let start = self.sample(self.params.fargate_task_start);
                self.schedule_at(self.now + start, Event::TaskStarted(id));
            }
            (Placement::CapacityProvider, ProviderKind::Ec2(_)) => {
                if !self.try_place(id) {
                    let p = &mut self.providers[provider];
                    p.waiting.push_back(id);
                    // A task that fits the instances already launching needs no scale-out: it
                    // is not waiting for one, and a later raise for other tasks is no reaction
                    // to it.
                    let waiting: Vec<TaskId> = p.waiting.iter().copied().collect();
                    if self.instances_needed(&self.providers[provider], &waiting) > 0 {
                        self.providers[provider].unanswered.insert(id, self.now);
                    }
                    let after = self.sample(self.params.eventbridge_latency);
                    self.notify(after, Notice::TaskChanged(id, TaskState::Provisioning));
                }
            }
        }
        Ok(id)
    }

    pub(crate) fn add_instance(
        &mut self,
        provider: Option<usize>,
        capacity: TaskSize,
        usd_per_hour: f64,
    ) -> InstanceId {
        let id = InstanceId(self.instances.len() as u32);
        self.instances.push(Instance {
            provider,
            requested_at: self.now,
            ready_at: None,
            terminated_at: None,
            capacity,
            free: capacity,
            tasks: 0,
            empty_since: None,
            usd_per_hour,
            dedicated_to: None,
        });
        self.alive_instances += 1;
        self.stats.peak_instances = self.stats.peak_instances.max(self.alive_instances);
        id
    }

    /// Places a PROVISIONING task on a registered instance with room, if there is one.
    fn try_place(&mut self, task: TaskId) -> bool {
        let t = &self.tasks[task.0 as usize];
        let size = self.classes[t.class].size;
        let provider = self.classes[t.class].provider;
        let best = self.providers[provider]
            .alive
            .iter()
            .map(|&i| (i, &self.instances[i.0 as usize]))
            .filter(|(_, inst)| inst.ready_at.is_some() && fits(size, inst.free))
            .min_by_key(|(i, inst)| {
                (
                    inst.free.cpu.0 - size.cpu.0,
                    inst.free.memory.0 - size.memory.0,
                    *i,
                )
            })
            .map(|(i, _)| i);
        let Some(instance) = best else {
            return false;
        };
        self.occupy(instance, size);
        let now = self.now;
        let t = &mut self.tasks[task.0 as usize];
        t.instance = Some(instance);
        t.placed_at = Some(now);
        self.set_phase(task, Phase::Starting);
        let start = self.sample(self.params.task_start);
        self.schedule_at(now + start, Event::TaskStarted(task));
        true
    }

    fn occupy(&mut self, instance: InstanceId, size: TaskSize) {
        let now = self.now;
        let inst = &mut self.instances[instance.0 as usize];
        inst.free = TaskSize {
            cpu: CpuUnits(inst.free.cpu.0 - size.cpu.0),
            memory: MemMib(inst.free.memory.0 - size.memory.0),
        };
        inst.tasks += 1;
        if let Some(since) = inst.empty_since.take() {
            self.stats.idle_instance_ms += now.saturating_since(since).as_millis() as u64;
        }
    }

    /// Places waiting tasks of `provider`, oldest first, while capacity lasts.
    pub(crate) fn place_waiting(&mut self, provider: usize) {
        let waiting: Vec<TaskId> = self.providers[provider].waiting.iter().copied().collect();
        for task in waiting {
            if self.try_place(task) {
                let p = &mut self.providers[provider];
                p.waiting.retain(|&t| t != task);
                p.unanswered.remove(&task);
            }
        }
    }

    pub(crate) fn task_started(&mut self, task: TaskId) {
        let t = &self.tasks[task.0 as usize];
        if t.phase != Phase::Starting {
            return;
        }
        let (parameter, fate) = (t.jit_parameter.clone(), t.fate);
        let fate = match parameter {
            // The launch was cleaned up after an error that hid its success: no config to read.
            Some(name) if !self.runner_consumes_config(&name) => Fate::Crashes,
            _ => fate,
        };
        match fate {
            Fate::Registers if self.tasks[task.0 as usize].origin == Origin::Bench => {
                self.set_phase(task, Phase::Idle);
                self.notify(Duration::ZERO, Notice::WorkerStarted(task));
            }
            Fate::Registers => self.runner_registers(task),
            Fate::Crashes => self.stop_task(task),
            Fate::Hangs => {}
        }
    }

    /// A task stops, for whatever reason: its runner leaves GitHub, its capacity frees up.
    pub(crate) fn stop_task(&mut self, task: TaskId) {
        let t = &self.tasks[task.0 as usize];
        if !t.live() {
            return;
        }
        let (class, instance, placement, placed_at) =
            (t.class, t.instance, t.placement, t.placed_at);
        let provider = self.classes[class].provider;
        let size = self.classes[class].size;
        self.runner_leaves(task);
        if self.tasks[task.0 as usize].phase == Phase::Provisioning {
            let p = &mut self.providers[provider];
            p.waiting.retain(|&t| t != task);
            p.unanswered.remove(&task);
        }
        self.set_phase(task, Phase::Stopped);
        self.live[class].remove(&task);
        if let (ProviderKind::Fargate, Some(placed)) = (self.providers[provider].kind, placed_at) {
            self.stats.fargate_usd += self
                .params
                .fargate_usd(size, self.now.saturating_since(placed));
        }
        if let Some(instance) = instance {
            let now = self.now;
            let inst = &mut self.instances[instance.0 as usize];
            inst.free = TaskSize {
                cpu: CpuUnits(inst.free.cpu.0 + size.cpu.0),
                memory: MemMib(inst.free.memory.0 + size.memory.0),
            };
            inst.tasks = inst.tasks.saturating_sub(1);
            if inst.tasks == 0 && inst.ready_at.is_some() {
                inst.empty_since = Some(now);
            }
            if placement == Placement::DedicatedInstance || self.params.cp_scale_in_after.is_zero()
            {
                self.terminate_if_empty(instance);
            }
        }
        if placement == Placement::CapacityProvider {
            self.place_waiting(provider);
        }
        let after = self.sample(self.params.eventbridge_latency);
        self.notify(after, Notice::TaskChanged(task, TaskState::Stopped));
    }

    /// `ecs:StopTask`. Stopping a busy runner kills its job (a rule violation the report counts).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ecs_stop_task(&mut self, arn: &str) -> Result<(), ApiError> {
        self.call(ApiKind::EcsStopTask)?;
        if let Some(task) = TaskId::from_arn(arn).filter(|t| (t.0 as usize) < self.tasks.len()) {
            self.stop_task(task);
        }
        Ok(())
    }

    /// `ec2:TerminateInstances` of a dedicated runner instance (philips baseline).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ec2_terminate_runner(&mut self, task: TaskId) -> Result<(), ApiError> {
        self.call(ApiKind::Ec2TerminateInstances)?;
        self.stop_task(task);
        Ok(())
    }

    fn observe(&self, id: TaskId) -> ObservedTask {
        let t = &self.tasks[id.0 as usize];
        let class = &self.classes[t.class];
        ObservedTask {
            arn: id.arn(),
            state: match t.phase {
                Phase::Provisioning => TaskState::Provisioning,
                Phase::Starting | Phase::Idle | Phase::Busy(_) | Phase::Benchmarking => {
                    TaskState::Running
                }
                Phase::Stopped => TaskState::Stopped,
            },
            size: class.size,
            capacity_provider: Some(self.providers[class.provider].name.clone()),
            created_at: t.created_at,
            // ECS's pullStartedAt: the task left PROVISIONING when it was placed.
            boot_started_at: t.placed_at,
            controller: t.controller.clone(),
            // A benchmark worker carries no class tag, so runner pools and the reaper skip it.
            class: (t.origin != Origin::Bench).then(|| class.name.clone()),
            job_id: t.job,
            runner_name: Some(t.runner_name.clone()),
            origin: Some(t.origin),
            min_step: None,
            headroom: t.headroom,
            jit_parameter: t.jit_parameter.clone(),
        }
    }

    fn live_total(&self) -> usize {
        self.live.iter().map(|s| s.len()).sum()
    }

    /// The live tasks of `class` (ListTasks and DescribeTasks page over the whole cluster).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ecs_list_tasks(&mut self, class: usize) -> Result<Vec<ObservedTask>, ApiError> {
        self.list_and_describe(self.live_total())?;
        Ok(self.live[class]
            .iter()
            .map(|&id| self.observe(id))
            .collect())
    }

    /// Every live task of the cluster (ListTasks and DescribeTasks, all pages).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ecs_list_all_tasks(&mut self) -> Result<Vec<ObservedTask>, ApiError> {
        self.list_and_describe(self.live_total())?;
        let mut all: Vec<TaskId> = self.live.iter().flatten().copied().collect();
        all.sort();
        Ok(all.into_iter().map(|id| self.observe(id)).collect())
    }

    /// The repositories of the job tasks ECS still lists: live ones, and stopped ones, which
    /// ECS lists for about an hour after they stop (one listing per desired status).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ecs_recent_job_repos(&mut self) -> Result<BTreeSet<String>, ApiError> {
        const LISTED_AFTER_STOP: Duration = Duration::from_secs(3600);
        let now = self.now;
        let stopped = self
            .tasks
            .iter()
            .filter(|t| !t.live() && now.saturating_since(t.phase_since) <= LISTED_AFTER_STOP);
        let stopped: Vec<&Task> = stopped.collect();
        let live: Vec<&Task> = self
            .live
            .iter()
            .flatten()
            .map(|id| &self.tasks[id.0 as usize])
            .collect();
        let repos: BTreeSet<String> = live
            .iter()
            .chain(&stopped)
            .filter_map(|t| t.job)
            .map(|job| self.job(job).repo.clone())
            .collect();
        let (live, stopped) = (live.len(), stopped.len());
        self.list_and_describe(live)?;
        self.list_and_describe(stopped)?;
        Ok(repos)
    }

    /// One ECS listing of `tasks` tasks: ListTasks pages of 100 (one even when empty), each
    /// page described with one DescribeTasks.
    fn list_and_describe(&mut self, tasks: usize) -> Result<(), ApiError> {
        self.call_pages(ApiKind::EcsListTasks, tasks, 100)?;
        if tasks > 0 {
            self.call_pages(ApiKind::EcsDescribeTasks, tasks, 100)?;
        }
        Ok(())
    }

    /// The runner instances of `class` (`ec2:DescribeInstances` filtered by tag; philips
    /// baseline).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ec2_describe_runners(&mut self, class: usize) -> Result<Vec<ObservedTask>, ApiError> {
        self.call(ApiKind::Ec2DescribeInstances)?;
        Ok(self.live[class]
            .iter()
            .map(|&id| self.observe(id))
            .collect())
    }
}

fn fits(task: TaskSize, room: TaskSize) -> bool {
    task.cpu <= room.cpu && task.memory <= room.memory
}
