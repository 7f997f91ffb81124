//! The cluster autoscaler Lambda and `serve` loop: the orchestration's
//! [`rc_control::Autoscaler`] over the ECS and Auto Scaling adapters, with the wall clock, the
//! Lambda's payloads and the metrics written out.
//!
//! # Layout
//!
//! - [`trigger`]: which Lambda payloads start a run.
//! - `main.rs`: the Lambda entry point.

pub mod trigger;

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use rc_aws::{AutoScaling, AwsError, ClusterObserver};
use rc_control::autoscaler::{Dedupe, RunError};
use rc_core::Timestamp;
use serde_json::Value;

pub use rc_control::autoscaler::{Outcome, Raise, Report};

/// The orchestration's autoscaler for one cluster, named for its metrics, with what this
/// process remembers between triggers.
pub struct Autoscaler<E, A> {
    inner: rc_control::Autoscaler<E, A>,
    memory: Mutex<Dedupe>,
    cluster: String,
}

impl<E: ClusterObserver, A: AutoScaling> Autoscaler<E, A> {
    /// An autoscaler over these adapters; `cluster` names the metrics dimension and should be
    /// the cluster the ECS adapter observes.
    pub fn new(ecs: E, asg: A, cluster: impl Into<String>) -> Self {
        Autoscaler {
            inner: rc_control::Autoscaler::new(ecs, asg),
            memory: Mutex::new(Dedupe::default()),
            cluster: cluster.into(),
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
        let trigger = trigger::from_event(payload);
        let outcome = self.inner.handle(&self.memory, &trigger, now()).await;
        match outcome {
            Ok(Outcome::Ran(report)) => {
                self.emit(&report);
                Ok(Outcome::Ran(report))
            }
            Ok(skipped) => Ok(skipped),
            Err(failed) => Err(self.failed(failed)),
        }
    }

    /// One pass: observe, plan, raise desired capacity where the plan says, log, and emit
    /// metrics. What `serve` calls every few seconds.
    ///
    /// # Errors
    ///
    /// The first AWS failure. A failed raise does not stop the raises of other groups.
    pub async fn run_once(&self) -> Result<Report, AwsError> {
        match self.inner.run_once(now()).await {
            Ok(report) => {
                self.emit(&report);
                Ok(report)
            }
            Err(failed) => Err(self.failed(failed)),
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

    /// Writes the metrics of what a failed run did, and hands its error on.
    fn failed(&self, failed: RunError) -> AwsError {
        if let Some(report) = &failed.report {
            self.emit(report);
        }
        failed.error
    }

    fn emit(&self, report: &Report) {
        for record in report.metric_records(&self.cluster) {
            record.emit();
        }
    }
}

/// The driver reads the clock; the orchestration never does.
fn now() -> Timestamp {
    Timestamp::from_datetime(Utc::now())
}
