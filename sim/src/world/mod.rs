//! The discrete-event world: GitHub's job queue and runners, ECS tasks and their placement, the
//! Auto Scaling Groups and the capacity provider's own scaling, all on a virtual clock.
//!
//! Events sit in a binary heap keyed by `(time, sequence)`, so two events at the same instant
//! run in the order they were scheduled and a run is a pure function of its inputs and seed.
//! The world handles its own events (a job arriving, a task finishing its start-up, an instance
//! registering) and hands the rest to the policy: webhooks, ECS state changes, and the
//! policy's own timers and queue messages.
//!
//! Policies act only through the API methods (in [`github`], [`ecs`] and [`capacity`]), which
//! count every call, inject the workload's faults, and answer in rc-core's observation types,
//! the same shapes the production adapters produce.
//!
//! # Layout
//!
//! - [`api`]: call kinds, fault injection and errors.
//! - [`github`]: jobs, runners, assignment, webhook deliveries.
//! - [`ecs`]: tasks, placement, start-up.
//! - [`capacity`]: instances, Auto Scaling Groups, the capacity provider's managed scaling.
//! - [`ssm`]: the JIT config parameters.

pub mod api;
pub mod capacity;
pub mod ecs;
pub mod github;
pub mod ssm;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::time::Duration;

use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rc_config::Config;
use rc_core::observed::{Origin, TaskState};
use rc_core::packing::places_on_instances;
use rc_core::routing::class_accepts;
use rc_core::scale_up::JobId;
use rc_core::{TaskSize, Timestamp};

use crate::metrics::Stats;
use crate::params::{instance_type_for, InstanceType, Latency, WorldParams};
use crate::workload::Workload;

pub use api::{ApiError, ApiKind};
pub use ecs::RunTask;
pub use github::{DeliveryId, JobView, Webhook, WebhookAction};

/// A task of the simulated cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u32);

const ARN_PREFIX: &str = "arn:aws:ecs:sim:000000000000:task/runners/";

impl TaskId {
    /// The task's ARN, as ECS would name it.
    pub fn arn(self) -> String {
        format!("{ARN_PREFIX}{:08}", self.0)
    }

    /// The task an ARN of [`TaskId::arn`] names.
    pub fn from_arn(arn: &str) -> Option<Self> {
        arn.strip_prefix(ARN_PREFIX)?.parse().ok().map(TaskId)
    }
}

/// An EC2 instance of the simulated account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub u32);

/// The name of the benchmark pool's slot among the classes (never a class's: it has a space).
const BENCH_POOL: &str = "benchmark pool";

/// What a policy sees of the world's events.
pub enum Notice<M> {
    /// GitHub queued a job (only the oracle may look).
    JobCreated(JobId),
    /// A webhook reached the policy's endpoint.
    Webhook(Webhook),
    /// EventBridge delivered an ECS task state change.
    TaskChanged(TaskId, TaskState),
    /// A benchmark worker's task finished its start-up: its agent waits for a job.
    WorkerStarted(TaskId),
    /// One of the policy's own timers or queue messages.
    Message(M),
}

enum Event<M> {
    JobArrives(JobId),
    JobStarts(JobId),
    JobEnds(JobId),
    TaskStarted(TaskId),
    InstanceReady(InstanceId),
    ManagedScaling,
    Sample,
    Notice(Notice<M>),
}

struct Scheduled<M> {
    at: Timestamp,
    seq: u64,
    event: Event<M>,
}

impl<M> PartialEq for Scheduled<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<M> Eq for Scheduled<M> {}
impl<M> PartialOrd for Scheduled<M> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Scheduled<M> {
    /// Reversed, so that the max-heap pops the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A runner class as the world needs it.
pub(crate) struct ClassInfo {
    pub name: String,
    pub labels: Vec<String>,
    pub size: TaskSize,
    pub provider: usize,
    pub max_runners: u32,
    /// Label sets whose jobs a runner of this class can take.
    pub takes: Vec<usize>,
    /// The class as configured: its warm windows say which arrivals fall in business hours.
    pub config: rc_config::RunnerClass,
}

/// A distinct job label set, with the classes whose runners can take it.
pub(crate) struct LabelSet {
    pub taken_by: Vec<usize>,
    /// The class routing picks, if any.
    pub routed: Option<usize>,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobState {
    NotYet,
    Queued,
    /// GitHub handed it to a runner; it starts after the assignment latency.
    Assigned(TaskId),
    Running(TaskId),
    Done,
    /// Its runner was stopped under it.
    Killed,
}

pub(crate) struct Job {
    pub created_at: Timestamp,
    pub labels: Vec<String>,
    pub duration: Duration,
    pub repo: String,
    pub label_set: usize,
    pub state: JobState,
    pub started_at: Option<Timestamp>,
    /// The task whose runner took it.
    pub ran_on: Option<TaskId>,
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Provisioning,
    Starting,
    Idle,
    Busy(JobId),
    /// A benchmark worker running a job.
    Benchmarking,
    Stopped,
}

/// How a task's start-up ends, drawn when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    Registers,
    Crashes,
    Hangs,
}

/// Where a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On the class's capacity provider.
    CapacityProvider,
    /// On an EC2 instance launched for this runner alone (the philips baseline).
    DedicatedInstance,
}

