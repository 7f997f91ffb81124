//! The tick against moto and the fake GitHub: warm pools on the DeNA-like example config
//! through a business day and a holiday, busy-safe trims, the reaper, the redelivery sweep and
//! the rescue scan.
//!
//! The emulators stamp tasks, parameters and deliveries with the real clock. Ticks that must see
//! them as old (warm pools, the reaper) run at a `now` after it, as production ticks do; ticks
//! that read deliveries and jobs, whose age matters in minutes, run at the clock's time.

#[allow(dead_code)] // shared with tests/manager.rs; each test binary uses part of it
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ecs::types::AutoScalingGroupProvider;
use aws_sdk_ssm::types::ParameterType;
use rc_aws::ClassLocks;
use rc_core::observed::tags;
use rc_core::recovery::scan_due;
use rc_core::Timestamp;
use rc_manager::tick::{Outcome, Step, TickReport};
use rc_manager::wall_clock;
use rc_manager::{Launched, Purpose};
use rc_testkit::ecs::register_task_definition;
use rc_testkit::github::Delivery;
use rc_testkit::moto::Moto;
use support::{job, message, tag, Harness, Setup, REPO};

const LABELS: [&str; 3] = ["self-hosted", "linux", "large"];

/// The example config: four sizes in two architectures, warm on Tokyo weekdays 09:00–20:00.
const DENA: &str = include_str!("../../config/examples/dena.yaml");

/// Idle warm runners per class in the example config's window (xlarge-arm64 keeps none).
const DENA_WARM: [(&str, u32); 7] = [
    ("large-amd64", 2),
    ("large-arm64", 1),
    ("medium-amd64", 2),
    ("medium-arm64", 1),
    ("small-amd64", 4),
    ("small-arm64", 2),
    ("xlarge-amd64", 1),
];

/// A Friday in Tokyo, years after the emulators' clock: what they create is older than the
/// tick's `now`, as it would be in production.
const FRIDAY: &str = "2030-11-22";

fn at(rfc3339: &str) -> Timestamp {
    Timestamp::from_datetime(
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .expect("a valid test time")
            .to_utc(),
    )
}

fn tokyo(date: &str, time: &str) -> Timestamp {
    at(&format!("{date}T{time}:00+09:00"))
}

/// The example config pointed at the fake GitHub, its task definitions and capacity providers
/// in moto.
async fn dena(name: &str) -> Harness {
    let sdk = Moto::shared().sdk_config().await;
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    for arch in ["amd64", "arm64"] {
        // Small containers: moto places by the definition's sizes, and 13 runners must fit.
        register_task_definition(&sdk, &format!("github-runner-{arch}"), "runner", 64, 128).await;
        let provider = format!("cp-{arch}");
        let group = AutoScalingGroupProvider::builder()
            .auto_scaling_group_arn(format!(
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:\
                 00000000-0000-4000-8000-000000000000:autoScalingGroupName/runners-{arch}"
            ))
            .build()
            .expect("the group ARN is set");
        ecs.create_capacity_provider()
            .name(&provider)
            .auto_scaling_group_provider(group)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateCapacityProvider {provider}: {e:?}"));
    }
    Harness::start_with(name, None, |github_url| {
        DENA.replace(
            "api_url: https://api.github.com",
            &format!("api_url: {github_url}"),
        )
    })
    .await
}

async fn tick(h: &Harness, now: Timestamp) -> TickReport {
    let report = h.manager.tick(&h.config, now, false).await;
    eprintln!("{report}");
    report
}

/// Calls of one scenario, per endpoint (ids shown as `{id}`), for the README's cost table.
fn calls(scenario: &str, h: &Harness, github_from: usize) {
    let mut github: BTreeMap<String, usize> = BTreeMap::new();
    for call in &h.github.calls()[github_from..] {
        let path: Vec<&str> = call
            .path
            .split('/')
            .map(|s| {
                if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
                    "{id}"
                } else {
                    s
                }
            })
            .collect();
        *github
            .entry(format!("{} {}", call.method, path.join("/")))
            .or_default() += 1;
    }
    eprintln!(
        "[{scenario}] GitHub calls: {github:#?}\n[{scenario}] AWS calls: {:#?}",
        h.aws_calls.counts()
    );
}

fn warm_tasks_by_class(tasks: &[aws_sdk_ecs::types::Task]) -> BTreeMap<String, u32> {
    let mut by_class = BTreeMap::new();
    for task in tasks {
        assert_eq!(tag(task, tags::ORIGIN), Some("warm"));
        *by_class
            .entry(tag(task, tags::CLASS).expect("a class tag").to_owned())
            .or_default() += 1;
    }
    by_class
}

