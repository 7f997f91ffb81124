//! The benchmark adapters against moto: DynamoDB conditional writes keep one job per team and
//! end a job once; the SQS FIFO queue keeps a team's jobs in order, one in flight at a time,
//! and queues a job once however often it is sent.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use rc_aws::{DynamoBenchStore, SqsBenchQueue};
use rc_bench::{BenchQueue, BenchStore, Created};
use rc_core::bench::outcome::Outcome;
use rc_core::bench::{BenchJob, BenchJobId, BenchMessage, JobStatus};
use rc_core::Timestamp;
use rc_testkit::dynamodb::pk_table;
use rc_testkit::moto::Moto;

async fn store(moto: &Moto) -> DynamoBenchStore {
    let client = pk_table(&moto.sdk_config().await, "bench").await;
    DynamoBenchStore::new(client, "bench")
}

fn job(team: &str, at: i64, nonce: u64) -> BenchJob {
    BenchJob::pending(
        BenchJobId::new(Timestamp(at), nonce),
        team,
        "192.0.2.1",
        Timestamp(at),
    )
}

#[tokio::test]
async fn of_simultaneous_requests_of_one_team_exactly_one_is_recorded() {
    let moto = Moto::start();
    let store = store(&moto).await;
    let jobs: Vec<BenchJob> = (0..8)
        .map(|i| job("team-01", 1_000 + i, i as u64))
        .collect();
    let answers = futures_util::future::join_all(jobs.iter().map(|j| store.create(j))).await;
    let recorded: Vec<&BenchJob> = jobs
        .iter()
        .zip(&answers)
        .filter(|(_, a)| matches!(a, Ok(Created::Recorded)))
        .map(|(j, _)| j)
        .collect();
    assert_eq!(recorded.len(), 1, "{answers:?}");
    let winner = recorded[0].id.clone();
    for answer in &answers {
        match answer.as_ref().expect("moto answers") {
            Created::Recorded => {}
            Created::Busy(holder) => assert_eq!(holder.as_ref(), Some(&winner)),
        }
    }
    // Losers left nothing behind.
    let (listed, _) = store.list(None, 100).await.expect("list");
    assert_eq!(listed.len(), 1);
    // Another team is independent.
    assert_eq!(
        store.create(&job("team-02", 5, 5)).await.expect("create"),
        Created::Recorded
    );
}

#[tokio::test]
async fn a_job_starts_once_ends_once_and_frees_its_team() {
    let moto = Moto::start();
    let store = store(&moto).await;
    let pending = job("team-01", 1_000, 1);
    assert_eq!(
        store.create(&pending).await.expect("create"),
        Created::Recorded
    );
    let running = pending.start(Timestamp(2_000)).expect("starts");
    assert!(store.start(&running).await.expect("start"));
    assert!(
        !store.start(&running).await.expect("start again"),
        "a second start is refused"
    );
    assert!(store
        .heartbeat(&running.id, Timestamp(3_000))
        .await
        .expect("heartbeat"));
    let read = store.get(&running.id).await.expect("get").expect("exists");
    assert_eq!(
        (read.status, read.heartbeat_at),
        (JobStatus::Running, Some(Timestamp(3_000)))
    );

    let locks = store
        .teams(&["team-01".into(), "team-02".into()])
        .await
        .expect("teams");
    let lock = locks
        .iter()
        .find(|l| l.team == "team-01")
        .expect("team-01's item");
    assert_eq!(lock.holder.as_ref(), Some(&running.id));
    assert_eq!(
        lock.row.active.as_ref().map(|j| j.status),
        Some(JobStatus::Running)
    );

    let errored = running
        .finish(&Outcome::errored("swept"), Timestamp(9_000))
        .expect("ends");
    assert!(store
        .finish(&errored, JobStatus::Running)
        .await
        .expect("finish"));
    let passed = running
        .finish(
            &Outcome {
                status: JobStatus::Passed,
                score: Some(1.0),
                passed: true,
                reason: None,
            },
            Timestamp(9_500),
        )
        .expect("ends");
    assert!(
        !store
            .finish(&passed, JobStatus::Running)
            .await
            .expect("finish again"),
        "a job ends once"
    );
    assert!(
        !store
            .heartbeat(&running.id, Timestamp(10_000))
            .await
            .expect("heartbeat"),
        "no heartbeat after the end"
    );
    assert_eq!(
        store
            .get(&running.id)
            .await
            .expect("get")
            .expect("exists")
            .status,
        JobStatus::Errored
    );

    let locks = store.teams(&["team-01".into()]).await.expect("teams");
    assert_eq!(locks[0].holder, None);
    assert_eq!(
        locks[0].row.last.as_ref().map(|j| j.status),
        Some(JobStatus::Errored)
    );
    assert_eq!(
        store
            .create(&job("team-01", 11_000, 2))
            .await
            .expect("create"),
        Created::Recorded
    );
}

#[tokio::test]
async fn an_undone_job_leaves_no_trace_and_lists_page_newest_first() {
    let moto = Moto::start();
    let store = store(&moto).await;
    let undone = job("team-01", 1, 1);
    store.create(&undone).await.expect("create");
    store.discard(&undone).await.expect("discard");
    assert_eq!(store.get(&undone.id).await.expect("get"), None);
    assert_eq!(
        store.teams(&["team-01".into()]).await.expect("teams")[0].holder,
        None
    );

    for i in 0..25 {
        let team = format!("team-{i:02}");
        store
            .create(&job(&team, 100 + i, i as u64))
            .await
            .expect("create");
    }
    let (first, next) = store.list(None, 10).await.expect("list");
    assert_eq!(first[0].queued_at, Timestamp(124));
    let (second, _) = store.list(next.as_ref(), 10).await.expect("list");
    assert_eq!(second[0].queued_at, Timestamp(114));
}

#[tokio::test]
async fn the_fifo_queue_serves_teams_in_order_one_at_a_time_and_once() {
    let moto = Moto::start();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let url = sqs
        .create_queue()
        .queue_name("bench.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("url");
    let queue = SqsBenchQueue::new(sqs, url);
    let a1 = BenchMessage::for_job(&job("team-a", 1, 1));
    let a2 = BenchMessage::for_job(&job("team-a", 2, 2));
    let b1 = BenchMessage::for_job(&job("team-b", 3, 3));
    for message in [&a1, &a1, &a2, &b1] {
        queue.send(message).await.expect("send");
    }
    let wait = Duration::from_secs(1);
    let visible = Duration::from_secs(60);
    let first = queue
        .receive(wait, visible)
        .await
        .expect("receive")
        .expect("a message");
    assert_eq!(BenchMessage::from_json(&first.body).expect("ours"), a1);
    // team-a is busy while a1 is in flight: the next worker gets team-b.
    let second = queue
        .receive(wait, visible)
        .await
        .expect("receive")
        .expect("a message");
    assert_eq!(BenchMessage::from_json(&second.body).expect("ours"), b1);
    assert_eq!(queue.receive(wait, visible).await.expect("receive"), None);
    queue.extend(&first.receipt, visible).await.expect("extend");
    queue.delete(&first.receipt).await.expect("delete");
    let third = queue
        .receive(wait, visible)
        .await
        .expect("receive")
        .expect("a message");
    assert_eq!(
        BenchMessage::from_json(&third.body).expect("ours"),
        a2,
        "a1 was queued once"
    );
}
