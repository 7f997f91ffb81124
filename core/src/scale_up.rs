//! How many runners to start for the queued jobs of one class.
//!
//! Level-triggered: the decision is recomputed from what is observed (idle runners, booting
//! tasks and whom they were started for), so a duplicated, reordered or re-driven message
//! converges on the same answer instead of launching again.
//!
//! Coverage rules:
//! - a booting task started *for* a job covers that job only (and its re-checks);
//! - an idle registered runner covers any one job of the class, because GitHub hands a queued job
//!   to an idle runner whose labels fit at once — so the next observation no longer shows it idle;
//! - a booting warm task covers nothing: nothing is assigned to it until it registers, so every
//!   batch in the meantime would count it again, and the extra jobs would wait for the re-check.
//!   Launching for them instead costs an idle runner that the warm-pool trim removes later (the
//!   simulator's business-day scenario halves p95 pickup this way for about 7% more cost);
//! - everything else needs a launch, as long as the class stays within `max_runners`.

use std::collections::BTreeSet;

use serde::Serialize;

/// A workflow job id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct JobId(pub u64);

/// What is observed of one class right now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassState {
    /// Registered runners that are online and not busy.
    pub idle_runners: u32,
    /// Booting tasks started for these jobs.
    pub booting_for: BTreeSet<JobId>,
    /// Every live task of the class, whatever its state: what `max_runners` bounds.
    pub live_tasks: u32,
}

impl ClassState {
    /// Whether [`plan_scale_up`] may count `job` as covered: an idle runner may take it, or its
    /// own task is booting. When not, no plan over this state leaves `job` waiting for a runner.
    pub fn may_cover(&self, job: JobId) -> bool {
        self.idle_runners > 0 || self.booting_for.contains(&job)
    }
}

/// A job waiting for a runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedJob {
    /// The job.
    pub job_id: JobId,
    /// 0 for the webhook's message, n for the n-th re-check.
    pub attempt: u32,
}

/// What to do for one queued job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[must_use]
pub enum JobDecision {
    /// Start a runner for the job; the attempt feeds the RunTask client token.
    Launch,
    /// A task started for this job is still booting.
    CoveredByOwnTask,
    /// An idle registered runner will take it.
    CoveredByIdle,
    /// The same job appeared earlier in this batch.
    Duplicate,
    /// The class is at `max_runners`; try again later.
    AtCapacity,
}

impl JobDecision {
    /// A short stable name for logs and metrics.
    pub fn reason(self) -> &'static str {
        match self {
            JobDecision::Launch => "launch",
            JobDecision::CoveredByOwnTask => "covered_by_own_task",
            JobDecision::CoveredByIdle => "covered_by_idle",
            JobDecision::Duplicate => "duplicate",
            JobDecision::AtCapacity => "at_capacity",
        }
    }
}

