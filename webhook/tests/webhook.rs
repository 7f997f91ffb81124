//! Every answer of the webhook, with real GitHub payloads, against a real SQS (moto): what is
//! answered, and what is (or is not) left on the queue.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use rc_aws::SqsJobQueue;
use rc_core::message::{JobMessage, JobStatus};
use rc_github::signature::WebhookSecrets;
use rc_testkit::fixtures::{load, signed, WorkflowJobEvent};
use rc_testkit::moto::Moto;
use rc_webhook::{Reply, Webhook, MAX_BODY_BYTES, WEBHOOK_PATH};

const SECRET: &str = "current-secret";
const OLD_SECRET: &str = "previous-secret";

struct Harness {
    webhook: Webhook<SqsJobQueue>,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    config: rc_config::Config,
}

impl Harness {
    async fn new(moto: &Moto, queue: &str) -> Harness {
        let aws = moto.sdk_config().await;
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let queue_url = sqs
            .create_queue()
            .queue_name(queue)
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("url");
        let secrets = WebhookSecrets::new([SECRET, OLD_SECRET]).expect("valid secrets");
        let webhook = Webhook::new(secrets, SqsJobQueue::new(sqs.clone(), &queue_url));
        let config = rc_config::parse(include_str!("../../config/examples/dena.yaml"))
            .expect("example is valid");
        Harness {
            webhook,
            sqs,
            queue_url,
            config,
        }
    }

    async fn post(&self, event: &str, body: &[u8], signature: Option<String>) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-github-event",
            HeaderValue::from_str(event).expect("header"),
        );
        headers.insert(
            "x-github-delivery",
            HeaderValue::from_static("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        );
        if let Some(sig) = signature {
            headers.insert(
                "x-hub-signature-256",
                HeaderValue::from_str(&sig).expect("header"),
            );
        }
        self.webhook
            .serve_http(
                Ok(&self.config),
                &Method::POST,
                WEBHOOK_PATH,
                &headers,
                body,
            )
            .await
    }

    async fn post_signed(&self, event: &str, body: &[u8]) -> Reply {
        self.post(event, body, Some(signed(body, SECRET))).await
    }

    async fn drain(&self) -> Vec<JobMessage> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        out.messages
            .unwrap_or_default()
            .iter()
            .map(|m| JobMessage::from_json(m.body().expect("body")).expect("versioned job message"))
            .collect()
    }
}

/// The example config's scope is the organization `dena`; the real payloads come from
/// `Octocoders`, so tests move them into the scope first.
const REPO: &str = "dena/platform";

fn queued(labels: &[&str]) -> Vec<u8> {
    WorkflowJobEvent::queued()
        .repository(REPO)
        .labels(labels)
        .to_bytes()
}

#[tokio::test]
async fn routed_queued_job_leaves_exactly_one_message_naming_the_class() {
    let moto = Moto::start();
    let h = Harness::new(&moto, "jobs").await;
    let reply = h
        .post_signed("workflow_job", &queued(&["self-hosted", "linux", "large"]))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.body["class"], "large-amd64");
    let messages = h.drain().await;
    assert_eq!(messages.len(), 1);
    let JobMessage::Queued { job, attempt } = &messages[0] else {
        panic!("expected queued, got {messages:?}")
    };
    assert_eq!((job.class.as_str(), *attempt), ("large-amd64", 0));
    assert_eq!(job.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert!(job.repo.contains('/') && !job.owner.is_empty() && job.job_id > 0 && job.run_id > 0);
    assert_eq!(job.labels, ["self-hosted", "linux", "large"]);
}

#[tokio::test]
async fn previous_secret_still_verifies_during_rotation() {
    let moto = Moto::start();
    let h = Harness::new(&moto, "jobs").await;
    let body = queued(&["self-hosted", "arm64", "small"]);
    let reply = h
        .post("workflow_job", &body, Some(signed(&body, OLD_SECRET)))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        h.drain().await[0].job().expect("a job message").class,
        "small-arm64"
    );
}

