//! Cluster scale-out: how many instances each Auto Scaling Group needs for the tasks waiting in
//! PROVISIONING.
//!
//! [`plan_capacity`] bin-packs the waiting tasks of each capacity provider onto, in this order,
//! the free capacity of the group's registered container instances (fullest first), the
//! instances already launching (counted in desired capacity but not registered yet), and only
//! then new instances of the group's instance type. The group's new desired capacity is
//! `min(max, current + new)`, and only ever rises: scale-in stays with the capacity provider,
//! whose managed termination protection knows which instances are busy. `current` is the larger
//! of desired capacity and the instances alive (in service or pending): instances above desired
//! capacity are about to be terminated, and a raise that counted their free capacity has to
//! keep them.
//!
//! The heuristic is first-fit decreasing, tasks sorted by their dominant share of an instance
//! (the larger of cpu / instance cpu and memory / instance memory). In one dimension it uses at
//! most 11/9 · optimal + 6/9 instances (Dósa, 2007); in two it has no such bound, but runner
//! tasks come in a few sizes, where it does well. It runs in `O(tasks × instances)` and, what
//! matters most here, depends only on the sequence of bins it is given. That makes the plan
//! idempotent: once the raise is applied, the new instances reappear as launching bins in the
//! same position, the same tasks land in them, and a second plan over the same tasks asks for
//! nothing.
//!
//! **Headroom.** While a warm window that asks for headroom is open, the plan also keeps free
//! room on its provider for as many tasks again as were launched onto it in the window's
//! `headroom` ([`headroom_tasks`]): a burst beyond the warm pools then starts in task-start
//! time, not instance-launch time. The room is demand-sized (no launches, no
//! headroom, so nights and quiet hours keep none), never above the group's max, and packed
//! after every waiting task, so it never takes room or an instance from one. It only raises
//! desired capacity; instances it keeps that stay empty go back through the capacity provider's
//! own scale-in.
//!
//! Per-task failures are values: a task whose provider has no observed group or that fits no
//! instance of its group is [`Unplaceable`]; a task that would fit but finds its group at max
//! waits in [`GroupPlan::at_max`] until capacity frees up.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::observed::{ObservedTask, Origin, TaskState};
use crate::{CpuUnits, MemMib, TaskSize, Timestamp};

/// A task waiting in PROVISIONING for its capacity provider to find it an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingTask {
    /// Task ARN.
    pub arn: String,
    /// Task-level cpu and memory.
    pub size: TaskSize,
    /// Capacity provider the task waits on; ECS sets it on every PROVISIONING task.
    pub capacity_provider: Option<String>,
    /// Add at least this many instances at once when this task needs a new one (`rc:min-step`).
    pub min_step: Option<u32>,
}

impl WaitingTask {
    /// The waiting view of `task`, or `None` when it is not in PROVISIONING.
    pub fn from_observed(task: &ObservedTask) -> Option<Self> {
        (task.state == TaskState::Provisioning).then(|| WaitingTask {
            arn: task.arn.clone(),
            size: task.size,
            capacity_provider: task.capacity_provider.clone(),
            min_step: task.min_step,
        })
    }
}

/// Prefix of the names of the stand-in tasks that [`headroom_tasks`] makes.
pub const HEADROOM_PREFIX: &str = "headroom:";

/// The room to keep free, as stand-in tasks. A live runner started while its class's window
/// asked for headroom ([`ObservedTask::headroom`]) keeps that window's headroom on its capacity
/// provider (the longest, if several do): one task of the same size per runner task (job or
/// warm) created on the provider within the headroom before `now`. Benchmark workers and tasks
/// without our origin tag neither keep headroom nor count; every deployment's runners on the
/// provider do, since they draw on the same instances.
pub fn headroom_tasks(live: &[ObservedTask], now: Timestamp) -> Vec<WaitingTask> {
    let runner = |t: &&ObservedTask| matches!(t.origin, Some(Origin::Job | Origin::Warm));
    let mut lookback: BTreeMap<&str, Duration> = BTreeMap::new();
    for task in live.iter().filter(runner) {
        if let (Some(provider), Some(headroom)) = (task.capacity_provider.as_deref(), task.headroom)
        {
            let longest = lookback.entry(provider).or_default();
            *longest = (*longest).max(headroom);
        }
    }
    live.iter()
        .filter(runner)
        .filter(|t| {
            t.capacity_provider
                .as_deref()
                .and_then(|p| lookback.get(p))
                .is_some_and(|&back| now.saturating_since(t.created_at) < back)
        })
        .map(|t| WaitingTask {
            arn: format!("{HEADROOM_PREFIX}{}", t.arn),
            size: t.size,
            capacity_provider: t.capacity_provider.clone(),
            min_step: None,
        })
        .collect()
}

