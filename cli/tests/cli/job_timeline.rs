//! `job JOB_ID` rebuilds a job's timeline from the log lines `serve` really wrote, stored in
//! the emulator's CloudWatch Logs next to another job's lines.

use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use rc_testkit::ecs::{ecs_cluster_with_instance, live_tasks, register_task_definition};
use rc_testkit::fixtures::{signed, WorkflowJobEvent};
use rc_testkit::github::FakeGithub;
use rc_testkit::moto::Moto;
use serde_json::Value;

use super::support::{command, Serve};

const SECRET: &str = "timeline-secret";
const CLUSTER: &str = "rc-timeline";
const GROUP: &str = "/runner-controller/serve";
const LABELS: &[&str] = &["self-hosted", "linux", "large"];
/// A repository of the configured organization: deliveries from outside it start nothing.
const REPO: &str = "acme/widgets";

async fn deliver(url: &str, delivery: &str, event: WorkflowJobEvent) {
    let body = event.repository(REPO).labels(LABELS).to_bytes();
    let status = reqwest::Client::new()
        .post(format!("{url}/github/webhook"))
        .header("x-github-event", "workflow_job")
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", signed(&body, SECRET))
        .body(body)
        .send()
        .await
        .expect("serve answers")
        .status();
    assert_eq!(status, 200);
}

/// Collects `serve`'s log lines until one satisfies `done`.
fn logs_until(serve: &Serve, seen: &mut Vec<String>, done: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let fresh = serve.drain_logs();
        let found = fresh
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|l| done(&l));
        seen.extend(fresh);
        if found {
            return;
        }
        assert!(Instant::now() < deadline, "serve log:\n{}", seen.join("\n"));
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is(line: &Value, message: &str, job: u64) -> bool {
    line["fields"]["message"] == message && line["fields"]["job_id"] == job
}

#[tokio::test]
async fn the_timeline_of_a_served_job_comes_back_from_its_logs() {
    let moto = Moto::start();
    moto.freeze_ecs_tasks().await;
    let aws = moto.sdk_config().await;
    ecs_cluster_with_instance(&aws, CLUSTER).await;
    register_task_definition(&aws, "rc-timeline-runner", "runner", 256, 512).await;
    let ecs = aws_sdk_ecs::Client::new(&aws);
    let queue_url = aws_sdk_sqs::Client::new(&aws)
        .create_queue()
        .queue_name("rc-timeline-jobs")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    let github = FakeGithub::start();
    // The fixture's jobs date from 2021, past `replay_check_after`: the manager asks GitHub,
    // which knows them as queued.
    for job in [4242, 77] {
        github.add_job(REPO, job, 2202229078, LABELS);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "github: {{scope: org, name: acme, api_url: '{}'}}\nclasses:\n  - {{name: large, labels: [{}], \
             task_definition: rc-timeline-runner, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 5}}\n",
            github.url(),
            LABELS.join(", ")
        ),
    )
    .expect("write config");
    let mut cmd = command(&moto);
    cmd.args(["serve", "--config", config.to_str().expect("utf-8 path")])
        .args(["--listen", "127.0.0.1:0", "--only", "webhook,manager"])
        .env("RC_JOBS_QUEUE_URL", &queue_url)
        .env("RC_WEBHOOK_SECRET", SECRET)
        .env("RC_CLUSTER", CLUSTER)
        .env("RC_SSM_PREFIX", "/rc-timeline/jit")
        .env("RC_GITHUB_TOKEN", "ghs_timeline");
    let serve = Serve::start(cmd);

    // Job 4242 is the one asked about; job 77's lines share the log group.
    let mut lines = Vec::new();
    for (job, delivery) in [(4242, "d-4242-queued"), (77, "d-77-queued")] {
        deliver(&serve.url, delivery, WorkflowJobEvent::queued().job_id(job)).await;
        logs_until(&serve, &mut lines, |l| is(l, "runner launched", job));
    }
    assert_eq!(live_tasks(&ecs, CLUSTER).await.len(), 2);
    let started = WorkflowJobEvent::in_progress().job_id(4242);
    deliver(&serve.url, "d-4242-started", started).await;
    logs_until(&serve, &mut lines, |l| is(l, "job started", 4242));

    // Ship the lines as the Lambda runtime would: one event per line, stamped when written.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&aws);
    logs.create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .expect("log group");
    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("serve")
        .send()
        .await
        .expect("log stream");
    let events: Vec<InputLogEvent> = lines
        .iter()
        .filter_map(|line| {
            let stamp = serde_json::from_str::<Value>(line).ok()?["timestamp"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())?;
            let event = InputLogEvent::builder()
                .timestamp(stamp.timestamp_millis())
                .message(line)
                .build()
                .expect("timestamp and message set");
            Some(event)
        })
        .collect();
    assert!(events.iter().any(|e| e.message.contains("\"job_id\":77")));
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("serve")
        .set_log_events(Some(events))
        .send()
        .await
        .expect("PutLogEvents");

    let out = command(&moto)
        .args([
            "job",
            "4242",
            "--log-group",
            GROUP,
            "--since",
            "1h",
            "--json",
        ])
        .output()
        .expect("run job");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let timeline: Value = serde_json::from_str(&stdout).expect("one JSON object");
    let steps = timeline["steps"].as_array().expect("steps");
    let messages: Vec<&str> = steps
        .iter()
        .map(|s| s["message"].as_str().expect("message"))
        .collect();
    let at = |m: &str| {
        messages
            .iter()
            .position(|x| *x == m)
            .unwrap_or_else(|| panic!("no {m:?} step in {messages:?}"))
    };
    assert!(at("queued") < at("runner launched"), "{messages:?}");
    assert!(at("runner launched") < at("job started"), "{messages:?}");
    let decision = &steps[at("decision")];
    assert_eq!(decision["fields"]["reason"], "launch", "{decision}");
    assert!(
        steps
            .iter()
            .all(|s| s["fields"]["delivery"] != "d-77-queued"),
        "another job's line slipped in: {messages:?}"
    );
    let gaps: Vec<i64> = steps
        .iter()
        .map(|s| s["gap_ms"].as_i64().expect("gap"))
        .collect();
    let longest = timeline["longest"].as_u64().expect("a longest step") as usize;
    assert_eq!(
        gaps[longest],
        *gaps[1..].iter().max().expect("two steps or more")
    );

    let text = command(&moto)
        .args(["job", "4242", "--log-group", GROUP])
        .output()
        .expect("run job");
    let text = String::from_utf8(text.stdout).expect("utf-8");
    assert!(
        text.starts_with(&format!("job 4242: {} steps over ", steps.len())),
        "{text}"
    );
    assert!(
        text.contains(&format!("longest step: {} after ", messages[longest])),
        "{text}"
    );
}
