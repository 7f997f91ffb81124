//! The cluster autoscaler: when ECS tasks wait in PROVISIONING, ask each Auto Scaling Group for
//! exactly the instances they need, within seconds instead of the minutes managed scaling takes.
//!
//! One run observes (tasks, capacity providers, groups, container instances), plans with the
//! pure [`rc_core::packing::plan_capacity`], and raises desired capacity where the plan says,
//! never lowering it: scale-in stays with the capacity provider. Runs are level-triggered and
//! idempotent, so the Lambda's event, its one-minute schedule and `serve`'s loop all call the
//! same [`Autoscaler::run_once`].
//!
//! # Layout
//!
//! - [`trigger`]: which Lambda payloads start a run, and per-instance dedupe.
//! - [`observe`](mod@observe): gathering and joining the observation.
//! - `main.rs`: the Lambda entry point.

pub mod observe;
pub mod trigger;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use rc_aws::emf::{MetricSet, Unit};
use rc_aws::{AutoScaling, AwsError, ClusterObserver};
use rc_core::packing::{plan_capacity, CapacityPlan, WaitingTask};
use rc_core::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::observe::observe;
use crate::trigger::{Dedupe, Skip, Trigger};

/// Observes, plans and raises desired capacity for one cluster.
pub struct Autoscaler<E, A> {
    ecs: E,
    asg: A,
    cluster: String,
    dedupe: Mutex<Dedupe>,
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing to do for this event.
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

impl<E: ClusterObserver, A: AutoScaling> Autoscaler<E, A> {
    /// An autoscaler over these adapters; `cluster` names the metrics dimension and should be
    /// the cluster the ECS adapter observes.
    pub fn new(ecs: E, asg: A, cluster: impl Into<String>) -> Self {
        Autoscaler {
            ecs,
            asg,
            cluster: cluster.into(),
            dedupe: Mutex::new(Dedupe::default()),
        }
    }

    /// Handles one Lambda payload: an ECS task state change, the schedule, or anything else
    /// (which reconciles).
    ///
    /// # Errors
    ///
    /// An AWS failure, after every group that could be raised was; the Lambda then fails the
    /// invocation so EventBridge retries it, which is safe because runs are idempotent.
    pub async fn handle(&self, payload: &Value) -> Result<Outcome, AwsError> {
        let trigger = Trigger::from_event(payload);
        let skip = self.dedupe().check(&trigger);
        if let Some(reason) = skip {
            tracing::debug!(?trigger, ?reason, "skipped");
            return Ok(Outcome::Skipped { reason });
        }
        let observed_at = now();
        let report = self.run_once().await?;
        self.dedupe().record(&trigger, observed_at);
        Ok(Outcome::Ran(report))
    }

    /// One pass: observe, plan, raise desired capacity where the plan says, log, and emit
    /// metrics. What `serve` calls every few seconds.
    ///
    /// # Errors
    ///
    /// The first AWS failure. A failed raise does not stop the raises of other groups.
    pub async fn run_once(&self) -> Result<Report, AwsError> {
        let observation = observe(&self.ecs, &self.asg).await?;
        let waiting: Vec<WaitingTask> = observation
            .waiting
            .iter()
            .filter_map(WaitingTask::from_observed)
            .collect();
        let plan = plan_capacity(&waiting, &observation.groups);
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
        let mut raised = Vec::new();
        let mut first_error = None;
        for (group, to) in plan.raises() {
            let called_at = now();
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
                        "raised desired capacity"
                    );
                    // Reaction time: from the oldest task this raise is for entering
                    // PROVISIONING (ECS creates tasks in that state, so this is the time of its
                    // PROVISIONING event) to the call.
                    let oldest = group
                        .on_new
                        .iter()
                        .filter_map(|arn| created.get(arn.as_str()))
                        .min();
                    if let Some(&oldest) = oldest {
                        let reaction = called_at.saturating_since(oldest).as_millis() as f64;
                        self.metrics()
                            .value("ReactionTime", reaction, Unit::Milliseconds)
                            .emit();
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

        let requested: u32 = raised.iter().map(|r| r.to - r.from).sum();
        let at_max: usize = plan.groups.iter().map(|g| g.at_max.len()).sum();
        self.metrics()
            .value("WaitingTasks", waiting.len() as f64, Unit::Count)
            .value("InstancesRequested", f64::from(requested), Unit::Count)
            .value(
                "UnplaceableTasks",
                plan.unplaceable.len() as f64,
                Unit::Count,
            )
            .value("TasksAtMax", at_max as f64, Unit::Count)
            .emit();
        match first_error {
            Some(error) => Err(error),
            None => Ok(Report {
                waiting: waiting.len(),
                plan,
                raised,
            }),
        }
    }

    /// Calls [`Autoscaler::run_once`] every `every` until `shutdown` completes; a failed run is
    /// logged and the next one retries.
    pub async fn run_loop(&self, every: Duration, shutdown: impl Future<Output = ()>) {
        let mut ticks = tokio::time::interval(every);
        // After a slow run, wait a full period rather than running back to back.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = ticks.tick() => {
                    if let Err(error) = self.run_once().await {
                        tracing::error!(
                            %error,
                            retryable = error.is_retryable(),
                            "cluster autoscaler run failed"
                        );
                    }
                }
            }
        }
    }

    fn metrics(&self) -> MetricSet {
        MetricSet::new().dimension("Cluster", self.cluster.as_str())
    }

    fn dedupe(&self) -> std::sync::MutexGuard<'_, Dedupe> {
        // The lock guards plain data and is never held across an await; a panic while holding it
        // cannot leave it half-updated in a way that matters, so a poisoned lock is still usable.
        self.dedupe
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The driver reads the clock; the core never does.
fn now() -> Timestamp {
    Timestamp::from_datetime(Utc::now())
}