pub(crate) struct Task {
    pub class: usize,
    pub placement: Placement,
    pub origin: Origin,
    pub job: Option<JobId>,
    pub runner_name: String,
    pub created_at: Timestamp,
    pub phase: Phase,
    pub phase_since: Timestamp,
    pub instance: Option<InstanceId>,
    pub fate: Fate,
    pub placed_at: Option<Timestamp>,
    /// When its runner first registered and waited for a job.
    pub registered_at: Option<Timestamp>,
    /// The parameter the runner reads its JIT config from at start-up (ours); without it, it
    /// cannot start.
    pub jit_parameter: Option<String>,
    /// The controller tag it was started with.
    pub controller: Option<String>,
    /// The headroom tag it was started with.
    pub headroom: Option<Duration>,
    /// Its GitHub registration, once it has one: the id and labels it registered with.
    pub registration: Option<(u64, Vec<String>)>,
}

impl Task {
    pub fn live(&self) -> bool {
        self.phase != Phase::Stopped
    }
}

/// How a capacity provider gets capacity.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ProviderKind {
    Ec2(&'static InstanceType),
    Fargate,
}

pub(crate) struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    pub desired: u32,
    pub max: u32,
    /// Instances launching or registered, not terminated.
    pub alive: BTreeSet<InstanceId>,
    /// Tasks in PROVISIONING, oldest first.
    pub waiting: VecDeque<TaskId>,
    /// Managed scaling does not scale out again before this.
    pub warmup_until: Timestamp,
    /// Tasks still waiting for a raise of desired capacity, with when they entered
    /// PROVISIONING (for the scale-out reaction time).
    pub unanswered: BTreeMap<TaskId, Timestamp>,
}

impl Provider {
    pub fn group(&self) -> String {
        format!("asg-{}", self.name)
    }
}

pub(crate) struct Instance {
    pub provider: Option<usize>,
    pub requested_at: Timestamp,
    pub ready_at: Option<Timestamp>,
    pub terminated_at: Option<Timestamp>,
    /// What it offers tasks: the registered resources (a dedicated instance: its task's size).
    pub capacity: TaskSize,
    pub free: TaskSize,
    pub tasks: u32,
    pub empty_since: Option<Timestamp>,
    pub usd_per_hour: f64,
    /// The runner task a dedicated instance was launched for.
    pub dedicated_to: Option<TaskId>,
}

/// The simulated world one policy runs in.
pub struct World<'c, M> {
    pub(crate) config: &'c Config,
    pub(crate) params: WorldParams,
    pub(crate) faults: crate::params::Faults,
    pub(crate) now: Timestamp,
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    queue: BinaryHeap<Scheduled<M>>,
    seq: u64,
    pub(crate) rng: ChaCha8Rng,
    /// The config's classes, then the benchmark pool's slot if there is one.
    pub(crate) classes: Vec<ClassInfo>,
    /// Index in `classes` of the benchmark pool's slot.
    pub(crate) bench_slot: Option<usize>,
    pub(crate) label_sets: Vec<LabelSet>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) deliveries: Vec<[Vec<github::PlannedDelivery>; 3]>,
    pub(crate) github: github::GithubState,
    pub(crate) tasks: Vec<Task>,
    /// Live tasks of each class.
    pub(crate) live: Vec<BTreeSet<TaskId>>,
    pub(crate) client_tokens: HashMap<String, TaskId>,
    pub(crate) launches: BTreeMap<(JobId, u32), u32>,
    pub(crate) providers: Vec<Provider>,
    pub(crate) instances: Vec<Instance>,
    /// Instances launched and not terminated.
    pub(crate) alive_instances: u32,
    pub(crate) ssm: ssm::SsmState,
    /// The lease table's shared-demand items, by class (not counted, as the leases are not).
    shared_demand: BTreeMap<String, rc_core::book::SharedDemand>,
    pub(crate) stats: Stats,
}

