//! One job's timeline, assembled from the controller's JSON log lines.
//!
//! Pure: log events in, ordered steps out. A line belongs to the job when it parses as the
//! controller's JSON and its `fields.job_id` is the job's id; everything else is dropped here,
//! whatever the log service's filter let through. Steps are ordered by the time the log service
//! stamped (the only time a Lambda line carries), ties kept in arrival order, and each step
//! records the gap since the previous one, so the longest gap names where the wait went.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One log line of the job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// When it was written, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Milliseconds since the job's first line.
    pub offset_ms: i64,
    /// Milliseconds since the previous step (0 for the first).
    pub gap_ms: i64,
    /// The line's `message`, e.g. `queued`, `decision`, `runner launched`.
    pub message: String,
    /// Log level.
    pub level: String,
    /// The other fields of the line (`class`, `reason`, `runner`, `task`, ...), `job_id` left out.
    pub fields: BTreeMap<String, Value>,
}

/// Everything the logs say about one job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// The job.
    pub job_id: u64,
    /// Its steps, oldest first.
    pub steps: Vec<Step>,
    /// Index in `steps` of the step with the longest gap before it, when there are two or more.
    pub longest: Option<usize>,
}

/// Builds the timeline of `job_id` from `(timestamp_ms, line)` events in any order.
pub fn assemble<'a>(job_id: u64, events: impl IntoIterator<Item = (i64, &'a str)>) -> Timeline {
    let mut lines: Vec<(i64, Value)> = events
        .into_iter()
        .filter_map(|(at, line)| Some((at, serde_json::from_str::<Value>(line).ok()?)))
        .filter(|(_, line)| is_job(&line["fields"]["job_id"], job_id))
        .collect();
    lines.sort_by_key(|(at, _)| *at);
    let first = lines.first().map_or(0, |(at, _)| *at);
    let mut previous = first;
    let steps: Vec<Step> = lines
        .into_iter()
        .map(|(at, line)| {
            let mut fields = match &line["fields"] {
                Value::Object(map) => map.clone().into_iter().collect::<BTreeMap<_, _>>(),
                _ => BTreeMap::new(),
            };
            fields.remove("job_id");
            let message = match fields.remove("message") {
                Some(Value::String(s)) => s,
                _ => String::new(),
            };
            let step = Step {
                at_ms: at,
                offset_ms: at - first,
                gap_ms: at - previous,
                message,
                level: line["level"].as_str().unwrap_or_default().to_string(),
                fields,
            };
            previous = at;
            step
        })
        .collect();
    // The first step has no wait before it; among equal gaps the earliest is named.
    let longest = (1..steps.len()).rev().max_by_key(|&i| steps[i].gap_ms);
    Timeline {
        job_id,
        steps,
        longest,
    }
}

/// `job_id` is a number in our lines; a string form is accepted for lines re-encoded elsewhere.
fn is_job(value: &Value, job_id: u64) -> bool {
    match value {
        Value::Number(n) => n.as_u64() == Some(job_id),
        Value::String(s) => s.parse() == Ok(job_id),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(job: Value, message: &str, extra: &str) -> String {
        format!(
            r#"{{"level":"INFO","fields":{{"message":"{message}","job_id":{job}{extra}}},"target":"t"}}"#
        )
    }

    #[test]
    fn orders_filters_and_names_the_longest_gap() {
        let queued = line(7.into(), "queued", r#","class":"large""#);
        let decision = line(7.into(), "decision", r#","reason":"launch""#);
        let launched = line(7.into(), "runner launched", r#","runner":"rc-1""#);
        let other = line(8.into(), "queued", "");
        let events = [
            (1_500, launched.as_str()),
            (1_000, queued.as_str()),
            (1_000, other.as_str()),
            (1_100, decision.as_str()),
            (1_200, "not json at all"),
        ];
        let timeline = assemble(7, events);
        let messages: Vec<&str> = timeline.steps.iter().map(|s| s.message.as_str()).collect();
        assert_eq!(messages, ["queued", "decision", "runner launched"]);
        let gaps: Vec<i64> = timeline.steps.iter().map(|s| s.gap_ms).collect();
        assert_eq!(gaps, [0, 100, 400]);
        assert_eq!(timeline.longest, Some(2));
        assert_eq!(timeline.steps[2].offset_ms, 500);
        assert_eq!(timeline.steps[0].fields["class"], "large");
        assert!(!timeline.steps[0].fields.contains_key("job_id"));
    }

    #[test]
    fn string_ids_match_and_ties_keep_arrival_order() {
        let a = line("\"9\"".parse().expect("json"), "first", "");
        let b = line(9.into(), "second", "");
        let timeline = assemble(9, [(5, a.as_str()), (5, b.as_str())]);
        assert_eq!(timeline.steps.len(), 2);
        assert_eq!(timeline.steps[0].message, "first");
        assert_eq!(timeline.longest, Some(1));
    }

    #[test]
    fn nothing_for_an_unknown_job() {
        let a = line(1.into(), "queued", "");
        let timeline = assemble(2, [(5, a.as_str())]);
        assert!(timeline.steps.is_empty() && timeline.longest.is_none());
    }
}
