//! The webhook: verify a GitHub delivery, route its job, and queue it for the manager.
//!
//! One handler serves both the Lambda (Function URL / API Gateway v2, see `main.rs`) and
//! `runner-controller serve`. It decides nothing beyond routing: the manager decides whether a
//! runner is needed, from observed state, so a lost or duplicated delivery is repaired there.
//!
//! Answers (rule 6 of the architecture): bad or missing signature 401, missing event or delivery
//! header 400, body over 25 MiB 413, malformed JSON 400, `ping` 200, a routed `queued` job 200
//! with one message queued, `in_progress`/`completed` 200 with a lifecycle message, anything else
//! (another event or action, a job outside `github.scope`, labels that route nowhere or that no
//! runner could carry) 202 with the reason and nothing queued; a queue that keeps failing 503 so
//! GitHub records a failed delivery that the tick's redelivery sweep retries, and so does a
//! signed delivery while no valid config has loaded yet.
//!
//! The benchmark routes (`/benchmarks...`, contest ops) are answered by [`bench`] over the
//! `rc-bench` intake when `benchmarks` is configured; see that module.
//!
//! Every answer is bounded: messages are cut to [`MAX_MESSAGE_CHARS`] and reasons echo outside
//! text only through [`rc_core::bounded`], so a signed payload with 5,000 labels or a 1 MB label
//! gets a reply under 4 KB and log lines of the same size.

use std::time::Duration;

pub mod bench;

use http::{HeaderMap, Method, StatusCode};
use rc_aws::config_source::NoConfig;
use rc_aws::{AwsError, JobQueue};
use rc_config::Config;
use rc_core::bounded::{abbreviate, ECHO_CHARS};
use rc_core::message::JobMessage;
use rc_core::routing::{route, Route};
use rc_core::scope::check_scope;
use rc_github::auth::INSTALLATION_ID_VAR;
use rc_github::signature::WebhookSecrets;
use rc_github::webhook::{JobAction, WorkflowJobEvent};
use serde_json::json;
use tokio::time::Instant;

/// GitHub caps webhook payloads at 25 MB ("Webhook events and payloads", GitHub Docs).
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// GitHub gives up on a delivery after 10 s; we answer within 8 s so a slow queue turns into
/// our 503 (a recorded failed delivery) rather than GitHub's timeout.
pub const DEFAULT_SEND_BUDGET: Duration = Duration::from_secs(7);

/// Longest reply message, in characters. Even escaped as `\u0000` (6 bytes a character) it
/// keeps a reply under 4 KB.
pub const MAX_MESSAGE_CHARS: usize = 512;

/// Largest message SQS takes: 256 KiB ("Amazon SQS message quotas", SQS Developer Guide).
pub const SQS_MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Longest `X-GitHub-Delivery` accepted, in bytes; GitHub's are 36-character GUIDs.
const MAX_DELIVERY_BYTES: usize = 128;

/// Path GitHub posts deliveries to.
pub const WEBHOOK_PATH: &str = "/github/webhook";
/// Liveness path.
pub const HEALTH_PATH: &str = "/healthz";

/// An HTTP answer: status and a small JSON body (or, for the benchmark board, an HTML page).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body, `{"ok": bool, "message": ...}` plus details.
    pub body: serde_json::Value,
    /// An HTML page sent instead of `body`, when set.
    pub html: Option<String>,
}

impl Reply {
    /// The content type and the bytes to send.
    pub fn into_parts(self) -> (StatusCode, &'static str, String) {
        match self.html {
            Some(page) => (self.status, "text/html; charset=utf-8", page),
            None => (self.status, "application/json", self.body.to_string()),
        }
    }

    fn new(status: StatusCode, message: impl AsRef<str>) -> Self {
        Reply {
            status,
            body: json!({
                "ok": status.is_success(),
                "message": abbreviate(message.as_ref(), MAX_MESSAGE_CHARS),
            }),
            html: None,
        }
    }

    /// The 413 answer, also used by `serve` before it reads an oversized body.
    pub fn too_large() -> Self {
        Reply::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body exceeds {MAX_BODY_BYTES} bytes"),
        )
    }
}

/// Everything the webhook needs, built once per cold start.
pub struct Webhook<Q> {
    secrets: WebhookSecrets,
    installation: Option<u64>,
    queue: Q,
    send_budget: Duration,
    bench: Option<bench::BenchPorts>,
}

