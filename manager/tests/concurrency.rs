//! `max_runners` under concurrent deciders: several managers (as several Lambda invocations
//! would be, each with its own clients) handle batches at once against moto and the fake
//! GitHub, with the class leases in one DynamoDB table.

#[allow(dead_code)] // shared with tests/manager.rs; each test binary uses part of it
mod support;

use std::sync::Arc;
use std::time::Duration;

use rc_aws::ClassLocks;
use rc_manager::Disposition;
use rc_testkit::dynamodb::pk_table;
use rc_testkit::moto::Moto;
use support::{queued, Harness, Setup, NOW};

/// Concurrent handlers, one queued job each.
const HANDLERS: u64 = 5;

/// A lock table as terraform creates it: string partition key `pk`, on demand.
async fn lock_table(name: &str) -> aws_sdk_dynamodb::Client {
    pk_table(&Moto::shared().sdk_config().await, name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_handlers_hold_max_runners() {
    let h = Harness::start(
        "concurrent-max",
        Setup {
            max_runners: 1,
            ..Setup::default()
        },
    )
    .await;
    let dynamodb = lock_table("concurrent-max-locks").await;
    let config = Arc::new(h.config.clone());

    let handlers: Vec<_> = (1..=HANDLERS)
        .map(|job_id| {
            let manager = h.another_manager(
                &h.ssm_prefix,
                ClassLocks::dynamodb(
                    dynamodb.clone(),
                    "concurrent-max-locks",
                    Duration::from_secs(60),
                ),
            );
            let config = Arc::clone(&config);
            tokio::spawn(async move {
                manager
                    .handle_batch(&config, NOW, &[queued(200 + job_id, 0)])
                    .await
                    .dispositions
            })
        })
        .collect();
    let mut dispositions = Vec::new();
    for handler in handlers {
        dispositions.extend(handler.await.expect("the handler finished"));
    }

    assert_eq!(h.live_tasks().await.len(), 1, "{dispositions:?}");
    let done = dispositions
        .iter()
        .filter(|d| **d == Disposition::Done)
        .count();
    assert_eq!(done, 1, "{dispositions:?}");
    let handed_back = dispositions
        .iter()
        .filter(|d| matches!(d, Disposition::Retry | Disposition::RetryAfter(_)))
        .count();
    assert_eq!(
        handed_back as u64,
        HANDLERS - 1,
        "the others go back to SQS, at capacity or with the lease busy: {dispositions:?}"
    );
    let leases = dynamodb
        .scan()
        .table_name("concurrent-max-locks")
        .send()
        .await
        .expect("Scan");
    assert_eq!(leases.count(), 0, "every lease was released");
}