/// One capacity provider's Auto Scaling Group as observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupObservation {
    /// Capacity provider name.
    pub capacity_provider: String,
    /// Auto Scaling Group name.
    pub group: String,
    /// Desired capacity.
    pub desired: u32,
    /// Maximum size; the plan never goes above it.
    pub max: u32,
    /// Instances in service.
    pub in_service: u32,
    /// Instances in a pending lifecycle state.
    pub pending: u32,
    /// Of the in-service and pending instances, how many have not registered with the cluster
    /// yet (booting); they will register with their whole capacity.
    pub unregistered: u32,
    /// What one instance offers to tasks (registered resources, i.e. after the ECS agent's
    /// reservation); `None` when neither an instance nor the configuration tells.
    pub instance_capacity: Option<TaskSize>,
    /// Remaining capacity of each active container instance of the group.
    pub free: Vec<TaskSize>,
}

impl GroupObservation {
    /// Instances counted in desired capacity that will still register with their whole
    /// capacity: booting ones plus those the group has not created yet.
    pub fn launching(&self) -> u32 {
        self.unregistered + self.desired.saturating_sub(self.in_service + self.pending)
    }
}

/// What to do about the waiting tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[must_use]
pub struct CapacityPlan {
    /// One entry per observed group that has waiting tasks, in observation order.
    pub groups: Vec<GroupPlan>,
    /// Tasks no group can take, sorted by ARN.
    pub unplaceable: Vec<Unplaceable>,
}

impl CapacityPlan {
    /// The groups whose desired capacity must rise, with the new value.
    pub fn raises(&self) -> impl Iterator<Item = (&GroupPlan, u32)> {
        self.groups
            .iter()
            .filter_map(|g| g.new_desired.map(|to| (g, to)))
    }
}

/// The outcome for one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupPlan {
    /// Capacity provider name.
    pub capacity_provider: String,
    /// Auto Scaling Group name.
    pub group: String,
    /// Desired capacity as observed.
    pub desired: u32,
    /// The new desired capacity, present only when it is higher than `desired`: at most `max`,
    /// and never below the instances alive.
    pub new_desired: Option<u32>,
    /// Tasks that fit the free capacity of registered instances.
    pub on_free: u32,
    /// Tasks that fit instances already launching.
    pub on_launching: u32,
    /// Tasks placed on the instances this plan adds: the cause of the raise.
    pub on_new: Vec<String>,
    /// Tasks that would fit an instance of the group but find it at max; they wait.
    pub at_max: Vec<String>,
    /// Instances the plan adds only for headroom, beyond those the waiting tasks need.
    pub for_headroom: u32,
}

/// A task no group can take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unplaceable {
    /// Task ARN.
    pub task: String,
    /// Why.
    pub reason: UnplaceableReason,
}

/// Why a task cannot be placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnplaceableReason {
    /// The task names no capacity provider.
    NoCapacityProvider,
    /// No Auto Scaling Group was observed for the task's capacity provider.
    UnknownCapacityProvider {
        /// The provider the task names.
        name: String,
    },
    /// The task does not fit free capacity and the group's instance capacity is unknown.
    UnknownInstanceCapacity {
        /// Auto Scaling Group name.
        group: String,
    },
    /// The task is larger than one instance of its group.
    TooLarge {
        /// What the task asks for.
        task: TaskSize,
        /// What one instance offers.
        instance: TaskSize,
    },
}

impl UnplaceableReason {
    /// A short stable name for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            UnplaceableReason::NoCapacityProvider => "no_capacity_provider",
            UnplaceableReason::UnknownCapacityProvider { .. } => "unknown_capacity_provider",
            UnplaceableReason::UnknownInstanceCapacity { .. } => "unknown_instance_capacity",
            UnplaceableReason::TooLarge { .. } => "too_large",
        }
    }
}

/// The field ECS binpacks runner tasks on when it places them on instances: CPU, the runners'
/// binding resource. Production asks for this placement strategy on every RunTask onto an EC2
/// capacity provider, and the simulator's ECS places tasks the same way, so the fragmentation
/// (and the instance-hours) the simulator shows is production's.
pub const BINPACK_FIELD: &str = "cpu";

/// Whether tasks of `capacity_provider` are placed on container instances (EC2 capacity
/// providers), where placement strategies apply; Fargate's providers take none.
pub fn places_on_instances(capacity_provider: &str) -> bool {
    !capacity_provider
        .to_ascii_uppercase()
        .starts_with("FARGATE")
}