impl<Q: JobQueue> Webhook<Q> {
    /// A webhook that verifies with `secrets` and sends to `queue`.
    pub fn new(secrets: WebhookSecrets, queue: Q) -> Self {
        Webhook {
            secrets,
            installation: None,
            queue,
            send_budget: DEFAULT_SEND_BUDGET,
            bench: None,
        }
    }

    /// Serves the benchmark routes over these ports (without them, the routes answer 503
    /// while `benchmarks` is configured).
    pub fn with_bench(mut self, ports: Option<bench::BenchPorts>) -> Self {
        self.bench = ports;
        self
    }

    /// Refuses deliveries of any other GitHub App installation than `installation` (`None`:
    /// judge by `github.scope` alone).
    pub fn with_installation(mut self, installation: Option<u64>) -> Self {
        self.installation = installation;
        self
    }

    /// Overrides how long sending may be retried before answering 503.
    pub fn with_send_budget(mut self, budget: Duration) -> Self {
        self.send_budget = budget;
        self
    }

    /// Answers one HTTP request by method and path; `config` is the config in force, or why
    /// there is none yet.
    pub async fn serve_http(
        &self,
        config: Result<&Config, &NoConfig>,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Reply {
        self.serve_request(config, method, path, None, headers, body, None)
            .await
    }

    /// As [`Webhook::serve_http`], with the URL query and the caller's address (the socket
    /// peer, or the Function URL's source IP) that the benchmark routes read.
    #[allow(clippy::too_many_arguments)]
    pub async fn serve_request(
        &self,
        config: Result<&Config, &NoConfig>,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
        peer: Option<std::net::IpAddr>,
    ) -> Reply {
        if let Some(reply) = bench::answer(
            self.bench.as_ref(),
            &rc_aws::JobsQueueWaker(&self.queue),
            config,
            method,
            path,
            query,
            headers,
            peer,
        )
        .await
        {
            return reply;
        }
        match (path, method) {
            (HEALTH_PATH, &Method::GET) => Reply::new(StatusCode::OK, "ok"),
            (WEBHOOK_PATH, &Method::POST) => match config {
                Ok(config) => self.handle_delivery(config, headers, body).await,
                // Unsigned requests learn nothing about our state.
                Err(_) if body.len() > MAX_BODY_BYTES => Reply::too_large(),
                Err(e) => match self
                    .secrets
                    .verify(body, header(headers, "x-hub-signature-256"))
                {
                    Err(e) => Reply::new(StatusCode::UNAUTHORIZED, e.to_string()),
                    Ok(()) => {
                        tracing::warn!(error = %e, "delivery refused: no config");
                        Reply::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
                    }
                },
            },
            (HEALTH_PATH | WEBHOOK_PATH, _) => Reply::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed on {path}"),
            ),
            _ => Reply::new(StatusCode::NOT_FOUND, format!("no route for {path}")),
        }
    }

    /// Answers one Lambda invocation (Function URL or API Gateway v2). `lambda_http` has already
    /// decoded a base64 body to the raw bytes GitHub signed.
    pub async fn serve_lambda(
        &self,
        config: Result<&Config, &NoConfig>,
        request: &lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        use lambda_http::RequestExt;
        let source = match request.request_context_ref() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => context
                .http
                .source_ip
                .as_deref()
                .and_then(|ip| ip.parse().ok()),
            _ => None,
        };
        let reply = self
            .serve_request(
                config,
                request.method(),
                request.uri().path(),
                request.uri().query(),
                request.headers(),
                request.body().as_ref(),
                source,
            )
            .await;
        let (status, content_type, body) = reply.into_parts();
        lambda_http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(lambda_http::Body::Text(body))
            .expect("status and header are valid")
    }

    /// Verifies, routes and queues one GitHub delivery.
    pub async fn handle_delivery(
        &self,
        config: &Config,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Reply {
        let started = Instant::now();
        let (message, class) = match intake(&self.secrets, self.installation, config, headers, body)
        {
            Intake::Answer(reply) => return reply,
            Intake::Enqueue { message, class } => (message, class),
        };
        let job = message
            .job()
            .expect("a delivery is queued as a job message");
        match self
            .send_with_retry(&message, started + self.send_budget)
            .await
        {
            Ok(()) => {
                tracing::info!(job_id = job.job_id, delivery = %job.delivery_id, class = %class, "queued");
                let mut reply = Reply::new(StatusCode::OK, format!("queued for class {class}"));
                reply.body["class"] = json!(class);
                reply.body["job_id"] = json!(job.job_id);
                reply
            }
            Err(e) => {
                tracing::error!(job_id = job.job_id, delivery = %job.delivery_id, error = %e, "queue unavailable");
                Reply::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("queue unavailable: {e}"),
                )
            }
        }
    }

    /// Sends, retrying retryable failures with exponential backoff until `deadline`.
    async fn send_with_retry(
        &self,
        message: &JobMessage,
        deadline: Instant,
    ) -> Result<(), AwsError> {
        let mut backoff = Duration::from_millis(100);
        loop {
            let attempt =
                tokio::time::timeout_at(deadline, self.queue.send(message, Duration::ZERO)).await;
            let err = match attempt {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) if !e.is_retryable() => return Err(e),
                Ok(Err(e)) => e,
                Err(_) => AwsError::Transient {
                    operation: "sqs:SendMessage",
                    detail: "send budget exhausted".into(),
                },
            };
            if Instant::now() + backoff >= deadline {
                return Err(err);
            }
            tracing::warn!(error = %err, ?backoff, "retrying queue send");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}

