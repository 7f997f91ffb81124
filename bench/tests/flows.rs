//! The intake, agent and sweeper flows over the in-memory ports: rule 7 as operations see it.

use std::time::Duration;

use rc_bench::agent::{Agent, AgentSettings, Handled};
use rc_bench::intake::{Answer, Body, Intake, Request};
use rc_bench::memory::{ManualClock, MemoryPortal, MemoryQueue, MemoryStore, MemoryWaker};
use rc_bench::portal::PortalTarget;
use rc_bench::sweeper::sweep;
use rc_bench::{Benchmarker, Clock, RunSpec};
use rc_config::Benchmarks;
use rc_core::bench::auth::token_digest;
use rc_core::bench::outcome::{Exit, RunReport};
use rc_core::bench::portal::verify;
use rc_core::bench::JobStatus;
use rc_core::Timestamp;

const SECRET: &[u8] = b"portal-secret";

/// One deployment's benchmark ports, in memory, with the clock at the contest's opening.
struct Ports {
    store: MemoryStore,
    queue: MemoryQueue,
    waker: MemoryWaker,
    clock: ManualClock,
    bench: Benchmarks,
}

impl Ports {
    fn at_opening() -> Self {
        Ports {
            store: MemoryStore::default(),
            queue: MemoryQueue::default(),
            waker: MemoryWaker::default(),
            clock: ManualClock::at(open()),
            bench: bench(),
        }
    }

    /// The intake over these ports; `ops_digest` lets ops read every team's jobs.
    fn intake(
        &self,
        ops_digest: Option<[u8; 32]>,
    ) -> Intake<'_, MemoryStore, MemoryQueue, MemoryWaker, ManualClock> {
        Intake {
            store: &self.store,
            queue: &self.queue,
            waker: &self.waker,
            clock: &self.clock,
            bench: &self.bench,
            ops_digest,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bench() -> Benchmarks {
    let text = format!(
        "github: {{scope: org, name: acme}}
classes:
  - {{name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 2}}
benchmarks:
  window: {{from: 2026-12-10T10:00:00+09:00, to: 2026-12-10T18:00:00+09:00}}
  teams:
    - {{id: team-01, token_sha256: {}, target: 192.0.2.10}}
    - {{id: team-02, token_sha256: {}, target: 192.0.2.11}}
  pool: {{task_definition: b, cpu: 1024, memory: 2048, capacity_provider: cp, max_workers: 2, deadline: 90s, command: [/opt/bench, --target, '{{target}}']}}
  stale_after: 3m
",
        hex(&token_digest("token-01")),
        hex(&token_digest("token-02"))
    );
    rc_config::parse(&text)
        .expect("valid")
        .benchmarks
        .expect("section")
}

fn open() -> Timestamp {
    Timestamp::from_datetime(
        chrono::DateTime::parse_from_rfc3339("2026-12-10T12:00:00+09:00")
            .expect("time")
            .to_utc(),
    )
}

fn post(token: &str) -> String {
    format!("Bearer {token}")
}

async fn call(
    intake: &Intake<'_, MemoryStore, MemoryQueue, MemoryWaker, ManualClock>,
    method: &str,
    path: &str,
    auth: Option<&str>,
    nonce: u64,
) -> Answer {
    let req = Request {
        method,
        path,
        query: None,
        authorization: auth,
        source: None,
    };
    intake
        .handle(intake.clock.now(), nonce, &req)
        .await
        .expect("a benchmark route")
}

fn json(answer: &Answer) -> &serde_json::Value {
    match &answer.body {
        Body::Json(v) => v,
        Body::Html(_) => panic!("expected JSON"),
    }
}

/// A benchmarker that reports what it was given and prints a fixed score.
struct Scripted(RunReport);

impl Benchmarker for Scripted {
    async fn run(&self, spec: &RunSpec) -> RunReport {
        assert_eq!(spec.argv[2], "192.0.2.10", "{{target}} is replaced");
        assert!(spec
            .env
            .contains(&("RC_BENCH_TEAM".into(), "team-01".into())));
        self.0.clone()
    }
}

#[tokio::test]
async fn a_request_is_queued_once_per_team_and_answered_every_time() {
    let ports = Ports::at_opening();
    let Ports {
        queue,
        waker,
        clock,
        ..
    } = &ports;
    let intake = ports.intake(Some(token_digest("ops")));
    let first = call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 1).await;
    assert_eq!(first.status, 202);
    let id = json(&first)["id"].as_str().expect("id").to_string();
    assert_eq!(json(&first)["status"], "pending");
    assert_eq!(json(&first)["target"], "192.0.2.10");
    let second = call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 2).await;
    assert_eq!(second.status, 409);
    assert_eq!(json(&second)["job"], id.as_str());
    // The accepted request woke the manager's pool once; the refused one did not.
    let woken: Vec<String> = waker.woken().iter().map(|j| j.to_string()).collect();
    assert_eq!(woken, [id.as_str()]);
    assert_eq!(
        call(&intake, "POST", "/benchmarks", Some(&post("nope")), 3)
            .await
            .status,
        401
    );
    assert_eq!(
        call(&intake, "POST", "/benchmarks", None, 3).await.status,
        401
    );
    assert_eq!(
        call(&intake, "POST", "/benchmarks", Some(&post("token-02")), 4)
            .await
            .status,
        202
    );
    assert_eq!(queue.len(), 2);

