//! The benchmark worker pool against moto and a DynamoDB benchmark store: workers start for
//! the jobs waiting, tagged as benchmark workers, never beyond `max_workers`, and a second pass
//! over the same state starts none.

#[allow(dead_code)] // shared with the other test binaries; each uses part of it
mod support;

use std::time::Duration;

use rc_aws::DynamoBenchStore;
use rc_bench::BenchStore;
use rc_config::{BenchPool, Benchmarks, TargetMode, Team};
use rc_core::bench::{BenchJob, BenchJobId};
use rc_core::observed::tags;
use rc_core::Timestamp;
use rc_testkit::dynamodb::pk_table;
use rc_testkit::moto::Moto;
use support::{tag, Harness, Setup, NOW};

/// The benchmark table as terraform creates it.
async fn bench_store(name: &str) -> DynamoBenchStore {
    let dynamodb = pk_table(&Moto::shared().sdk_config().await, name).await;
    DynamoBenchStore::new(dynamodb, name)
}

/// Four teams and a pool of at most three workers, on the harness's task definition.
fn benchmarks(h: &Harness) -> Benchmarks {
    let class = &h.config.classes[0];
    Benchmarks {
        window: None,
        target: TargetMode::Registered,
        teams: (1..=4)
            .map(|i| Team {
                id: format!("team-0{i}"),
                token_sha256: [i; 32],
                target: format!("192.0.2.{i}"),
            })
            .collect(),
        pool: BenchPool {
            task_definition: class.task_definition.clone(),
            container: class.container.clone(),
            size: class.size,
            capacity_provider: class.capacity_provider.clone(),
            max_workers: 3,
            deadline: Duration::from_secs(90),
            command: vec!["/opt/bench/run".into(), "{target}".into()],
            idle_exit: Duration::from_secs(300),
            warm: Vec::new(),
        },
        stale_after: Duration::from_secs(180),
        portal: None,
        trusted_proxy_header: None,
    }
}

#[tokio::test]
async fn workers_start_for_waiting_jobs_within_the_pool_maximum() {
    let h = Harness::start("bench-pool", Setup::default()).await;
    let store = bench_store("bench-pool-jobs").await;
    let bench = benchmarks(&h);
    let queued_at = Timestamp(NOW.0 - 30_000);
    for (nonce, team) in bench.teams.iter().enumerate() {
        let job = BenchJob::pending(
            BenchJobId::new(queued_at, nonce as u64),
            &team.id,
            &team.target,
            queued_at,
        );
        store.create(&job).await.expect("recorded");
        if team.id == "team-04" {
            let running = job.start(NOW).expect("a pending job starts");
            assert!(store.start(&running).await.expect("started"));
        }
    }

    let first = h.manager.tend_bench_pool(&store, &bench, NOW).await;
    assert_eq!((first.waiting, first.busy, first.workers), (3, 1, 0));
    assert_eq!(first.started.len(), 3, "{first:?}");
    assert_eq!(first.failure, None);
    let tasks = h.live_tasks().await;
    assert_eq!(tasks.len(), 3);
    for task in &tasks {
        assert_eq!(tag(task, tags::ORIGIN), Some("bench"));
        assert_eq!(
            tag(task, tags::CLASS),
            None,
            "a worker belongs to no runner class"
        );
    }

    // Three live workers for three waiting jobs and one running: the pool is at its maximum.
    let second = h.manager.tend_bench_pool(&store, &bench, NOW).await;
    assert_eq!((second.waiting, second.busy, second.workers), (3, 1, 3));
    assert!(second.started.is_empty(), "{second:?}");
    assert_eq!(h.live_tasks().await.len(), 3);
}