impl<'c, M> World<'c, M> {
    /// The shared demand stored for `class`.
    pub(crate) fn demand_load(&self, class: &str) -> rc_core::book::SharedDemand {
        self.shared_demand.get(class).cloned().unwrap_or_default()
    }

    /// Stores `class`'s shared demand.
    pub(crate) fn demand_save(&mut self, class: &str, demand: rc_core::book::SharedDemand) {
        self.shared_demand.insert(class.to_owned(), demand);
    }

    /// A world for `workload` on `config`'s classes.
    pub(crate) fn new(
        config: &'c Config,
        workload: &Workload,
        params: WorldParams,
        seed: u64,
    ) -> Self {
        let mut providers: Vec<Provider> = Vec::new();
        let mut classes = Vec::new();
        for class in &config.classes {
            classes.push(ClassInfo {
                name: class.name.clone(),
                labels: class.labels.clone(),
                size: class.size,
                provider: provider_index(&mut providers, &class.capacity_provider),
                max_runners: class.max_runners,
                takes: Vec::new(),
                config: class.clone(),
            });
        }
        // The benchmark pool gets a slot after the classes: its workers are tasks like runners
        // (placed, started, billed on its provider's instances) but belong to no class.
        let bench_slot = config.benchmarks.as_ref().map(|bench| {
            let pool = &bench.pool;
            classes.push(ClassInfo {
                name: BENCH_POOL.to_owned(),
                labels: Vec::new(),
                size: pool.size,
                provider: provider_index(&mut providers, &pool.capacity_provider),
                max_runners: pool.max_workers,
                takes: Vec::new(),
                config: rc_config::RunnerClass {
                    name: BENCH_POOL.to_owned(),
                    labels: Vec::new(),
                    task_definition: pool.task_definition.clone(),
                    container: pool.container.clone(),
                    size: pool.size,
                    capacity_provider: pool.capacity_provider.clone(),
                    max_runners: pool.max_workers,
                    idle_timeout: pool.idle_exit,
                    warm: pool.warm.clone(),
                    holidays: BTreeSet::new(),
                },
            });
            classes.len() - 1
        });
        // Each group's max is what its classes need at their max_runners, packed one dimension
        // at a time: enough never to be the binding limit, and no more.
        for (index, provider) in providers.iter_mut().enumerate() {
            if let ProviderKind::Ec2(ty) = provider.kind {
                let (cpu, memory) = classes.iter().filter(|c| c.provider == index).fold(
                    (0u64, 0u64),
                    |(c, m), class| {
                        let n = u64::from(class.max_runners);
                        (
                            c + n * u64::from(class.size.cpu.0),
                            m + n * u64::from(class.size.memory.0),
                        )
                    },
                );
                let by_cpu = cpu.div_ceil(u64::from(ty.registered_cpu()));
                let by_memory = memory.div_ceil(u64::from(ty.registered_memory_mib));
                provider.max = by_cpu.max(by_memory) as u32 + 1;
            }
        }

        let mut label_sets: Vec<LabelSet> = Vec::new();
        let mut set_index: HashMap<Vec<String>, usize> = HashMap::new();
        let mut jobs = Vec::with_capacity(workload.jobs.len());
        for spec in &workload.jobs {
            let mut key: Vec<String> = spec.labels.iter().map(|l| l.to_ascii_lowercase()).collect();
            key.sort();
            key.dedup();
            let next = label_sets.len();
            let label_set = *set_index.entry(key).or_insert(next);
            if label_set == next {
                let taken_by: Vec<usize> = config
                    .classes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| class_accepts(c, &spec.labels))
                    .map(|(i, _)| i)
                    .collect();
                let routed = match rc_core::routing::route(config, &spec.labels) {
                    rc_core::routing::Route::Matched { index, .. } => Some(index),
                    rc_core::routing::Route::Unmatched { .. } => None,
                };
                for &class in &taken_by {
                    classes[class].takes.push(next);
                }
                label_sets.push(LabelSet { taken_by, routed });
            }
            jobs.push(Job {
                created_at: workload.start + spec.at,
                labels: spec.labels.clone(),
                duration: spec.duration,
                repo: spec.repo.clone(),
                label_set,
                state: JobState::NotYet,
                started_at: None,
                ran_on: None,
            });
        }