    // Reads: own job, another team's (404), ops, list, board.
    let path = format!("/benchmarks/{id}");
    assert_eq!(
        call(&intake, "GET", &path, Some(&post("token-01")), 0)
            .await
            .status,
        200
    );
    assert_eq!(
        call(&intake, "GET", &path, Some(&post("token-02")), 0)
            .await
            .status,
        404
    );
    assert_eq!(
        call(&intake, "GET", &path, Some(&post("ops")), 0)
            .await
            .status,
        200
    );
    assert_eq!(
        call(
            &intake,
            "GET",
            "/benchmarks/bj-../../x",
            Some(&post("ops")),
            0
        )
        .await
        .status,
        404
    );
    assert_eq!(
        call(&intake, "GET", "/benchmarks", Some(&post("token-01")), 0)
            .await
            .status,
        403
    );
    let list = call(&intake, "GET", "/benchmarks", Some(&post("ops")), 0).await;
    assert_eq!(json(&list)["jobs"].as_array().expect("jobs").len(), 2);
    let board = call(&intake, "GET", "/benchmarks/board", Some(&post("ops")), 0).await;
    assert!(matches!(&board.body, Body::Html(h) if h.contains("Queue (2)")));
    assert_eq!(
        call(&intake, "DELETE", "/benchmarks", Some(&post("ops")), 0)
            .await
            .status,
        405
    );

    clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(
        call(&intake, "POST", "/benchmarks", Some(&post("token-02")), 5)
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn a_failed_send_undoes_the_job_and_the_lock() {
    let ports = Ports::at_opening();
    let Ports {
        store,
        queue,
        waker,
        ..
    } = &ports;
    let intake = ports.intake(None);
    queue.set_failing_sends(true);
    assert_eq!(
        call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 1)
            .await
            .status,
        503
    );
    assert!(store.jobs().is_empty());
    assert_eq!(store.lock("team-01"), None);
    queue.set_failing_sends(false);
    store.set_failing(true);
    assert_eq!(
        call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 2)
            .await
            .status,
        503
    );
    assert!(queue.is_empty());
    store.set_failing(false);
    assert!(
        waker.woken().is_empty(),
        "nothing queued, nothing to wake for"
    );
    // A wake-up that cannot be sent changes nothing of the answer: the tick tends the pool.
    waker.set_failing(true);
    assert_eq!(
        call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 3)
            .await
            .status,
        202
    );
    assert_eq!(queue.len(), 1);
}

