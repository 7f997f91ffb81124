//! The manager against moto and the fake GitHub: what it starts, what it stores, what it cleans
//! up, and which messages it hands back.

#[allow(dead_code)] // shared with the other test binaries; each uses part of it
mod support;

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_ssm::types::ParameterTier;
use rc_aws::TaskLauncher;
use rc_core::observed::tags;
use rc_manager::queue::{handle_event, run_queue_loop};
use rc_manager::{Disposition, Purpose};
use serde_json::json;
use support::{in_progress, job, queued, tag, Harness, Setup, CLASS, NOW, REPO};

const LABELS: [&str; 3] = ["self-hosted", "linux", "large"];

/// Prints the calls of one scenario (GitHub's from the `github_from`-th on); the numbers go
/// into the README's cost table.
fn report(scenario: &str, h: &Harness, github_from: usize) {
    let github: Vec<String> = h.github.calls()[github_from..]
        .iter()
        .map(|c| format!("{} {} -> {}", c.method, c.path, c.status))
        .collect();
    eprintln!(
        "[{scenario}] GitHub calls: {github:#?}\n[{scenario}] AWS calls: {:#?}",
        h.aws_calls.counts()
    );
}

#[tokio::test]
async fn queued_job_starts_one_task_with_its_jit_config_only_in_ssm() {
    let h = Harness::start("queued-job", Setup::default()).await;

    let started = std::time::Instant::now();
    let dispositions = h.handle(&[queued(42, 0)]).await;
    eprintln!("[first launch] handled in {:?}", started.elapsed());

    assert_eq!(dispositions, [Disposition::Done]);
    report("first launch", &h, 0);
    // One launch: ListTasks (nothing to describe yet), PutParameter, RunTask, SendMessage.
    let aws = h.aws_calls.counts();
    assert_eq!(aws.values().sum::<usize>(), 4, "{aws:?}");
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 1);
    assert_eq!(h.aws_calls.count("ssm:PutParameter"), 1);
    assert_eq!(h.aws_calls.count("sqs:SendMessage"), 1);
    // GitHub: the runner list, the group id (once per client) and the JIT config.
    assert_eq!(h.github.calls().len(), 3, "{:#?}", h.github.calls());
    assert_eq!(
        h.github
            .count_calls("POST /orgs/acme/actions/runners/generate-jitconfig"),
        1
    );

    let runner_name = "rc-j16-0"; // 42 in base 36
    let run_task = &h.aws_calls.bodies("ecs:RunTask")[0];
    assert_eq!(run_task["clientToken"], runner_name);
    assert_eq!(
        run_task["capacityProviderStrategy"][0]["capacityProvider"],
        "large-cp"
    );
    assert_eq!(run_task["capacityProviderStrategy"][0]["weight"], 1);
    assert_eq!(run_task["startedBy"], "runner-controller");

    let tasks = h.live_tasks().await;
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert!(
        task.task_definition_arn()
            .is_some_and(|arn| arn.ends_with(":task-definition/queued-job-runner:1")),
        "{task:?}"
    );
    assert_eq!(task.started_by(), Some("runner-controller"));
    for (key, value) in [
        (tags::CLASS, CLASS),
        (tags::JOB_ID, "42"),
        (tags::REPO, REPO),
        (tags::RUNNER, runner_name),
        (tags::ORIGIN, "job"),
        (tags::ATTEMPT, "0"),
        (tags::CONTROLLER, "runner-controller"),
    ] {
        assert_eq!(tag(task, key), Some(value), "tag {key}");
    }
    let overrides = task.overrides().expect("moto keeps the overrides");
    assert_eq!(
        (overrides.cpu(), overrides.memory()),
        (Some("1024"), Some("2048"))
    );
    let container = &overrides.container_overrides()[0];
    assert_eq!(container.name(), Some("runner"));
    assert_eq!(
        (container.cpu(), container.memory()),
        (Some(1024), Some(2048))
    );
    // The parameter's name is the prefix and 128 random bits: nothing of the runner or the job.
    let parameters = h.parameters().await;
    let [parameter] = parameters.as_slice() else {
        panic!("one parameter: {parameters:?}")
    };
    let random = parameter
        .strip_prefix(&format!("{}/", h.ssm_prefix))
        .expect("under the prefix");
    assert!(
        random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit()),
        "{parameter}"
    );
    assert!(!parameter.contains(runner_name), "{parameter}");
    let env: Vec<(&str, &str)> = container
        .environment()
        .iter()
        .map(|kv| (kv.name().unwrap_or(""), kv.value().unwrap_or("")))
        .collect();
    assert_eq!(env, [("RC_JIT_CONFIG_PARAM", parameter.as_str())]);

    let registered = h
        .github
        .runner(runner_name)
        .expect("the runner is registered");
    assert_eq!(
        registered.labels,
        [&LABELS[..], &["rc-controller-runner-controller"]].concat(),
        "the class's labels and our controller's"
    );
    let secret = registered
        .encoded_jit_config
        .expect("registered through generate-jitconfig");
    assert!(secret.len() > 4096, "GitHub-sized: {} bytes", secret.len());
    assert_eq!(h.parameter(parameter).await, secret);
    // Larger than a Standard parameter holds, so it was requested as Advanced; without a
    // configured key, SSM's own `aws/ssm`.
    let metadata = h.parameter_metadata(parameter).await;
    assert_eq!(metadata.tier(), Some(&ParameterTier::Advanced));
    assert_eq!(metadata.key_id(), Some("alias/aws/ssm"));
    assert_eq!(metadata.description(), Some(runner_name));
    assert!(
        !format!("{task:?}").contains(&secret),
        "the JIT config leaked into the task"
    );
    assert!(
        !run_task.to_string().contains(&secret),
        "the JIT config leaked into RunTask"
    );

    assert_eq!(
        h.delayed_messages().await,
        1,
        "the re-check waits in the queue"
    );
}

