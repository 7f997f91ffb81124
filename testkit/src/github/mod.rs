//! A fake of the slice of the GitHub REST API the controller calls, as a stateful HTTP server.
//!
//! [`FakeGithub::start`] serves on a free loopback port from its own thread and runtime, so it
//! works from any test (sync or async, any runtime flavour) and stops when the last clone of the
//! handle is dropped. Point the code under test at [`FakeGithub::url`] (the `github.api_url`
//! setting). The test arranges and inspects state through plain methods on the handle, and can
//! count the calls the code made.
//!
//! Served, with the scope prefix `P` = `orgs/{org}` | `repos/{owner}/{repo}` |
//! `enterprises/{enterprise}`:
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /P/actions/runners/generate-jitconfig` | 201 `{runner, encoded_jit_config}`; 409 name taken; 422 bad body; 404 unknown group |
//! | `GET /P/actions/runners[?name=&per_page=&page=]` | `{total_count, runners}`, `Link` pagination |
//! | `GET` / `DELETE /P/actions/runners/{id}` | the runner / 204; 422 if busy; 404 if unknown |
//! | `GET /orgs/{org}/actions/runner-groups` (and enterprises) | `{total_count, runner_groups}`, group 1 is `Default` |
//! | `GET /repos/{o}/{r}/actions/jobs/{id}` | a workflow job |
//! | `GET /repos/{o}/{r}/actions/runs[?status=]` | `{total_count, workflow_runs}`, runs derived from jobs |
//! | `GET /repos/{o}/{r}/actions/runs/{run_id}/jobs` | `{total_count, jobs}` |
//! | `GET /app/hook/deliveries[?per_page=&cursor=&status=]` | deliveries, newest first, `Link` cursor pagination |
//! | `POST /app/hook/deliveries/{id}/attempts` | 202, and a new delivery with `redelivery: true` |
//! | the same two under `/orgs/{org}/hooks/{hook_id}/deliveries` | as above, one shared delivery list |
//! | `GET /orgs/{org}/installation`, `GET /repos/{o}/{r}/installation` | installation [`INSTALLATION_ID`] |
//! | `POST /app/installations/{id}/access_tokens` | 201 `{token, expires_at, permissions}` |
//!
//! As on GitHub, every request needs an `Authorization` header (401 without), and the `/app/...`
//! and `.../installation` routes need a JWT (`Bearer a.b.c`; any signature is accepted). Every
//! answer carries `x-ratelimit-*` headers; after [`FakeGithub::set_rate_limit`] calls (5000 by
//! default) requests answer 403 "API rate limit exceeded". Responses parse as octocrab 0.54's
//! models (`SelfHostedRunner`, `SelfHostedRunnerJitConfig`, `workflows::Job`, `workflows::Run`,
//! `hooks::Delivery`, `Installation`, `InstallationToken`).
//!
//! Simplifications: one runner pool serves every scope (a test uses one scope), and nothing is
//! ever delivered to a webhook.

mod routes;

use std::collections::{BTreeMap, HashMap};
use std::future::IntoFuture;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{Query, Request, State as AxumState};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, LINK};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::oneshot;

/// The installation id every `.../installation` route answers and access tokens are issued for.
pub const INSTALLATION_ID: u64 = 1;

/// The id of the `Default` runner group, which always exists.
pub const DEFAULT_RUNNER_GROUP_ID: u64 = 1;

/// GitHub's primary rate limit for an installation: 5000 requests per hour ("Rate limits for the
/// REST API", GitHub docs).
const DEFAULT_RATE_LIMIT: u64 = 5000;

/// A self-hosted runner as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runner {
    /// The runner id GitHub assigned.
    pub id: u64,
    /// The unique runner name.
    pub name: String,
    /// Its labels, in registration order.
    pub labels: Vec<String>,
    /// Connected to GitHub (`status: "online"`); a new runner starts offline.
    pub online: bool,
    /// Running a job; GitHub refuses to delete a busy runner.
    pub busy: bool,
    /// The runner group it belongs to.
    pub runner_group_id: u64,
    /// The JIT config handed out when the runner was created through generate-jitconfig.
    pub encoded_jit_config: Option<String>,
}

/// A workflow job's status, as GitHub reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting for a runner.
    Queued,
    /// Running on a runner.
    InProgress,
    /// Finished.
    Completed,
}

impl JobStatus {
    fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::InProgress => "in_progress",
            JobStatus::Completed => "completed",
        }
    }
}

/// A workflow job as the fake holds it; change one with [`FakeGithub::update_job`].
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job id (`workflow_job.id` in webhooks).
    pub id: u64,
    /// The workflow run it belongs to.
    pub run_id: u64,
    /// `owner/name` of its repository.
    pub repository: String,
    /// The job's name.
    pub name: String,
    /// Its status.
    pub status: JobStatus,
    /// `success`, `failure`, `cancelled`...; set once completed.
    pub conclusion: Option<String>,
    /// The job's `runs-on` labels.
    pub labels: Vec<String>,
    /// The runner that took it, once in progress.
    pub runner_name: Option<String>,
    /// That runner's id.
    pub runner_id: Option<u64>,
    /// When the job was queued.
    pub created_at: DateTime<Utc>,
    /// When a runner started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub completed_at: Option<DateTime<Utc>>,
}

/// One webhook delivery attempt in the app's (or an org hook's) delivery log.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Delivery id; the list is ordered by it, newest (highest) first.
    pub id: u64,
    /// The `X-GitHub-Delivery` GUID, shared by a delivery and its redeliveries.
    pub guid: String,
    /// When GitHub sent it.
    pub delivered_at: DateTime<Utc>,
    /// Whether this attempt was a redelivery.
    pub redelivery: bool,
    /// The HTTP status the receiver answered; 2xx counts as success.
    pub status_code: u16,
    /// The event name, e.g. `workflow_job`.
    pub event: String,
    /// The payload's `action`, e.g. `queued`.
    pub action: Option<String>,
    /// The installation the event belongs to.
    pub installation_id: Option<u64>,
    /// The repository the event belongs to.
    pub repository_id: Option<u64>,
}

impl Delivery {
    /// A first delivery of `event` delivered now, answered with `status_code`; chain the setters
    /// to change the rest.
    pub fn new(id: u64, event: &str, status_code: u16) -> Self {
        Delivery {
            id,
            guid: format!("00000000-0000-4000-8000-{id:012x}"),
            delivered_at: Utc::now(),
            redelivery: false,
            status_code,
            event: event.to_owned(),
            action: None,
            installation_id: Some(INSTALLATION_ID),
            repository_id: None,
        }
    }

    /// Sets the payload's action.
    pub fn action(mut self, action: &str) -> Self {
        self.action = Some(action.to_owned());
        self
    }

    /// Sets when it was delivered.
    pub fn delivered_at(mut self, at: DateTime<Utc>) -> Self {
        self.delivered_at = at;
        self
    }

    /// Sets the GUID (to model a redelivery of an earlier delivery).
    pub fn guid(mut self, guid: &str) -> Self {
        self.guid = guid.to_owned();
        self
    }
}

/// One request the fake received, with the status it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `GET`, `POST`...
    pub method: String,
    /// The path without the query, e.g. `/orgs/acme/actions/runners`.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The `Authorization` header, to check which credential was used.
    pub authorization: Option<String>,
    /// The request body, when it was JSON.
    pub body: Option<Value>,
    /// The status the fake answered.
    pub status: u16,
}

impl Call {
    /// Whether this call matches `prefix`: a prefix starting with `/` is matched against the
    /// path, anything else against `"METHOD /path"` (e.g. `"DELETE /orgs/acme/actions/runners/"`).
    pub fn matches(&self, prefix: &str) -> bool {
        if prefix.starts_with('/') {
            self.path.starts_with(prefix)
        } else {
            format!("{} {}", self.method, self.path).starts_with(prefix)
        }
    }
}

/// An injected failure: the next `remaining` calls matching `prefix` answer `status`.
#[derive(Debug)]
struct Failure {
    prefix: String,
    remaining: usize,
    status: StatusCode,
}

/// Everything the fake knows; the routes read and change it under one lock.
#[derive(Debug)]
struct State {
    url: String,
    runners: BTreeMap<u64, Runner>,
    next_runner_id: u64,
    runner_groups: BTreeMap<u64, String>,
    label_ids: HashMap<String, u64>,
    jobs: BTreeMap<u64, Job>,
    deliveries: BTreeMap<u64, Delivery>,
    redelivery_requests: Vec<u64>,
    tokens_issued: u64,
    calls: Vec<Call>,
    failures: Vec<Failure>,
    rate_limit: u64,
    rate_limit_reset: DateTime<Utc>,
}

impl State {
    fn new(url: String) -> Self {
        State {
            url,
            runners: BTreeMap::new(),
            // Far from job and delivery ids, so a test mixing them up fails.
            next_runner_id: 1001,
            runner_groups: BTreeMap::from([(DEFAULT_RUNNER_GROUP_ID, "Default".to_owned())]),
            label_ids: HashMap::new(),
            jobs: BTreeMap::new(),
            deliveries: BTreeMap::new(),
            redelivery_requests: Vec::new(),
            tokens_issued: 0,
            calls: Vec::new(),
            failures: Vec::new(),
            rate_limit: DEFAULT_RATE_LIMIT,
            rate_limit_reset: Utc::now() + chrono::Duration::hours(1),
        }
    }

    /// Registers an offline, idle runner; returns its id.
    fn add_runner(&mut self, name: &str, labels: Vec<String>, runner_group_id: u64) -> u64 {
        for label in &labels {
            let next = self.label_ids.len() as u64 + 1;
            self.label_ids.entry(label.clone()).or_insert(next);
        }
        let id = self.next_runner_id;
        self.next_runner_id += 1;
        let runner = Runner {
            id,
            name: name.to_owned(),
            labels,
            online: false,
            busy: false,
            runner_group_id,
            encoded_jit_config: None,
        };
        self.runners.insert(id, runner);
        id
    }

    fn runner_by_name(&mut self, name: &str) -> Option<&mut Runner> {
        self.runners.values_mut().find(|runner| runner.name == name)
    }

    /// Calls counted against the rate limit so far.
    fn used(&self) -> u64 {
        (self.calls.len() as u64).min(self.rate_limit)
    }

    fn take_failure(&mut self, call: &Call) -> Option<StatusCode> {
        let failure = self
            .failures
            .iter_mut()
            .find(|failure| failure.remaining > 0 && call.matches(&failure.prefix))?;
        failure.remaining -= 1;
        Some(failure.status)
    }
}

/// An answer before it becomes an HTTP response.
struct Reply {
    status: StatusCode,
    /// `None` for an empty body (204, 202).
    body: Option<Value>,
    link: Option<String>,
}

/// The request as the routes see it.
struct Req<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a HashMap<String, String>,
    authorization: Option<&'a str>,
    body: Option<&'a Value>,
}

/// Handle to a running fake; clones share the server and its state.
#[derive(Clone)]
pub struct FakeGithub {
    state: Arc<Mutex<State>>,
    server: Arc<Server>,
}

/// Stops the server when the last handle goes.
struct Server {
    url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The server thread may already be gone; nothing to stop then.
            let _ = stop.send(());
        }
    }
}

impl FakeGithub {
    /// Starts the fake on a free loopback port.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub fn start() -> FakeGithub {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port for GitHub");
        listener
            .set_nonblocking(true)
            .expect("tokio needs a non-blocking listener");
        let url = format!(
            "http://{}",
            listener
                .local_addr()
                .expect("a bound listener has an address")
        );
        let state = Arc::new(Mutex::new(State::new(url.clone())));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("fake-github".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build the fake GitHub's runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("hand the listener to tokio");
                    tokio::select! {
                        served = axum::serve(listener, app).into_future() => {
                            served.expect("serve the fake GitHub");
                        }
                        _ = stopped => {}
                    }
                });
            })
            .expect("spawn the fake GitHub's thread");
        FakeGithub {
            state,
            server: Arc::new(Server {
                url,
                stop: Some(stop),
            }),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`, without a trailing slash.
    pub fn url(&self) -> String {
        self.server.url.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("fake GitHub state poisoned by an earlier panic")
    }

    /// Registers an offline, idle runner in the `Default` group; returns its id.
    pub fn add_runner(&self, name: &str, labels: &[&str]) -> u64 {
        let labels = labels.iter().map(|label| label.to_string()).collect();
        self.lock()
            .add_runner(name, labels, DEFAULT_RUNNER_GROUP_ID)
    }

    /// The runner named `name`.
    pub fn runner(&self, name: &str) -> Option<Runner> {
        self.lock()
            .runner_by_name(name)
            .map(|runner| runner.clone())
    }

    /// Every runner, by id.
    pub fn runners(&self) -> Vec<Runner> {
        self.lock().runners.values().cloned().collect()
    }

    /// Marks runner `name` online (connected) or offline.
    ///
    /// # Panics
    ///
    /// If there is no such runner.
    pub fn set_runner_online(&self, name: &str, online: bool) {
        self.with_runner(name, |runner| runner.online = online);
    }

    /// Marks runner `name` busy or idle.
    ///
    /// # Panics
    ///
    /// If there is no such runner.
    pub fn set_runner_busy(&self, name: &str, busy: bool) {
        self.with_runner(name, |runner| runner.busy = busy);
    }

    /// Removes runner `name`, as GitHub does when an ephemeral runner finishes its job; returns
    /// whether it existed.
    pub fn remove_runner(&self, name: &str) -> bool {
        let mut state = self.lock();
        let before = state.runners.len();
        state.runners.retain(|_, runner| runner.name != name);
        state.runners.len() != before
    }

    /// Applies `change` to runner `name`; returns its id.
    fn with_runner(&self, name: &str, change: impl FnOnce(&mut Runner)) -> u64 {
        let mut state = self.lock();
        let runner = state
            .runner_by_name(name)
            .unwrap_or_else(|| panic!("no runner named {name}"));
        change(runner);
        runner.id
    }

    /// Adds a runner group; returns its id.
    pub fn add_runner_group(&self, name: &str) -> u64 {
        let mut state = self.lock();
        let id = state.runner_groups.keys().last().map_or(1, |last| last + 1);
        state.runner_groups.insert(id, name.to_owned());
        id
    }

    /// Adds a job, queued now, in repository `owner/name`.
    pub fn add_job(&self, repository: &str, id: u64, run_id: u64, labels: &[&str]) {
        let job = Job {
            id,
            run_id,
            repository: repository.to_owned(),
            name: format!("job-{id}"),
            status: JobStatus::Queued,
            conclusion: None,
            labels: labels.iter().map(|label| label.to_string()).collect(),
            runner_name: None,
            runner_id: None,
            created_at: Utc::now(),
            started_at: None,
            completed_at: None,
        };
        self.lock().jobs.insert(id, job);
    }

    /// The job with this id.
    pub fn job(&self, id: u64) -> Option<Job> {
        self.lock().jobs.get(&id).cloned()
    }

    /// Changes job `id` in place, e.g. to backdate `created_at`.
    ///
    /// # Panics
    ///
    /// If there is no such job.
    pub fn update_job(&self, id: u64, change: impl FnOnce(&mut Job)) {
        let mut state = self.lock();
        let job = state
            .jobs
            .get_mut(&id)
            .unwrap_or_else(|| panic!("no job {id}"));
        change(job);
    }

    /// Moves job `id` to `status`, stamping `started_at`/`completed_at` (and a `success`
    /// conclusion) as GitHub does.
    ///
    /// # Panics
    ///
    /// If there is no such job.
    pub fn set_job_status(&self, id: u64, status: JobStatus) {
        let now = Utc::now();
        self.update_job(id, |job| {
            job.status = status;
            match status {
                JobStatus::Queued => {}
                JobStatus::InProgress => job.started_at = Some(now),
                JobStatus::Completed => {
                    job.completed_at = Some(now);
                    job.conclusion.get_or_insert_with(|| "success".to_owned());
                }
            }
        });
    }

    /// Hands job `id` to runner `runner_name`: the job goes in progress and the runner busy and
    /// online.
    ///
    /// # Panics
    ///
    /// If the job or the runner does not exist.
    pub fn start_job(&self, id: u64, runner_name: &str) {
        let runner_id = self.with_runner(runner_name, |runner| {
            runner.busy = true;
            runner.online = true;
        });
        self.update_job(id, |job| {
            job.runner_name = Some(runner_name.to_owned());
            job.runner_id = Some(runner_id);
        });
        self.set_job_status(id, JobStatus::InProgress);
    }

    /// Adds a delivery to the delivery log.
    pub fn add_delivery(&self, delivery: Delivery) {
        self.lock().deliveries.insert(delivery.id, delivery);
    }

    /// Every delivery, by id.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.values().cloned().collect()
    }

    /// The delivery ids redelivery was requested for, in request order.
    pub fn redelivery_requests(&self) -> Vec<u64> {
        self.lock().redelivery_requests.clone()
    }

    /// Every request so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many requests matched `prefix` (see [`Call::matches`]).
    pub fn count_calls(&self, prefix: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|call| call.matches(prefix))
            .count()
    }

    /// Makes the next `times` requests matching `prefix` (see [`Call::matches`]) answer `status`
    /// with a GitHub-style error body, before any other processing.
    ///
    /// # Panics
    ///
    /// If `status` is not a valid HTTP status code.
    pub fn fail_next(&self, prefix: &str, times: usize, status: u16) {
        let status = StatusCode::from_u16(status).expect("a valid HTTP status code");
        self.lock().failures.push(Failure {
            prefix: prefix.to_owned(),
            remaining: times,
            status,
        });
    }

    /// Sets how many requests are allowed before the fake answers 403 "API rate limit
    /// exceeded"; requests already made count.
    pub fn set_rate_limit(&self, limit: u64) {
        self.lock().rate_limit = limit;
    }
}

