//! Validation as platform teams meet it: the shipped examples load, and a broken file reports
//! every problem at its line and column.

use std::time::Duration;

use rc_config::{parse, GithubScope, Problem};

fn problems(text: &str) -> Vec<Problem> {
    parse(text).expect_err("config should be rejected").0
}

fn at(problems: &[Problem], line: usize, needle: &str) -> bool {
    problems
        .iter()
        .any(|p| p.line == line && p.message.contains(needle))
}

#[test]
fn shipped_examples_are_valid() {
    let dena = parse(include_str!("../examples/dena.yaml")).expect("dena example is valid");
    assert_eq!(dena.classes.len(), 8);
    assert!(dena
        .classes
        .iter()
        .all(|c| !c.holidays.is_empty() && c.warm.len() == 1));
    assert_eq!(dena.github.scope, GithubScope::Org("dena".into()));
    let slo = parse(include_str!("../examples/dena-slo.yaml")).expect("dena-slo example is valid");
    assert!(slo.classes.iter().all(|c| c.warm[0].target.is_some()));
    let minimal =
        parse(include_str!("../examples/minimal.yaml")).expect("minimal example is valid");
    assert_eq!(minimal.github.api_url, "https://api.github.com");
    assert_eq!(minimal.classes[0].container, "runner");
}

#[test]
fn broken_file_reports_every_problem_with_position() {
    let found = problems(include_str!("data/broken.yaml"));
    let rendered: Vec<String> = found
        .iter()
        .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
        .collect();
    let expect = [
        (2, "github.scope `team`"),
        (4, "did you mean `api_url`"),
        (7, "labels must not be empty"),
        (9, "cpu 64 is out of range"),
        (13, "not a duration"),
        (14, "duplicate class name `small`"),
        (22, "`funday` is not a day"),
        (24, "ends (09:00:00) at or before it starts"),
        (25, "not an IANA time zone"),
        (26, "idle 5 is above the class's max_runners 2"),
    ];
    for (line, needle) in expect {
        assert!(
            at(&found, line, needle),
            "missing {line}: {needle} in {rendered:#?}"
        );
    }
    assert!(found
        .windows(2)
        .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column)));
    assert_eq!(found[1].column, 3, "unknown key is reported at the key");
}

#[test]
fn a_window_sized_from_a_pickup_target() {
    let class = |window: &str| {
        format!(
            "github: {{scope: org, name: a}}\nclasses:\n  - name: small\n    labels: [self-hosted]\n    task_definition: td\n    cpu: 1024\n    memory: 2048\n    capacity_provider: cp\n    max_runners: 20\n    warm:\n      - {{days: weekdays, from: \"09:00\", to: \"18:00\", timezone: UTC, {window}}}\n"
        )
    };
    let config = parse(&class("target_p95: 10s, min: 2, max: 12")).expect("valid");
    let window = &config.classes[0].warm[0];
    assert_eq!(window.idle, 2, "min is the least kept");
    let target = window.target.expect("a target");
    assert_eq!((target.p95.as_secs(), target.max), (10, 12));
    let config = parse(&class("target_p95: 10s")).expect("valid");
    let window = &config.classes[0].warm[0];
    assert_eq!((window.idle, window.target.expect("a target").max), (0, 20));
    assert_eq!(window.headroom, None, "no headroom unless asked for");
    let config = parse(&class("idle: 1, headroom: 15s")).expect("valid");
    assert_eq!(
        config.classes[0].warm[0].headroom,
        Some(Duration::from_secs(15))
    );
    for (window, needle) in [
        ("idle: 2, target_p95: 10s", "either `idle` or `target_p95`"),
        ("idle: 2, max: 4", "`max` goes with `target_p95`"),
        ("target_p95: 10s, min: 5, max: 4", "max 4 is below min 5"),
        (
            "target_p95: 10s, max: 30",
            "max 30 is above the class's max_runners 20",
        ),
        ("target_p95: 0s", "target_p95 must be longer than zero"),
        ("idle: 2, headroom: 0s", "headroom must be longer than zero"),
        ("idle: 2, headroom: 11m", "headroom 11m is above 10m"),
        (
            "idle: 2, headroom: soon",
            "headroom `soon` is not a duration",
        ),
    ] {
        let found = problems(&class(window));
        assert!(
            found.iter().any(|p| p.message.contains(needle)),
            "{window}: {found:?}"
        );
    }
}

#[test]
fn renders_file_line_column() {
    let err = parse("github: {scope: org, name: a}\nclasses: 3\n").expect_err("invalid");
    assert_eq!(
        err.render("c.yaml"),
        "c.yaml:2:10: classes must be a list\n"
    );
}

