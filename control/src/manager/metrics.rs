//! The manager's CloudWatch metrics, counted over one batch and written as EMF records at its
//! end (one log line per dimension set, rather than one per event).
//!
//! | Metric | Unit | Dimensions |
//! |---|---|---|
//! | `Decisions` | Count | `Class`, `Reason` |
//! | `RunnersLaunched` | Count | `Class`, `Origin` |
//! | `Rechecks` | Count | `Class` |
//! | `PickupLatency` | Milliseconds | `Class` |
//!
//! `GithubRateLimitRemaining` (Count, no dimensions) is written by the drivers
//! (`rc_manager::queue::emit_rate_limit`), which know the concrete GitHub client.

use std::collections::BTreeMap;

use crate::emf::{MetricSet, Unit};
use rc_core::observed::Origin;

/// Counts of one batch.
#[derive(Debug, Default)]
pub struct BatchMetrics {
    decisions: BTreeMap<(String, &'static str), u32>,
    launched: BTreeMap<(String, &'static str), u32>,
    rechecks: BTreeMap<String, u32>,
    pickup_ms: Vec<(String, i64)>,
}

impl BatchMetrics {
    pub(crate) fn decision(&mut self, class: &str, reason: &'static str) {
        *self
            .decisions
            .entry((class.to_owned(), reason))
            .or_default() += 1;
    }

    pub(crate) fn launched(&mut self, class: &str, origin: Origin) {
        *self
            .launched
            .entry((class.to_owned(), origin.as_str()))
            .or_default() += 1;
    }

    /// Runners of any origin launched for `class` so far in this batch.
    pub(crate) fn launched_count(&self, class: &str) -> u32 {
        self.launched
            .iter()
            .filter(|((c, _), _)| c == class)
            .map(|(_, n)| n)
            .sum()
    }

    pub(crate) fn recheck(&mut self, class: &str) {
        *self.rechecks.entry(class.to_owned()).or_default() += 1;
    }

    pub(crate) fn pickup_latency(&mut self, class: &str, millis: i64) {
        self.pickup_ms.push((class.to_owned(), millis));
    }

    /// The EMF records of this batch.
    pub fn records(&self) -> Vec<MetricSet> {
        let count = |n: u32| f64::from(n);
        let mut records = Vec::new();
        for ((class, reason), n) in &self.decisions {
            records.push(
                MetricSet::new()
                    .dimension("Class", class.as_str())
                    .dimension("Reason", *reason)
                    .value("Decisions", count(*n), Unit::Count),
            );
        }
        for ((class, origin), n) in &self.launched {
            records.push(
                MetricSet::new()
                    .dimension("Class", class.as_str())
                    .dimension("Origin", *origin)
                    .value("RunnersLaunched", count(*n), Unit::Count),
            );
        }
        for (class, n) in &self.rechecks {
            records.push(MetricSet::new().dimension("Class", class.as_str()).value(
                "Rechecks",
                count(*n),
                Unit::Count,
            ));
        }
        for (class, millis) in &self.pickup_ms {
            records.push(MetricSet::new().dimension("Class", class.as_str()).value(
                "PickupLatency",
                *millis as f64,
                Unit::Milliseconds,
            ));
        }
        records
    }

    /// Writes the records to stdout, where Lambda ships them to CloudWatch Logs.
    pub fn emit(&self) {
        for record in self.records() {
            record.emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_per_dimension_set() {
        let mut metrics = BatchMetrics::default();
        metrics.decision("large", "launch");
        metrics.decision("large", "launch");
        metrics.decision("large", "covered_by_idle");
        metrics.launched("large", Origin::Job);
        metrics.pickup_latency("large", 1500);
        let records: Vec<_> = metrics.records().iter().map(|r| r.to_json(0)).collect();
        assert_eq!(records.len(), 4);
        let launches = records
            .iter()
            .find(|r| r["Reason"] == "launch")
            .expect("a launch record");
        assert_eq!(launches["Decisions"], 2.0);
    }
}
