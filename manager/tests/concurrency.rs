//! Several managers (as several Lambda invocations would be, each with its own clients and
//! memory) against moto and the fake GitHub, with the class leases in one DynamoDB table:
//! `max_runners` holds when they decide at once, and pools sized from a pickup target follow
//! the arrivals any of them saw.

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

#[tokio::test]
async fn a_cold_manager_sizes_its_pool_from_arrivals_another_one_saw() {
    let h = Harness::start(
        "shared-demand",
        Setup {
            warm_target_p95: Some("20s"),
            ..Setup::default()
        },
    )
    .await;
    let table = "shared-demand-locks";
    let dynamodb = lock_table(table).await;
    let leases = || ClassLocks::dynamodb(dynamodb.clone(), table, Duration::from_secs(60));

    // One invocation handles a fan-out of eight jobs queued in the same second: with no refill
    // measured yet (60 s), a 20 s target needs a pool of eight.
    let first = h.another_manager(&h.ssm_prefix, leases());
    let fan_out: Vec<_> = (1..=8).map(|id| queued(300 + id, 0)).collect();
    let handled = first.handle_batch(&h.config, NOW, &fan_out).await;
    assert!(handled.dispositions.iter().all(|d| *d == Disposition::Done));
    let stored = dynamodb
        .get_item()
        .table_name(table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("demand#large".into()),
        )
        .send()
        .await
        .expect("GetItem");
    let json = stored
        .item()
        .and_then(|i| i.get("demand"))
        .expect("the class's demand is stored");
    let demand: serde_json::Value =
        serde_json::from_str(json.as_s().expect("a string")).expect("JSON");
    assert_eq!(demand["arrivals"].as_array().map(Vec::len), Some(8));

    // A cold invocation sharing the table sizes from those arrivals; one without it from none.
    let target = |report: &rc_manager::tick::TickReport| {
        let pool = report
            .decisions
            .iter()
            .find(|d| d.step == rc_manager::tick::Step::Pool)
            .expect("a pool decision");
        pool.reason.clone()
    };
    let cold = h.another_manager(&h.ssm_prefix, leases());
    let shared = cold.tick(&h.config, NOW, true).await;
    assert!(
        target(&shared).contains("warm target 8"),
        "{}",
        target(&shared)
    );
    let alone = h.another_manager(&h.ssm_prefix, ClassLocks::in_process());
    let own = alone.tick(&h.config, NOW, true).await;
    assert!(target(&own).contains("warm target 1"), "{}", target(&own));
}