fn expected_warm() -> BTreeMap<String, u32> {
    DENA_WARM
        .iter()
        .map(|(class, n)| (class.to_string(), *n))
        .collect()
}

#[tokio::test]
async fn warm_pools_fill_on_a_tokyo_weekday_and_are_trimmed_busy_safe_at_night() {
    let h = dena("tick-business-day").await;

    let started = std::time::Instant::now();
    let morning = tick(&h, tokyo(FRIDAY, "10:00")).await;
    eprintln!("[first tick at 10:00] took {:?}", started.elapsed());

    calls("first tick at 10:00", &h, 0);
    assert_eq!(morning.failures(), 0);
    assert_eq!(morning.counts.warm_started, expected_warm());
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 13);
    let tasks = h.live_tasks().await;
    assert_eq!(warm_tasks_by_class(&tasks), expected_warm());
    assert_eq!(h.github.runners().len(), 13);
    assert_eq!(h.parameters().await.len(), 13);
    let pools = morning
        .decisions
        .iter()
        .filter(|d| d.step == Step::Pool)
        .count();
    assert_eq!(pools, 8, "one pool decision per class");

    // The runners boot and register; the next tick has nothing to add.
    for runner in h.github.runners() {
        h.github.set_runner_online(&runner.name, true);
    }
    h.aws_calls.clear();
    let github_from = h.github.calls().len();
    let started = std::time::Instant::now();
    let steady = tick(&h, tokyo(FRIDAY, "10:01")).await;
    eprintln!("[steady tick] took {:?}", started.elapsed());
    calls("steady tick", &h, github_from);
    assert_eq!(steady.failures(), 0);
    assert!(steady.counts.warm_started.is_empty());
    assert!(steady.counts.reaped.is_empty());
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 0);

    // At night: one runner is running a job, another takes one just before its deletion.
    let runners = h.github.runners();
    let (busy, taken) = (&runners[0], &runners[1]);
    h.github.set_runner_busy(&busy.name, true);
    h.github.fail_next(
        &format!("DELETE /orgs/dena/actions/runners/{}", taken.id),
        1,
        422,
    );
    h.aws_calls.clear();
    let github_from = h.github.calls().len();
    let night = tick(&h, tokyo(FRIDAY, "21:00")).await;

    calls("trim at 21:00", &h, github_from);
    assert_eq!(night.counts.warm_trimmed.values().sum::<u32>(), 11);
    assert_eq!(night.counts.busy_left_alone, 1);
    assert_eq!(night.failures(), 0);
    let left_alone = night
        .decisions
        .iter()
        .find(|d| matches!(d.outcome, Outcome::LeftAlone(_)))
        .expect("the runner that took a job");
    assert!(left_alone.reason.contains(&taken.name), "{left_alone}");
    assert_eq!(h.aws_calls.count("ecs:StopTask"), 11);
    assert_eq!(h.aws_calls.count("ssm:DeleteParameter"), 11);
    let remaining: Vec<String> = h.github.runners().into_iter().map(|r| r.name).collect();
    assert_eq!(remaining, [busy.name.clone(), taken.name.clone()]);
    let live: Vec<String> = h
        .live_tasks()
        .await
        .iter()
        .map(|t| tag(t, tags::RUNNER).expect("a runner tag").to_owned())
        .collect();
    assert_eq!(live.len(), 2);
    assert!(live.contains(&busy.name) && live.contains(&taken.name));

    // The next tick trims the runner whose job is over; the busy one stays.
    let later = tick(&h, tokyo(FRIDAY, "21:01")).await;
    assert_eq!(later.counts.warm_trimmed.values().sum::<u32>(), 1);
    assert_eq!(h.github.runners().len(), 1);
    assert_eq!(h.github.runners()[0].name, busy.name);
    assert_eq!(h.live_tasks().await.len(), 1);
}

#[tokio::test]
async fn no_warm_runners_on_a_japanese_holiday_and_a_dry_run_changes_nothing() {
    let h = dena("tick-holiday").await;

    let holiday = tick(&h, tokyo("2026-11-23", "10:00")).await;

    assert!(holiday.counts.warm_started.is_empty());
    for pool in holiday.decisions.iter().filter(|d| d.step == Step::Pool) {
        assert!(pool.reason.contains("warm target 0"), "{pool}");
    }
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 0);

    // The working day after: a dry run decides the same 13 starts and makes none.
    let dry = h
        .manager
        .tick(&h.config, tokyo("2026-11-24", "10:00"), true)
        .await;
    eprintln!("{dry}");
    let planned: Vec<&str> = dry
        .decisions
        .iter()
        .filter(|d| d.outcome == Outcome::DryRun)
        .filter_map(|d| d.class.as_deref())
        .collect();
    assert_eq!(planned.len(), 7, "{dry}");
    assert!(dry.counts.warm_started.is_empty());
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 0);
    assert_eq!(
        h.github
            .count_calls("POST /orgs/dena/actions/runners/generate-jitconfig"),
        0
    );
}

