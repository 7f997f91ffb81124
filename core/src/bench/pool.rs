//! The benchmark worker pool: how many workers to start now.
//!
//! A worker is an ECS task running `bench-agent`; it takes one job at a time off the FIFO queue
//! and exits after `idle_exit` without work. The pool wants a free worker (idle, or still
//! booting) for every job waiting, plus the idle workers of the warm window open now, and never
//! more than `max_workers` live. Workers are never stopped from here: an idle one leaves by
//! itself, and stopping a busy one would break a run.

use std::collections::BTreeSet;

use rc_config::BenchPool;

use crate::warm::window_target;
use crate::Timestamp;

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
