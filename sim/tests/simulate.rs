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

/// 15 xlarge-amd64 jobs of 300 s, all `at` seconds after `start`.
fn xlarge_fan_out(at: u32, start: Timestamp) -> Workload {
    let line = format!(
        r#"{{"at": {at}, "labels": ["self-hosted", "x64", "xlarge"], "duration": 300, "repo": "dena/app"}}"#
    );
    trace(&[line.as_str(); 15], start)
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
    // A task that needs an instance gets it asked for within seconds, failed calls included;
    // tasks that fit an instance already launching are no reaction's business.
    let reaction = &report.scale_out_reaction_s;
    assert!(reaction.count > 100 && reaction.p95 < 5.0, "{reaction:?}");
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
    let w = xlarge_fan_out(10, tokyo(3));
    let report = run_one(&config, &w, PolicyKind::Ours);
    assert_eq!(report.started_jobs, 15);
    assert!(report.rules.clean(), "{:?}", report.rules);
    assert!(report.pickup_latency_s.max >= 300.0);
    assert!(report.peak_instances <= 10);
}

#[test]
fn slow_pickups_are_cut_along_their_runners_lives() {
    // In office hours, 15 xlarge jobs at once against one warm runner and max_runners 10: the
    // warm runner takes one job at once, nine start cold, five wait for a 300 s job to end.
    let config = dena_like();
    let w = xlarge_fan_out(300, tokyo(11));
    let report = run_one(&config, &w, PolicyKind::Ours);
    let (slow, bh) = (
        &report.slow_pickups,
        &report.business_hours_pickup_latency_s,
    );
    assert_eq!(bh.count, 15);
    assert_eq!(slow.jobs, 14, "{slow:?}");
    assert_eq!(slow.by_class.get("xlarge-amd64"), Some(&14));
    // The parts are the slow jobs' whole waits: every wait less the one warm pickup's.
    let parts: f64 = slow.parts().iter().map(|(_, s)| s).sum();
    let waits = bh.mean * bh.count as f64;
    assert!(
        parts <= waits && parts >= waits - rc_sim::report::SLOW_PICKUP_S - 0.1,
        "{parts} against {waits}"
    );
    // The five held back by max_runners wait about a job's length before their launch.
    assert!(slow.before_launch_s >= 5.0 * 290.0, "{slow:?}");
    // The nine cold ones need an instance each (an xlarge fills one) and a runner start.
    assert!(slow.waiting_for_instance_s >= 9.0 * 10.0, "{slow:?}");
    assert!(slow.runner_start_s >= 14.0 * 20.0, "{slow:?}");

    // The report shows them, a column per policy.
    let comparison = compare(
        &config,
        &w,
        &[PolicyKind::Ours, PolicyKind::Oracle],
        &WorldParams::default(),
        1,
        &mut |_, _| {},
    );
    let html = rc_sim::html::render(&comparison);
    let oracle = comparison.policy("oracle").expect("ran").slow_pickups.jobs;
    let row = format!("<tr><td>slow jobs</td><td>14</td><td>{oracle}</td></tr>");
    let table = &html[html
        .find("Why pickups were slow")
        .expect("the slow-pickup table")..];
    assert!(
        table.contains(&row),
        "{row} in {}",
        &table[..table.len().min(2000)]
    );
}

#[test]
fn the_cost_breakdown_adds_up_to_the_totals() {
    let config = dena_like();
    let workload = Scenario::Night.workload(&config, 3);
    let c = compare(
        &config,
        &workload,
        &PolicyKind::ALL,
        &WorldParams::default(),
        3,
        &mut |_, _| {},
    );
    let busy_usd = c.policy("oracle").expect("ran").cost_breakdown.busy.usd;
    for (name, r) in &c.policies.0 {
        let parts = r.cost_breakdown.parts();
        let hours: f64 = parts.iter().map(|(_, p)| p.instance_hours).sum();
        let usd: f64 = parts.iter().map(|(_, p)| p.usd).sum();
        assert!((hours - r.instance_hours).abs() < 0.005, "{name}: {hours}");
        assert!((usd - r.cost_usd).abs() < 0.005, "{name}: {usd}");
        for (part, p) in parts {
            assert!(
                p.instance_hours >= 0.0 && p.usd >= -0.01,
                "{name} {part}: {p:?}"
            );
        }
        // Capacity no task holds includes every empty instance.
        assert!(r.cost_breakdown.empty.instance_hours >= r.idle_instance_hours - 0.01);
        // The same jobs at the same per-vCPU prices: running them costs the same everywhere.
        assert!(
            (r.cost_breakdown.busy.usd - busy_usd).abs() <= 0.02 * busy_usd,
            "{name}: {} against {busy_usd}",
            r.cost_breakdown.busy.usd
        );
    }
}

