//! The controller's own log lines, read back from CloudWatch Logs for `runner-controller job`.
//!
//! The Lambdas write one JSON object per line (see [`crate::logging`]); CloudWatch Logs stamps
//! each event with the time it was written, which is the only time a Lambda line carries. This
//! adapter returns events as written; deciding which belong to a job is the caller's, because the
//! filter pattern is only a server-side shortcut (emulators ignore JSON patterns).

use aws_sdk_cloudwatchlogs::Client;

use crate::error::from_sdk;
use crate::AwsError;

/// One log event as CloudWatch Logs stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// The log group it came from.
    pub group: String,
    /// When it was written, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The line itself.
    pub message: String,
}

/// The JSON filter pattern matching lines whose `fields.job_id` is `job_id`.
pub fn job_pattern(job_id: u64) -> String {
    format!("{{ $.fields.job_id = {job_id} }}")
}

/// Every event of `group` since `start_ms` that `pattern` matches, following every page.
///
/// # Errors
///
/// The FilterLogEvents failure, classified.
pub async fn filter_events(
    client: &Client,
    group: &str,
    pattern: &str,
    start_ms: i64,
) -> Result<Vec<LogEvent>, AwsError> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(group)
            .filter_pattern(pattern)
            .start_time(start_ms)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| from_sdk("logs:FilterLogEvents", e))?;
        events.extend(page.events().iter().filter_map(|e| {
            Some(LogEvent {
                group: group.to_string(),
                timestamp_ms: e.timestamp()?,
                message: e.message()?.to_string(),
            })
        }));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(events);
        }
    }
}