#[tokio::test]
async fn lifecycle_actions_become_lifecycle_messages() {
    let moto = Moto::start();
    let h = Harness::new(&moto, "jobs").await;
    let body = WorkflowJobEvent::in_progress()
        .repository(REPO)
        .labels(&["self-hosted", "medium"])
        .to_bytes();
    assert_eq!(
        h.post_signed("workflow_job", &body).await.status,
        StatusCode::OK
    );
    let body = WorkflowJobEvent::completed()
        .repository(REPO)
        .labels(&["self-hosted", "medium"])
        .to_bytes();
    assert_eq!(
        h.post_signed("workflow_job", &body).await.status,
        StatusCode::OK
    );
    let statuses: Vec<JobStatus> = h
        .drain()
        .await
        .into_iter()
        .map(|m| match m {
            JobMessage::Lifecycle {
                status,
                runner_name,
                started_at,
                ..
            } => {
                assert!(runner_name.is_some() && started_at.is_some());
                status
            }
            other => panic!("expected lifecycle, got {other:?}"),
        })
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&JobStatus::InProgress) && statuses.contains(&JobStatus::Completed));
}

#[tokio::test]
async fn refusals_leave_the_queue_unchanged() {
    let moto = Moto::start();
    let h = Harness::new(&moto, "jobs").await;
    let body = queued(&["self-hosted", "large"]);

    let wrong = h
        .post("workflow_job", &body, Some(signed(&body, "not-the-secret")))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let missing = h.post("workflow_job", &body, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);

    let unsigned_headers = HeaderMap::from_iter([(
        http::header::HeaderName::from_static("x-hub-signature-256"),
        HeaderValue::from_str(&signed(&body, SECRET)).expect("header"),
    )]);
    let no_event = h
        .webhook
        .serve_http(
            Ok(&h.config),
            &Method::POST,
            WEBHOOK_PATH,
            &unsigned_headers,
            &body,
        )
        .await;
    assert_eq!(no_event.status, StatusCode::BAD_REQUEST);
    assert!(no_event.body["message"]
        .as_str()
        .expect("message")
        .contains("X-GitHub-Event"));

    let oversized = vec![b' '; MAX_BODY_BYTES + 1];
    assert_eq!(
        h.post_signed("workflow_job", &oversized).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let malformed = h
        .post_signed("workflow_job", b"{\"action\": \"queued\",")
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);

    let ping = h.post_signed("ping", &load("ping.json")).await;
    assert_eq!(ping.status, StatusCode::OK);

    let unmatched = h
        .post_signed("workflow_job", &queued(&["self-hosted", "gpu"]))
        .await;
    assert_eq!(unmatched.status, StatusCode::ACCEPTED);
    assert!(unmatched.body["message"]
        .as_str()
        .expect("message")
        .contains("no class"));

    let hosted = h
        .post_signed(
            "workflow_job",
            &WorkflowJobEvent::queued().repository(REPO).to_bytes(),
        )
        .await;
    assert_eq!(
        hosted.status,
        StatusCode::ACCEPTED,
        "ubuntu-latest is GitHub-hosted"
    );

    let waiting = h
        .post_signed("workflow_job", &load("workflow_job.waiting.json"))
        .await;
    assert_eq!(waiting.status, StatusCode::ACCEPTED);

    let other_event = h.post_signed("push", b"{}").await;
    assert_eq!(other_event.status, StatusCode::ACCEPTED);

    assert!(
        h.drain().await.is_empty(),
        "nothing may be queued by a refused delivery"
    );
}

#[tokio::test]
async fn unreachable_queue_answers_503_within_the_budget() {
    let moto = Moto::start();
    let mut h = Harness::new(&moto, "jobs").await;
    // A queue on a port nothing listens on: every send is a dispatch failure, retried, then 503.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{closed}"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "t", "t", None, None, "test",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let queue = SqsJobQueue::new(
        aws_sdk_sqs::Client::new(&aws),
        format!("http://{closed}/000000000000/jobs"),
    );
    h.webhook = Webhook::new(WebhookSecrets::new([SECRET]).expect("valid"), queue)
        .with_send_budget(Duration::from_millis(800));
    let reply = h
        .post_signed("workflow_job", &queued(&["self-hosted", "large"]))
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
}