#[tokio::test]
async fn the_jit_config_is_encrypted_with_the_configured_key() {
    let key = "arn:aws:kms:us-east-1:123456789012:alias/runner-controller-jit";
    let h = Harness::start(
        "kms-key",
        Setup {
            kms_key_id: Some(key),
            ..Setup::default()
        },
    )
    .await;

    assert_eq!(
        h.handle(&[queued(29_679_449, 0)]).await,
        [Disposition::Done]
    );

    let put = &h.aws_calls.bodies("ssm:PutParameter")[0];
    assert_eq!(put["KeyId"], key);
    assert_eq!(put["Tier"], "Advanced");
    let parameters = h.parameters().await;
    let [parameter] = parameters.as_slice() else {
        panic!("one parameter: {parameters:?}")
    };
    assert!(!parameter.contains("29679449"), "{parameter}");
    assert!(!parameter.contains("rc-jho4t5-0"), "{parameter}");
    let metadata = h.parameter_metadata(parameter).await;
    assert_eq!(metadata.tier(), Some(&ParameterTier::Advanced));
    assert_eq!(metadata.key_id(), Some(key));
}

#[tokio::test]
async fn an_idle_runner_covers_the_job() {
    let h = Harness::start("idle-runner", Setup::default()).await;
    let class = h.config.class(CLASS).expect("the test class");
    let warm = h
        .manager
        .launch(
            &h.config,
            class,
            Purpose::Warm {
                decided_at: NOW,
                index: 0,
            },
        )
        .await
        .expect("warm launch");
    h.github.set_runner_online(&warm.runner_name, true);
    h.aws_calls.clear();

    let dispositions = h.handle(&[queued(7, 0)]).await;

    assert_eq!(dispositions, [Disposition::Done]);
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 0);
    assert_eq!(
        h.github
            .count_calls("POST /orgs/acme/actions/runners/generate-jitconfig"),
        1,
        "the warm one only"
    );
    assert_eq!(h.live_tasks().await.len(), 1);
    assert_eq!(
        h.delayed_messages().await,
        1,
        "a re-check, in case another job takes the idle runner"
    );
}

#[tokio::test]
async fn the_same_message_twice_starts_one_task() {
    let h = Harness::start("same-message", Setup::default()).await;

    assert_eq!(
        h.handle(&[queued(9, 0), queued(9, 0)]).await,
        [Disposition::Done, Disposition::Done]
    );
    assert_eq!(h.handle(&[queued(9, 0)]).await, [Disposition::Done]);

    assert_eq!(h.aws_calls.count("ecs:RunTask"), 1);
    // The booting task tagged with the job covers it: the redelivery never reaches GitHub's
    // JIT endpoint (whose name check would also catch it) nor RunTask (moto ignores the token).
    assert_eq!(
        h.github
            .count_calls("POST /orgs/acme/actions/runners/generate-jitconfig"),
        1
    );
    assert_eq!(h.live_tasks().await.len(), 1);
    assert_eq!(h.github.runners().len(), 1);
}

