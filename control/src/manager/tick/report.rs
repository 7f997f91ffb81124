//! What one tick decided and what became of each decision: `runner-controller tick` prints it
//! (a line per decision, or one JSON object), the Lambda logs it, and its counts become the
//! tick's CloudWatch metrics.
//!
//! | Metric | Unit | Dimensions |
//! |---|---|---|
//! | `WarmRunnersStarted` | Count | `Class` |
//! | `WarmRunnersTrimmed` | Count | `Class` |
//! | `Reaped` | Count | `Kind` (`stop_task`, `delete_runner`, `delete_parameter`, `stop_runner`) |
//! | `Redeliveries`, `Rescues`, `BusyRunnersLeftAlone`, `TickFailures` | Count | none |
//!
//! The dimensionless four are written on every tick, zeros included, so an alarm on them sees
//! data; the others only when non-zero.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::emf::{MetricSet, Unit};
use rc_core::Timestamp;
use serde::Serialize;

/// Which part of the tick a decision belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Reading runners, parameters and tasks.
    Observe,
    /// A class's warm-pool top-up.
    Pool,
    /// Stopping a warm runner above the pool's target.
    Trim,
    /// A reaper clean-up.
    Reap,
    /// The redelivery sweep.
    Redeliver,
    /// The rescue scan.
    Rescue,
}

impl Step {
    /// The name printed and logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Observe => "observe",
            Step::Pool => "pool",
            Step::Trim => "trim",
            Step::Reap => "reap",
            Step::Redeliver => "redeliver",
            Step::Rescue => "rescue",
        }
    }
}

/// What became of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// The decision is to change nothing (wait, or nothing is needed).
    Nothing,
    /// A dry run: decided, not done.
    DryRun,
    /// Done, and how it went.
    Done(String),
    /// Deliberately left alone: GitHub refused to remove a busy runner.
    LeftAlone(String),
    /// Failed; the next tick decides again from what it observes then.
    Failed(String),
}

/// One decision, its reason and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// Which part of the tick made it.
    pub step: Step,
    /// The runner class it concerns, if one.
    pub class: Option<String>,
    /// The decision and why, in words an operator can check.
    pub reason: String,
    /// What became of it.
    pub outcome: Outcome,
    /// The core's decision as data (`--json`).
    pub detail: serde_json::Value,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<9} {}", self.step.as_str(), self.reason)?;
        match &self.outcome {
            Outcome::Nothing => Ok(()),
            Outcome::DryRun => write!(f, " [dry run]"),
            Outcome::Done(how) => write!(f, " -> {how}"),
            Outcome::LeftAlone(why) => write!(f, " -> left alone: {why}"),
            Outcome::Failed(why) => write!(f, " -> FAILED: {why}"),
        }
    }
}

/// What the tick changed, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickCounts {
    /// Warm runners started, by class.
    pub warm_started: BTreeMap<String, u32>,
    /// Warm runners trimmed, by class.
    pub warm_trimmed: BTreeMap<String, u32>,
    /// Reaper actions done, by [`rc_core::reaper::ReapAction::kind`].
    pub reaped: BTreeMap<&'static str, u32>,
    /// Busy runners GitHub would not remove, left running.
    pub busy_left_alone: u32,
    /// Failed deliveries redelivered.
    pub redelivered: u32,
    /// Lost jobs sent down the launch path.
    pub rescued: u32,
    /// Decisions whose execution failed.
    pub failed: u32,
}

/// Everything one tick decided, in the order it decided it.
#[derive(Debug, Clone, Serialize)]
pub struct TickReport {
    /// The instant the tick decided for.
    pub at: Timestamp,
    /// Whether it only decided.
    pub dry_run: bool,
    /// Every decision, with its outcome.
    pub decisions: Vec<Decision>,
    /// What changed.
    pub counts: TickCounts,
    /// `manager.github_api_budget_per_tick`.
    pub github_budget: u32,
    /// What the redelivery sweep and the rescue scan left of it.
    pub github_budget_left: u32,
}

impl TickReport {
    pub(super) fn new(at: Timestamp, dry_run: bool, github_budget: u32) -> Self {
        TickReport {
            at,
            dry_run,
            decisions: Vec::new(),
            counts: TickCounts::default(),
            github_budget,
            github_budget_left: github_budget,
        }
    }

    /// Records a decision, logs it, and counts a failure or a busy runner left alone.
    pub(super) fn push(
        &mut self,
        step: Step,
        class: Option<&str>,
        reason: String,
        outcome: Outcome,
        detail: &impl Serialize,
    ) {
        match &outcome {
            Outcome::Failed(_) => self.counts.failed += 1,
            Outcome::LeftAlone(_) => self.counts.busy_left_alone += 1,
            _ => {}
        }
        let decision = Decision {
            step,
            class: class.map(str::to_owned),
            reason,
            outcome,
            detail: serde_json::to_value(detail).unwrap_or(serde_json::Value::Null),
        };
        // A decision about one job (a rescue) names it, so `runner-controller job` finds it.
        let job_id = decision
            .detail
            .pointer("/job/job_id")
            .and_then(serde_json::Value::as_u64);
        if matches!(decision.outcome, Outcome::Failed(_)) {
            tracing::warn!(step = step.as_str(), class, job_id, "{decision}");
        } else {
            tracing::info!(step = step.as_str(), class, job_id, "{decision}");
        }
        self.decisions.push(decision);
    }

