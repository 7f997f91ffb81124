//! The benchmark worker pool: which workers are stuck in their boot, and how many to start now.
//!
//! A worker is an ECS task running `bench-agent`; it takes one job at a time off the FIFO queue
//! and exits after `idle_exit` without work. The pool wants a free worker (idle, or still
//! booting) for every job waiting, plus the idle workers of the warm window open now, and never
//! more than `max_workers` live. An idle worker leaves by itself, and stopping a busy one would
//! break a run, so the only workers stopped from here are those stuck in their boot
//! ([`stuck_workers`]): their task left PROVISIONING but its container never started running.
//!
//! A worker records nothing of itself (its job names no task), so a RUNNING worker may be
//! running a job and is never judged stuck: one that runs but takes no work exits after
//! `idle_exit`. A worker still PROVISIONING is waiting for capacity, which the cluster
//! autoscaler adds; stopping it would only put its replacement at the back of the same wait.
//! The boot is timed as the runner reaper times it ([`crate::reaper`]): from ECS
//! `pullStartedAt` (or `startedAt`), else from the task's creation.

use std::collections::BTreeSet;
use std::time::Duration;

use rc_config::BenchPool;
use serde::Serialize;

use crate::observed::{ObservedTask, Origin, TaskState};
use crate::warm::window_target;
use crate::Timestamp;

/// A worker whose container never started running within the boot timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use]
pub struct StuckWorker {
    /// Task ARN: what `ecs:StopTask` takes.
    pub task_arn: String,
    /// Where its boot stopped (PENDING or ACTIVATING).
    pub state: TaskState,
    /// Time since its boot began.
    pub age: Duration,
}

/// The benchmark workers among `tasks` stuck in their boot at `now`: past PROVISIONING, not
/// yet RUNNING, for at least `boot_timeout` (see the module docs for what is never stuck).
/// Stopping them cannot break a run: no container of theirs has run.
pub fn stuck_workers(
    tasks: &[ObservedTask],
    now: Timestamp,
    boot_timeout: Duration,
) -> Vec<StuckWorker> {
    tasks
        .iter()
        .filter(|t| t.origin == Some(Origin::Bench) && is_booting(t.state))
        .filter_map(|t| {
            let age = t.boot_age(now);
            (age >= boot_timeout).then(|| StuckWorker {
                task_arn: t.arn.clone(),
                state: t.state,
                age,
            })
        })
        .collect()
}

/// Placed, and its container not started yet.
fn is_booting(state: TaskState) -> bool {
    matches!(state, TaskState::Pending | TaskState::Activating)
}

/// The pool as observed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Workers {
    /// Live worker tasks, booting ones included.
    pub live: u32,
    /// Jobs running now: one busy worker each.
    pub busy: u32,
}

