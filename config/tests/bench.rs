//! The `benchmarks` section: the contract's example loads, and mistakes are reported where they are.

use std::time::Duration;

use rc_config::{parse, Problem, TargetMode};

const BASE: &str = "github: {scope: org, name: acme}
classes:
  - {name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 2}
";

fn problems(text: &str) -> Vec<Problem> {
    parse(text).expect_err("config should be rejected").0
}

#[test]
fn the_contest_example_loads() {
    let config = parse(include_str!("../examples/contest.yaml")).expect("contest example is valid");
    let bench = config.benchmarks.expect("benchmarks section");
    assert_eq!(bench.target, TargetMode::Registered);
    assert_eq!(bench.teams.len(), 2);
    assert_eq!(bench.teams[0].token_sha256[0], 0x9f);
    assert_eq!(bench.pool.deadline, Duration::from_secs(90));
    assert_eq!(bench.pool.command[2], "{target}");
    assert_eq!(bench.pool.warm.len(), 1);
    assert_eq!(bench.stale_after, Duration::from_secs(180));
    assert_eq!(
        bench.portal.expect("portal").url,
        "https://portal.example.com/api/benchmark-results"
    );
    assert!(bench.window.expect("window").from < bench.window.expect("window").to);
}

#[test]
fn configs_without_benchmarks_have_none() {
    assert!(parse(BASE).expect("valid").benchmarks.is_none());
}

#[test]
fn mistakes_are_reported_at_their_line_and_column() {
    let text = format!(
        "{BASE}benchmarks:
  window: {{from: 2026-12-10T18:00:00+09:00, to: 2026-12-10T10:00:00+09:00}}
  target: source_ip
  teams:
    - {{id: team-01, token_sha256: abc, target: 192.0.2.10}}
    - {{id: team-01, token_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, target: server.example}}
  pool:
    task_definition: bench
    cpu: 4096
    memory: 8192
    capacity_provider: cp
    max_workers: 0
    deadline: 2h
    command: []
    idel_exit: 5m
  stale_after: 1s
  portal: {{url: ftp://portal}}
"
    );
    let found = problems(&text);
    let rendered: Vec<String> = found
        .iter()
        .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
        .collect();
    let expect = [
        (5, "is not after window.from"),
        (8, "token_sha256 must be 64 hex digits"),
        (
            9,
            "must be an IP address when benchmarks.target is source_ip",
        ),
        (15, "pool.max_workers 0 is out of range"),
        (16, "pool.deadline must be at most 1h"),
        (17, "pool.command must not be empty"),
        (18, "did you mean `idle_exit`"),
        (19, "stale_after must be at least 8s"),
        (20, "portal.url `ftp://portal` must start with https://"),
    ];
    for (line, needle) in expect {
        assert!(
            found
                .iter()
                .any(|p| p.line == line && p.message.contains(needle)),
            "missing {line}: {needle} in {rendered:#?}"
        );
    }
}

#[test]
fn duplicate_teams_and_tokens_are_refused() {
    let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let text = format!(
        "{BASE}benchmarks:
  teams:
    - {{id: a, token_sha256: {digest}, target: h1}}
    - {{id: a, token_sha256: {digest}, target: h2}}
  pool: {{task_definition: b, cpu: 1024, memory: 2048, capacity_provider: cp, max_workers: 2, deadline: 90s, command: [run]}}
"
    );
    let found = problems(&text);
    assert!(found
        .iter()
        .any(|p| p.line == 7 && p.message.contains("duplicate team id `a`")));
    assert!(found
        .iter()
        .any(|p| p.line == 7 && p.message.contains("same token_sha256")));
}

#[test]
fn defaults_fill_the_optional_keys() {
    let text = format!(
        "{BASE}benchmarks:
  teams:
    - {{id: a, token_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, target: h1}}
  pool: {{task_definition: b, cpu: 1024, memory: 2048, capacity_provider: cp, max_workers: 2, deadline: 90s, command: [run]}}
  trusted_proxy_header: X-Forwarded-For
"
    );
    let bench = parse(&text).expect("valid").benchmarks.expect("section");
    assert!(bench.window.is_none());
    assert_eq!(bench.pool.container, "bench");
    assert_eq!(bench.pool.idle_exit, Duration::from_secs(300));
    assert_eq!(bench.stale_after, Duration::from_secs(180));
    assert_eq!(
        bench.trusted_proxy_header.as_deref(),
        Some("x-forwarded-for")
    );
    assert!(bench.portal.is_none());
}