async fn handle(
    AxumState(state): AxumState<Arc<Mutex<State>>>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    // The API's bodies are small JSON documents; 1 MiB is far above any of them.
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let req = Req {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: &query,
        authorization,
        body: body.as_ref(),
    };
    let mut call = Call {
        method: req.method.to_owned(),
        path: req.path.to_owned(),
        query: parts.uri.query().map(str::to_owned),
        authorization: authorization.map(str::to_owned),
        body: body.clone(),
        status: 0,
    };

    let mut state = state
        .lock()
        .expect("fake GitHub state poisoned by an earlier panic");
    let reply = if state.used() >= state.rate_limit {
        routes::error(
            StatusCode::FORBIDDEN,
            &format!("API rate limit exceeded for installation ID {INSTALLATION_ID}."),
        )
    } else if let Some(status) = state.take_failure(&call) {
        routes::error(
            status,
            "Injected failure (rc-testkit FakeGithub::fail_next)",
        )
    } else {
        routes::route(&mut state, &req)
    };
    call.status = reply.status.as_u16();
    state.calls.push(call);

    let mut response = Response::builder().status(reply.status);
    let headers = [
        ("x-ratelimit-limit", state.rate_limit.to_string()),
        (
            "x-ratelimit-remaining",
            (state.rate_limit - state.used()).to_string(),
        ),
        ("x-ratelimit-used", state.used().to_string()),
        (
            "x-ratelimit-reset",
            state.rate_limit_reset.timestamp().to_string(),
        ),
        ("x-ratelimit-resource", "core".to_owned()),
    ];
    drop(state);
    for (name, value) in headers {
        response = response.header(name, value);
    }
    if let Some(link) = reply.link {
        response = response.header(LINK, link);
    }
    let body = match reply.body {
        Some(json) => {
            response = response.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    response
        .body(body)
        .expect("status and headers are valid by construction")
}