    /// How many decisions failed to execute.
    pub fn failures(&self) -> u32 {
        self.counts.failed
    }

    /// The last line `tick` prints: what changed, in numbers.
    pub fn summary(&self) -> String {
        let sum = |counts: &BTreeMap<String, u32>| counts.values().sum::<u32>();
        let c = &self.counts;
        format!(
            "tick at {}{}: {} decisions; started {} warm, trimmed {}, reaped {}, left {} busy alone, \
             redelivered {}, rescued {}, {} failed; GitHub budget {} of {} used",
            self.at,
            if self.dry_run { " (dry run)" } else { "" },
            self.decisions.len(),
            sum(&c.warm_started),
            sum(&c.warm_trimmed),
            c.reaped.values().sum::<u32>(),
            c.busy_left_alone,
            c.redelivered,
            c.rescued,
            c.failed,
            self.github_budget - self.github_budget_left,
            self.github_budget,
        )
    }

    /// The tick's EMF records (see the module docs).
    pub fn metric_records(&self) -> Vec<MetricSet> {
        let c = &self.counts;
        let count = |n: u32| f64::from(n);
        let mut records = vec![MetricSet::new()
            .value("Redeliveries", count(c.redelivered), Unit::Count)
            .value("Rescues", count(c.rescued), Unit::Count)
            .value(
                "BusyRunnersLeftAlone",
                count(c.busy_left_alone),
                Unit::Count,
            )
            .value("TickFailures", count(c.failed), Unit::Count)];
        for (metric, by_class) in [
            ("WarmRunnersStarted", &c.warm_started),
            ("WarmRunnersTrimmed", &c.warm_trimmed),
        ] {
            records.extend(by_class.iter().map(|(class, n)| {
                MetricSet::new().dimension("Class", class.as_str()).value(
                    metric,
                    count(*n),
                    Unit::Count,
                )
            }));
        }
        records.extend(c.reaped.iter().map(|(kind, n)| {
            MetricSet::new()
                .dimension("Kind", *kind)
                .value("Reaped", count(*n), Unit::Count)
        }));
        records
    }

    /// Writes the metric records to stdout, where Lambda ships them to CloudWatch Logs. Not
    /// for a dry run, which changed nothing.
    pub fn emit_metrics(&self) {
        if self.dry_run {
            return;
        }
        for record in self.metric_records() {
            record.emit();
        }
    }
}

impl fmt::Display for TickReport {
    /// One line per decision, then the summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for decision in &self.decisions {
            writeln!(f, "{decision}")?;
        }
        write!(f, "{}", self.summary())
    }
}

/// A duration to the second, as the config writes them (`1h 5m 3s`).
pub(super) fn human(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Collects what a JSON subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .expect("not poisoned")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_decision_about_one_job_logs_its_id() {
        let captured = Captured::default();
        let writer = {
            let captured = captured.clone();
            move || captured.clone()
        };
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(writer)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let mut report = TickReport::new(Timestamp(0), false, 100);
            let job = serde_json::json!({ "job": { "job_id": 7, "repo": "acme/app" } });
            report.push(
                Step::Rescue,
                Some("large"),
                "rescue job 7".into(),
                Outcome::Nothing,
                &job,
            );
            let scan = serde_json::json!({ "repos": ["acme/app"] });
            report.push(
                Step::Rescue,
                None,
                "scanned 1".into(),
                Outcome::Nothing,
                &scan,
            );
        });
        let text =
            String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("UTF-8");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["fields"]["job_id"], 7, "{text}");
        assert_eq!(lines[0]["fields"]["step"], "rescue", "{text}");
        assert!(lines[1]["fields"].get("job_id").is_none(), "{text}");
    }

    #[test]
    fn prints_one_line_per_decision_and_counts_failures() {
        let mut report = TickReport::new(Timestamp(0), false, 100);
        report.push(
            Step::Trim,
            Some("large"),
            "trim runner rc-w1-0".into(),
            Outcome::LeftAlone("busy".into()),
            &(),
        );
        report.push(
            Step::Reap,
            None,
            "delete runner rc-x".into(),
            Outcome::Failed("HTTP 500".into()),
            &(),
        );
        report.counts.warm_started.insert("large".into(), 2);
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "trim      trim runner rc-w1-0 -> left alone: busy"
        );
        assert_eq!(lines[1], "reap      delete runner rc-x -> FAILED: HTTP 500");
        assert!(lines[2].contains("started 2 warm"), "{}", lines[2]);
        assert_eq!(report.failures(), 1);
        assert_eq!(report.counts.busy_left_alone, 1);
        let records: Vec<_> = report
            .metric_records()
            .iter()
            .map(|r| r.to_json(0))
            .collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["TickFailures"], 1.0);
        assert_eq!(records[1]["WarmRunnersStarted"], 2.0);
    }

    #[test]
    fn durations_read_like_the_config() {
        assert_eq!(human(Duration::from_millis(3_723_900)), "1h 2m 3s");
        assert_eq!(human(Duration::from_secs(600)), "10m");
    }
}
