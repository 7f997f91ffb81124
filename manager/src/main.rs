//! The manager Lambda, invoked two ways and told apart by the payload's shape:
//!
//! - the SQS event source mapping on the jobs queue (with `ReportBatchItemFailures`) sends a
//!   batch (`Records`): one [`rc_manager::queue::handle_event`], answered with the failed
//!   message ids (a batch holding benchmark wake-ups then tends the worker pool);
//! - an EventBridge schedule (`rate(1 minute)`) sends a scheduled event (`detail-type:
//!   Scheduled Event`): one [`rc_manager::Manager::tick`] at the clock's time, answered with
//!   its counts. With `benchmarks` configured and `RC_BENCH_TABLE` set, the benchmark sweeper
//!   and worker pool follow ([`rc_manager::bench`]). A tick never fails the invocation:
//!   EventBridge would retry it, and the next minute's tick decides afresh anyway.
//!
//! The cold start builds the clients and tries the config once. Until a valid config has
//! loaded (retried at most every few seconds by later invocations), a batch reports every
//! message failed, so SQS redelivers it (and its DLQ catches what never gets through), and a
//! tick only logs; the manager itself is built with the first config.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, LambdaEvent};
use rc_aws::config_source::{ConfigCell, ConfigSource, CONFIG_MAX_AGE};
use rc_manager::bench::Sweeper;
use rc_manager::queue::{emit_rate_limit, handle_event};
use rc_manager::wall_clock;
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

/// The answer to a batch that cannot be handled yet: every message failed, for SQS to redeliver.
fn all_failed(batch: &SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for id in batch.records.iter().filter_map(|r| r.message_id.clone()) {
        response.add_failure(id);
    }
    response
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Lambda);
    let aws = aws_config::load_from_env().await;
    let config = ConfigCell::new(ConfigSource::from_env()?);
    config.ready().await;
    let wiring = ManagerEnv::from_env()?;
    let manager = tokio::sync::OnceCell::new();
    let bench = tokio::sync::OnceCell::new();
    let (manager, bench, config, wiring, aws) = (&manager, &bench, &config, &wiring, &aws);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = classify(event.payload)?;
        let config = match config.current(CONFIG_MAX_AGE).await {
            Ok(config) => config,
            Err(e) => {
                tracing::error!(error = %e, "nothing done without a config");
                return Ok(match invocation {
                    Invocation::Batch(batch) => serde_json::to_value(all_failed(&batch))?,
                    Invocation::Tick => json!({ "skipped": e.to_string() }),
                });
            }
        };
        // Boxed: inlined in the handler's future, the build's future overflows the compiler's
        // layout query depth.
        // The batch and the tick likewise.
        let manager = manager
            .get_or_try_init(|| Box::pin(wiring.build(aws, &config)))
            .await?;
        let now = wall_clock();
        // Built once per cold start; a setup problem (no portal secret) is said once and leaves
        // the benchmark steps off (the sweep, the pool), never the tick or the batches.
        let sweeper = bench
            .get_or_init(|| async {
                Sweeper::from_env(&config, aws).await.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "benchmark steps off");
                    None
                })
            })
            .await;
        let answer = match invocation {
            Invocation::Batch(batch) => {
                let store = sweeper.as_ref().map(Sweeper::store);
                serde_json::to_value(Box::pin(handle_event(manager, &config, now, batch, store)).await)?
            }
            Invocation::Tick => {
                let report = Box::pin(manager.tick(&config, now, false)).await;
                tracing::info!(failures = report.failures(), "{}", report.summary());
                report.emit_metrics();
                let mut answer = json!({ "at": report.at, "counts": report.counts, "failures": report.failures() });
                if let (Some(sweeper), Some(section)) = (sweeper, &config.benchmarks) {
                    // Stale jobs first, so their teams' new requests find workers this pass.
                    let swept = Box::pin(sweeper.sweep(section, now, false)).await;
                    let pool = Box::pin(manager.tend_bench_pool(sweeper.store(), section, config.manager.boot_timeout, now)).await;
                    tracing::info!(?swept, ?pool, "benchmarks");
                    let sweep = match swept {
                        Ok(report) => serde_json::to_value(report)?,
                        Err(e) => json!({ "error": e.to_string() }),
                    };
                    answer["bench"] = json!({ "sweep": sweep, "pool": pool });
                }
                answer
            }
        };
        emit_rate_limit(&manager.ports().github);
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

    #[test]
    fn a_batch_without_a_config_fails_every_message() {
        let batch = json!({ "Records": [
            { "messageId": "a", "receiptHandle": "r", "body": "{}", "attributes": {} },
            { "messageId": "b", "receiptHandle": "s", "body": "{}", "attributes": {} }
        ] });
        let Ok(Invocation::Batch(batch)) = classify(batch) else {
            panic!("a batch")
        };
        let failed: Vec<String> = all_failed(&batch)
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        assert_eq!(failed, ["a", "b"]);
    }
}
