//! The benchmark worker pool against moto and a DynamoDB benchmark store: workers start for
//! the jobs waiting, tagged as benchmark workers, never beyond `max_workers`, and a second pass
//! over the same state starts none; a worker stuck in its boot is stopped and replaced, a
//! running one never; a wake-up on the jobs queue starts a worker for a waiting job at once.

#[allow(dead_code)] // shared with the other test binaries; each uses part of it
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rc_aws::DynamoBenchStore;
use rc_bench::BenchStore;
use rc_config::{BenchPool, Benchmarks, TargetMode, Team};
use rc_core::bench::{BenchJob, BenchJobId};
use rc_core::message::JobMessage;
use rc_core::observed::tags;
use rc_core::Timestamp;
use rc_manager::Disposition;
use rc_testkit::dynamodb::pk_table;
use rc_testkit::moto::Moto;
use support::{message, tag, Harness, Setup, NOW};

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

    let boot = h.config.manager.boot_timeout;
    let first = h.manager.tend_bench_pool(&store, &bench, boot, NOW).await;
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
    let second = h.manager.tend_bench_pool(&store, &bench, boot, NOW).await;
    assert_eq!((second.waiting, second.busy, second.workers), (3, 1, 3));
    assert!(second.started.is_empty(), "{second:?}");
    assert_eq!(h.live_tasks().await.len(), 3);
}

/// A pending job of `team`, recorded in `store`.
async fn pending(store: &DynamoBenchStore, team: &Team, nonce: u64) -> BenchJob {
    let queued_at = Timestamp(NOW.0 - 30_000);
    let job = BenchJob::pending(
        BenchJobId::new(queued_at, nonce),
        &team.id,
        &team.target,
        queued_at,
    );
    store.create(&job).await.expect("recorded");
    job
}

/// moto stamps a task's `createdAt` with the wall clock, so ages are measured from it.
fn wall_clock() -> Timestamp {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    Timestamp(i64::try_from(since_epoch.as_millis()).expect("in range"))
}

#[tokio::test]
async fn a_worker_stuck_in_its_boot_is_stopped_and_replaced_a_running_one_never() {
    let h = Harness::start("bench-stuck", Setup::default()).await;
    let store = bench_store("bench-stuck-jobs").await;
    let bench = benchmarks(&h);
    let boot = h.config.manager.boot_timeout;
    pending(&store, &bench.teams[0], 1).await;
    let busy = pending(&store, &bench.teams[1], 2).await;
    let first = h.manager.tend_bench_pool(&store, &bench, boot, NOW).await;
    assert_eq!(first.started.len(), 2, "{first:?}");
    // One worker took team-02's job and runs it; the other never got past pulling its image.
    assert!(store
        .start(&busy.start(NOW).expect("pending"))
        .await
        .expect("started"));
    let (stuck, running) = (&first.started[0], &first.started[1]);
    Moto::shared().set_ecs_task_status(stuck, "PENDING").await;

    // Within the boot timeout nothing is stuck.
    let early = wall_clock();
    let calm = h.manager.tend_bench_pool(&store, &bench, boot, early).await;
    assert_eq!((calm.stopped.len(), calm.started.len()), (0, 0), "{calm:?}");

    let later =
        Timestamp(wall_clock().0 + i64::try_from(boot.as_millis()).expect("small") + 60_000);
    let pass = h.manager.tend_bench_pool(&store, &bench, boot, later).await;
    assert_eq!(pass.stopped, [stuck.as_str()], "{pass:?}");
    assert_eq!((pass.waiting, pass.busy, pass.workers), (1, 1, 2));
    assert_eq!(
        pass.started.len(),
        1,
        "the stuck worker's slot goes to a replacement"
    );
    assert_eq!(pass.failure, None);
    let live: Vec<String> = h
        .live_tasks()
        .await
        .iter()
        .filter_map(|t| t.task_arn.clone())
        .collect();
    assert!(!live.contains(stuck), "the stuck worker is stopped");
    assert!(
        live.contains(running),
        "a running worker may be busy: never stopped"
    );
    assert!(live.contains(&pass.started[0]));

    // The replacement runs: the next pass has nothing to do.
    let settled = h.manager.tend_bench_pool(&store, &bench, boot, later).await;
    assert!(
        settled.stopped.is_empty() && settled.started.is_empty(),
        "{settled:?}"
    );
}

#[tokio::test]
async fn a_wake_up_on_the_jobs_queue_starts_a_worker_for_a_waiting_job() {
    let h = Harness::start("bench-wake", Setup::default()).await;
    let store = bench_store("bench-wake-jobs").await;
    let mut config = h.config.clone();
    config.benchmarks = Some(benchmarks(&h));
    let job = pending(
        &store,
        &config.benchmarks.as_ref().expect("set").teams[0],
        1,
    )
    .await;
    let wake = JobMessage::BenchWake {
        job: job.id.clone(),
    }
    .to_json();
    // Twice in one batch, as a redelivery might: one pass.
    let batch = [message("w-1", wake.clone()), message("w-2", wake.clone())];

    // A driver without the benchmark store acknowledges wake-ups and starts nothing.
    let blind = h
        .manager
        .handle_batch_with_bench::<DynamoBenchStore>(&config, NOW, &batch, None)
        .await;
    assert_eq!(blind.dispositions, [Disposition::Done, Disposition::Done]);
    assert_eq!((blind.bench_wakes, blind.pool.is_none()), (2, true));
    assert!(h.live_tasks().await.is_empty());

    let outcome = h
        .manager
        .handle_batch_with_bench(&config, NOW, &batch, Some(&store))
        .await;
    assert_eq!(outcome.dispositions, [Disposition::Done, Disposition::Done]);
    let pass = outcome.pool.expect("a pool pass");
    assert_eq!((pass.waiting, pass.started.len()), (1, 1), "{pass:?}");
    let tasks = h.live_tasks().await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tag(&tasks[0], tags::ORIGIN), Some("bench"));

    // A late duplicate changes nothing: the worker already covers the job.
    let again = h
        .manager
        .handle_batch_with_bench(&config, NOW, &batch[..1], Some(&store))
        .await;
    assert!(again.pool.expect("a pool pass").started.is_empty());
    assert_eq!(h.live_tasks().await.len(), 1);
}