/// How many workers to start at `now` for `waiting` jobs.
pub fn workers_to_start(pool: &BenchPool, now: Timestamp, waiting: u32, workers: Workers) -> u32 {
    let warm = window_target(&pool.warm, &BTreeSet::new(), now);
    let free = workers.live.saturating_sub(workers.busy);
    let short = waiting.saturating_add(warm).saturating_sub(free);
    short.min(pool.max_workers.saturating_sub(workers.live))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rc_config::{CpuUnits, MemMib, TaskSize};
    use std::time::Duration;

    fn pool(max_workers: u32) -> BenchPool {
        BenchPool {
            task_definition: "bench".into(),
            container: "bench".into(),
            size: TaskSize {
                cpu: CpuUnits(4096),
                memory: MemMib(8192),
            },
            capacity_provider: "cp-amd64".into(),
            max_workers,
            deadline: Duration::from_secs(90),
            command: vec!["/opt/bench/run".into()],
            idle_exit: Duration::from_secs(300),
            warm: Vec::new(),
        }
    }

    const NOW: Timestamp = Timestamp(1_765_000_000_000);
    const MIN: Duration = Duration::from_secs(60);

    fn worker(name: &str, state: TaskState, age: Duration) -> ObservedTask {
        ObservedTask {
            arn: format!("arn:task/{name}"),
            state,
            size: TaskSize::default(),
            capacity_provider: None,
            created_at: NOW - age,
            boot_started_at: None,
            controller: Some("test".into()),
            class: None,
            job_id: None,
            runner_name: None,
            origin: Some(Origin::Bench),
            min_step: None,
            headroom: None,
            jit_parameter: None,
        }
    }

    const STATES: [TaskState; 8] = [
        TaskState::Provisioning,
        TaskState::Pending,
        TaskState::Activating,
        TaskState::Running,
        TaskState::Deactivating,
        TaskState::Stopping,
        TaskState::Deprovisioning,
        TaskState::Stopped,
    ];

    #[test]
    fn only_workers_placed_and_not_running_past_the_timeout_are_stuck() {
        let mut capacity_wait_then_pull = worker("pulled-late", TaskState::Pending, 30 * MIN);
        capacity_wait_then_pull.boot_started_at = Some(NOW - 2 * MIN);
        let mut runner = worker("runner", TaskState::Pending, 30 * MIN);
        runner.origin = Some(Origin::Job);
        let tasks = [
            worker("pulling", TaskState::Pending, 11 * MIN),
            worker("attaching", TaskState::Activating, 10 * MIN),
            worker("fresh", TaskState::Pending, 9 * MIN),
            worker("waiting-for-capacity", TaskState::Provisioning, 60 * MIN),
            worker("maybe-busy", TaskState::Running, 60 * MIN),
            worker("leaving", TaskState::Stopping, 60 * MIN),
            capacity_wait_then_pull,
            runner,
        ];
        let stuck = stuck_workers(&tasks, NOW, 10 * MIN);
        let arns: Vec<&str> = stuck.iter().map(|s| s.task_arn.as_str()).collect();
        assert_eq!(arns, ["arn:task/pulling", "arn:task/attaching"]);
        assert_eq!(stuck[0].age, 11 * MIN);
        assert_eq!(stuck[0].state, TaskState::Pending);
    }

    #[test]
    fn a_free_worker_per_waiting_job_within_the_maximum() {
        let workers = |live, busy| Workers { live, busy };
        assert_eq!(workers_to_start(&pool(20), NOW, 3, workers(0, 0)), 3);
        assert_eq!(workers_to_start(&pool(20), NOW, 3, workers(2, 0)), 1);
        assert_eq!(workers_to_start(&pool(20), NOW, 3, workers(2, 2)), 3);
        assert_eq!(workers_to_start(&pool(4), NOW, 3, workers(2, 2)), 2);
        assert_eq!(workers_to_start(&pool(20), NOW, 0, workers(5, 1)), 0);
    }

    proptest! {
        #[test]
        fn stuck_means_booting_bench_and_past_the_timeout(
            specs in proptest::collection::vec(
                (0usize..8, 0u32..120, proptest::option::of(0u32..120), any::<bool>()),
                0..12,
            ),
            timeout_min in 1u32..60,
        ) {
            let tasks: Vec<ObservedTask> = specs
                .iter()
                .enumerate()
                .map(|(i, &(state, age, boot, bench))| {
                    let mut t = worker(&i.to_string(), STATES[state], MIN * age);
                    t.boot_started_at = boot.map(|b| NOW - MIN * b);
                    if !bench {
                        t.origin = Some(Origin::Warm);
                        t.class = Some("large".into());
                    }
                    t
                })
                .collect();
            let timeout = MIN * timeout_min;
            let stuck = stuck_workers(&tasks, NOW, timeout);
            for task in &tasks {
                let booted_for = NOW.saturating_since(task.boot_started_at.unwrap_or(task.created_at));
                let expected = task.origin == Some(Origin::Bench)
                    && matches!(task.state, TaskState::Pending | TaskState::Activating)
                    && booted_for >= timeout;
                let found = stuck.iter().any(|s| s.task_arn == task.arn);
                prop_assert_eq!(found, expected, "{:?}", task);
                // A worker that may be running a job is never stopped.
                if task.state == TaskState::Running {
                    prop_assert!(!found);
                }
            }
            // Stopping the stuck frees their slots: the pool may start their replacements.
            let live = u32::try_from(tasks.iter().filter(|t| t.state.is_live() && t.origin == Some(Origin::Bench)).count()).unwrap_or(u32::MAX);
            let stopped = u32::try_from(stuck.len()).unwrap_or(u32::MAX);
            let after = Workers { live: live - stopped, busy: 0 };
            let start = workers_to_start(&pool(live), NOW, live, after);
            prop_assert_eq!(start, stopped);
        }

        #[test]
        fn never_above_max_and_never_short_when_there_is_room(
            max in 0u32..50, live in 0u32..60, busy in 0u32..60, waiting in 0u32..100,
        ) {
            let busy = busy.min(live);
            let start = workers_to_start(&pool(max), NOW, waiting, Workers { live, busy });
            prop_assert!(live + start <= max.max(live));
            if live + start < max {
                prop_assert!(live - busy + start >= waiting);
            }
        }
    }
}