/// Starts a runner for job `job_id` through the launch path.
async fn launch_for(h: &Harness, job_id: u64) -> Launched {
    let class = h.config.class("large").expect("the test class");
    let job = job(job_id);
    let purpose = Purpose::Job {
        job: &job,
        attempt: 0,
    };
    h.manager
        .launch(&h.config, class, purpose)
        .await
        .expect("launch")
}

#[tokio::test]
async fn the_reaper_stops_stuck_tasks_and_removes_ghosts_and_stale_parameters() {
    let h = Harness::start("tick-reaper", Setup::default()).await;
    let stuck = launch_for(&h, 41).await; // its runner never comes online
    let idle = launch_for(&h, 42).await;
    h.github.set_runner_online(&idle.runner_name, true);
    h.github.add_runner(
        "rc-ghost",
        &[&LABELS[..], &["rc-controller-runner-controller"]].concat(),
    );
    h.github.add_runner("their-runner", &LABELS);
    // Another deployment with our prefix in the same cluster and org (its own SSM path): its
    // stuck-looking task, its ghost and its parameters are its own business.
    let other_prefix = format!("{}-other", h.ssm_prefix);
    let other = h
        .another_manager(&other_prefix, ClassLocks::in_process())
        .with_controller_id("other");
    let class = h.config.class("large").expect("the test class");
    let other_job = job(43);
    let purpose = Purpose::Job {
        job: &other_job,
        attempt: 0,
    };
    let theirs = other
        .launch(&h.config, class, purpose)
        .await
        .expect("launch");
    h.github.add_runner(
        "rc-other-ghost",
        &[&LABELS[..], &["rc-controller-other"]].concat(),
    );
    // A launch of ours that died before RunTask, and a leftover of the other deployment.
    let stale = format!("{}/0123456789abcdef0123456789abcdef", h.ssm_prefix);
    let their_parameter = format!("{other_prefix}/0123456789abcdef0123456789abcdef");
    for name in [&stale, &their_parameter] {
        h.ssm
            .put_parameter()
            .name(name)
            .value("left over")
            .r#type(ParameterType::SecureString)
            .send()
            .await
            .expect("PutParameter");
    }
    // The parameter each task was given, as ECS shows it.
    let given = |tasks: &[aws_sdk_ecs::types::Task], arn: &str| -> String {
        let task = tasks
            .iter()
            .find(|t| t.task_arn() == Some(arn))
            .expect("listed");
        task.overrides().expect("overrides").container_overrides()[0]
            .environment()
            .iter()
            .find(|kv| kv.name() == Some("RC_JIT_CONFIG_PARAM"))
            .and_then(|kv| kv.value())
            .expect("the parameter's name")
            .to_owned()
    };
    let tasks = h.live_tasks().await;
    let stuck_parameter = given(&tasks, &stuck.task_arn);
    let idle_parameter = given(&tasks, &idle.task_arn);
    let mut before = h.parameters().await;
    before.sort();
    let mut expected = vec![stale.clone(), stuck_parameter.clone(), idle_parameter];
    expected.sort();
    assert_eq!(before, expected);
    // Two hours on: every task is past boot_timeout, every parameter past its hour.
    let now = wall_clock() + Duration::from_secs(2 * 3600);
    h.aws_calls.clear();

    let dry = h.manager.tick(&h.config, now, true).await;
    eprintln!("{dry}");
    let planned: Vec<String> = dry
        .decisions
        .iter()
        .filter(|d| d.step == Step::Reap)
        .map(|d| d.detail["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        planned,
        [
            "stop_task",
            "delete_runner",
            "delete_parameter",
            "stop_runner"
        ]
    );
    let writes = ["ecs:StopTask", "ssm:DeleteParameter", "ecs:RunTask"];
    assert!(writes.iter().all(|op| h.aws_calls.count(op) == 0));
    assert_eq!(h.github.count_calls("DELETE "), 0);

    let github_from = h.github.calls().len();
    h.aws_calls.clear();
    let report = tick(&h, now).await;
    calls("reaper", &h, github_from);
    assert_eq!(report.failures(), 0);
    assert_eq!(
        report.counts.reaped,
        BTreeMap::from([
            ("delete_parameter", 1),
            ("delete_runner", 1),
            ("stop_runner", 1),
            ("stop_task", 1)
        ])
    );
    let live = h.live_tasks().await;
    let live: Vec<&str> = live.iter().filter_map(|t| t.task_arn()).collect();
    assert_eq!(
        live,
        [theirs.task_arn.as_str()],
        "only the other deployment's task lives"
    );
    let mut runners: Vec<String> = h.github.runners().into_iter().map(|r| r.name).collect();
    runners.sort();
    assert_eq!(
        runners,
        [
            theirs.runner_name.clone(),
            "rc-other-ghost".into(),
            "their-runner".into()
        ],
        "the stuck task's registration went before its task"
    );
    // The stale one went, and the idle runner's with its task; the stuck task's outlives its
    // task by one tick.
    assert_eq!(h.parameters().await, [stuck_parameter]);

    // The stuck task's parameter is now left over too.
    let next = tick(&h, now).await;
    assert_eq!(
        next.counts.reaped,
        BTreeMap::from([("delete_parameter", 1)])
    );
    assert_eq!(h.live_tasks().await.len(), 1);
    assert!(h.parameters().await.is_empty());
    h.ssm
        .get_parameter()
        .name(&their_parameter)
        .send()
        .await
        .expect("another deployment's parameter is left alone");
}

#[tokio::test]
async fn a_failed_delivery_is_redelivered_once() {
    let h = Harness::start("tick-redelivery", Setup::default()).await;
    h.github
        .add_delivery(Delivery::new(1, "workflow_job", 503).action("queued"));
    h.github
        .add_delivery(Delivery::new(2, "workflow_job", 202).action("queued"));
    h.github.add_delivery(Delivery::new(3, "ping", 500));

    let first = tick(&h, wall_clock()).await;

    calls("redelivery sweep", &h, 0);
    assert_eq!(h.github.redelivery_requests(), [1]);
    assert_eq!(
        h.github
            .count_calls("POST /orgs/acme/hooks/7/deliveries/1/attempts"),
        1
    );
    assert_eq!(first.counts.redelivered, 1);
    assert_eq!(first.github_budget - first.github_budget_left, 2);

    let second = tick(&h, wall_clock()).await;
    assert_eq!(h.github.redelivery_requests(), [1], "not again");
    assert_eq!(second.counts.redelivered, 0);
    assert!(second
        .decisions
        .iter()
        .any(|d| d.step == Step::Redeliver && d.reason.contains("a later attempt was delivered")));
}

#[tokio::test]
async fn a_job_whose_webhook_was_lost_is_rescued_and_launched_once() {
    let h = Harness::start("tick-rescue", Setup::default()).await;
    // A job of the repository ran on one of our tasks, which has stopped since.
    h.handle(&[support::queued(1, 0)]).await;
    let first = h.live_tasks().await.remove(0);
    h.ecs
        .stop_task()
        .cluster(&h.cluster)
        .task(first.task_arn().expect("an ARN"))
        .send()
        .await
        .expect("StopTask");
    // The first minute from now on which the rescue scan is due for the repository.
    let now = (0..60)
        .map(|m| Timestamp(wall_clock().0 + m * 60_000))
        .find(|at| scan_due(REPO, *at, h.config.manager.rescue_after))
        .expect("every repository is due once per rescue_after");
    // Another job's webhook never arrived; it has waited seven minutes by then.
    h.github.add_job(REPO, 2, 77, &LABELS);
    h.github.update_job(2, |job| {
        job.created_at = now.to_datetime() - chrono::Duration::minutes(7)
    });

    for round in 0..2 {
        h.aws_calls.clear();
        let github_from = h.github.calls().len();
        let report = tick(&h, now).await;
        calls("rescue scan", &h, github_from);
        assert_eq!(report.counts.rescued, 1, "round {round}");
        let received = h
            .sqs
            .receive_message()
            .queue_url(&h.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("ReceiveMessage");
        let messages: Vec<_> = received
            .messages()
            .iter()
            .map(|m| message(m.message_id().unwrap_or("m"), m.body().unwrap_or("").into()))
            .collect();
        assert_eq!(messages.len(), 1, "round {round}");
        h.handle(&messages).await;
    }

    let for_job_2: Vec<_> = h
        .live_tasks()
        .await
        .into_iter()
        .filter(|t| tag(t, tags::JOB_ID) == Some("2"))
        .collect();
    assert_eq!(for_job_2.len(), 1, "launched once");
    // recheck_attempts (3) + one rescue_after period (5 min) of waiting.
    assert_eq!(tag(&for_job_2[0], tags::ATTEMPT), Some("4"));
}