/// What to do with a delivery, decided without I/O: answer now, or queue a message first.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    /// Answer with this and queue nothing.
    Answer(Reply),
    /// Queue this message for the manager, then answer.
    Enqueue {
        /// The message.
        message: JobMessage,
        /// The class its labels routed to.
        class: String,
    },
}

/// Verifies, parses, scopes and routes a delivery: the webhook's hot path, kept free of I/O so
/// it can be benchmarked, fuzzed and tested alone. `installation` is the deployment's GitHub App
/// installation, when known.
pub fn intake(
    secrets: &WebhookSecrets,
    installation: Option<u64>,
    config: &Config,
    headers: &HeaderMap,
    body: &[u8],
) -> Intake {
    let answer = |status, message: String| Intake::Answer(Reply::new(status, message));
    let too_long = |name: &str| {
        answer(
            StatusCode::BAD_REQUEST,
            format!("{name} is longer than {MAX_DELIVERY_BYTES} bytes"),
        )
    };
    if body.len() > MAX_BODY_BYTES {
        return Intake::Answer(Reply::too_large());
    }
    if let Err(e) = secrets.verify(body, header(headers, "x-hub-signature-256")) {
        return answer(StatusCode::UNAUTHORIZED, e.to_string());
    }
    let Some(event) = header(headers, "x-github-event") else {
        return answer(
            StatusCode::BAD_REQUEST,
            "missing X-GitHub-Event header".into(),
        );
    };
    let Some(delivery) = header(headers, "x-github-delivery") else {
        return answer(
            StatusCode::BAD_REQUEST,
            "missing X-GitHub-Delivery header".into(),
        );
    };
    if delivery.len() > MAX_DELIVERY_BYTES {
        return too_long("X-GitHub-Delivery");
    }
    // Parsed once, straight into the types we use: no intermediate JSON tree on the hot path.
    let event = match event {
        "workflow_job" => match serde_json::from_slice::<WorkflowJobEvent>(body) {
            Ok(event) => event,
            Err(e) if e.is_data() => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    format!("malformed workflow_job payload: {e}"),
                )
            }
            Err(e) => return answer(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")),
        },
        other => {
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                return answer(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}"));
            }
            return match other {
                "ping" => answer(StatusCode::OK, "pong".into()),
                _ => answer(
                    StatusCode::ACCEPTED,
                    format!("event `{other}` is not handled"),
                ),
            };
        }
    };
    let job = &event.workflow_job;
    let action = event.job_action();
    if action == JobAction::Ignored {
        return answer(
            StatusCode::ACCEPTED,
            format!(
                "workflow_job action `{}` is not handled",
                abbreviate(&event.action, ECHO_CHARS)
            ),
        );
    }
    if let Err(reason) = check_scope(&config.github.scope, installation, &event.origin()) {
        tracing::info!(job_id = job.id, delivery, %reason, "job outside the scope");
        return answer(
            StatusCode::ACCEPTED,
            format!("not queued: outside github.scope: {reason}"),
        );
    }
    let class = match route(config, &job.labels) {
        Route::Matched { class, .. } => &class.name,
        Route::Unmatched { reason, .. } => {
            tracing::info!(job_id = job.id, delivery, %reason, "job routes to no class");
            return answer(StatusCode::ACCEPTED, format!("not queued: {reason}"));
        }
    };
    let job_ref = event.job_ref(delivery, class);
    let message = match action {
        JobAction::Queued => JobMessage::Queued {
            job: job_ref,
            attempt: 0,
        },
        JobAction::Lifecycle(status) => JobMessage::Lifecycle {
            job: job_ref,
            status,
            runner_name: job.runner_name.clone(),
            started_at: job.started_at,
        },
        JobAction::Ignored => unreachable!("ignored actions returned above"),
    };
    // Every field is bounded by now but `runner_name`; this keeps any message SQS would refuse
    // from turning into a retried 503.
    let size = message.to_json().len();
    if size > SQS_MAX_MESSAGE_BYTES {
        tracing::info!(job_id = job.id, delivery, size, "job message too large");
        return answer(
            StatusCode::ACCEPTED,
            format!("not queued: the job message would be {size} bytes, over SQS's {SQS_MAX_MESSAGE_BYTES}"),
        );
    }
    Intake::Enqueue {
        message,
        class: class.clone(),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// Why the webhook could not be set up from the environment.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Neither secret variable is set.
    #[error(
        "set RC_WEBHOOK_SECRET, or RC_WEBHOOK_SECRET_PARAM naming SSM SecureString parameter(s)"
    )]
    NoSecret,
    /// The secrets are unusable.
    #[error("webhook secret: {0}")]
    Secrets(#[from] rc_github::signature::SecretsError),
    /// A secret parameter could not be read.
    #[error("reading webhook secret parameter: {0}")]
    Parameter(#[from] AwsError),
    /// `RC_GITHUB_INSTALLATION_ID` is set but not an installation id.
    #[error("{INSTALLATION_ID_VAR} must be a positive integer")]
    Installation,
}

/// The deployment's GitHub App installation from `RC_GITHUB_INSTALLATION_ID`, the variable the
/// manager acts as: deliveries of other installations are out of scope. Unset: none known.
///
/// # Errors
///
/// [`SetupError::Installation`] when the variable is set but not a positive integer.
pub fn installation_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<u64>, SetupError> {
    match lookup(INSTALLATION_ID_VAR).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(id) => match id.trim().parse::<u64>() {
            Ok(id) if id > 0 => Ok(Some(id)),
            _ => Err(SetupError::Installation),
        },
    }
}

