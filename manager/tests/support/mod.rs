//! One manager wired to a moto emulator and a fake GitHub, with the AWS calls it makes recorded.
//!
//! Every test gets its own cluster, queue and parameter prefix in the moto server shared by the
//! test binary, and its own fake GitHub; they never see each other's state.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ecs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ecs::error::BoxError;
use aws_sdk_ecs::types::Task;
use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_ssm::types::{ParameterMetadata, ParameterStringFilter};
use rc_aws::ssm::Parameters;
use rc_aws::{ClassLocks, EcsClusterObserver, EcsTaskLauncher, SqsJobQueue};
use rc_config::Config;
use rc_core::message::{JobMessage, JobRef, JobStatus};
use rc_core::Timestamp;
use rc_github::auth::Credentials;
use rc_github::client::GithubClient;
use rc_manager::{AwsPorts, Manager, QueueMessage};
use rc_testkit::ecs::{ecs_cluster_with_instance, register_task_definition};
use rc_testkit::github::FakeGithub;
use rc_testkit::moto::Moto;
use serde_json::Value;

/// The repository every test job belongs to.
pub const REPO: &str = "acme/app";

/// The class every test routes to.
pub const CLASS: &str = "large";

/// The org webhook whose deliveries the redelivery sweep reads.
pub const HOOK_ID: u64 = 7;

/// A Wednesday noon, UTC: inside the test's warm window.
pub const NOW: Timestamp = Timestamp(1_795_003_200_000);

/// What a test changes in the standard set-up.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The class's `max_runners`.
    pub max_runners: u32,
    /// The class's task definition, when not the one registered for the test (`{name}-runner`,
    /// a family per test because the moto server is shared).
    pub task_definition: Option<String>,
    /// The class's idle warm runners from Monday to Sunday, 00:00 to 23:59 UTC (0: no window).
    pub warm_idle: u32,
    /// Instead, that window's pickup target (`target_p95`, with `min: 1` and `max: 10`).
    pub warm_target_p95: Option<&'static str>,
    /// Container memory of the registered task definition: moto places by it, and an instance
    /// has 7482 MiB.
    pub container_memory: u32,
    /// The KMS key JIT configs are encrypted with (`RC_SSM_KMS_KEY_ID`); `None` for `aws/ssm`.
    pub kms_key_id: Option<&'static str>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            max_runners: 10,
            task_definition: None,
            warm_idle: 0,
            warm_target_p95: None,
            container_memory: 512,
            kms_key_id: None,
        }
    }
}

/// A manager and everything it talks to.
pub struct Harness {
    pub github: FakeGithub,
    pub config: Config,
    /// The YAML `config` was parsed from.
    pub config_yaml: String,
    pub manager: Manager,
    pub ecs: aws_sdk_ecs::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub cluster: String,
    pub queue_url: String,
    pub ssm_prefix: String,
    pub aws_calls: AwsCalls,
}

impl Harness {
    /// A cluster named `name` with one container instance and a task definition, a queue
    /// and a parameter prefix of the same name, a fake GitHub with the `Default` group.
    pub async fn start(name: &str, setup: Setup) -> Harness {
        let sdk = Moto::shared().sdk_config().await;
        let family = format!("{name}-runner");
        register_task_definition(&sdk, &family, "runner", 256, setup.container_memory).await;
        let task_definition = setup.task_definition.clone().unwrap_or(family);
        Harness::start_with(name, setup.kms_key_id, |github_url| {
            config_yaml(github_url, &task_definition, &setup)
        })
        .await
    }

