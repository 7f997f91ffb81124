//! CloudWatch Embedded Metric Format: metrics written as one JSON log line each, which
//! CloudWatch Logs turns into metrics without a PutMetricData call (no extra latency or cost on
//! the hot path, and no IAM permission beyond writing logs).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric we emit.
pub const NAMESPACE: &str = "RunnerController";

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A plain count.
    Count,
    /// Milliseconds.
    Milliseconds,
    /// Seconds.
    Seconds,
    /// No unit.
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::None => "None",
        }
    }
}

/// One EMF record: a set of dimensions and the metric values that share them.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MetricSet {
    dimensions: Vec<(String, String)>,
    values: Vec<(String, f64, Unit)>,
}

impl MetricSet {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a dimension (e.g. `Class`).
    pub fn dimension(mut self, name: &str, value: impl Into<String>) -> Self {
        self.dimensions.push((name.to_string(), value.into()));
        self
    }

    /// Adds a metric value.
    pub fn value(mut self, name: &str, value: f64, unit: Unit) -> Self {
        self.values.push((name.to_string(), value, unit));
        self
    }

    /// The EMF JSON document, stamped with `timestamp_ms`.
    pub fn to_json(&self, timestamp_ms: i64) -> Value {
        let mut root = Map::new();
        let metrics: Vec<Value> = self
            .values
            .iter()
            .map(|(name, _, unit)| json!({ "Name": name, "Unit": unit.as_str() }))
            .collect();
        let dimension_names: Vec<&str> = self.dimensions.iter().map(|(k, _)| k.as_str()).collect();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [dimension_names],
                    "Metrics": metrics,
                }],
            }),
        );
        for (name, value) in &self.dimensions {
            root.insert(name.clone(), json!(value));
        }
        for (name, value, _) in &self.values {
            root.insert(name.clone(), json!(value));
        }
        Value::Object(root)
    }

    /// Writes the record as one line on stdout, where the Lambda runtime ships it to CloudWatch
    /// Logs. Does nothing when there are no values.
    pub fn emit(self) {
        if self.values.is_empty() {
            return;
        }
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        println!("{}", self.to_json(now_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_emf_shape() {
        let doc = MetricSet::new()
            .dimension("Class", "large")
            .value("RunnersLaunched", 2.0, Unit::Count)
            .to_json(1_700_000_000_000);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "Class"
        );
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "RunnersLaunched"
        );
        assert_eq!(doc["Class"], "large");
        assert_eq!(doc["RunnersLaunched"], 2.0);
    }
}
