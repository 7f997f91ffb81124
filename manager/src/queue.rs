//! The jobs queue around [`Manager::handle_batch`]: the Lambda's SQS event and partial batch
//! response, and `serve`'s long-poll loop, sharing one way of treating each [`Disposition`].
//!
//! A [`Disposition::RetryAfter`] message gets a longer visibility timeout
//! (`ChangeMessageVisibility`) before it is handed back, so a full class is asked again
//! minutes later instead of every visibility timeout. In the Lambda, SQS deletes what is not
//! reported failed (the event source mapping sets `ReportBatchItemFailures`); the loop deletes
//! done messages itself.

use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use rc_aws::config_source::{LastKnownGood, CONFIG_MAX_AGE};
use rc_aws::emf::{MetricSet, Unit};
use rc_aws::{AwsError, DynamoBenchStore, SqsJobQueue};
use rc_core::Timestamp;
use rc_github::client::GithubClient;

use crate::{Disposition, Manager, QueueMessage};

/// Wait after a failed receive; doubled per further failure up to [`RECEIVE_BACKOFF_MAX`].
const RECEIVE_BACKOFF: Duration = Duration::from_secs(1);
const RECEIVE_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// `ApproximateReceiveCount`, the attribute both the Lambda event and ReceiveMessage carry.
const RECEIVE_COUNT: &str = "ApproximateReceiveCount";

/// The messages of a Lambda SQS event.
pub fn messages_from_event(event: SqsEvent) -> Vec<QueueMessage> {
    event
        .records
        .into_iter()
        .map(|record| QueueMessage {
            id: record.message_id.unwrap_or_default(),
            receipt_handle: record.receipt_handle.unwrap_or_default(),
            body: record.body.unwrap_or_default(),
            receive_count: QueueMessage::parse_receive_count(
                record.attributes.get(RECEIVE_COUNT).map(String::as_str),
            ),
        })
        .collect()
}

/// The partial batch response: every message that is not done.
pub fn batch_response(messages: &[QueueMessage], dispositions: &[Disposition]) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.set_failures(
        messages
            .iter()
            .zip(dispositions)
            .filter(|(_, d)| **d != Disposition::Done)
            .map(|(m, _)| m.id.clone()),
    );
    response
}

/// One Lambda invocation: handles the event's batch and answers which messages failed. A
/// batch holding benchmark wake-ups tends the worker pool over `bench_store`.
pub async fn handle_event(
    manager: &Manager,
    config: &rc_config::Config,
    now: Timestamp,
    event: SqsEvent,
    bench_store: Option<&DynamoBenchStore>,
) -> SqsBatchResponse {
    let messages = messages_from_event(event);
    let outcome = manager
        .handle_batch_with_bench(config, now, &messages, bench_store)
        .await;
    outcome.metrics.emit();
    delay_redelivery(&manager.ports().queue, &messages, &outcome.dispositions).await;
    batch_response(&messages, &outcome.dispositions)
}

/// Reads the jobs queue until `shutdown` completes, handling each batch as the Lambda does
/// (benchmark wake-ups tend the worker pool over `bench_store`). The batch in hand when
/// `shutdown` completes is finished first, so no launch is cut short.
///
/// Receive failures are logged and retried with backoff; this returns only on shutdown.
pub async fn run_queue_loop(
    manager: &Manager,
    config: &LastKnownGood,
    bench_store: Option<&DynamoBenchStore>,
    shutdown: impl Future<Output = ()>,
) {
    let queue = &manager.ports().queue;
    let mut backoff = RECEIVE_BACKOFF;
    tokio::pin!(shutdown);
    loop {
        let received = tokio::select! {
            () = &mut shutdown => return,
            received = queue.receive() => received,
        };
        let messages = match received {
            Ok(messages) => {
                backoff = RECEIVE_BACKOFF;
                messages
            }
            Err(err) => {
                tracing::warn!(error = %err, ?backoff, "receiving from the jobs queue failed");
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(RECEIVE_BACKOFF_MAX);
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let config = config.current(CONFIG_MAX_AGE).await;
        let outcome = manager
            .handle_batch_with_bench(
                &config,
                Timestamp::from_datetime(chrono::Utc::now()),
                &messages,
                bench_store,
            )
            .await;
        outcome.metrics.emit();
        delay_redelivery(queue, &messages, &outcome.dispositions).await;
        delete_done(queue, &messages, &outcome.dispositions).await;
        emit_rate_limit(&manager.ports().github);
    }
}

/// Writes the GitHub rate limit the last answer reported, as the `GithubRateLimitRemaining`
/// metric; nothing before the first GitHub call.
pub fn emit_rate_limit(github: &GithubClient) {
    if let Some(limit) = github.rate_limit() {
        MetricSet::new()
            .value(
                "GithubRateLimitRemaining",
                limit.remaining as f64,
                Unit::Count,
            )
            .emit();
    }
}

/// Gives each [`Disposition::RetryAfter`] message its longer visibility timeout. A failure only
/// means the message comes back sooner, so it is logged, not raised.
async fn delay_redelivery(
    queue: &SqsJobQueue,
    messages: &[QueueMessage],
    dispositions: &[Disposition],
) {
    let delayed: Vec<(&QueueMessage, Duration)> = messages
        .iter()
        .zip(dispositions)
        .filter_map(|(message, disposition)| match disposition {
            Disposition::RetryAfter(wait) => Some((message, *wait)),
            _ => None,
        })
        .collect();
    log_batch_outcome("visibility change", queue.delay(&delayed).await);
}

/// Deletes the done messages (what the Lambda event source does for the Lambda). A failed
/// delete means a redelivery, which the manager's decisions make harmless.
async fn delete_done(queue: &SqsJobQueue, messages: &[QueueMessage], dispositions: &[Disposition]) {
    let done: Vec<&QueueMessage> = messages
        .iter()
        .zip(dispositions)
        .filter(|(_, disposition)| **disposition == Disposition::Done)
        .map(|(message, _)| message)
        .collect();
    log_batch_outcome("delete", queue.delete(&done).await);
}

fn log_batch_outcome(what: &str, outcome: Result<usize, AwsError>) {
    match outcome {
        Ok(0) => {}
        Ok(failed) => tracing::warn!(
            failed,
            "some of a batch {what} failed; those messages come back"
        ),
        Err(error) => tracing::warn!(%error, "batch {what} failed; the messages come back"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> SqsEvent {
        serde_json::from_value(serde_json::json!({
            "Records": [
                { "messageId": "a", "receiptHandle": "ra", "body": "{}", "attributes": { "ApproximateReceiveCount": "3" } },
                { "messageId": "b", "receiptHandle": "rb", "body": "x", "attributes": {} },
                { "messageId": "c", "receiptHandle": "rc", "body": "y", "attributes": {} }
            ]
        }))
        .expect("a valid SQS event")
    }

    #[test]
    fn reads_the_event_and_reports_only_failures() {
        let messages = messages_from_event(event());
        assert_eq!(messages[0].receive_count, 3);
        assert_eq!(messages[1].receive_count, 1);
        let dispositions = [
            Disposition::Done,
            Disposition::Retry,
            Disposition::RetryAfter(Duration::from_secs(60)),
        ];
        let response = batch_response(&messages, &dispositions);
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["b", "c"]);
    }
}