#[tokio::test]
async fn health_and_unknown_routes() {
    let moto = Moto::start();
    let h = Harness::new(&moto, "jobs").await;
    let health = h
        .webhook
        .serve_http(
            Ok(&h.config),
            &Method::GET,
            "/healthz",
            &HeaderMap::new(),
            b"",
        )
        .await;
    assert_eq!(health.status, StatusCode::OK);
    let get_hook = h
        .webhook
        .serve_http(
            Ok(&h.config),
            &Method::GET,
            WEBHOOK_PATH,
            &HeaderMap::new(),
            b"",
        )
        .await;
    assert_eq!(get_hook.status, StatusCode::METHOD_NOT_ALLOWED);
    let unknown = h
        .webhook
        .serve_http(
            Ok(&h.config),
            &Method::POST,
            "/nope",
            &HeaderMap::new(),
            b"",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn secrets_come_from_ssm_secure_strings_with_rotation() {
    use rc_aws::ssm::Parameters;
    use rc_webhook::{secrets_from_lookup, SetupError};

    let moto = Moto::start();
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    for (name, value) in [
        ("/rc/webhook/current", SECRET),
        ("/rc/webhook/previous", OLD_SECRET),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .expect("PutParameter");
    }
    let parameters = Parameters::new(ssm);
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };

    let secrets = secrets_from_lookup(
        env(&[(
            "RC_WEBHOOK_SECRET_PARAM",
            "/rc/webhook/current, /rc/webhook/previous",
        )]),
        &parameters,
    )
    .await
    .expect("both parameters are readable");
    let body = b"{}";
    assert!(secrets
        .verify(body, Some(&signed(body, OLD_SECRET)))
        .is_ok());
    assert!(secrets.verify(body, Some(&signed(body, SECRET))).is_ok());

    let local = secrets_from_lookup(env(&[("RC_WEBHOOK_SECRET", "local")]), &parameters)
        .await
        .expect("from the environment");
    assert!(local.verify(body, Some(&signed(body, "local"))).is_ok());

    let missing = secrets_from_lookup(
        env(&[("RC_WEBHOOK_SECRET_PARAM", "/rc/webhook/absent")]),
        &parameters,
    )
    .await;
    assert!(
        matches!(missing, Err(SetupError::Parameter(_))),
        "{missing:?}"
    );
    assert!(matches!(
        secrets_from_lookup(env(&[]), &parameters).await,
        Err(SetupError::NoSecret)
    ));
}

/// A Lambda Function URL event as AWS sends it: base64 body, lower-case headers, payload 2.0.
fn function_url_event(body: &[u8], signature: &str) -> String {
    use base64::Engine;
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/github/webhook",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "x-github-event": "workflow_job",
            "x-github-delivery": "0b989ba4-242f-11e5-81e1-c7b6966d2516",
            "x-hub-signature-256": signature,
            "host": "abcdefg.lambda-url.us-east-1.on.aws"
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefg",
            "domainName": "abcdefg.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefg",
            "http": {
                "method": "POST",
                "path": "/github/webhook",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.30.252.1",
                "userAgent": "GitHub-Hookshot/abc"
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1795132800000_u64
        },
        "body": base64::engine::general_purpose::STANDARD.encode(body),
        "isBase64Encoded": true
    })
    .to_string()
}