#[tokio::test]
async fn a_recheck_of_a_job_whose_runner_boots_starts_nothing() {
    let h = Harness::start("recheck-covered", Setup::default()).await;
    h.github.add_job(REPO, 10, 1, &LABELS);
    assert_eq!(h.handle(&[queued(10, 0)]).await, [Disposition::Done]);
    let github_from = h.github.calls().len();
    h.aws_calls.clear();

    assert_eq!(h.handle(&[queued(10, 1)]).await, [Disposition::Done]);

    report("re-check covered by its booting task", &h, github_from);
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 0);
    assert_eq!(h.aws_calls.count("sqs:SendMessage"), 1, "the next re-check");
    assert_eq!(h.live_tasks().await.len(), 1);
}

/// The webhook's message (attempt 0) for `job_id`, created `age` before [`NOW`].
fn delivered_after(job_id: u64, age: chrono::Duration) -> rc_manager::QueueMessage {
    let mut job = job(job_id);
    job.created_at = NOW.to_datetime() - age;
    support::message(
        &format!("replay-{job_id}"),
        rc_core::message::JobMessage::Queued { job, attempt: 0 }.to_json(),
    )
}

#[tokio::test]
async fn an_old_delivery_for_a_finished_job_starts_nothing() {
    let h = Harness::start("replay-done", Setup::default()).await;
    h.github.add_job(REPO, 13, 1, &LABELS);
    h.github
        .set_job_status(13, rc_testkit::github::JobStatus::Completed);

    let dispositions = h
        .handle(&[delivered_after(13, chrono::Duration::hours(2))])
        .await;

    assert_eq!(dispositions, [Disposition::Done]);
    assert_eq!(
        h.github.count_calls("GET /repos/acme/app/actions/jobs/13"),
        1
    );
    assert_eq!(
        h.github
            .count_calls("POST /orgs/acme/actions/runners/generate-jitconfig"),
        0
    );
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 0);
    assert_eq!(h.delayed_messages().await, 0, "nothing to re-check");
}

#[tokio::test]
async fn an_old_delivery_for_a_job_still_queued_starts_one_task() {
    let h = Harness::start("replay-queued", Setup::default()).await;
    h.github.add_job(REPO, 14, 1, &LABELS);

    let dispositions = h
        .handle(&[delivered_after(14, chrono::Duration::hours(2))])
        .await;

    assert_eq!(dispositions, [Disposition::Done]);
    assert_eq!(
        h.github.count_calls("GET /repos/acme/app/actions/jobs/14"),
        1
    );
    assert_eq!(h.live_tasks().await.len(), 1);
}

#[tokio::test]
async fn a_fresh_delivery_makes_no_job_api_call() {
    let h = Harness::start("replay-fresh", Setup::default()).await;
    h.github.add_job(REPO, 15, 1, &LABELS);

    let dispositions = h
        .handle(&[delivered_after(15, chrono::Duration::minutes(59))])
        .await;

    assert_eq!(dispositions, [Disposition::Done]);
    assert_eq!(h.github.count_calls("GET /repos/acme/app/actions/jobs"), 0);
    assert_eq!(h.live_tasks().await.len(), 1);
}

#[tokio::test]
async fn a_failed_run_task_is_cleaned_up_and_retried() {
    let h = Harness::start(
        "unknown-definition",
        Setup {
            task_definition: Some("no-such-family".into()),
            ..Setup::default()
        },
    )
    .await;

    let dispositions = h.handle(&[queued(11, 0)]).await;

    assert_eq!(dispositions, [Disposition::Retry]);
    assert_eq!(
        h.aws_calls.count("ecs:RunTask"),
        1,
        "a rejected call is not retried at once"
    );
    assert!(h.live_tasks().await.is_empty());
    assert!(
        h.parameters().await.is_empty(),
        "the JIT parameter is deleted"
    );
    assert_eq!(h.aws_calls.count("ssm:DeleteParameter"), 1);
    assert!(h.github.runners().is_empty(), "the registration is deleted");
    assert_eq!(
        h.github.count_calls("DELETE /orgs/acme/actions/runners/"),
        1
    );
    assert_eq!(
        h.delayed_messages().await,
        0,
        "no re-check for a job that got nothing"
    );
}

#[tokio::test]
async fn an_unplaceable_task_is_retried_with_backoff_then_cleaned_up() {
    // moto places by container memory; 8000 MiB fits on no instance, and moto then answers
    // RunTask with neither a task nor a failure.
    let h = Harness::start(
        "unplaceable",
        Setup {
            container_memory: 8000,
            ..Setup::default()
        },
    )
    .await;

    let dispositions = h.handle(&[queued(12, 0)]).await;

    assert_eq!(dispositions, [Disposition::Retry]);
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 3);
    assert!(h.parameters().await.is_empty());
    assert!(h.github.runners().is_empty());
}

