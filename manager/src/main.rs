//! The manager Lambda, invoked two ways and told apart by the payload's shape:
//!
//! - the SQS event source mapping on the jobs queue (with `ReportBatchItemFailures`) sends a
//!   batch (`Records`): one [`rc_manager::queue::handle_event`], answered with the failed
//!   message ids;
//! - an EventBridge schedule (`rate(1 minute)`) sends a scheduled event (`detail-type:
//!   Scheduled Event`): one [`rc_manager::Manager::tick`] at the clock's time, answered with
//!   its counts. A tick never fails the invocation: EventBridge would retry it, and the next
//!   minute's tick decides afresh anyway.
//!
//! The cold start builds the clients and loads the config once.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use rc_aws::config_source::{ConfigSource, LastKnownGood, CONFIG_MAX_AGE};
use rc_manager::queue::{emit_rate_limit, handle_event};
use rc_manager::tick::wall_clock;
use rc_manager::ManagerEnv;
use serde_json::{json, Value};

/// What an invocation asks for.
#[derive(Debug)]
enum Invocation {
    Batch(SqsEvent),
    Tick,
}

/// Reads the payload's shape: SQS batches carry `Records`, EventBridge scheduled events a
/// `detail-type` of `Scheduled Event`.
fn classify(payload: Value) -> Result<Invocation, String> {
    if payload.get("Records").is_some() {
        return serde_json::from_value(payload)
            .map(Invocation::Batch)
            .map_err(|e| format!("an SQS event that does not parse: {e}"));
    }
    if payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        return Ok(Invocation::Tick);
    }
    Err(
        "expected an SQS event (`Records`) or an EventBridge scheduled event \
         (`detail-type: Scheduled Event`)"
            .to_owned(),
    )
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Lambda);
    let aws = aws_config::load_from_env().await;
    let config = LastKnownGood::load(ConfigSource::from_env()?).await?;
    let manager = ManagerEnv::from_env()?.build(&aws, &config.get()).await?;
    let (manager, config) = (&manager, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = classify(event.payload)?;
        let config = config.current(CONFIG_MAX_AGE).await;
        let now = wall_clock();
        let answer = match invocation {
            Invocation::Batch(batch) => {
                serde_json::to_value(handle_event(manager, &config, now, batch).await)?
            }
            Invocation::Tick => {
                let report = manager.tick(&config, now, false).await;
                tracing::info!(failures = report.failures(), "{}", report.summary());
                report.emit_metrics();
                json!({ "at": report.at, "counts": report.counts, "failures": report.failures() })
            }
        };
        emit_rate_limit(manager.github());
        Ok::<Value, lambda_runtime::Error>(answer)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_batches_from_scheduled_events() {
        let batch = json!({ "Records": [
            { "messageId": "a", "receiptHandle": "r", "body": "{}", "attributes": {} }
        ] });
        assert!(
            matches!(classify(batch), Ok(Invocation::Batch(event)) if event.records.len() == 1)
        );
        // An EventBridge rule's scheduled event, as AWS documents it.
        let scheduled = json!({
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2026-11-20T01:00:00Z",
            "region": "ap-northeast-1",
            "resources": ["arn:aws:events:ap-northeast-1:123456789012:rule/rc-tick"],
            "detail": {}
        });
        assert!(matches!(classify(scheduled), Ok(Invocation::Tick)));
        assert!(classify(json!({ "hello": "world" })).is_err());
        assert!(classify(json!({ "Records": "not a list" })).is_err());
    }
}
