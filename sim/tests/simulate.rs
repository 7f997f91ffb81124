//! End-to-end runs of the simulator: determinism, the architecture's rules under faults, the
//! oracle as a lower bound, and small traces whose outcome can be worked out by hand.

use rc_config::Config;
use rc_core::Timestamp;
use rc_sim::scenario::tokyo;
use rc_sim::{compare, run, PolicyKind, RunReport, Scenario, Workload, WorldParams};

fn dena_like() -> Config {
    rc_config::parse(include_str!("../../config/examples/dena.yaml"))
        .expect("bundled example is valid")
}

fn trace(lines: &[&str], start: Timestamp) -> Workload {
    Workload::from_trace(&lines.join("\n"), start).expect("valid trace")
}

fn run_one(config: &Config, workload: &Workload, policy: PolicyKind) -> RunReport {
    run(
        config,
        workload,
        policy,
        &WorldParams::default(),
        1,
        &mut |_| {},
    )
}

#[test]
fn same_seed_prints_the_same_json() {
    let config = dena_like();
    let workload = Scenario::Night.workload(&config, 11);
    let json = |seed| {
        compare(
            &config,
            &workload,
            &PolicyKind::ALL,
            &WorldParams::default(),
            seed,
            &mut |_, _| {},
        )
        .to_json()
    };
    let first = json(11);
    assert_eq!(first, json(11));
    assert_ne!(first, json(12), "another seed draws other latencies");
    let html = rc_sim::html::render(&compare(
        &config,
        &workload,
        &PolicyKind::ALL,
        &WorldParams::default(),
        11,
        &mut |_, _| {},
    ));
    assert!(html.contains("<svg") && !html.contains("<script"));
}

#[test]
fn ours_keeps_every_rule_under_faults() {
    let config = dena_like();
    let workload = Scenario::Faults.workload(&config, 1);
    let report = run_one(&config, &workload, PolicyKind::Ours);
    assert!(
        report.webhooks_lost > 400,
        "the scenario loses webhooks: {}",
        report.webhooks_lost
    );
    assert!(report.api_errors.0.iter().map(|(_, n)| n).sum::<u64>() > 1000);
    assert!(report.rules.clean(), "{:?}", report.rules);
    assert_eq!(report.started_jobs, report.jobs);
    assert_eq!(report.killed_jobs, 0);
    // Some RunTask attempts failed after ECS had started the task; the client token absorbed
    // the retries.
    assert!(report.run_tasks_deduplicated_by_client_token > 0);
}

#[test]
fn baselines_break_rules_that_ours_keeps() {
    // Duplicated webhooks and lost RunTask answers double-launch without client tokens.
    let config = dena_like();
    let workload = Scenario::Faults.workload(&config, 1);
    let dena = run_one(&config, &workload, PolicyKind::DenaBaseline);
    assert!(dena.rules.double_launches > 0);
}

#[test]
fn oracle_is_a_lower_bound() {
    let config = dena_like();
    let workload = Scenario::Night.workload(&config, 5);
    let c = compare(
        &config,
        &workload,
        &PolicyKind::ALL,
        &WorldParams::default(),
        5,
        &mut |_, _| {},
    );
    let oracle = c.policy("oracle").expect("ran");
    assert_eq!(oracle.idle_runner_minutes, 0.0);
    assert_eq!(oracle.idle_instance_hours, 0.0);
    assert!(oracle.rules.clean());
    for (name, other) in &c.policies.0 {
        assert!(
            oracle.pickup_latency_s.p50 <= other.pickup_latency_s.p50,
            "{name}"
        );
        assert!(
            oracle.pickup_latency_s.p95 <= other.pickup_latency_s.p95,
            "{name}"
        );
        assert!(
            oracle.idle_runner_minutes <= other.idle_runner_minutes,
            "{name}"
        );
        assert!(
            oracle.booting_runner_minutes <= other.booting_runner_minutes,
            "{name}"
        );
    }
    // Every job runs as long under every policy; starting each one first, the oracle has run
    // the most of them by the end.
    let ours = c.policy("ours").expect("ran");
    assert!(oracle.busy_runner_minutes >= ours.busy_runner_minutes);
}

#[test]
fn a_warm_runner_takes_a_job_at_once() {
    // 10:00 on a Tokyo Wednesday: small-amd64 keeps 4 idle runners from 09:00.
    let config = dena_like();
    let w = trace(
        &[
            r#"{"at": 3600, "labels": ["self-hosted", "linux", "x64", "small"], "duration": 60, "repo": "dena/app"}"#,
        ],
        tokyo(9),
    );
    let report = run_one(&config, &w, PolicyKind::Ours);
    assert_eq!(report.started_jobs, 1);
    // Only GitHub's assignment latency (1-3 s).
    assert!(
        report.pickup_latency_s.max <= 3.0,
        "{:?}",
        report.pickup_latency_s
    );
    assert!(report.idle_runner_minutes > 0.0);
}

#[test]
fn a_cold_job_at_night_waits_for_an_instance_and_a_task() {
    let config = dena_like();
    let w = trace(
        &[
            r#"{"at": 60, "labels": ["self-hosted", "linux", "arm64", "large"], "duration": 120, "repo": "dena/app"}"#,
        ],
        tokyo(2),
    );
    let report = run_one(&config, &w, PolicyKind::Ours);
    let pickup = report.pickup_latency_s.max;
    // Webhook (≤ 2 s) + batching + the autoscaler's reaction + EC2 (60-180 s) + start (20-30 s).
    assert!((80.0..=220.0).contains(&pickup), "{pickup}");
    assert!(
        report.scale_out_reaction_s.max < 5.0,
        "{:?}",
        report.scale_out_reaction_s
    );
    assert_eq!(report.rules, Default::default());

    let baseline = run_one(&config, &w, PolicyKind::DenaBaseline);
    // Managed scaling waits for a full CloudWatch minute before it asks.
    assert!(
        baseline.scale_out_reaction_s.max >= 60.0,
        "{:?}",
        baseline.scale_out_reaction_s
    );
    assert!(baseline.pickup_latency_s.max > pickup);
}

#[test]
fn unroutable_jobs_are_counted_not_stranded() {
    let config = dena_like();
    let w = trace(
        &[
            r#"{"at": 0, "labels": ["ubuntu-latest"], "duration": 60, "repo": "dena/app"}"#,
            r#"{"at": 0, "labels": ["self-hosted", "gpu"], "duration": 60, "repo": "dena/app"}"#,
        ],
        tokyo(10),
    );
    let report = run_one(&config, &w, PolicyKind::Ours);
    assert_eq!(report.unroutable_jobs, 2);
    assert_eq!(report.rules.stranded_jobs, 0);
    assert_eq!(report.started_jobs, 0);
}

#[test]
fn a_matrix_burst_beyond_max_waits_but_is_never_stranded() {
    // 15 xlarge jobs against max_runners 10: five wait for the first ten to finish.
    let config = dena_like();
    let line = r#"{"at": 10, "labels": ["self-hosted", "x64", "xlarge"], "duration": 300, "repo": "dena/app"}"#;
    let w = trace(&[line; 15], tokyo(3));
    let report = run_one(&config, &w, PolicyKind::Ours);
    assert_eq!(report.started_jobs, 15);
    assert!(report.rules.clean(), "{:?}", report.rules);
    assert!(report.pickup_latency_s.max >= 300.0);
    assert!(report.peak_instances <= 10);
}