/// Plans how far each group's desired capacity must rise for `tasks` to find an instance.
///
/// Tasks of a provider that appears twice in `groups` go to its first group. The result depends
/// only on the set of tasks, not their order.
pub fn plan_capacity(tasks: &[WaitingTask], groups: &[GroupObservation]) -> CapacityPlan {
    plan_with_headroom(tasks, &[], groups)
}

/// [`plan_capacity`], then room for `headroom` (see [`headroom_tasks`]) on what is left. A
/// group with only headroom to keep is planned too; headroom that does not fit (at max, or
/// too large) is dropped, never reported.
pub fn plan_with_headroom(
    tasks: &[WaitingTask],
    headroom: &[WaitingTask],
    groups: &[GroupObservation],
) -> CapacityPlan {
    let mut unplaceable = Vec::new();
    let mut by_group: BTreeMap<usize, (Vec<&WaitingTask>, Vec<&WaitingTask>)> = BTreeMap::new();
    for task in tasks {
        let Some(name) = &task.capacity_provider else {
            unplaceable.push(Unplaceable {
                task: task.arn.clone(),
                reason: UnplaceableReason::NoCapacityProvider,
            });
            continue;
        };
        match groups.iter().position(|g| &g.capacity_provider == name) {
            Some(index) => by_group.entry(index).or_default().0.push(task),
            None => unplaceable.push(Unplaceable {
                task: task.arn.clone(),
                reason: UnplaceableReason::UnknownCapacityProvider { name: name.clone() },
            }),
        }
    }
    for task in headroom {
        let index = groups
            .iter()
            .position(|g| Some(&g.capacity_provider) == task.capacity_provider.as_ref());
        if let Some(index) = index {
            by_group.entry(index).or_default().1.push(task);
        }
    }
    let groups = by_group
        .into_iter()
        .map(|(index, (tasks, headroom))| {
            let group = &groups[index];
            let mut packing = pack_group(group, tasks, headroom);
            unplaceable.append(&mut packing.unplaceable);
            packing.plan(group)
        })
        .collect();
    unplaceable.sort_by(|a, b| a.task.cmp(&b.task));
    CapacityPlan {
        groups,
        unplaceable,
    }
}

/// What kind of instance a bin stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum BinKind {
    /// A registered container instance with free capacity.
    Free,
    /// An instance counted in desired capacity that has not registered yet.
    Launching,
    /// An instance this plan adds.
    New,
}

/// One instance's capacity during packing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bin {
    kind: BinKind,
    /// Capacity before packing.
    start: TaskSize,
    /// Capacity left.
    room: TaskSize,
}

impl Bin {
    fn new(kind: BinKind, start: TaskSize) -> Self {
        Bin {
            kind,
            start,
            room: start,
        }
    }
}

/// Where a task landed inside one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Index into the group's bins.
    Bin(usize),
    AtMax,
    Unplaceable,
}

/// One group's packing, before it is summarised as a [`GroupPlan`].
struct GroupPacking<'t> {
    unplaceable: Vec<Unplaceable>,
    /// Every bin, in first-fit order, with its capacity left after packing.
    bins: Vec<Bin>,
    /// Each task with where it went.
    slots: Vec<(&'t WaitingTask, Slot)>,
    /// New bins the waiting tasks opened; any after them were opened for headroom.
    for_tasks: usize,
    /// How many bins existed before packing; the rest are new instances.
    existing: usize,
    /// How many instances the group may still add.
    addable: usize,
    /// The base of a raise: desired capacity or the instances alive, whichever is larger.
    current: u32,
}