#[test]
fn yaml_syntax_errors_are_located() {
    let found = problems("github:\n  scope: org\n  name: [unclosed\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].line >= 3, "{found:?}");
}

#[test]
fn duplicate_keys_are_rejected() {
    let found = problems("github:\n  scope: org\n  scope: repo\n");
    assert!(at(&found, 3, "duplicate key `scope`"), "{found:?}");
}

#[test]
fn shadowed_class_is_rejected() {
    let text = "github: {scope: org, name: a}\nclasses:\n  - {name: big, labels: [self-hosted, linux, large], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 1}\n  - {name: sub, labels: [self-hosted, large], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 1}\n";
    assert!(at(&problems(text), 4, "can never be chosen"));
}

#[test]
fn fargate_sizes_follow_the_ecs_table() {
    let class = |cpu, mem| {
        format!("github: {{scope: org, name: a}}\nclasses:\n  - {{name: f, labels: [self-hosted], task_definition: t, cpu: {cpu}, memory: {mem}, capacity_provider: FARGATE, max_runners: 1}}\n")
    };
    assert!(parse(&class(1024, 2048)).is_ok());
    assert!(at(
        &problems(&class(1024, 1024)),
        3,
        "Fargate does not offer"
    ));
}

#[test]
fn ghes_and_repo_scopes() {
    let text = "github: {scope: repo, name: acme/app, api_url: 'https://ghe.example.com/api/v3/'}\nclasses:\n  - {name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 1}\n";
    let config = parse(text).expect("valid");
    assert_eq!(config.github.api_url, "https://ghe.example.com/api/v3");
    assert_eq!(config.github.scope.api_path(), "repos/acme/app");
    let bad = text.replace("acme/app", "acme");
    assert!(at(&problems(&bad), 1, "must be `owner/repo`"));
}

#[test]
fn holidays_reference_calendars() {
    let text = "github: {scope: org, name: a}\ncalendars: {jp: [2026-01-01]}\nclasses:\n  - {name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 1, holidays: jq}\n";
    assert!(at(&problems(text), 4, "did you mean `jp`"));
    assert!(parse(&text.replace("holidays: jq", "holidays: jp")).is_ok());
}

#[test]
fn recheck_delay_is_bounded_by_sqs() {
    let text = "github: {scope: org, name: a}\nmanager: {recheck_delay: 20m}\nclasses:\n  - {name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 1}\n";
    assert!(at(&problems(text), 2, "at most 15m"));
}

#[test]
fn replay_check_after_is_a_located_duration() {
    let class = "classes:\n  - {name: d, labels: [self-hosted], task_definition: t, cpu: 1024, memory: 2048, capacity_provider: cp, max_runners: 1}\n";
    let ok =
        format!("github: {{scope: org, name: a}}\nmanager: {{replay_check_after: 30m}}\n{class}");
    let config = parse(&ok).expect("valid");
    assert_eq!(
        config.manager.replay_check_after,
        std::time::Duration::from_secs(1800)
    );
    let default = format!("github: {{scope: org, name: a}}\n{class}");
    assert_eq!(
        parse(&default).expect("valid").manager.replay_check_after,
        std::time::Duration::from_secs(3600)
    );
    let bad =
        format!("github: {{scope: org, name: a}}\nmanager:\n  replay_check_after: soon\n{class}");
    assert!(
        at(&problems(&bad), 3, "replay_check_after"),
        "{:?}",
        problems(&bad)
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever bytes arrive from AppConfig, validation answers with located problems and
        /// never panics.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            if let Err(found) = parse(&text) {
                prop_assert!(found.0.iter().all(|p| p.line >= 1 && p.column >= 1 && !p.message.is_empty()));
            }
        }

        /// Deleting any one line of the valid example either keeps it valid or yields problems,
        /// each with a position inside the file.
        #[test]
        fn line_deletions_are_located(index in 0usize..200) {
            let text = include_str!("../examples/dena.yaml");
            let lines: Vec<&str> = text.lines().collect();
            let index = index % lines.len();
            let mutated: String = lines.iter().enumerate().filter(|(i, _)| *i != index).map(|(_, l)| format!("{l}\n")).collect();
            if let Err(found) = parse(&mutated) {
                prop_assert!(found.0.iter().all(|p| p.line >= 1 && p.line <= lines.len() + 1));
            }
        }

        /// cpu values are accepted exactly within the EC2 range.
        #[test]
        fn cpu_range(cpu in 0u32..300_000) {
            let text = format!("github: {{scope: org, name: a}}\nclasses:\n  - {{name: d, labels: [self-hosted], task_definition: t, cpu: {cpu}, memory: 2048, capacity_provider: cp, max_runners: 1}}\n");
            prop_assert_eq!(parse(&text).is_ok(), (128..=196_608).contains(&cpu));
        }
    }
}