        // Webhook fates come from their own stream, so every policy sees the same deliveries.
        let mut delivery_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_de11_7e12_0001);
        let deliveries = (0..jobs.len())
            .map(|_| {
                [0, 1, 2].map(|_| {
                    github::plan_delivery(
                        &workload.faults,
                        params.webhook_latency,
                        &mut delivery_rng,
                    )
                })
            })
            .collect();

        let end = workload.start + workload.horizon(params.grace);
        let n_sets = label_sets.len();
        let mut world = World {
            config,
            params,
            faults: workload.faults.clone(),
            now: workload.start,
            start: workload.start,
            end,
            queue: BinaryHeap::new(),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            live: classes.iter().map(|_| BTreeSet::new()).collect(),
            github: github::GithubState::new(classes.len(), n_sets),
            classes,
            bench_slot,
            label_sets,
            jobs,
            deliveries,
            tasks: Vec::new(),
            client_tokens: HashMap::new(),
            launches: BTreeMap::new(),
            providers,
            instances: Vec::new(),
            alive_instances: 0,
            ssm: ssm::SsmState::default(),
            shared_demand: BTreeMap::new(),
            stats: Stats::default(),
        };
        for index in 0..world.jobs.len() {
            let at = world.jobs[index].created_at;
            world.schedule_at(at, Event::JobArrives(JobId(index as u64 + 1)));
        }
        world.schedule_at(world.start, Event::Sample);
        let period = world.params.cp_metric_period;
        world.schedule_at(align_up(world.start, period), Event::ManagedScaling);
        world
    }

    /// The virtual clock.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The configuration the world was built from.
    pub fn config(&self) -> &'c Config {
        self.config
    }

    /// The world's parameters.
    pub fn params(&self) -> &WorldParams {
        &self.params
    }

    /// Index of the class called `name`.
    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }

    /// Delivers `message` to the policy after `delay`.
    pub fn schedule(&mut self, delay: Duration, message: M) {
        self.schedule_at(self.now + delay, Event::Notice(Notice::Message(message)));
    }

    /// Delivers `message` to the policy at `at` (or now, if that has passed).
    pub fn schedule_message_at(&mut self, at: Timestamp, message: M) {
        self.schedule_at(at.max(self.now), Event::Notice(Notice::Message(message)));
    }

    /// `sqs:SendMessage`: `message` reaches the policy after `delay` (`DelaySeconds`).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn sqs_send(&mut self, delay: Duration, message: M) -> Result<(), ApiError> {
        self.call(ApiKind::SqsSendMessage)?;
        self.schedule(delay, message);
        Ok(())
    }

    /// The class `job`'s labels route to.
    pub(crate) fn routed_class(&self, job: JobId) -> Option<usize> {
        self.label_sets[self.job(job).label_set].routed
    }

    /// Whether `job` still waits for a runner.
    pub(crate) fn job_waits(&self, job: JobId) -> bool {
        self.job(job).state == JobState::Queued
    }

    /// Live tasks of `class`.
    pub(crate) fn live_count(&self, class: usize) -> usize {
        self.live[class].len()
    }

    /// The capacity provider `class` runs on.
    pub(crate) fn provider_of(&self, class: usize) -> usize {
        self.classes[class].provider
    }

    /// The class of `task`.
    pub(crate) fn task_class(&self, task: TaskId) -> usize {
        self.tasks[task.0 as usize].class
    }

    /// Whether `task`'s runner is registered and idle.
    pub(crate) fn task_is_idle(&self, task: TaskId) -> bool {
        self.tasks[task.0 as usize].phase == Phase::Idle
    }

    /// A draw from `latency` on the world's random stream.
    pub fn sample(&mut self, latency: Latency) -> Duration {
        latency.sample(&mut self.rng)
    }

    /// `true` with probability `p`, on the world's random stream.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random::<f64>() < p
    }

    fn schedule_at(&mut self, at: Timestamp, event: Event<M>) {
        self.seq += 1;
        self.queue.push(Scheduled {
            at,
            seq: self.seq,
            event,
        });
    }

    pub(crate) fn notify(&mut self, after: Duration, notice: Notice<M>) {
        self.schedule_at(self.now + after, Event::Notice(notice));
    }

    /// Fraction of the run's virtual time that has passed.
    pub(crate) fn progress(&self) -> f64 {
        let total = (self.end.0 - self.start.0).max(1) as f64;
        ((self.now.0 - self.start.0) as f64 / total).clamp(0.0, 1.0)
    }

    /// Advances to the next event, handles it if it is the world's own, and returns what the
    /// policy must see; `None` once the run is over.
    pub(crate) fn step(&mut self) -> Option<Option<Notice<M>>> {
        let next = self.queue.pop()?;
        if next.at > self.end {
            return None;
        }
        self.now = next.at;
        Some(match next.event {
            Event::JobArrives(job) => {
                self.job_arrives(job);
                Some(Notice::JobCreated(job))
            }
            Event::JobStarts(job) => {
                self.job_starts(job);
                None
            }
            Event::JobEnds(job) => {
                self.job_ends(job);
                None
            }
            Event::TaskStarted(task) => {
                self.task_started(task);
                None
            }
            Event::InstanceReady(instance) => {
                self.instance_ready(instance);
                None
            }
            Event::ManagedScaling => {
                self.managed_scaling();
                let period = self.params.cp_metric_period;
                self.schedule_at(self.now + period, Event::ManagedScaling);
                None
            }
            Event::Sample => {
                self.take_sample();
                let period = self.params.sample_period;
                self.schedule_at(self.now + period, Event::Sample);
                None
            }
            Event::Notice(notice) => Some(notice),
        })
    }

    /// Judges business hours by `reference`'s warm windows instead of the running config's,
    /// so that runs of configs that differ only in their warm pools measure the same hours.
    pub(crate) fn measure_business_hours_of(&mut self, reference: &Config) {
        for (info, class) in self.classes.iter_mut().zip(&reference.classes) {
            if info.name == class.name {
                info.config = class.clone();
            }
        }
    }

    /// Moves a task to `phase`, keeping the runner-time accounts.
    pub(crate) fn set_phase(&mut self, task: TaskId, phase: Phase) {
        let now = self.now;
        let t = &mut self.tasks[task.0 as usize];
        let spent = now.saturating_since(t.phase_since);
        self.stats.runner_time(t.phase, spent);
        let (class, instance, old) = (t.class, t.instance, t.phase);
        // Until a task leaves PROVISIONING it holds no capacity, though it may already name
        // the instance it is being placed on.
        if !matches!(old, Phase::Provisioning | Phase::Stopped) {
            let size = self.classes[class].size;
            match instance {
                Some(i) => {
                    let inst = &self.instances[i.0 as usize];
                    let share = f64::from(size.cpu.0) / f64::from(inst.capacity.cpu.0.max(1));
                    let usd_per_hour = inst.usd_per_hour;
                    self.stats
                        .instance_share(old, spent, share, share * usd_per_hour);
                }
                None if matches!(
                    self.providers[self.classes[class].provider].kind,
                    ProviderKind::Fargate
                ) =>
                {
                    let usd = self.params.fargate_usd(size, spent);
                    self.stats.fargate_share(old, usd);
                }
                None => {}
            }
        }
        let t = &mut self.tasks[task.0 as usize];
        t.phase = phase;
        t.phase_since = now;
    }
}

