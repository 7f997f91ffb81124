//! The cluster autoscaler's pass: when tasks wait in PROVISIONING, ask each Auto Scaling Group
//! for exactly the instances they need, within seconds instead of the minutes managed scaling
//! takes.
//!
//! One run observes (tasks, capacity providers, groups, container instances), plans with the
//! pure [`rc_core::packing::plan_with_headroom`] (the waiting tasks, then headroom while warm
//! windows are open), and raises desired capacity where the plan says,
//! never lowering it: scale-in stays with the capacity provider. Runs are level-triggered and
//! idempotent, so the Lambda's event, its one-minute schedule, `serve`'s loop and the simulator
//! all call the same [`Autoscaler::handle`] or [`Autoscaler::run_once`].
//!
//! # Layout
//!
//! - [`dedupe`]: which triggers start a run.
//! - [`observe`](mod@observe): gathering and joining the observation.

pub mod dedupe;
pub mod observe;

use std::collections::HashMap;
use std::sync::Mutex;

use rc_core::packing::{plan_with_headroom, CapacityPlan, WaitingTask};
use rc_core::Timestamp;
use serde::Serialize;

use crate::emf::{MetricSet, Unit};
use crate::ports::{AutoScaling, AwsError, ClusterObserver};

pub use dedupe::{Dedupe, Skip, Trigger};
use observe::observe;

/// Observes, plans and raises desired capacity for one cluster.
pub struct Autoscaler<E, A> {
    ecs: E,
    asg: A,
}

/// What one trigger led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing to do for this trigger.
    Skipped {
        /// Why.
        reason: Skip,
    },
    /// A run happened.
    Ran(Report),
}

/// What one run saw and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// PROVISIONING tasks waiting on an Auto Scaling Group.
    pub waiting: usize,
    /// The plan, with every group's placements, waiting and unplaceable tasks.
    pub plan: CapacityPlan,
    /// The raises that succeeded.
    pub raised: Vec<Raise>,
    /// Per raise, how long its oldest task had waited in PROVISIONING when the raise was
    /// decided.
    #[serde(skip)]
    pub reaction_ms: Vec<i64>,
}

impl Report {
    /// The run's CloudWatch metrics, with `cluster` as their dimension.
    pub fn metric_records(&self, cluster: &str) -> Vec<MetricSet> {
        let metrics = || MetricSet::new().dimension("Cluster", cluster);
        let mut records: Vec<MetricSet> = self
            .reaction_ms
            .iter()
            .map(|&ms| metrics().value("ReactionTime", ms as f64, Unit::Milliseconds))
            .collect();
        let requested: u32 = self.raised.iter().map(|r| r.to - r.from).sum();
        let at_max: usize = self.plan.groups.iter().map(|g| g.at_max.len()).sum();
        let for_headroom: u32 = self.plan.groups.iter().map(|g| g.for_headroom).sum();
        records.push(
            metrics()
                .value("WaitingTasks", self.waiting as f64, Unit::Count)
                .value("InstancesRequested", f64::from(requested), Unit::Count)
                .value(
                    "UnplaceableTasks",
                    self.plan.unplaceable.len() as f64,
                    Unit::Count,
                )
                .value("TasksAtMax", at_max as f64, Unit::Count)
                .value("HeadroomInstances", f64::from(for_headroom), Unit::Count),
        );
        records
    }
}

/// One desired-capacity change that was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Raise {
    /// Auto Scaling Group name.
    pub group: String,
    /// Desired capacity before.
    pub from: u32,
    /// Desired capacity after.
    pub to: u32,
}

/// A run that failed part way: the first failure, and what the run did all the same.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RunError {
    /// The first AWS failure.
    #[source]
    pub error: AwsError,
    /// The raises that succeeded before or after it, when the run got as far as planning.
    pub report: Option<Report>,
}

impl<E: ClusterObserver, A: AutoScaling> Autoscaler<E, A> {
    /// An autoscaler over these ports.
    pub fn new(ecs: E, asg: A) -> Self {
        Autoscaler { ecs, asg }
    }

