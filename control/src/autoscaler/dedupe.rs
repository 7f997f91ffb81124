//! Which autoscaler triggers would tell a run anything new.
//!
//! EventBridge delivers an "ECS Task State Change" event for every task state change (at least
//! once, possibly twice, in no guaranteed order), and a scheduled event every minute as the
//! safety net. Only a task entering PROVISIONING is worth a run; anything else that is not a
//! task state change (the schedule, a manual invoke) reconciles unconditionally, since a run
//! is level-triggered and idempotent.
//!
//! [`Dedupe`] skips events an instance has already answered: the same task at a version it has
//! handled, or a task created well before an observation this instance completed (that run
//! already counted it). Both only save API calls; forgetting them is safe.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use rc_core::Timestamp;
use serde::Serialize;

/// Task ARNs remembered per warm instance; the oldest are forgotten first.
const REMEMBERED_TASKS: usize = 4096;

/// ECS reads are eventually consistent (ECS API reference, "Eventual consistency"): a task
/// created just before a ListTasks call may be missing from its answer. Only a task created this
/// long before an observation counts as seen by it.
const CONSISTENCY_MARGIN: Duration = Duration::from_secs(5);

/// Why an invocation started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A task entered PROVISIONING.
    Provisioning {
        /// Task ARN.
        task: String,
        /// The task's `version`, which ECS increments on every change.
        version: i64,
        /// When ECS created the task, if the event says.
        created_at: Option<Timestamp>,
    },
    /// A task changed to a state other than PROVISIONING: nothing new to plan for.
    OtherTaskState,
    /// The schedule, a manual invoke, or anything else: reconcile.
    Reconcile,
}

/// Why an invocation did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// The event is about a state other than PROVISIONING.
    NotProvisioning,
    /// This instance already handled this task at this version or a later one.
    Duplicate,
    /// This instance completed an observation that already saw the task.
    AlreadyObserved,
}

/// What a warm Lambda instance remembers between invocations; see the [module docs](self).
#[derive(Debug, Default)]
pub struct Dedupe {
    versions: HashMap<String, i64>,
    order: VecDeque<String>,
    last_observation: Option<Timestamp>,
}

impl Dedupe {
    /// Whether `trigger` needs a run; `None` means run.
    pub fn check(&self, trigger: &Trigger) -> Option<Skip> {
        match trigger {
            Trigger::Reconcile => None,
            Trigger::OtherTaskState => Some(Skip::NotProvisioning),
            Trigger::Provisioning {
                task,
                version,
                created_at,
            } => {
                if self.versions.get(task).is_some_and(|seen| seen >= version) {
                    Some(Skip::Duplicate)
                } else if created_at
                    .zip(self.last_observation)
                    .is_some_and(|(created, observed)| created + CONSISTENCY_MARGIN <= observed)
                {
                    Some(Skip::AlreadyObserved)
                } else {
                    None
                }
            }
        }
    }

    /// Records a successful run for `trigger` whose observation started at `observed_at`.
    pub fn record(&mut self, trigger: &Trigger, observed_at: Timestamp) {
        self.last_observation = Some(observed_at);
        let Trigger::Provisioning { task, version, .. } = trigger else {
            return;
        };
        if self.versions.insert(task.clone(), *version).is_none() {
            self.order.push_back(task.clone());
            if self.order.len() > REMEMBERED_TASKS {
                let oldest = self
                    .order
                    .pop_front()
                    .expect("longer than the limit, so not empty");
                self.versions.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupes_by_version_and_by_observation() {
        let created = Timestamp::from_datetime("2025-03-04T09:15:02.118Z".parse().expect("a date"));
        let trigger = Trigger::Provisioning {
            task: "arn:aws:ecs:us-east-1:123456789012:task/runners/0a1b".to_owned(),
            version: 1,
            created_at: Some(created),
        };
        let mut dedupe = Dedupe::default();
        assert_eq!(dedupe.check(&trigger), None);

        // Observed one second after creation: too early to be sure ListTasks saw it.
        dedupe.record(&Trigger::Reconcile, created + Duration::from_secs(1));
        assert_eq!(dedupe.check(&trigger), None);

        dedupe.record(&trigger, created + Duration::from_secs(1));
        assert_eq!(dedupe.check(&trigger), Some(Skip::Duplicate));

        let Trigger::Provisioning { task, .. } = &trigger else {
            unreachable!()
        };
        let other = Trigger::Provisioning {
            task: format!("{task}-other"),
            version: 1,
            created_at: Some(created),
        };
        assert_eq!(dedupe.check(&other), None);
        dedupe.record(&Trigger::Reconcile, created + Duration::from_secs(6));
        assert_eq!(dedupe.check(&other), Some(Skip::AlreadyObserved));
    }

    #[test]
    fn forgets_the_oldest_tasks() {
        let mut dedupe = Dedupe::default();
        let trigger = |i: usize| Trigger::Provisioning {
            task: format!("task-{i}"),
            version: 1,
            created_at: None,
        };
        for i in 0..=REMEMBERED_TASKS {
            dedupe.record(&trigger(i), Timestamp(0));
        }
        assert_eq!(dedupe.check(&trigger(0)), None);
        assert_eq!(
            dedupe.check(&trigger(REMEMBERED_TASKS)),
            Some(Skip::Duplicate)
        );
    }
}