#[tokio::test]
async fn a_recheck_launches_again_when_another_job_took_the_runner() {
    let h = Harness::start("runner-taken", Setup::default()).await;
    h.github.add_job(REPO, 21, 1, &LABELS);
    h.github.add_job(REPO, 22, 2, &LABELS);
    assert_eq!(h.handle(&[queued(21, 0)]).await, [Disposition::Done]);
    h.github.start_job(22, "rc-jl-0"); // 21 in base 36 is `l`
    let github_from = h.github.calls().len();
    h.aws_calls.clear();

    assert_eq!(h.handle(&[queued(21, 1)]).await, [Disposition::Done]);

    report("re-check that launches", &h, github_from);
    assert_eq!(
        h.github.count_calls("GET /repos/acme/app/actions/jobs/21"),
        1
    );
    let tasks = h.live_tasks().await;
    assert_eq!(tasks.len(), 2);
    let second = tasks
        .iter()
        .find(|t| tag(t, tags::ATTEMPT) == Some("1"))
        .expect("a task for attempt 1");
    assert_eq!(tag(second, tags::RUNNER), Some("rc-jl-1"));
    assert_eq!(tag(second, tags::JOB_ID), Some("21"));

    // Once the job runs, a re-check starts nothing.
    h.github.start_job(21, "rc-jl-1");
    h.aws_calls.clear();
    assert_eq!(h.handle(&[queued(21, 2)]).await, [Disposition::Done]);
    assert_eq!(
        h.aws_calls.counts().values().sum::<usize>(),
        0,
        "{:?}",
        h.aws_calls.counts()
    );
    assert_eq!(h.live_tasks().await.len(), 2);
}

/// A job still queued on its re-check in a class at `max_runners`, with no runner the listing
/// says could take it, is held back whatever a fresh listing would say: the batch asks GitHub
/// about the job but does not list the runners again. Without this, a class held at its limit
/// listed on every redelivery of its re-checks (the busiest hour of a business day passed 2,500
/// calls).
#[tokio::test]
async fn a_recheck_in_a_full_class_lists_no_runners_again() {
    let h = Harness::start(
        "recheck-at-max",
        Setup {
            max_runners: 1,
            ..Setup::default()
        },
    )
    .await;
    h.github.add_job(REPO, 55, 1, &LABELS);
    h.github.add_job(REPO, 56, 2, &LABELS);
    assert_eq!(h.handle(&[queued(55, 0)]).await, [Disposition::Done]);
    let github_from = h.github.calls().len();

    // 56's own task is gone (as if it died); 55's fills the class.
    let dispositions = h.handle(&[queued(56, 1)]).await;

    report("re-check at max_runners", &h, github_from);
    assert_eq!(
        dispositions,
        [Disposition::RetryAfter(Duration::from_secs(60))]
    );
    assert_eq!(
        h.github.count_calls("GET /repos/acme/app/actions/jobs/56"),
        1
    );
    let runner_listings = "GET /orgs/acme/actions/runners";
    assert_eq!(
        h.github.count_calls(runner_listings),
        1,
        "the first batch's"
    );
    assert_eq!(h.github.calls().len(), github_from + 1);
    assert_eq!(h.live_tasks().await.len(), 1);
}

#[tokio::test]
async fn a_recheck_launches_again_when_the_first_task_stopped() {
    let h = Harness::start("task-stopped", Setup::default()).await;
    h.github.add_job(REPO, 31, 1, &LABELS);
    assert_eq!(h.handle(&[queued(31, 0)]).await, [Disposition::Done]);
    let first = h.live_tasks().await.remove(0);
    h.manager
        .ports()
        .launcher
        .stop_task(first.task_arn().expect("an ARN"), "test: the task died")
        .await
        .expect("StopTask");
    h.aws_calls.clear();

    assert_eq!(h.handle(&[queued(31, 1)]).await, [Disposition::Done]);

    let tasks = h.live_tasks().await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tag(&tasks[0], tags::ATTEMPT), Some("1"));
}