/// The index of the provider called `name`, added on first sight.
fn provider_index(providers: &mut Vec<Provider>, name: &str) -> usize {
    if let Some(index) = providers.iter().position(|p| p.name == name) {
        return index;
    }
    let kind = if places_on_instances(name) {
        ProviderKind::Ec2(instance_type_for(name))
    } else {
        ProviderKind::Fargate
    };
    providers.push(Provider {
        name: name.to_owned(),
        kind,
        desired: 0,
        max: 0,
        alive: BTreeSet::new(),
        waiting: VecDeque::new(),
        warmup_until: Timestamp(i64::MIN),
        unanswered: BTreeMap::new(),
    });
    providers.len() - 1
}

/// The first multiple of `period` (since the epoch) at or after `at`.
fn align_up(at: Timestamp, period: Duration) -> Timestamp {
    let p = period.as_millis().max(1) as i64;
    Timestamp(at.0.div_euclid(p) * p + if at.0.rem_euclid(p) == 0 { 0 } else { p })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_round_trip() {
        let arn = TaskId(42).arn();
        assert_eq!(TaskId::from_arn(&arn), Some(TaskId(42)));
        assert_eq!(TaskId::from_arn("arn:aws:ecs:x:task/other"), None);
    }

    #[test]
    fn aligns_to_the_minute() {
        let minute = Duration::from_secs(60);
        assert_eq!(align_up(Timestamp(120_000), minute), Timestamp(120_000));
        assert_eq!(align_up(Timestamp(120_001), minute), Timestamp(180_000));
    }
}