    /// As [`Harness::start`], with the config `yaml` makes of the fake GitHub's URL and no task
    /// definition registered; JIT configs encrypted with `kms_key_id` (`None`: `aws/ssm`). The
    /// GitHub client reads deliveries of the org hook [`HOOK_ID`].
    pub async fn start_with(
        name: &str,
        kms_key_id: Option<&str>,
        yaml: impl FnOnce(&str) -> String,
    ) -> Harness {
        let moto = Moto::shared();
        moto.freeze_ecs_tasks().await;
        let sdk = moto.sdk_config().await;
        ecs_cluster_with_instance(&sdk, name).await;
        let aws_calls = AwsCalls::default();
        let ecs = aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(&sdk)
                .interceptor(aws_calls.clone())
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&sdk)
                .interceptor(aws_calls.clone())
                .build(),
        );
        let ssm = aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(&sdk)
                .interceptor(aws_calls.clone())
                .build(),
        );
        let queue_url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("CreateQueue")
            .queue_url
            .expect("a queue URL");
        let github = FakeGithub::start();
        let config_yaml = yaml(&github.url());
        let config = rc_config::parse(&config_yaml).unwrap_or_else(|problems| {
            panic!("test config invalid:\n{}", problems.render("test.yaml"))
        });
        let client = GithubClient::new(&config.github, Credentials::Token("ghs_test".into()))
            .expect("a GitHub client")
            .with_hook_id(HOOK_ID);
        let ssm_prefix = format!("/rc-test/{name}");
        let ports = AwsPorts {
            github: client,
            launcher: EcsTaskLauncher::new(ecs.clone(), name),
            observer: EcsClusterObserver::new(ecs.clone(), name),
            queue: SqsJobQueue::new(sqs.clone(), &queue_url),
            secrets: Parameters::new(ssm.clone()).with_kms_key_id(kms_key_id.map(str::to_owned)),
            leases: ClassLocks::in_process(),
        };
        let manager = Manager::new(ports, &ssm_prefix);
        aws_calls.clear();
        Harness {
            github,
            config,
            config_yaml,
            manager,
            ecs,
            sqs,
            ssm,
            cluster: name.to_owned(),
            queue_url,
            ssm_prefix,
            aws_calls,
        }
    }

    /// Another manager over the same cluster, queue and fake GitHub, with JIT parameters under
    /// `ssm_prefix` and class leases from `leases`, as a second Lambda invocation (or
    /// deployment) would be: its own clients, nothing shared in process.
    pub fn another_manager(&self, ssm_prefix: &str, leases: ClassLocks) -> Manager {
        let client = GithubClient::new(&self.config.github, Credentials::Token("ghs_test".into()))
            .expect("a GitHub client")
            .with_hook_id(HOOK_ID);
        let ports = AwsPorts {
            github: client,
            launcher: EcsTaskLauncher::new(self.ecs.clone(), &self.cluster),
            observer: EcsClusterObserver::new(self.ecs.clone(), &self.cluster),
            queue: SqsJobQueue::new(self.sqs.clone(), &self.queue_url),
            secrets: Parameters::new(self.ssm.clone()),
            leases,
        };
        Manager::new(ports, ssm_prefix)
    }

    /// Handles one batch at [`NOW`].
    pub async fn handle(&self, messages: &[QueueMessage]) -> Vec<rc_manager::Disposition> {
        self.manager
            .handle_batch(&self.config, NOW, messages)
            .await
            .dispositions
    }

    /// Every task of the cluster ECS still wants running, described with tags.
    pub async fn live_tasks(&self) -> Vec<Task> {
        rc_testkit::ecs::live_tasks(&self.ecs, &self.cluster).await
    }

    /// Names of the parameters under this test's prefix (all pages: SSM answers 10 a page).
    pub async fn parameters(&self) -> Vec<String> {
        let mut pages = self
            .ssm
            .get_parameters_by_path()
            .path(&self.ssm_prefix)
            .recursive(true)
            .into_paginator()
            .send();
        let mut names = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.expect("GetParametersByPath");
            names.extend(page.parameters().iter().filter_map(|p| p.name.clone()));
        }
        names
    }

    /// What SSM records of a parameter besides its value (tier, key, description).
    pub async fn parameter_metadata(&self, name: &str) -> ParameterMetadata {
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .values(name)
            .build()
            .expect("key is set");
        let answer = self
            .ssm
            .describe_parameters()
            .parameter_filters(filter)
            .send()
            .await
            .expect("DescribeParameters");
        match answer.parameters() {
            [only] => only.clone(),
            other => panic!("{name}: {other:?}"),
        }
    }

    /// A parameter's decrypted value.
    pub async fn parameter(&self, name: &str) -> String {
        Parameters::new(self.ssm.clone())
            .get_secure(name)
            .await
            .expect("the parameter exists")
    }

    /// Messages waiting out their `DelaySeconds` in the queue (the scheduled re-checks).
    pub async fn delayed_messages(&self) -> u32 {
        self.queue_attribute(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .await
    }

    /// Messages visible, plus received and not yet deleted.
    pub async fn undelivered_messages(&self) -> (u32, u32) {
        (
            self.queue_attribute(QueueAttributeName::ApproximateNumberOfMessages)
                .await,
            self.queue_attribute(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .await,
        )
    }

    async fn queue_attribute(&self, name: QueueAttributeName) -> u32 {
        self.sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(name.clone())
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes
            .and_then(|attributes| attributes.get(&name).cloned())
            .and_then(|value| value.parse().ok())
            .expect("the attribute asked for")
    }
}

/// The test config: org `acme` at the fake's URL, one class [`CLASS`].
fn config_yaml(github_url: &str, task_definition: &str, setup: &Setup) -> String {
    let size = match (setup.warm_target_p95, setup.warm_idle) {
        (Some(p95), _) => Some(format!(
            "target_p95: {p95}\n        min: 1\n        max: 10"
        )),
        (None, 0) => None,
        (None, idle) => Some(format!("idle: {idle}")),
    };
    let warm = size.map_or_else(String::new, |size| {
        format!(
            "    warm:\n      - days: [mon, tue, wed, thu, fri, sat, sun]\n        from: \"00:00\"\n        to: \"23:59\"\n        \
             timezone: UTC\n        {size}\n"
        )
    });
    format!(
        "github:\n  scope: org\n  name: acme\n  api_url: {github_url}\n  runner_name_prefix: rc-\n\
         manager:\n  recheck_delay: 2m\n  recheck_attempts: 3\n\
         classes:\n  - name: {CLASS}\n    labels: [self-hosted, linux, large]\n    task_definition: {task_definition}\n    \
         container: runner\n    cpu: 1024\n    memory: 2048\n    capacity_provider: large-cp\n    max_runners: {}\n{warm}",
        setup.max_runners
    )
}

/// A job of [`REPO`] routed to [`CLASS`].
pub fn job(job_id: u64) -> JobRef {
    JobRef {
        delivery_id: format!("delivery-{job_id}"),
        job_id,
        run_id: job_id + 1_000_000,
        repo: REPO.to_owned(),
        owner: "acme".to_owned(),
        installation_id: None,
        labels: vec!["self-hosted".into(), "linux".into(), "large".into()],
        class: CLASS.to_owned(),
        created_at: NOW.to_datetime() - chrono::Duration::seconds(5),
    }
}

/// A message as SQS would hand it over, received for the first time.
pub fn message(id: &str, body: String) -> QueueMessage {
    QueueMessage {
        id: id.to_owned(),
        receipt_handle: format!("receipt-{id}"),
        body,
        receive_count: 1,
    }
}

/// The queued message of `attempt` for `job_id`.
pub fn queued(job_id: u64, attempt: u32) -> QueueMessage {
    message(
        &format!("q-{job_id}-{attempt}"),
        JobMessage::Queued {
            job: job(job_id),
            attempt,
        }
        .to_json(),
    )
}

/// The `in_progress` message of `job_id`, picked up by `runner` `pickup_secs` after it was queued.
pub fn in_progress(job_id: u64, runner: &str, pickup_secs: i64) -> QueueMessage {
    let job = job(job_id);
    let started_at = job.created_at + chrono::Duration::seconds(pickup_secs);
    let body = JobMessage::Lifecycle {
        job,
        status: JobStatus::InProgress,
        runner_name: Some(runner.to_owned()),
        started_at: Some(started_at),
    }
    .to_json();
    message(&format!("p-{job_id}"), body)
}

/// The value of tag `key` on `task`.
pub fn tag<'t>(task: &'t Task, key: &str) -> Option<&'t str> {
    task.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// Records every AWS request the manager's clients send: operation (`x-amz-target`, e.g.