#[tokio::test]
async fn a_full_class_launches_nothing_and_hands_the_message_back_later() {
    let h = Harness::start(
        "at-max",
        Setup {
            max_runners: 1,
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(h.handle(&[queued(51, 0)]).await, [Disposition::Done]);
    h.aws_calls.clear();
    // The Lambda path, with a message that really is in the queue.
    h.sqs
        .send_message()
        .queue_url(&h.queue_url)
        .message_body(queued(52, 0).body)
        .send()
        .await
        .expect("SendMessage");
    let received = h
        .sqs
        .receive_message()
        .queue_url(&h.queue_url)
        .send()
        .await
        .expect("ReceiveMessage");
    let sqs_message = &received.messages()[0];
    let event: SqsEvent = serde_json::from_value(json!({ "Records": [{
        "messageId": sqs_message.message_id(),
        "receiptHandle": sqs_message.receipt_handle(),
        "body": sqs_message.body(),
        "attributes": { "ApproximateReceiveCount": "2" },
    }]}))
    .expect("an SQS event");

    let response = handle_event(&h.manager, &h.config, NOW, event, None).await;

    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, [sqs_message.message_id().expect("an id")]);
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 0);
    let change = &h.aws_calls.bodies("sqs:ChangeMessageVisibilityBatch")[0];
    assert_eq!(
        change["Entries"][0]["VisibilityTimeout"], 120,
        "60 s doubled for the second receipt"
    );
    assert_eq!(h.live_tasks().await.len(), 1);
}

#[tokio::test]
async fn unreadable_messages_are_acknowledged_but_newer_versions_are_kept() {
    let h = Harness::start("malformed", Setup::default()).await;
    let newer_version = queued(61, 0).body.replace("\"v\":1", "\"v\":99");
    let older_version = queued(62, 0).body.replace("\"v\":1", "\"v\":0");
    let event: SqsEvent = serde_json::from_value(json!({ "Records": [
        { "messageId": "garbage", "receiptHandle": "r1", "body": "not json" },
        { "messageId": "future", "receiptHandle": "r2", "body": newer_version },
        { "messageId": "past", "receiptHandle": "r3", "body": older_version },
    ]}))
    .expect("an SQS event");

    let response = handle_event(&h.manager, &h.config, NOW, event, None).await;

    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        ["future"],
        "only the newer version goes back to SQS (and on to the DLQ)"
    );
    assert!(h.github.calls().is_empty());
    assert_eq!(h.aws_calls.count("ecs:RunTask"), 0);
    assert_eq!(h.aws_calls.count("sqs:DeleteMessage"), 0);
}

#[tokio::test]
async fn a_job_taking_a_warm_runner_refills_the_pool_at_once() {
    let h = Harness::start(
        "warm-refill",
        Setup {
            warm_idle: 1,
            ..Setup::default()
        },
    )
    .await;

    let dispositions = h.handle(&[in_progress(71, "rc-w-someone", 12)]).await;

    assert_eq!(dispositions, [Disposition::Done]);
    let tasks = h.live_tasks().await;
    assert_eq!(tasks.len(), 1, "one warm runner for the target of one");
    assert_eq!(tag(&tasks[0], tags::ORIGIN), Some("warm"));
    assert_eq!(tag(&tasks[0], tags::JOB_ID), None);
    assert!(tag(&tasks[0], tags::RUNNER).is_some_and(|name| name.starts_with("rc-w")));
}

#[tokio::test]
async fn the_queue_loop_turns_a_message_into_one_task_and_deletes_it() {
    let h = Harness::start("queue-loop", Setup::default()).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, &h.config_yaml).expect("write the config");
    let config =
        rc_aws::config_source::LastKnownGood::load(rc_aws::config_source::ConfigSource::File(path))
            .await
            .expect("the test config loads");
    // The loop reads the wall clock, to which the job (dated at `NOW`) may be old enough for a
    // replay check: GitHub knows it as queued.
    h.github.add_job(REPO, 81, 1, &LABELS);
    let body = rc_core::message::JobMessage::Queued {
        job: job(81),
        attempt: 0,
    }
    .to_json();
    h.sqs
        .send_message()
        .queue_url(&h.queue_url)
        .message_body(body.clone())
        .send()
        .await
        .expect("SendMessage");
    h.sqs
        .send_message()
        .queue_url(&h.queue_url)
        .message_body(body)
        .send()
        .await
        .expect("SendMessage");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

    let watcher = async {
        // Polls until the queue is drained; the bound only turns a hang into a failure.
        for _ in 0..300 {
            if h.undelivered_messages().await == (0, 0) && !h.live_tasks().await.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop.send(()).expect("the loop is running");
    };
    tokio::join!(
        run_queue_loop(&h.manager, &config, None, async {
            stopped.await.unwrap_or(())
        }),
        watcher
    );

    assert_eq!(
        h.live_tasks().await.len(),
        1,
        "a redelivered message starts nothing more"
    );
    assert_eq!(
        h.undelivered_messages().await,
        (0, 0),
        "both messages were deleted"
    );
    assert!(h.delayed_messages().await >= 1, "the re-check is scheduled");
}