#[tokio::test]
async fn the_agent_runs_stores_posts_then_deletes() {
    let ports = Ports::at_opening();
    let Ports {
        store,
        queue,
        clock,
        bench,
        ..
    } = &ports;
    let intake = ports.intake(None);
    assert_eq!(
        call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 1)
            .await
            .status,
        202
    );
    let portal = MemoryPortal::failing_first(2);
    let benchmarker = Scripted(RunReport {
        exit: Exit::Code(0),
        stdout_tail: "noise\n{\"score\": 4200}\n".into(),
        stderr_tail: String::new(),
    });
    let agent = Agent {
        store,
        queue,
        portal: Some(PortalTarget {
            portal: &portal,
            secret: SECRET,
        }),
        clock,
        benchmarker: &benchmarker,
        settings: AgentSettings::from_config(bench, true),
    };
    let handled = agent.run().await;
    let [Handled::Ran(job)] = handled.as_slice() else {
        panic!("one job ran: {handled:?}")
    };
    assert_eq!((job.status, job.score), (JobStatus::Passed, Some(4200.0)));
    assert_eq!(
        store.job(&job.id).expect("stored").status,
        JobStatus::Passed
    );
    assert_eq!(store.lock("team-01"), None, "the team can ask again");
    let posts = portal.posts();
    assert_eq!(posts.len(), 3, "two 503s, then accepted");
    assert!(posts
        .iter()
        .all(|(body, sig)| *body == posts[0].0 && verify(SECRET, body, sig)));
    assert!(queue.is_empty(), "the message is deleted last");

    // --once with nothing queued returns without a job.
    assert!(agent.run().await.is_empty());
}

#[tokio::test]
async fn a_redelivered_message_never_runs_a_job_twice() {
    let ports = Ports::at_opening();
    let Ports {
        store,
        queue,
        clock,
        bench,
        ..
    } = &ports;
    let intake = ports.intake(None);
    call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 1).await;
    let job = store.jobs()[0].clone();
    // A worker started it and died: the job is running, the message comes back.
    store.put(job.start(clock.now()).expect("starts"));
    let benchmarker = Scripted(RunReport {
        exit: Exit::Code(0),
        stdout_tail: "{\"score\": 1}".into(),
        stderr_tail: String::new(),
    });
    let agent: Agent<'_, _, _, MemoryPortal, _, _> = Agent {
        store,
        queue,
        portal: None,
        clock,
        benchmarker: &benchmarker,
        settings: AgentSettings::from_config(bench, true),
    };
    let handled = agent.run().await;
    assert!(matches!(handled.as_slice(), [Handled::Skipped(r)] if r.contains("already running")));
    assert!(queue.is_empty());

    // The sweeper errors it after stale_after, tells the portal, and frees the team.
    let portal = MemoryPortal::default();
    let target = PortalTarget {
        portal: &portal,
        secret: SECRET,
    };
    let early = sweep(
        store,
        Some(&target),
        clock,
        bench,
        clock.now() + Duration::from_secs(179),
    )
    .await
    .expect("sweeps");
    assert!(early.errored.is_empty());
    let report = sweep(
        store,
        Some(&target),
        clock,
        bench,
        clock.now() + Duration::from_secs(180),
    )
    .await
    .expect("sweeps");
    assert_eq!(report.errored, vec![job.id.clone()]);
    assert_eq!(store.job(&job.id).expect("job").status, JobStatus::Errored);
    assert_eq!(store.lock("team-01"), None);
    let posts = portal.posts();
    assert_eq!(posts.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&posts[0].0).expect("json");
    assert_eq!(body["status"], "errored");
    assert_eq!(
        call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 2)
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn a_lock_left_by_an_ended_job_is_freed() {
    let ports = Ports::at_opening();
    let Ports {
        store,
        clock,
        bench,
        ..
    } = &ports;
    let intake = ports.intake(None);
    call(&intake, "POST", "/benchmarks", Some(&post("token-01")), 1).await;
    let job = store.jobs()[0].clone();
    // A crash between the job's write and the lock's release.
    let ended = job
        .start(clock.now())
        .expect("starts")
        .finish(&rc_core::bench::outcome::Outcome::errored("x"), clock.now())
        .expect("ends");
    store.put(ended);
    let report = sweep::<_, MemoryPortal, _>(store, None, clock, bench, clock.now())
        .await
        .expect("sweeps");
    assert_eq!(report.unlocked, vec!["team-01".to_string()]);
    assert_eq!(store.lock("team-01"), None);
}
