//! `serve` as the whole controller, backed by moto and the fake GitHub: a signed `queued`
//! webhook becomes exactly one ECS task of the right class, its JIT config only in SSM, and a
//! redelivery of the same webhook starts nothing more.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use rc_testkit::ecs::{ecs_cluster_with_instance, live_tasks, register_task_definition};
use rc_testkit::fixtures::{signed, WorkflowJobEvent};
use rc_testkit::github::FakeGithub;
use rc_testkit::moto::Moto;

use super::support::{command, Serve};

const SECRET: &str = "all-in-one-secret";
const CLUSTER: &str = "rc-e2e";
const SSM_PREFIX: &str = "/rc-e2e/jit";

fn config_yaml(github_url: &str) -> String {
    format!(
        "github: {{scope: org, name: acme, api_url: '{github_url}', runner_name_prefix: rc-}}\n\
         classes:\n  - name: large\n    labels: [self-hosted, linux, large]\n    task_definition: rc-e2e-runner\n    \
         cpu: 1024\n    memory: 2048\n    capacity_provider: large-cp\n    max_runners: 5\n"
    )
}

/// Waits until nothing is visible or in flight on the queue (delayed re-checks may remain).
async fn queue_settled(sqs: &aws_sdk_sqs::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes
            .unwrap_or_default();
        let count = |name| {
            attributes
                .get(&name)
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        };
        if count(QueueAttributeName::ApproximateNumberOfMessages) == 0
            && count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible) == 0
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the manager did not drain the queue: {attributes:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn deliver(client: &reqwest::Client, url: &str, body: &[u8]) -> u16 {
    client
        .post(format!("{url}/github/webhook"))
        .header("x-github-event", "workflow_job")
        .header("x-github-delivery", "5a1b2c3d-0000-4000-8000-00000000e2e0")
        .header("x-hub-signature-256", signed(body, SECRET))
        .body(body.to_vec())
        .send()
        .await
        .expect("serve answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_signed_webhook_becomes_exactly_one_task_and_a_redelivery_adds_none() {
    let moto = Moto::start();
    moto.freeze_ecs_tasks().await;
    let aws = moto.sdk_config().await;
    ecs_cluster_with_instance(&aws, CLUSTER).await;
    register_task_definition(&aws, "rc-e2e-runner", "runner", 256, 512).await;
    let (ecs, sqs, ssm) = (
        aws_sdk_ecs::Client::new(&aws),
        aws_sdk_sqs::Client::new(&aws),
        aws_sdk_ssm::Client::new(&aws),
    );
    let queue_url = sqs
        .create_queue()
        .queue_name("rc-e2e-jobs")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    let github = FakeGithub::start();
    // The fixture's job dates from 2021, past `replay_check_after`: the manager asks GitHub,
    // which knows it as queued.
    github.add_job(
        "acme/widgets",
        4242,
        2202229078,
        &["self-hosted", "linux", "large"],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let config_path = dir.path().join("config.yaml");
    std::fs::write(&config_path, config_yaml(&github.url())).expect("write config");

    let mut cmd = command(&moto);
    cmd.args([
        "serve",
        "--config",
        config_path.to_str().expect("utf-8 path"),
        "--listen",
        "127.0.0.1:0",
    ])
    .env("RC_JOBS_QUEUE_URL", &queue_url)
    .env("RC_WEBHOOK_SECRET", SECRET)
    .env("RC_CLUSTER", CLUSTER)
    .env("RC_SSM_PREFIX", SSM_PREFIX)
    .env("RC_GITHUB_TOKEN", "ghs_e2e");
    let serve = Serve::start(cmd);
    let client = reqwest::Client::new();
    let body = WorkflowJobEvent::queued()
        .repository("acme/widgets")
        .labels(&["self-hosted", "linux", "large"])
        .job_id(4242)
        .to_bytes();

    assert_eq!(deliver(&client, &serve.url, &body).await, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let task = loop {
        if let [task] = live_tasks(&ecs, CLUSTER).await.as_slice() {
            break task.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no task started; serve log:\n{}",
            serve.drain_logs().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let tags: Vec<(String, String)> = task
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        tags.contains(&("rc:class".into(), "large".into())),
        "{tags:?}"
    );
    assert!(
        tags.contains(&("rc:job-id".into(), "4242".into())),
        "{tags:?}"
    );

    let runner_name = &tags
        .iter()
        .find(|(k, _)| k == "rc:runner")
        .expect("runner tag")
        .1;
    let overrides = task.overrides().expect("overrides");
    let environment: Vec<(&str, &str)> = overrides
        .container_overrides()
        .iter()
        .flat_map(|c| c.environment())
        .map(|kv| {
            (
                kv.name().unwrap_or_default(),
                kv.value().unwrap_or_default(),
            )
        })
        .collect();
    let [("RC_JIT_CONFIG_PARAM", parameter_name)] = environment[..] else {
        panic!("only the parameter's name is passed: {environment:?}");
    };
    // 128 random bits under the prefix: neither the runner name nor the job id.
    let random = parameter_name
        .strip_prefix(&format!("{SSM_PREFIX}/"))
        .expect("under the prefix");
    assert!(
        random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit()),
        "{parameter_name}"
    );
    assert!(!parameter_name.contains(runner_name.as_str()) && !parameter_name.contains("4242"));
    let jit_config = ssm
        .get_parameter()
        .name(parameter_name)
        .with_decryption(true)
        .send()
        .await
        .expect("the JIT config is in SSM")
        .parameter
        .and_then(|p| p.value)
        .expect("a value");
    // GitHub-sized (the fake's ~5.7 KB), so it must be, and was requested as, Advanced.
    assert!(jit_config.len() > 4096, "{} bytes", jit_config.len());
    let described = ssm
        .describe_parameters()
        .parameter_filters(
            aws_sdk_ssm::types::ParameterStringFilter::builder()
                .key("Name")
                .values(parameter_name)
                .build()
                .expect("key is set"),
        )
        .send()
        .await
        .expect("DescribeParameters");
    assert_eq!(
        described.parameters()[0].tier(),
        Some(&aws_sdk_ssm::types::ParameterTier::Advanced)
    );
    assert!(
        !format!("{overrides:?}{environment:?}").contains(&jit_config),
        "the JIT config is only in SSM"
    );

    queue_settled(&sqs, &queue_url).await;
    assert_eq!(
        deliver(&client, &serve.url, &body).await,
        200,
        "redelivery is accepted"
    );
    queue_settled(&sqs, &queue_url).await;
    assert_eq!(
        live_tasks(&ecs, CLUSTER).await.len(),
        1,
        "a redelivered webhook starts nothing more"
    );
    assert_eq!(
        github.count_calls("POST /orgs/acme/actions/runners/generate-jitconfig"),
        1
    );
}