/// Decides, job by job in the given order, whether to start a runner.
///
/// Never lets `state.live_tasks` plus the launches exceed `max_runners`; each idle runner covers
/// at most one job.
pub fn plan_scale_up(
    max_runners: u32,
    state: &ClassState,
    jobs: &[QueuedJob],
) -> Vec<(QueuedJob, JobDecision)> {
    let mut spare = state.idle_runners;
    let mut room = max_runners.saturating_sub(state.live_tasks);
    let mut seen = BTreeSet::new();
    jobs.iter()
        .map(|&job| {
            let decision = if !seen.insert(job.job_id) {
                JobDecision::Duplicate
            } else if state.booting_for.contains(&job.job_id) {
                JobDecision::CoveredByOwnTask
            } else if spare > 0 {
                spare -= 1;
                JobDecision::CoveredByIdle
            } else if room > 0 {
                room -= 1;
                JobDecision::Launch
            } else {
                JobDecision::AtCapacity
            };
            (job, decision)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::{ClassView, ObservedRunner, ObservedTask, Origin};
    use proptest::prelude::*;

    fn jobs(ids: &[u64]) -> Vec<QueuedJob> {
        ids.iter()
            .map(|&id| QueuedJob {
                job_id: JobId(id),
                attempt: 0,
            })
            .collect()
    }

    fn launches(plan: &[(QueuedJob, JobDecision)]) -> usize {
        plan.iter()
            .filter(|(_, d)| *d == JobDecision::Launch)
            .count()
    }

    #[test]
    fn idle_runner_covers_one_job() {
        let state = ClassState {
            idle_runners: 1,
            live_tasks: 1,
            ..Default::default()
        };
        let plan = plan_scale_up(10, &state, &jobs(&[1, 2]));
        assert_eq!(plan[0].1, JobDecision::CoveredByIdle);
        assert_eq!(plan[1].1, JobDecision::Launch);
    }

    #[test]
    fn own_booting_task_covers_its_job_only() {
        let state = ClassState {
            booting_for: [JobId(1)].into(),
            live_tasks: 1,
            ..Default::default()
        };
        let plan = plan_scale_up(10, &state, &jobs(&[1, 2]));
        assert_eq!(plan[0].1, JobDecision::CoveredByOwnTask);
        assert_eq!(plan[1].1, JobDecision::Launch);
    }

    #[test]
    fn observe_joins_tasks_with_runners_by_name() {
        use crate::observed::TaskState;
        use crate::{TaskSize, Timestamp};
        let task = |name: &str, origin, job: Option<u64>, class: &str| ObservedTask {
            arn: format!("arn:{name}"),
            state: TaskState::Running,
            size: TaskSize::default(),
            capacity_provider: None,
            created_at: Timestamp(0),
            boot_started_at: None,
            controller: None,
            class: Some(class.into()),
            job_id: job.map(JobId),
            runner_name: Some(name.into()),
            origin: Some(origin),
            min_step: None,
            headroom: None,
            jit_parameter: None,
        };
        let runner = |name: &str, online, busy| ObservedRunner {
            id: 1,
            name: name.into(),
            online,
            busy,
            labels: vec![],
        };
        let tasks = [
            task("idle", Origin::Warm, None, "c"),
            task("busy", Origin::Job, Some(1), "c"),
            task("boot-job", Origin::Job, Some(2), "c"),
            task("boot-warm", Origin::Warm, None, "c"),
            task("other-class", Origin::Warm, None, "d"),
        ];
        let runners = [
            runner("idle", true, false),
            runner("busy", true, true),
            runner("other-class", true, false),
        ];
        let state = ClassView::observe("c", &tasks, &runners).state();
        assert_eq!(
            state,
            ClassState {
                idle_runners: 1,
                booting_for: [JobId(2)].into(),
                live_tasks: 4
            }
        );
    }

    #[test]
    fn duplicate_in_batch_launches_once() {
        let plan = plan_scale_up(10, &ClassState::default(), &jobs(&[5, 5, 5]));
        assert_eq!(launches(&plan), 1);
        assert_eq!(plan[1].1, JobDecision::Duplicate);
    }

    #[test]
    fn stops_at_max() {
        let state = ClassState {
            live_tasks: 9,
            ..Default::default()
        };
        let plan = plan_scale_up(10, &state, &jobs(&[1, 2, 3]));
        assert_eq!(launches(&plan), 1);
        assert_eq!(plan[2].1, JobDecision::AtCapacity);
    }

    fn arb_state() -> impl Strategy<Value = ClassState> {
        (
            0u32..5,
            proptest::collection::btree_set(0u64..20, 0..5),
            0u32..30,
        )
            .prop_map(|(idle, booting, extra)| {
                let booting_for: BTreeSet<JobId> = booting.into_iter().map(JobId).collect();
                let live = idle + booting_for.len() as u32 + extra;
                ClassState {
                    idle_runners: idle,
                    booting_for,
                    live_tasks: live,
                }
            })
    }

    proptest! {
        #[test]
        fn never_over_max(max in 0u32..40, state in arb_state(), ids in proptest::collection::vec(0u64..20, 0..40)) {
            let plan = plan_scale_up(max, &state, &jobs(&ids));
            prop_assert!(state.live_tasks.max(max) >= state.live_tasks + launches(&plan) as u32 || launches(&plan) == 0);
            prop_assert!(launches(&plan) as u32 <= max.saturating_sub(state.live_tasks));
        }

        #[test]
        fn every_distinct_uncovered_job_launches_when_room(state in arb_state(), ids in proptest::collection::vec(0u64..20, 0..40)) {
            let plan = plan_scale_up(u32::MAX, &state, &jobs(&ids));
            let distinct: BTreeSet<u64> = ids.iter().copied().collect();
            let own = distinct.iter().filter(|id| state.booting_for.contains(&JobId(**id))).count();
            let spare = state.idle_runners as usize;
            let needed = (distinct.len() - own).saturating_sub(spare);
            prop_assert_eq!(launches(&plan), needed);
        }

        #[test]
        fn a_job_not_maybe_covered_is_never_covered(max in 0u32..40, state in arb_state(), ids in proptest::collection::vec(0u64..20, 0..40)) {
            for (job, decision) in plan_scale_up(max, &state, &jobs(&ids)) {
                let covered = matches!(decision, JobDecision::CoveredByIdle | JobDecision::CoveredByOwnTask);
                prop_assert!(!covered || state.may_cover(job.job_id), "{job:?}: {decision:?}");
            }
        }

        #[test]
        fn deterministic(max in 0u32..40, state in arb_state(), ids in proptest::collection::vec(0u64..20, 0..40)) {
            prop_assert_eq!(plan_scale_up(max, &state, &jobs(&ids)), plan_scale_up(max, &state, &jobs(&ids)));
        }

        #[test]
        fn applying_the_plan_launches_nothing_more(state in arb_state(), ids in proptest::collection::vec(0u64..20, 0..40)) {
            let plan = plan_scale_up(u32::MAX, &state, &jobs(&ids));
            let mut after = state.clone();
            for (job, d) in &plan {
                if *d == JobDecision::Launch {
                    after.booting_for.insert(job.job_id);
                    after.live_tasks += 1;
                }
            }
            prop_assert_eq!(launches(&plan_scale_up(u32::MAX, &after, &jobs(&ids))), 0);
        }
    }
}