/// `AmazonEC2ContainerServiceV20141113.RunTask`, shortened to `ecs:RunTask`) and JSON body.
#[derive(Debug, Clone, Default)]
pub struct AwsCalls(Arc<Mutex<Vec<(String, Value)>>>);

impl AwsCalls {
    pub fn clear(&self) {
        self.0.lock().expect("not poisoned").clear();
    }

    /// Requests per operation.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for (operation, _) in self.0.lock().expect("not poisoned").iter() {
            *counts.entry(operation.clone()).or_default() += 1;
        }
        counts
    }

    /// How many requests of `operation` (e.g. `ecs:RunTask`).
    pub fn count(&self, operation: &str) -> usize {
        self.counts().get(operation).copied().unwrap_or(0)
    }

    /// The bodies of every `operation` request.
    pub fn bodies(&self, operation: &str) -> Vec<Value> {
        self.0
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, body)| body.clone())
            .collect()
    }
}

impl Intercept for AwsCalls {
    fn name(&self) -> &'static str {
        "AwsCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or("unknown");
        let (service, operation) = target.split_once('.').unwrap_or(("unknown", target));
        let service = match service {
            s if s.starts_with("AmazonEC2ContainerService") => "ecs",
            "AmazonSSM" => "ssm",
            "AmazonSQS" => "sqs",
            other => other,
        };
        let body = request
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or(Value::Null);
        self.0
            .lock()
            .expect("not poisoned")
            .push((format!("{service}:{operation}"), body));
        Ok(())
    }
}
