//! `tick --dry-run` on the example DeNA config against moto and the fake GitHub: at 10:00 on a
//! Tokyo weekday it prints the 13 warm starts and the redelivery it would make, one line each,
//! and changes nothing; `--json` prints the same report as one object. In token mode without a
//! hook id the redelivery sweep is off, said once, and the tick still succeeds.

use std::process::Output;

use rc_testkit::ecs::ecs_cluster_with_instance;
use rc_testkit::github::{Delivery, FakeGithub};
use rc_testkit::moto::Moto;

use super::support::{command, repo_file};

const CLUSTER: &str = "rc-tick";
const HOOK_ID: &str = "7";

/// A Friday, 10:00 in Tokyo: the example's weekday window is open.
const FRIDAY_TEN: &str = "2030-11-22T10:00:00+09:00";

struct World {
    moto: Moto,
    github: FakeGithub,
    queue_url: String,
    config: String,
}

async fn world(name: &str) -> World {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    ecs_cluster_with_instance(&sdk, CLUSTER).await;
    let queue_url = aws_sdk_sqs::Client::new(&sdk)
        .create_queue()
        .queue_name("jobs")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a queue URL");
    let github = FakeGithub::start();
    let two_minutes_before = chrono::DateTime::parse_from_rfc3339(FRIDAY_TEN)
        .expect("a valid time")
        .to_utc()
        - chrono::Duration::minutes(2);
    github.add_delivery(
        Delivery::new(1, "workflow_job", 502)
            .action("queued")
            .delivered_at(two_minutes_before),
    );
    let example =
        std::fs::read_to_string(repo_file("config/examples/dena.yaml")).expect("the example");
    let config = format!("{}/{name}.yaml", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(
        &config,
        example.replace(
            "api_url: https://api.github.com",
            &format!("api_url: {}", github.url()),
        ),
    )
    .expect("write the config");
    World {
        moto,
        github,
        queue_url,
        config,
    }
}

fn tick(world: &World, extra: &[&str]) -> Output {
    tick_with_hook(world, Some(HOOK_ID), extra)
}

fn tick_with_hook(world: &World, hook_id: Option<&str>, extra: &[&str]) -> Output {
    let mut cmd = command(&world.moto);
    cmd.args([
        "tick",
        "--config",
        &world.config,
        "--at",
        FRIDAY_TEN,
        "--dry-run",
    ])
    .args(extra)
    .env("RC_CLUSTER", CLUSTER)
    .env("RC_JOBS_QUEUE_URL", &world.queue_url)
    .env("RC_SSM_PREFIX", "/rc-tick/jit")
    .env("RC_GITHUB_TOKEN", "ghs_test")
    .env_remove("RC_GITHUB_HOOK_ID")
    .env_remove("RC_GITHUB_APP_ID");
    if let Some(hook_id) = hook_id {
        cmd.env("RC_GITHUB_HOOK_ID", hook_id);
    }
    let output = cmd.output().expect("run runner-controller tick");
    assert!(
        output.status.success(),
        "tick failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn nothing_changed(world: &World) {
    assert_eq!(
        world
            .github
            .count_calls("POST /orgs/dena/actions/runners/generate-jitconfig"),
        0
    );
    assert!(world.github.runners().is_empty());
    assert!(world.github.redelivery_requests().is_empty());
}

#[tokio::test]
async fn tick_dry_run_prints_every_decision_and_changes_nothing() {
    let world = world("tick-dry-run").await;

    let output = tick(&world, &[]);

    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    let pools: Vec<&&str> = lines.iter().filter(|l| l.starts_with("pool ")).collect();
    assert_eq!(pools.len(), 8, "{stdout}");
    let starts: u32 = pools
        .iter()
        .filter_map(|line| line.split(": start ").nth(1))
        .map(|rest| {
            assert!(rest.ends_with("[dry run]"), "{rest}");
            rest.split(' ')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .expect("a count")
        })
        .sum();
    assert_eq!(starts, 13, "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("redeliver redeliver delivery 1 ") && l.ends_with("[dry run]")),
        "{stdout}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("tick at 2030-11-22T01:00:00.000Z (dry run)")),
        "{stdout}"
    );
    nothing_changed(&world);
}

#[tokio::test]
async fn tick_json_is_one_object_with_every_decision() {
    let world = world("tick-json").await;

    let output = tick(&world, &["--json"]);

    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object on stdout");
    assert_eq!(report["dry_run"], true);
    let decisions = report["decisions"].as_array().expect("decisions");
    let planned_starts: u64 = decisions
        .iter()
        .filter(|d| d["step"] == "pool" && d["outcome"]["result"] == "dry_run")
        .map(|d| d["detail"]["top_up"].as_u64().expect("a pool plan"))
        .sum();
    assert_eq!(planned_starts, 13);
    assert_eq!(report["counts"]["warm_started"], serde_json::json!({}));
    nothing_changed(&world);
}

#[tokio::test]
async fn token_mode_without_a_hook_id_skips_the_sweep_and_succeeds() {
    let world = world("tick-no-hook").await;

    let output = tick_with_hook(&world, None, &[]);

    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let skips: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("redelivery sweep: it is off"))
        .collect();
    assert_eq!(skips.len(), 1, "{stdout}");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 logs");
    assert_eq!(
        stderr.matches("the redelivery sweep is off").count(),
        1,
        "{stderr}"
    );
    assert_eq!(world.github.count_calls("GET /app/hook/deliveries"), 0);
    nothing_changed(&world);
}