fn pack_group<'t>(
    group: &GroupObservation,
    mut tasks: Vec<&'t WaitingTask>,
    mut headroom: Vec<&'t WaitingTask>,
) -> GroupPacking<'t> {
    let capacity = group.instance_capacity;
    let share = |size: TaskSize| capacity.map_or(0, |c| dominant_share(size, c));
    // Larger tasks first; the ARN makes the order, and so the plan, independent of input order.
    let order = |t: &&'t WaitingTask| {
        (
            Reverse(share(t.size)),
            Reverse(t.size.cpu),
            Reverse(t.size.memory),
            t.arn.clone(),
        )
    };
    tasks.sort_by_cached_key(order);
    headroom.sort_by_cached_key(order);

    // Fullest instances first, so partly used ones fill up before empty ones are touched. It
    // also puts a freshly registered, still empty instance in the same place as the launching
    // one it was a moment ago, which keeps the plan stable while instances register.
    let mut bins: Vec<Bin> = group
        .free
        .iter()
        .map(|&f| Bin::new(BinKind::Free, f))
        .collect();
    if let Some(capacity) = capacity {
        bins.extend((0..group.launching()).map(|_| Bin::new(BinKind::Launching, capacity)));
    }
    bins.sort_by_key(|b| (share(b.room), b.room.cpu, b.room.memory, b.kind));
    let existing = bins.len();
    let current = group.desired.max(group.in_service + group.pending);
    let addable = group.max.saturating_sub(current) as usize;

    let mut unplaceable = Vec::new();
    let mut slots = Vec::with_capacity(tasks.len());
    for task in tasks {
        let slot = match bins.iter().position(|b| fits(task.size, b.room)) {
            Some(bin) => Slot::Bin(bin),
            None => {
                let reason = match capacity {
                    None => Some(UnplaceableReason::UnknownInstanceCapacity {
                        group: group.group.clone(),
                    }),
                    Some(instance) if !fits(task.size, instance) => {
                        Some(UnplaceableReason::TooLarge {
                            task: task.size,
                            instance,
                        })
                    }
                    Some(_) => None,
                };
                match (reason, capacity) {
                    (Some(reason), _) => {
                        unplaceable.push(Unplaceable {
                            task: task.arn.clone(),
                            reason,
                        });
                        Slot::Unplaceable
                    }
                    (None, Some(instance)) if bins.len() - existing < addable => {
                        bins.push(Bin::new(BinKind::New, instance));
                        Slot::Bin(bins.len() - 1)
                    }
                    (None, _) => Slot::AtMax,
                }
            }
        };
        if let Slot::Bin(bin) = slot {
            bins[bin].room = take(bins[bin].room, task.size);
        }
        slots.push((task, slot));
    }
    // Headroom takes what the waiting tasks left, and may open new instances within max.
    let needed = bins.len();
    for task in headroom {
        let bin = match (bins.iter().position(|b| fits(task.size, b.room)), capacity) {
            (Some(bin), _) => Some(bin),
            (None, Some(instance))
                if fits(task.size, instance) && bins.len() - existing < addable =>
            {
                bins.push(Bin::new(BinKind::New, instance));
                Some(bins.len() - 1)
            }
            // No room within max: headroom is a wish, never a wait.
            (None, _) => None,
        };
        if let Some(bin) = bin {
            bins[bin].room = take(bins[bin].room, task.size);
        }
    }

    GroupPacking {
        unplaceable,
        for_tasks: needed - existing,
        bins,
        slots,
        existing,
        addable,
        current,
    }
}

impl GroupPacking<'_> {
    fn plan(&self, group: &GroupObservation) -> GroupPlan {
        let mut plan = GroupPlan {
            capacity_provider: group.capacity_provider.clone(),
            group: group.group.clone(),
            desired: group.desired,
            new_desired: None,
            on_free: 0,
            on_launching: 0,
            on_new: Vec::new(),
            at_max: Vec::new(),
            for_headroom: 0,
        };
        let mut step = 0;
        for (task, slot) in &self.slots {
            match slot {
                Slot::Bin(bin) => match self.bins[*bin].kind {
                    BinKind::Free => plan.on_free += 1,
                    BinKind::Launching => plan.on_launching += 1,
                    BinKind::New => {
                        plan.on_new.push(task.arn.clone());
                        step = step.max(task.min_step.unwrap_or(0) as usize);
                    }
                },
                Slot::AtMax => plan.at_max.push(task.arn.clone()),
                Slot::Unplaceable => {}
            }
        }
        let added = (self.bins.len() - self.existing)
            .max(step)
            .min(self.addable);
        plan.for_headroom = (added - self.for_tasks.max(step).min(self.addable)) as u32;
        if added > 0 {
            plan.new_desired = Some(self.current + added as u32);
        }
        plan
    }
}

/// `max(cpu / instance cpu, memory / instance memory)`, scaled by the product of the instance's
/// cpu and memory so that comparing two shares stays exact integer arithmetic.
fn dominant_share(task: TaskSize, instance: TaskSize) -> u64 {
    let cpu = u64::from(task.cpu.0) * u64::from(instance.memory.0);
    let memory = u64::from(task.memory.0) * u64::from(instance.cpu.0);
    cpu.max(memory)
}

fn fits(task: TaskSize, room: TaskSize) -> bool {
    task.cpu <= room.cpu && task.memory <= room.memory
}