/// The webhook secrets named by the environment: `RC_WEBHOOK_SECRET` (one secret, or two
/// separated by a comma during rotation) for local runs, else `RC_WEBHOOK_SECRET_PARAM` (one or
/// two comma-separated SSM SecureString names), read once per cold start.
///
/// # Errors
///
/// [`SetupError`] naming what is missing or unreadable.
pub async fn secrets_from_env(
    parameters: &rc_aws::ssm::Parameters,
) -> Result<WebhookSecrets, SetupError> {
    secrets_from_lookup(|name| std::env::var(name).ok(), parameters).await
}

/// As [`secrets_from_env`], reading variables through `lookup`.
///
/// # Errors
///
/// [`SetupError`] naming what is missing or unreadable.
pub async fn secrets_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
    parameters: &rc_aws::ssm::Parameters,
) -> Result<WebhookSecrets, SetupError> {
    let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
    if let Some(list) = var("RC_WEBHOOK_SECRET") {
        return Ok(WebhookSecrets::from_comma_list(&list)?);
    }
    let names = var("RC_WEBHOOK_SECRET_PARAM").ok_or(SetupError::NoSecret)?;
    let mut secrets = Vec::new();
    for name in names.split(',').map(str::trim) {
        secrets.push(parameters.get_secure(name).await?);
    }
    Ok(WebhookSecrets::new(secrets)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_installation_comes_from_the_managers_variable() {
        let with = |value: &'static str| {
            installation_from_lookup(move |name| {
                (name == INSTALLATION_ID_VAR).then(|| value.to_string())
            })
        };
        assert_eq!(with("42").expect("an id"), Some(42));
        assert_eq!(with("").expect("empty is unset"), None);
        assert!(matches!(with("0"), Err(SetupError::Installation)));
        assert!(matches!(with("acme"), Err(SetupError::Installation)));
        assert_eq!(installation_from_lookup(|_| None).expect("unset"), None);
    }
}
