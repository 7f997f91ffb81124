//! Benchmark jobs end to end against moto: `serve` takes requests, `bench-agent --once` runs
//! real benchmarker processes, the fake portal checks signatures, `tick --bench-only` sweeps.

use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use rc_testkit::dynamodb::pk_table;
use rc_testkit::moto::Moto;
use rc_testkit::portal::FakePortal;
use sha2::{Digest, Sha256};

use super::support::{command, Serve};

const PORTAL_SECRET: &str = "portal-secret";
const TEAM_TOKEN: &str = "team-01-token";
const OTHER_TOKEN: &str = "team-02-token";
const OPS_TOKEN: &str = "ops-token";

struct Contest {
    moto: Moto,
    portal: FakePortal,
    jobs_queue: String,
    bench_queue: String,
    table: String,
    dir: tempfile::TempDir,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn contest() -> Contest {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let jobs_queue = sqs
        .create_queue()
        .queue_name("jobs")
        .send()
        .await
        .expect("jobs queue")
        .queue_url
        .expect("url");
    let bench_queue = sqs
        .create_queue()
        .queue_name("bench.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("FIFO queue")
        .queue_url
        .expect("url");
    let table = "bench-state".to_string();
    pk_table(&sdk, &table).await;
    Contest {
        moto,
        portal: FakePortal::start(PORTAL_SECRET, 1),
        jobs_queue,
        bench_queue,
        table,
        dir: tempfile::tempdir().expect("temp dir"),
    }
}

impl Contest {
    /// A config whose window is open now (or not), running `script` under `sh` with the target
    /// as `$1`.
    fn config(&self, name: &str, open: bool, script: &str, deadline: &str) -> String {
        self.config_with(name, open, script, deadline, "registered", "192.0.2.10")
    }

    fn config_with(
        &self,
        name: &str,
        open: bool,
        script: &str,
        deadline: &str,
        mode: &str,
        target: &str,
    ) -> String {
        let now = chrono::Utc::now();
        let (from, to) = if open {
            (
                now - chrono::Duration::hours(1),
                now + chrono::Duration::hours(1),
            )
        } else {
            (
                now - chrono::Duration::hours(3),
                now - chrono::Duration::hours(2),
            )
        };
        let text = format!(
            r#"github: {{scope: org, name: acme}}
classes:
  - {{name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 2}}
benchmarks:
  window: {{from: "{}", to: "{}"}}
  target: {mode}
  teams:
    - {{id: team-01, token_sha256: {}, target: {target}}}
    - {{id: team-02, token_sha256: {}, target: 192.0.2.11}}
  pool:
    task_definition: bench
    cpu: 1024
    memory: 2048
    capacity_provider: cp
    max_workers: 2
    deadline: {deadline}
    command: ["/bin/sh", "-c", {}, "bench", "{{target}}"]
  stale_after: 8s
  portal: {{url: "{}"}}
"#,
            from.to_rfc3339(),
            to.to_rfc3339(),
            digest(TEAM_TOKEN),
            digest(OTHER_TOKEN),
            serde_json::to_string(script).expect("a JSON string is a YAML string"),
            self.portal.url()
        );
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("write config");
        path.display().to_string()
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("RC_JOBS_QUEUE_URL", &self.jobs_queue)
            .env("RC_WEBHOOK_SECRET", "unused-here")
            .env("RC_BENCH_QUEUE_URL", &self.bench_queue)
            .env("RC_BENCH_TABLE", &self.table)
            .env("RC_BENCH_OPS_TOKEN", OPS_TOKEN)
            .env("RC_PORTAL_SECRET", PORTAL_SECRET);
    }

    fn serve(&self, config: &str) -> Serve {
        let mut cmd = command(&self.moto);
        cmd.args([
            "serve",
            "--config",
            config,
            "--listen",
            "127.0.0.1:0",
            "--only",
            "webhook",
        ]);
        self.env(&mut cmd);
        Serve::start(cmd)
    }

    fn agent(&self, config: &str) -> Command {
        let mut cmd = command(&self.moto);
        cmd.args(["bench-agent", "--config", config, "--once"]);
        self.env(&mut cmd);
        cmd
    }
}

async fn request(serve: &Serve, token: &str) -> (u16, serde_json::Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/benchmarks", serve.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("serve answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("JSON"))
}

async fn job(serve: &Serve, id: &str, token: &str) -> (u16, serde_json::Value) {
    let answer = reqwest::Client::new()
        .get(format!("{}/benchmarks/{id}", serve.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("serve answers");
    let status = answer.status().as_u16();
    (status, answer.json().await.expect("JSON"))
}

fn ms(value: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a time"))
        .expect("RFC 3339")
        .timestamp_millis()
}

#[tokio::test]
async fn a_team_is_benchmarked_once_at_a_time_and_the_portal_gets_a_signed_result() {
    let contest = contest().await;
    let script = r#"echo "benchmarking $1"; test "$RC_BENCH_TARGET" = "$1" || exit 9; echo '{"score": 4242}'"#;
    let config = contest.config("pass", true, script, "30s");
    let serve = contest.serve(&config);

    let (status, accepted) = request(&serve, TEAM_TOKEN).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["status"], "pending");
    assert_eq!(accepted["target"], "192.0.2.10");
    let id = accepted["id"].as_str().expect("a job id").to_string();
    let (status, refused) = request(&serve, TEAM_TOKEN).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["job"], id.as_str());
    assert_eq!(request(&serve, "not-a-team").await.0, 401);
    assert_eq!(job(&serve, &id, OTHER_TOKEN).await.0, 404);
    assert_eq!(job(&serve, &id, TEAM_TOKEN).await.1["status"], "pending");

    let ran = contest.agent(&config).output().expect("bench-agent runs");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let (_, done) = job(&serve, &id, TEAM_TOKEN).await;
    assert_eq!(done["status"], "passed", "{done}");
    assert_eq!(done["score"], 4242.0);
    assert_eq!(done["passed"], true);

    let posts = contest.portal.posts();
    assert_eq!(posts.len(), 2, "one 503, then accepted");
    assert!(
        posts.iter().all(|p| p.signed_ok && p.raw == posts[0].raw),
        "same body, signed, each time"
    );
    assert_eq!(posts[0].body["id"], id.as_str());
    assert_eq!(posts[0].body["status"], "passed");
    assert_eq!(posts[0].body["score"], 4242.0);

    // The team may ask again; ops see the list and the board.
    assert_eq!(request(&serve, TEAM_TOKEN).await.0, 202);
    let client = reqwest::Client::new();
    let list: serde_json::Value = client
        .get(format!("{}/benchmarks?limit=1", serve.url))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    assert_eq!(list["jobs"].as_array().expect("jobs").len(), 1);
    assert!(list["next"].is_string(), "{list}");
    let board = client
        .get(format!("{}/benchmarks/board", serve.url))
        .bearer_auth(OPS_TOKEN)
        .send()
        .await
        .expect("board");
    assert_eq!(board.status(), 200);
    let html = board.text().await.expect("HTML");
    assert!(
        html.contains("Queue (1)") && html.contains("4242"),
        "{html}"
    );
    let forbidden = client
        .get(format!("{}/benchmarks/board", serve.url))
        .bearer_auth(TEAM_TOKEN)
        .send()
        .await
        .expect("board");
    assert_eq!(forbidden.status(), 403);
}

#[tokio::test]
async fn outside_the_window_requests_are_refused() {
    let contest = contest().await;
    let serve = contest.serve(&contest.config("closed", false, "true", "30s"));
    assert_eq!(request(&serve, TEAM_TOKEN).await.0, 403);
    assert_eq!(request(&serve, "not-a-team").await.0, 401);
}

#[tokio::test]
async fn a_benchmarker_past_its_deadline_ends_as_timeout() {
    let contest = contest().await;
    // Ignores SIGTERM, so only the SIGKILL 5 s after the deadline ends it.
    let config = contest.config(
        "slow",
        true,
        "trap '' TERM; echo '{\"score\": 1}'; sleep 60",
        "2s",
    );
    let serve = contest.serve(&config);
    let id = request(&serve, TEAM_TOKEN).await.1["id"]
        .as_str()
        .expect("id")
        .to_string();
    let ran = contest.agent(&config).output().expect("bench-agent runs");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let (_, done) = job(&serve, &id, TEAM_TOKEN).await;
    assert_eq!(done["status"], "timeout", "{done}");
    assert_eq!(done["score"], serde_json::Value::Null);
    let ran_for = ms(&done["finished_at"]) - ms(&done["started_at"]);
    assert!(ran_for <= 2_000 + 6_000, "ran for {ran_for} ms");
    assert_eq!(
        contest.portal.posts().last().expect("posted").body["status"],
        "timeout"
    );
}

#[tokio::test]
async fn a_killed_worker_leaves_a_job_the_tick_errors_and_the_team_asks_again() {
    let contest = contest().await;
    let pidfile = contest.dir.path().join("bench.pid");
    let script = format!("echo $$ > {}; sleep 60", pidfile.display());
    let config = contest.config("killed", true, &script, "60s");
    let serve = contest.serve(&config);
    let id = request(&serve, TEAM_TOKEN).await.1["id"]
        .as_str()
        .expect("id")
        .to_string();

    let mut agent = contest
        .agent(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn bench-agent");
    let mut running = serde_json::Value::Null;
    for _ in 0..200 {
        running = job(&serve, &id, TEAM_TOKEN).await.1;
        if running["status"] == "running" && pidfile.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(running["status"], "running", "{running}");
    // The worker dies: the agent and its benchmarker's process group, without a word.
    agent.kill().expect("kill the agent");
    let _ = agent.wait();
    let group = std::fs::read_to_string(&pidfile)
        .expect("pid")
        .trim()
        .to_string();
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .status();

    let tick = |at: chrono::DateTime<chrono::Utc>| {
        let mut cmd = command(&contest.moto);
        cmd.args([
            "tick",
            "--config",
            &config,
            "--bench-only",
            "--at",
            &at.to_rfc3339(),
        ]);
        contest.env(&mut cmd);
        cmd.output().expect("tick runs")
    };
    let early = tick(chrono::Utc::now());
    assert!(
        early.status.success(),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    assert_eq!(job(&serve, &id, TEAM_TOKEN).await.1["status"], "running");
    assert_eq!(request(&serve, TEAM_TOKEN).await.0, 409);

    let later = tick(chrono::Utc::now() + chrono::Duration::seconds(9));
    let out = String::from_utf8_lossy(&later.stdout);
    assert!(
        later.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&later.stderr)
    );
    assert!(out.contains(&format!("marked {id} errored")), "{out}");
    let (_, swept) = job(&serve, &id, TEAM_TOKEN).await;
    assert_eq!(swept["status"], "errored", "{swept}");
    assert!(contest
        .portal
        .posts()
        .iter()
        .any(|p| p.signed_ok && p.body["status"] == "errored"));
    assert_eq!(request(&serve, TEAM_TOKEN).await.0, 202);
}

#[tokio::test]
async fn with_source_ip_only_the_teams_own_address_may_ask() {
    let contest = contest().await;
    // serve sees the socket peer: this test's loopback address.
    let config = contest.config_with("source-ip", true, "true", "30s", "source_ip", "127.0.0.1");
    let serve = contest.serve(&config);
    let (status, accepted) = request(&serve, TEAM_TOKEN).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["target"], "127.0.0.1");
    // team-02 is registered at 192.0.2.11, so its own token from here is refused.
    let (status, refused) = request(&serve, OTHER_TOKEN).await;
    assert_eq!(status, 403, "{refused}");
}

#[tokio::test]
async fn without_a_benchmarks_section_the_routes_do_not_exist() {
    let contest = contest().await;
    let serve = contest.serve(&super::support::repo_file("config/examples/minimal.yaml"));
    assert_eq!(request(&serve, TEAM_TOKEN).await.0, 404);
}