#[tokio::test]
async fn function_url_events_with_base64_bodies_are_verified_over_the_raw_bytes() {
    let moto = Moto::start();
    let h = Harness::new(&moto, "jobs").await;
    let body = queued(&["self-hosted", "linux", "small"]);
    let request =
        lambda_http::request::from_str(&function_url_event(&body, &signed(&body, SECRET)))
            .expect("a Function URL event");
    let response = h.webhook.serve_lambda(Ok(&h.config), &request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        h.drain().await[0].job().expect("a job message").class,
        "small-amd64"
    );

    let tampered =
        lambda_http::request::from_str(&function_url_event(&body, &signed(b"other", SECRET)))
            .expect("a Function URL event");
    assert_eq!(
        h.webhook
            .serve_lambda(Ok(&h.config), &tampered)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(h.drain().await.is_empty());
}

/// Answers 202 whose message says why, and leaves nothing on the queue.
async fn assert_refused(h: &Harness, body: &[u8], why: &str) {
    let reply = h.post_signed("workflow_job", body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{reply:?}");
    let message = reply.body["message"].as_str().expect("message");
    assert!(message.contains(why), "{message:?} should say {why:?}");
    assert!(
        reply.body.to_string().len() < 4096,
        "{} bytes",
        reply.body.to_string().len()
    );
    assert!(h.drain().await.is_empty(), "{why}: nothing may be queued");
}

#[tokio::test]
async fn deliveries_from_outside_the_scope_queue_nothing() {
    use rc_config::GithubScope;

    let moto = Moto::start();
    let mut h = Harness::new(&moto, "jobs").await;
    let labels = ["self-hosted", "large"];
    let from = |repo: &str| WorkflowJobEvent::queued().repository(repo).labels(&labels);

    // Organization scope `dena`: another owner is refused, any case of ours is taken.
    assert_refused(
        &h,
        &from("evil/platform").to_bytes(),
        "owner `evil` is not `dena`",
    )
    .await;
    let reply = h
        .post_signed("workflow_job", &from("DeNA/platform").to_bytes())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(h.drain().await.len(), 1);

    // Repository scope: another repository of the same owner is refused.
    h.config.github.scope = GithubScope::Repo("dena/platform".into());
    assert_refused(
        &h,
        &from("dena/other").to_bytes(),
        "repository `dena/other`",
    )
    .await;

    // Enterprise scope, with the enterprise a real organization delivery carries.
    let enterprise =
        || WorkflowJobEvent::from_fixture("workflow_job.queued.large.json").labels(&labels);
    h.config.github.scope = GithubScope::Enterprise("other-business".into());
    assert_refused(&h, &enterprise().to_bytes(), "enterprise `octo-business`").await;
    assert_refused(
        &h,
        &from("dena/platform").to_bytes(),
        "belongs to no enterprise",
    )
    .await;
    h.config.github.scope = GithubScope::Enterprise("octo-business".into());
    let reply = h
        .post_signed("workflow_job", &enterprise().to_bytes())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(h.drain().await.len(), 1);

    // A known installation: another installation's delivery is refused, ours is taken.
    h.config.github.scope = GithubScope::Org("dena".into());
    let queue = SqsJobQueue::new(h.sqs.clone(), &h.queue_url);
    h.webhook = Webhook::new(WebhookSecrets::new([SECRET]).expect("valid"), queue)
        .with_installation(Some(42));
    let installed = |id: u64| from(REPO).set("/installation/id", id).to_bytes();
    assert_refused(&h, &installed(3456996), "installation 3456996 is not 42").await;
    let reply = h.post_signed("workflow_job", &installed(42)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(h.drain().await.len(), 1);
}

#[tokio::test]
async fn absurd_payloads_get_short_answers_and_queue_nothing() {
    let moto = Moto::start();
    let h = Harness::new(&moto, "jobs").await;
    let many: Vec<String> = std::iter::once("self-hosted".to_string())
        .chain((0..5_000).map(|i| format!("label-{i}")))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_refused(&h, &queued(&many), "5001 labels").await;

    let huge = "x".repeat(1 << 20);
    assert_refused(&h, &queued(&["self-hosted", &huge]), "longer than 256").await;

    let long_repo = format!("dena/{}", "r".repeat(100 * 1024));
    let body = WorkflowJobEvent::queued()
        .repository(&long_repo)
        .labels(&["self-hosted", "large"])
        .to_bytes();
    assert_refused(&h, &body, "longer than 256").await;

    // serde echoes a mistyped string whole in its error; the reply must not.
    let body = WorkflowJobEvent::queued()
        .repository(REPO)
        .set("/workflow_job/id", huge.as_str())
        .to_bytes();
    let reply = h.post_signed("workflow_job", &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.to_string().len() < 4096);
    assert!(h.drain().await.is_empty());
}

#[tokio::test]
async fn without_a_valid_config_signed_deliveries_get_503_and_queue_nothing() {
    use rc_aws::config_source::{ConfigCell, ConfigSource};

    let moto = Moto::start();
    let h = Harness::new(&moto, "jobs").await;
    let path = std::env::temp_dir().join(format!("rc-webhook-bad-{}.yaml", std::process::id()));
    std::fs::write(&path, "github: {scope: team, name: a}\nclasses: []\n").expect("write");
    let config = ConfigCell::new(ConfigSource::File(path.clone()));
    let current = config.current(Duration::ZERO).await;
    assert!(current.is_err(), "the config is invalid");

    let body = queued(&["self-hosted", "large"]);
    let mut headers = HeaderMap::new();
    headers.insert("x-github-event", HeaderValue::from_static("workflow_job"));
    headers.insert("x-github-delivery", HeaderValue::from_static("d"));
    let unsigned = h
        .webhook
        .serve_http(
            current.as_deref(),
            &Method::POST,
            WEBHOOK_PATH,
            &headers,
            &body,
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    headers.insert(
        "x-hub-signature-256",
        HeaderValue::from_str(&signed(&body, SECRET)).expect("header"),
    );
    let reply = h
        .webhook
        .serve_http(
            current.as_deref(),
            &Method::POST,
            WEBHOOK_PATH,
            &headers,
            &body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
    assert!(reply.body.to_string().len() < 4096);
    assert!(h.drain().await.is_empty());
    std::fs::remove_file(&path).expect("remove");
}

#[tokio::test]
async fn an_accepted_benchmark_request_wakes_the_manager_pool_on_the_jobs_queue() {
    let moto = Moto::start();
    let mut h = Harness::new(&moto, "jobs").await;
    let aws = moto.sdk_config().await;
    let dynamodb = rc_testkit::dynamodb::pk_table(&aws, "bench").await;
    let bench_queue_url = h
        .sqs
        .create_queue()
        .queue_name("bench.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("url");
    let ports = rc_webhook::bench::BenchPorts::new(
        rc_aws::DynamoBenchStore::new(dynamodb, "bench"),
        rc_aws::SqsBenchQueue::new(h.sqs.clone(), &bench_queue_url),
        None,
    );
    let secrets = WebhookSecrets::new([SECRET]).expect("valid secrets");
    h.webhook = Webhook::new(secrets, SqsJobQueue::new(h.sqs.clone(), &h.queue_url))
        .with_bench(Some(ports));
    h.config = rc_config::parse(include_str!("../../config/examples/contest.yaml"))
        .expect("example is valid");
    // The example's contest day is a fixed date; the intake reads the wall clock.
    h.config.benchmarks.as_mut().expect("a contest").window = None;

    let request = |token: &'static str| {
        let mut headers = HeaderMap::new();
        let bearer = format!("Bearer {token}");
        headers.insert(
            "authorization",
            HeaderValue::from_str(&bearer).expect("header"),
        );
        headers
    };
    let post = |headers: HeaderMap| {
        let h = &h;
        async move {
            h.webhook
                .serve_request(
                    Ok(&h.config),
                    &Method::POST,
                    "/benchmarks",
                    None,
                    &headers,
                    b"",
                    None,
                )
                .await
        }
    };
    // team-01's token is `test` (its digest is in the example).
    let accepted = post(request("test")).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{accepted:?}");
    let refused = post(request("test")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");

    let messages = h.drain().await;
    let id = accepted.body["id"].as_str().expect("a job id");
    assert_eq!(
        messages,
        [JobMessage::BenchWake {
            job: rc_core::bench::BenchJobId::parse(id).expect("our id"),
        }],
        "one wake-up for the accepted request, none for the refused one"
    );
}