#[test]
fn seed_means_are_the_means_of_the_seeds() {
    let config = dena_like();
    let policies = [PolicyKind::DenaBaseline, PolicyKind::Oracle];
    let runs: Vec<_> = [4, 5]
        .into_iter()
        .map(|seed| {
            let workload = Scenario::Night.workload(&config, seed);
            compare(
                &config,
                &workload,
                &policies,
                &WorldParams::default(),
                seed,
                &mut |_, _| {},
            )
        })
        .collect();
    let seeds = rc_sim::seeds::Seeds::of(&runs, &[]);
    assert_eq!(seeds.seeds, [4, 5]);
    let dena = seeds.policies.get("dena-baseline").expect("summarized");
    let (a, b) = (
        runs[0].policy("dena-baseline").expect("ran"),
        runs[1].policy("dena-baseline").expect("ran"),
    );
    let mean = |x: f64, y: f64| ((x + y) / 2.0 * 100.0).round() / 100.0;
    assert_eq!(dena.cost_usd.mean, mean(a.cost_usd, b.cost_usd));
    assert_eq!(dena.cost_usd.min, a.cost_usd.min(b.cost_usd));
    assert_eq!(dena.cost_usd.max, a.cost_usd.max(b.cost_usd));
    assert_eq!(
        dena.pickup_p95_s.mean,
        mean(a.pickup_latency_s.p95, b.pickup_latency_s.p95)
    );
    assert_eq!(
        dena.busiest_github_hour_calls.mean,
        mean(
            a.busiest_github_hour.calls as f64,
            b.busiest_github_hour.calls as f64
        )
    );
    assert_eq!(
        dena.rules.double_launches,
        a.rules.double_launches + b.rules.double_launches
    );
    let oracle = seeds.policies.get("oracle").expect("summarized");
    let x = oracle.runner_minutes_x_oracle.expect("the oracle ran");
    assert_eq!((x.min, x.max), (1.0, 1.0));
    assert!(dena.runner_minutes_x_oracle.expect("the oracle ran").min > 1.0);
}

#[test]
fn job_retry_rescues_jobs_and_launches_at_most_once_more_per_job() {
    // 15 xlarge jobs against max_runners 10: the default drops the five it cannot launch.
    let config = dena_like();
    let line = r#"{"at": 10, "labels": ["self-hosted", "x64", "xlarge"], "duration": 120, "repo": "dena/app"}"#;
    let burst = trace(&[line; 15], tokyo(3));
    let night = Scenario::Night.workload(&config, 2);
    for workload in [&burst, &night] {
        let default = run_one(&config, workload, PolicyKind::PhilipsBaseline);
        let retry = run_one(&config, workload, PolicyKind::PhilipsRetry);
        assert!(retry.rules.stranded_jobs <= default.rules.stranded_jobs);
        assert!(retry.started_jobs >= default.started_jobs);
        // One attempt by default: a job gets at most one launch more than without retry.
        assert!(retry.rules.double_launches <= retry.jobs);
        assert_eq!(retry.rules.max_violations, 0);
        assert_eq!(retry.rules.busy_runner_stops, 0);
        let get_job = |r: &RunReport| r.api_calls.get("github:GetJob").copied().unwrap_or(0);
        assert!(get_job(&retry) >= get_job(&default));
    }
    let default = run_one(&config, &burst, PolicyKind::PhilipsBaseline);
    let retry = run_one(&config, &burst, PolicyKind::PhilipsRetry);
    assert!(default.rules.stranded_jobs > 0);
    assert!(
        retry.rules.stranded_jobs < default.rules.stranded_jobs,
        "{} against {}",
        retry.rules.stranded_jobs,
        default.rules.stranded_jobs
    );
}