fn take(room: TaskSize, task: TaskSize) -> TaskSize {
    TaskSize {
        cpu: CpuUnits(room.cpu.0 - task.cpu.0),
        memory: MemMib(room.memory.0 - task.memory.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn size(cpu: u32, memory: u32) -> TaskSize {
        TaskSize {
            cpu: CpuUnits(cpu),
            memory: MemMib(memory),
        }
    }

    /// An `m5.large`-like instance: 2 vCPU, 7.5 GiB after the agent's reservation.
    const LARGE: TaskSize = TaskSize {
        cpu: CpuUnits(2048),
        memory: MemMib(7680),
    };

    fn task(arn: &str, cpu: u32, memory: u32, provider: &str) -> WaitingTask {
        WaitingTask {
            arn: arn.into(),
            size: size(cpu, memory),
            capacity_provider: Some(provider.into()),
            min_step: None,
        }
    }

    fn group(provider: &str) -> GroupObservation {
        GroupObservation {
            capacity_provider: provider.into(),
            group: format!("asg-{provider}"),
            desired: 0,
            max: 10,
            in_service: 0,
            pending: 0,
            unregistered: 0,
            instance_capacity: Some(LARGE),
            free: Vec::new(),
        }
    }

    /// The observation after the plan's raises, before the group has created anything.
    fn applied(groups: &[GroupObservation], plan: &CapacityPlan) -> Vec<GroupObservation> {
        let mut after = groups.to_vec();
        for (raise, to) in plan.raises() {
            let g = after
                .iter_mut()
                .find(|g| g.group == raise.group)
                .expect("raise names a group");
            g.desired = to;
        }
        after
    }

    #[test]
    fn packs_onto_new_instances_by_size() {
        let tasks: Vec<_> = (0..5)
            .map(|i| task(&format!("t{i}"), 1024, 2048, "cp"))
            .collect();
        let plan = plan_capacity(&tasks, &[group("cp")]);
        assert_eq!(plan.groups[0].new_desired, Some(3));
        assert_eq!(plan.groups[0].on_new.len(), 5);
    }

    #[test]
    fn free_capacity_first_then_launching() {
        let g = GroupObservation {
            desired: 3,
            in_service: 2,
            pending: 0,
            free: vec![size(1024, 4096), size(0, 0)],
            ..group("cp")
        };
        let tasks: Vec<_> = (0..4)
            .map(|i| task(&format!("t{i}"), 1024, 2048, "cp"))
            .collect();
        let plan = plan_capacity(&tasks, &[g]);
        let p = &plan.groups[0];
        assert_eq!((p.on_free, p.on_launching, p.on_new.len()), (1, 2, 1));
        assert_eq!(p.new_desired, Some(4));
    }

    #[test]
    fn booting_instances_count_as_launching() {
        let g = GroupObservation {
            desired: 1,
            in_service: 1,
            unregistered: 1,
            ..group("cp")
        };
        let plan = plan_capacity(&[task("t", 2048, 4096, "cp")], &[g]);
        assert_eq!(plan.groups[0].on_launching, 1);
        assert_eq!(plan.groups[0].new_desired, None);
    }

    #[test]
    fn min_step_adds_instances_at_once() {
        let mut t = task("t", 512, 1024, "cp");
        t.min_step = Some(4);
        let plan = plan_capacity(&[t.clone()], &[group("cp")]);
        assert_eq!(plan.groups[0].new_desired, Some(4));

        // A task that fits an existing instance does not trigger its step.
        let g = GroupObservation {
            desired: 1,
            in_service: 1,
            free: vec![LARGE],
            ..group("cp")
        };
        assert_eq!(plan_capacity(&[t], &[g]).groups[0].new_desired, None);
    }

    #[test]
    fn stops_at_max_and_reports_waiting() {
        let g = GroupObservation {
            desired: 1,
            max: 2,
            in_service: 1,
            ..group("cp")
        };
        let tasks: Vec<_> = (0..3)
            .map(|i| task(&format!("t{i}"), 2048, 1024, "cp"))
            .collect();
        let plan = plan_capacity(&tasks, &[g]);
        assert_eq!(plan.groups[0].new_desired, Some(2));
        assert_eq!(plan.groups[0].at_max.len(), 2);
        assert!(plan.unplaceable.is_empty());
    }

    #[test]
    fn reports_unplaceable_tasks() {
        let mut no_provider = task("a", 256, 512, "cp");
        no_provider.capacity_provider = None;
        let tasks = [
            no_provider,
            task("b", 256, 512, "FARGATE"),
            task("c", 4096, 512, "cp"),
            task("d", 256, 512, "unknown-size"),
        ];
        let unknown = GroupObservation {
            instance_capacity: None,
            ..group("unknown-size")
        };
        let plan = plan_capacity(&tasks, &[group("cp"), unknown]);
        let labels: Vec<_> = plan.unplaceable.iter().map(|u| u.reason.label()).collect();
        assert_eq!(
            labels,
            [
                "no_capacity_provider",
                "unknown_capacity_provider",
                "too_large",
                "unknown_instance_capacity"
            ]
        );
        assert!(plan.raises().next().is_none());
    }

    #[test]
    fn never_lowers_desired() {
        let g = GroupObservation {
            desired: 5,
            in_service: 5,
            free: vec![LARGE; 5],
            ..group("cp")
        };
        assert_eq!(
            plan_capacity(&[task("t", 1, 1, "cp")], &[g]).groups[0].new_desired,
            None
        );
    }

    // Property tests.

    const PROVIDERS: [&str; 4] = ["small", "large", "xlarge", "arm"];
    const INSTANCE_TYPES: [TaskSize; 3] = [
        TaskSize {
            cpu: CpuUnits(2048),
            memory: MemMib(3760),
        },
        TaskSize {
            cpu: CpuUnits(4096),
            memory: MemMib(15_580),
        },
        TaskSize {
            cpu: CpuUnits(8192),
            memory: MemMib(31_390),
        },
    ];
    /// Common Fargate-like task sizes, plus one that fits no instance type above.
    const TASK_SIZES: [(u32, u32); 7] = [
        (256, 512),
        (512, 1024),
        (1024, 2048),
        (1024, 3072),
        (2048, 4096),
        (4096, 8192),
        (16_384, 65_536),
    ];

    fn arb_group(provider: &'static str) -> impl Strategy<Value = GroupObservation> {
        (
            0usize..INSTANCE_TYPES.len(),
            0u32..6,
            0u32..12,
            0u32..4,
            0u32..4,
            0u32..3,
            proptest::collection::vec((0u32..=100, 0u32..=100), 0..6),
        )
            .prop_map(
                move |(ty, desired, extra_max, in_service, pending, unregistered, free)| {
                    let capacity = INSTANCE_TYPES[ty];
                    let live = in_service + pending;
                    let registered = (live - unregistered.min(live)) as usize;
                    GroupObservation {
                        capacity_provider: provider.into(),
                        group: format!("asg-{provider}"),
                        desired,
                        max: desired + extra_max,
                        in_service,
                        pending,
                        unregistered: unregistered.min(live),
                        instance_capacity: Some(capacity),
                        free: free
                            .into_iter()
                            .take(registered)
                            .map(|(c, m)| {
                                size(capacity.cpu.0 * c / 100, capacity.memory.0 * m / 100)
                            })
                            .collect(),
                    }
                },
            )
    }

    fn arb_groups() -> impl Strategy<Value = Vec<GroupObservation>> {
        proptest::sample::subsequence(PROVIDERS.to_vec(), 1..=PROVIDERS.len())
            .prop_flat_map(|names| names.into_iter().map(arb_group).collect::<Vec<_>>())
    }

    fn arb_tasks() -> impl Strategy<Value = Vec<WaitingTask>> {
        proptest::collection::vec(
            (
                0usize..TASK_SIZES.len(),
                // The last index names a provider without a group.
                0usize..=PROVIDERS.len(),
                prop_oneof![4 => Just(None), 1 => (1u32..5).prop_map(Some)],
            ),
            0..60,
        )
        .prop_map(|specs| {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (s, p, min_step))| WaitingTask {
                    arn: format!("arn:aws:ecs:eu-west-1:123456789012:task/c/{i:04}"),
                    size: size(TASK_SIZES[s].0, TASK_SIZES[s].1),
                    capacity_provider: Some(PROVIDERS.get(p).unwrap_or(&"gone").to_string()),
                    min_step,
                })
                .collect()
        })
    }

    fn tasks_of<'t>(tasks: &'t [WaitingTask], group: &GroupObservation) -> Vec<&'t WaitingTask> {
        tasks
            .iter()
            .filter(|t| t.capacity_provider.as_deref() == Some(group.capacity_provider.as_str()))
            .collect()
    }

    /// Lifts every max so that it never binds.
    fn unbounded(groups: &[GroupObservation]) -> Vec<GroupObservation> {
        groups
            .iter()
            .map(|g| GroupObservation {
                max: u32::MAX / 2,
                ..g.clone()
            })
            .collect()
    }

    fn observed(arn: &str, origin: Origin, provider: &str, age_secs: i64) -> ObservedTask {
        ObservedTask {
            arn: arn.into(),
            state: TaskState::Running,
            size: size(1024, 2048),
            capacity_provider: Some(provider.into()),
            created_at: Timestamp(1_000_000 - age_secs * 1000),
            boot_started_at: None,
            controller: Some("c".into()),
            class: Some("small".into()),
            job_id: None,
            runner_name: None,
            origin: Some(origin),
            min_step: None,
            headroom: (origin == Origin::Warm).then_some(Duration::from_secs(60)),
            jit_parameter: None,
        }
    }

    #[test]
    fn headroom_follows_recent_launches_where_a_window_asks_for_it() {
        let mut no_headroom = observed("warm-plain", Origin::Warm, "quiet", 600);
        no_headroom.headroom = None;
        let mut job_keeps = observed("job-keeps", Origin::Job, "busy", 600);
        job_keeps.headroom = Some(Duration::from_secs(30));
        let live = [
            no_headroom,
            observed("job-quiet", Origin::Job, "quiet", 5),
            // A job runner started in a window with headroom keeps it too.
            job_keeps,
            observed("job-busy", Origin::Job, "busy", 29),
            observed("warm-old", Origin::Warm, "cp", 600),
            observed("job-new", Origin::Job, "cp", 10),
            observed("warm-new", Origin::Warm, "cp", 59),
            observed("job-old", Origin::Job, "cp", 60),
            observed("bench-new", Origin::Bench, "cp", 5),
            // No runner on this provider asks for headroom: its windows are closed.
            observed("job-elsewhere", Origin::Job, "other", 5),
        ];
        let mut arns: Vec<String> = headroom_tasks(&live, Timestamp(1_000_000))
            .into_iter()
            .map(|t| t.arn)
            .collect();
        arns.sort();
        assert_eq!(
            arns,
            ["headroom:job-busy", "headroom:job-new", "headroom:warm-new"]
        );
    }

    #[test]
    fn headroom_opens_instances_only_after_the_waiting_tasks() {
        let g = GroupObservation {
            desired: 1,
            max: 3,
            in_service: 1,
            free: vec![size(1024, 4096)],
            ..group("cp")
        };
        let waiting = [task("t", 2048, 4096, "cp")];
        let headroom = [
            task("headroom:a", 1024, 2048, "cp"),
            task("headroom:b", 2048, 2048, "cp"),
        ];
        let plan = plan_with_headroom(&waiting, &headroom, std::slice::from_ref(&g));
        let p = &plan.groups[0];
        // The waiting task opens one instance; `a` fits the free room, `b` opens another.
        assert_eq!((p.on_free, p.on_new.len(), p.for_headroom), (0, 1, 1));
        assert_eq!(p.new_desired, Some(3));
        // At max, headroom is dropped and the waiting task keeps its place.
        let full = GroupObservation {
            max: 2,
            ..g.clone()
        };
        let p = &plan_with_headroom(&waiting, &headroom, &[full]).groups[0];
        assert_eq!(
            (p.new_desired, p.for_headroom, p.at_max.len()),
            (Some(2), 0, 0)
        );
        // With nothing waiting, headroom alone plans the group.
        let p = &plan_with_headroom(&[], &headroom, &[g]).groups[0];
        assert_eq!((p.new_desired, p.for_headroom), (Some(2), 1));
        assert!(p.on_new.is_empty());
    }

    proptest! {
        #[test]
        fn headroom_never_changes_what_the_waiting_tasks_get(
            groups in arb_groups(),
            tasks in arb_tasks(),
            headroom in arb_tasks(),
        ) {
            let without = plan_capacity(&tasks, &groups);
            let with = plan_with_headroom(&tasks, &headroom, &groups);
            prop_assert_eq!(&with.unplaceable, &without.unplaceable);
            for g in &with.groups {
                let observed = groups.iter().find(|o| o.group == g.group).expect("observed");
                prop_assert!(g.new_desired.is_none_or(|to| to > observed.desired && to <= observed.max));
                match without.groups.iter().find(|w| w.group == g.group) {
                    Some(w) => {
                        prop_assert_eq!((g.on_free, g.on_launching), (w.on_free, w.on_launching));
                        prop_assert_eq!((&g.on_new, &g.at_max), (&w.on_new, &w.at_max));
                        prop_assert!(g.new_desired.unwrap_or(0) >= w.new_desired.unwrap_or(0));
                    }
                    None => prop_assert!(g.on_new.is_empty() && g.at_max.is_empty()),
                }
            }
            // Once applied, the same demand asks for nothing more.
            let after = applied(&groups, &with);
            prop_assert_eq!(plan_with_headroom(&tasks, &headroom, &after).raises().count(), 0);
        }

        #[test]
        fn never_over_max_never_decreasing(groups in arb_groups(), tasks in arb_tasks()) {
            let plan = plan_capacity(&tasks, &groups);
            for (g, to) in plan.raises() {
                let observed = groups.iter()
                    .find(|o| o.group == g.group)
                    .expect("plan names a group");
                prop_assert!(to > observed.desired);
                prop_assert!(to <= observed.max);
            }
        }

        #[test]
        fn every_task_is_placed_waiting_or_reported(groups in arb_groups(), tasks in arb_tasks()) {
            let plan = plan_capacity(&tasks, &groups);
            let accounted: u32 = plan.groups.iter()
                .map(|g| g.on_free + g.on_launching + (g.on_new.len() + g.at_max.len()) as u32)
                .sum::<u32>() + plan.unplaceable.len() as u32;
            prop_assert_eq!(accounted as usize, tasks.len());
        }

        #[test]
        fn enough_capacity_when_max_allows(groups in arb_groups(), tasks in arb_tasks()) {
            let groups = unbounded(&groups);
            let plan = plan_capacity(&tasks, &groups);
            for g in &plan.groups {
                prop_assert!(g.at_max.is_empty());
                // The raise covers every instance the packing opened.
                let observed = groups.iter()
                    .find(|o| o.group == g.group)
                    .expect("plan names a group");
                let packing = pack_group(observed, tasks_of(&tasks, observed), Vec::new());
                let opened = packing.bins.iter().filter(|b| b.kind == BinKind::New).count() as u32;
                let current = observed.desired.max(observed.in_service + observed.pending);
                if opened > 0 {
                    prop_assert!(g.new_desired.is_some_and(|to| to >= current + opened));
                }
            }
            for u in &plan.unplaceable {
                let task = tasks.iter().find(|t| t.arn == u.task).expect("reported task exists");
                let provider = task.capacity_provider.as_deref();
                match groups.iter().find(|g| Some(g.capacity_provider.as_str()) == provider) {
                    Some(g) => {
                        let instance = g.instance_capacity.expect("always set by arb_group");
                        prop_assert!(!fits(task.size, instance));
                    }
                    None => prop_assert_eq!(u.reason.label(), "unknown_capacity_provider"),
                }
            }
        }

        #[test]
        fn never_packs_beyond_instance_capacity(groups in arb_groups(), tasks in arb_tasks()) {
            for g in &groups {
                let packing = pack_group(g, tasks_of(&tasks, g), Vec::new());
                let capacity = g.instance_capacity.expect("always set by arb_group");
                let count = |kind| packing.bins.iter().filter(|b| b.kind == kind).count();
                prop_assert_eq!(count(BinKind::Free), g.free.len());
                prop_assert_eq!(count(BinKind::Launching), g.launching() as usize);
                for (index, bin) in packing.bins.iter().enumerate() {
                    if bin.kind != BinKind::Free {
                        prop_assert_eq!(bin.start, capacity);
                    }
                    let (cpu, memory) = packing.slots.iter()
                        .filter(|(_, slot)| *slot == Slot::Bin(index))
                        .fold((0, 0), |(c, m), (t, _)| (c + t.size.cpu.0, m + t.size.memory.0));
                    prop_assert!(cpu <= bin.start.cpu.0 && memory <= bin.start.memory.0);
                    let left = size(bin.start.cpu.0 - cpu, bin.start.memory.0 - memory);
                    prop_assert_eq!(bin.room, left);
                }
            }
        }

        #[test]
        fn idempotent_once_applied(
            groups in arb_groups(),
            tasks in arb_tasks(),
            created in 0u32..4,
            registered in 0u32..4,
        ) {
            let plan = plan_capacity(&tasks, &groups);
            let mut after = applied(&groups, &plan);
            // The group may already have created some of the new instances, and some of those
            // may have registered, still empty, before ECS placed anything on them.
            for g in &mut after {
                let new = g.desired.saturating_sub(g.in_service + g.pending).min(created);
                let empty = new.min(registered);
                g.pending += new;
                g.unregistered += new - empty;
                let capacity = g.instance_capacity.expect("always set by arb_group");
                g.free.extend((0..empty).map(|_| capacity));
            }
            let again = plan_capacity(&tasks, &after);
            prop_assert_eq!(again.raises().count(), 0);
            prop_assert_eq!(&again.unplaceable, &plan.unplaceable);
            let waiting = |p: &CapacityPlan| {
                p.groups.iter().map(|g| g.at_max.clone()).collect::<Vec<_>>()
            };
            prop_assert_eq!(waiting(&again), waiting(&plan));
        }

        #[test]
        fn independent_of_task_order(groups in arb_groups(), mut tasks in arb_tasks()) {
            let plan = plan_capacity(&tasks, &groups);
            tasks.reverse();
            prop_assert_eq!(plan_capacity(&tasks, &groups), plan);
        }
    }
}