    /// Handles one trigger at `now`: skipped if `memory` (what this instance remembers between
    /// triggers, see [`Dedupe`]) says a run would tell nothing new, else a run.
    ///
    /// # Errors
    ///
    /// As [`Autoscaler::run_once`]; the Lambda then fails the invocation so EventBridge retries
    /// it, which is safe because runs are idempotent.
    pub async fn handle(
        &self,
        memory: &Mutex<Dedupe>,
        trigger: &Trigger,
        now: Timestamp,
    ) -> Result<Outcome, RunError> {
        let skip = remembered(memory).check(trigger);
        if let Some(reason) = skip {
            tracing::debug!(?trigger, ?reason, "skipped");
            return Ok(Outcome::Skipped { reason });
        }
        let report = self.run_once(now).await?;
        remembered(memory).record(trigger, now);
        Ok(Outcome::Ran(report))
    }

    /// One pass at `now`: observe, plan, raise desired capacity where the plan says, log.
    ///
    /// # Errors
    ///
    /// The first AWS failure. A failed raise does not stop the raises of other groups.
    pub async fn run_once(&self, now: Timestamp) -> Result<Report, RunError> {
        let observation = observe(&self.ecs, &self.asg, now)
            .await
            .map_err(|error| RunError {
                error,
                report: None,
            })?;
        let waiting: Vec<WaitingTask> = observation
            .waiting
            .iter()
            .filter_map(WaitingTask::from_observed)
            .collect();
        let plan = plan_with_headroom(&waiting, &observation.headroom, &observation.groups);
        for task in &plan.unplaceable {
            tracing::warn!(task = %task.task, reason = ?task.reason, "task fits no instance");
        }
        for group in plan.groups.iter().filter(|g| !g.at_max.is_empty()) {
            tracing::warn!(
                group = %group.group,
                tasks = ?group.at_max,
                "group at max size; tasks wait"
            );
        }

        let created: HashMap<&str, Timestamp> = observation
            .waiting
            .iter()
            .map(|t| (t.arn.as_str(), t.created_at))
            .collect();
        let (mut raised, mut reaction_ms) = (Vec::new(), Vec::new());
        let mut first_error = None;
        for (group, to) in plan.raises() {
            match self.asg.set_desired_capacity(&group.group, to).await {
                Ok(()) => {
                    tracing::info!(
                        group = %group.group,
                        capacity_provider = %group.capacity_provider,
                        from = group.desired,
                        to,
                        on_free = group.on_free,
                        on_launching = group.on_launching,
                        tasks = ?group.on_new,
                        for_headroom = group.for_headroom,
                        "raised desired capacity"
                    );
                    // Reaction time: from the oldest task this raise is for entering
                    // PROVISIONING (ECS creates tasks in that state, so this is the time of its
                    // PROVISIONING event) to the decision.
                    let oldest = group
                        .on_new
                        .iter()
                        .filter_map(|arn| created.get(arn.as_str()))
                        .min();
                    if let Some(&oldest) = oldest {
                        reaction_ms.push(now.saturating_since(oldest).as_millis() as i64);
                    }
                    raised.push(Raise {
                        group: group.group.clone(),
                        from: group.desired,
                        to,
                    });
                }
                Err(error) => {
                    tracing::error!(
                        group = %group.group,
                        to,
                        %error,
                        "could not raise desired capacity"
                    );
                    first_error.get_or_insert(error);
                }
            }
        }
        let report = Report {
            waiting: waiting.len(),
            plan,
            raised,
            reaction_ms,
        };
        match first_error {
            Some(error) => Err(RunError {
                error,
                report: Some(report),
            }),
            None => Ok(report),
        }
    }
}

fn remembered(memory: &Mutex<Dedupe>) -> std::sync::MutexGuard<'_, Dedupe> {
    // The lock guards plain data and is never held across an await; a panic while holding it
    // cannot leave it half-updated in a way that matters, so a poisoned lock is still usable.
    memory
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
