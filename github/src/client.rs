//! [`GithubClient`]: the [`GithubApi`] over GitHub's REST API, for github.com and GHES.
//!
//! Runner calls go to the configured scope's prefix (`enterprises/{slug}`, `orgs/{org}` or
//! `repos/{owner}/{name}`), so one code path serves all three. Answers are read into the few
//! fields we use, so GitHub adding fields never breaks parsing, and turned into core types here.
//!
//! Call costs: a JIT config is one call (plus one runner-group listing per group name, once per
//! client); listing runners is one call per 100 runners; a job's state is one call; a rescue
//! scan of a repository is one call per 100 queued runs plus one per queued run. octocrab
//! itself retries a 5xx or a connection failure up to three times at once, so
//! [`GithubError::Transient`] means GitHub failed four times in a row.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use octocrab::Octocrab;
use rc_config::{GithubConfig, GithubScope};
use rc_core::observed::ObservedRunner;
use rc_core::recovery::{Delivery, ScannedJob};
use rc_core::Timestamp;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use crate::api::{GithubApi, GithubError, JitConfig, JitRequest, JobState};
use crate::auth::{env_u64, Auth, Credentials, SetupError, HOOK_ID_VAR};
use crate::rest::Transport;

/// GitHub's largest page size for list endpoints ("Using pagination in the REST API").
const PER_PAGE: usize = 100;

/// The `Default` runner group's id. Repositories have no runner groups; their runners join
/// this one.
const DEFAULT_RUNNER_GROUP_ID: u64 = 1;

/// The primary rate limit as the last GitHub answer reported it (`x-ratelimit-*` headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in this window.
    pub remaining: u64,
    /// When the window resets.
    pub reset_at: DateTime<Utc>,
}

/// The GitHub REST API for one enterprise, organization or repository.
///
/// Build it once per process and share it: it caches the installation token, the runner group
/// ids and the last rate limit.
pub struct GithubClient {
    scope: GithubScope,
    auth: Auth,
    /// An org or repository webhook whose deliveries the sweep reads instead of the App's.
    hook_id: Option<u64>,
    transport: Transport,
    /// Runner group name → id. A Tokio mutex held across the lookup, so concurrent first JIT
    /// requests list the groups once.
    runner_groups: Mutex<HashMap<String, u64>>,
}

impl fmt::Debug for GithubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubClient")
            .field("scope", &self.scope)
            .field("auth", &self.auth)
            .field("hook_id", &self.hook_id)
            .finish_non_exhaustive()
    }
}

impl GithubClient {
    /// A client for `github.scope` at `github.api_url` (e.g. `https://api.github.com`,
    /// `https://ghe.example.com/api/v3`). Makes no network call; an App's installation is
    /// looked up on first use when `credentials` do not name it.
    ///
    /// # Errors
    ///
    /// [`SetupError::InvalidApiUrl`], [`SetupError::InvalidAppKey`] or
    /// [`SetupError::HttpClient`].
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn new(github: &GithubConfig, credentials: Credentials) -> Result<Self, SetupError> {
        Ok(GithubClient {
            scope: github.scope.clone(),
            auth: Auth::new(&github.api_url, credentials)?,
            hook_id: None,
            transport: Transport::default(),
            runner_groups: Mutex::new(HashMap::new()),
        })
    }

    /// Reads webhook deliveries from this org or repository webhook (with the scope's
    /// credentials) instead of the GitHub App's webhook. Token mode needs it for the
    /// redelivery sweep.
    #[must_use]
    pub fn with_hook_id(mut self, hook_id: u64) -> Self {
        self.hook_id = Some(hook_id);
        self
    }

    /// A client from the environment: the credentials of [`Credentials::from_env`] and
    /// `RC_GITHUB_HOOK_ID` (optional). `env` looks a variable up (`|name| std::env::var(name).ok()`);
    /// `fetch_key` reads the SSM parameter named by `RC_GITHUB_APP_KEY_PARAM`.
    ///
    /// # Errors
    ///
    /// A [`SetupError`] naming what to fix.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub async fn from_env<F, Fut, E>(
        github: &GithubConfig,
        env: impl Fn(&str) -> Option<String>,
        fetch_key: F,
    ) -> Result<Self, SetupError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<String, E>>,
        E: fmt::Display,
    {
        let hook_id = env_u64(&env, HOOK_ID_VAR)?;
        let client = GithubClient::new(github, Credentials::from_env(&env, fetch_key).await?)?;
        Ok(match hook_id {
            Some(hook_id) => client.with_hook_id(hook_id),
            None => client,
        })
    }

    /// The primary rate limit as of the last answer; `None` before the first call. Export it
    /// as a metric after each batch or tick.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.transport.rate_limit()
    }

    /// The App installation acted as, once known (after the first scoped call, or as
    /// configured); `None` in token mode.
    pub fn installation_id(&self) -> Option<u64> {
        self.auth.installation_id()
    }

    async fn scoped(&self) -> Result<&Octocrab, GithubError> {
        self.auth.scoped(&self.transport, &self.scope).await
    }

    /// `/orgs/acme/actions/runners` and friends.
    fn runners_path(&self) -> String {
        format!("/{}/actions/runners", self.scope.api_path())
    }

    /// The runner group's id, listed once per name.
    async fn runner_group_id(&self, crab: &Octocrab, name: &str) -> Result<u64, GithubError> {
        if let GithubScope::Repo(_) = self.scope {
            return Ok(DEFAULT_RUNNER_GROUP_ID);
        }
        let mut known = self.runner_groups.lock().await;
        if let Some(id) = known.get(name) {
            return Ok(*id);
        }
        let path = format!(
            "/{}/actions/runner-groups?per_page={PER_PAGE}",
            self.scope.api_path()
        );
        let groups = self
            .transport
            .get_pages(crab, path, usize::MAX, |page: RunnerGroups| {
                page.runner_groups
            })
            .await?;
        // Group names are unique regardless of case on GitHub; an exact match wins.
        let group = groups
            .iter()
            .find(|group| group.name == name)
            .or_else(|| {
                groups
                    .iter()
                    .find(|group| group.name.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| {
                GithubError::NotFound(format!(
                    "runner group {name:?} in {}",
                    self.scope.api_path()
                ))
            })?;
        known.insert(name.to_owned(), group.id);
        Ok(group.id)
    }

    /// Where this client reads webhook deliveries, and with which credentials.
    async fn deliveries_endpoint(&self) -> Result<(&Octocrab, String), GithubError> {
        match (self.hook_id, &self.scope) {
            (Some(_), GithubScope::Enterprise(_)) => Err(GithubError::Failed(
                "an enterprise has no webhook deliveries API; unset RC_GITHUB_HOOK_ID and use the GitHub App's webhook".to_owned(),
            )),
            (Some(hook_id), scope) => Ok((
                self.scoped().await?,
                format!("/{}/hooks/{hook_id}/deliveries", scope.api_path()),
            )),
            (None, _) => match self.auth.app() {
                Some(app) => Ok((app, "/app/hook/deliveries".to_owned())),
                None => Err(GithubError::Failed(format!(
                    "token credentials have no App webhook: set {HOOK_ID_VAR} to sweep an org or repository webhook"
                ))),
            },
        }
    }
}

/// `generate-jitconfig`'s answer.
#[derive(Deserialize)]
struct JitAnswer {
    runner: RunnerId,
    encoded_jit_config: String,
}

#[derive(Deserialize)]
struct RunnerId {
    id: u64,
}

#[derive(Deserialize)]
struct Runners {
    runners: Vec<Runner>,
}

#[derive(Deserialize)]
struct Runner {
    id: u64,
    name: String,
    status: String,
    busy: bool,
    labels: Vec<Label>,
}

#[derive(Deserialize)]
struct Label {
    name: String,
}

impl Runner {
    fn observed(self) -> ObservedRunner {
        ObservedRunner {
            id: self.id,
            name: self.name,
            online: self.status == "online",
            busy: self.busy,
            labels: self.labels.into_iter().map(|label| label.name).collect(),
        }
    }
}

#[derive(Deserialize)]
struct RunnerGroups {
    runner_groups: Vec<RunnerGroup>,
}

#[derive(Deserialize)]
struct RunnerGroup {
    id: u64,
    name: String,
}

#[derive(Deserialize)]
struct Runs {
    workflow_runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Run {
    id: u64,
    created_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Jobs {
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
struct Job {
    id: u64,
    run_id: u64,
    status: String,
    labels: Vec<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    runner_name: Option<String>,
}

impl Job {
    fn is_queued(&self) -> bool {
        self.status == "queued"
    }
}

#[derive(Deserialize)]
struct HookDelivery {
    id: u64,
    guid: String,
    event: String,
    action: Option<String>,
    status_code: u16,
    redelivery: bool,
    delivered_at: DateTime<Utc>,
}

impl GithubApi for GithubClient {
    async fn generate_jit_config(&self, request: &JitRequest) -> Result<JitConfig, GithubError> {
        let crab = self.scoped().await?;
        let group = self.runner_group_id(crab, &request.runner_group).await?;
        let body = json!({
            "name": request.name,
            "runner_group_id": group,
            "labels": request.labels,
        });
        let path = format!("{}/generate-jitconfig", self.runners_path());
        let answer = self
            .transport
            .send(crab, Method::POST, &path, Some(&body))
            .await?;
        match answer.status {
            StatusCode::CONFLICT => Err(GithubError::NameTaken(request.name.clone())),
            StatusCode::NOT_FOUND => {
                // Most likely the cached group was deleted (or recreated with a new id): look it
                // up again next time.
                self.runner_groups
                    .lock()
                    .await
                    .remove(&request.runner_group);
                Err(answer.error())
            }
            _ => {
                let jit: JitAnswer = answer.success()?.json()?;
                Ok(JitConfig {
                    runner_id: jit.runner.id,
                    encoded: jit.encoded_jit_config,
                })
            }
        }
    }

    async fn list_runners(&self) -> Result<Vec<ObservedRunner>, GithubError> {
        let crab = self.scoped().await?;
        let path = format!("{}?per_page={PER_PAGE}", self.runners_path());
        let runners = self
            .transport
            .get_pages(crab, path, usize::MAX, |page: Runners| page.runners)
            .await?;
        Ok(runners.into_iter().map(Runner::observed).collect())
    }

    async fn delete_runner(&self, runner_id: u64) -> Result<(), GithubError> {
        let crab = self.scoped().await?;
        let path = format!("{}/{runner_id}", self.runners_path());
        let answer = self
            .transport
            .send(crab, Method::DELETE, &path, None)
            .await?;
        match answer.status {
            StatusCode::UNPROCESSABLE_ENTITY => Err(GithubError::RunnerBusy(runner_id)),
            _ => answer.success().map(drop),
        }
    }

    async fn job_state(&self, repo: &str, job_id: u64) -> Result<JobState, GithubError> {
        let crab = self.scoped().await?;
        let path = format!("/repos/{repo}/actions/jobs/{job_id}");
        let job: Job = self
            .transport
            .send(crab, Method::GET, &path, None)
            .await?
            .success()?
            .json()?;
        // GitHub reports a waiting job's `started_at` as its creation time.
        let started = matches!(job.status.as_str(), "in_progress" | "completed");
        Ok(JobState {
            job_id: job.id,
            started_at: job.started_at.filter(|_| started),
            status: job.status,
            runner_name: job.runner_name,
        })
    }

    async fn recent_deliveries(
        &self,
        limit: u32,
        since: Option<Timestamp>,
    ) -> Result<Vec<Delivery>, GithubError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (crab, base) = self.deliveries_endpoint().await?;
        let path = format!("{base}?per_page={}", limit.min(PER_PAGE));
        let deliveries = self
            .transport
            .get_pages_until(
                crab,
                path,
                limit,
                |page: Vec<HookDelivery>| page,
                |page| {
                    since.is_some_and(|since| {
                        page.iter()
                            .any(|d| Timestamp::from_datetime(d.delivered_at) <= since)
                    })
                },
            )
            .await?;
        Ok(deliveries
            .into_iter()
            .map(|delivery| Delivery {
                id: delivery.id,
                guid: delivery.guid,
                event: delivery.event,
                action: delivery.action,
                status_code: delivery.status_code,
                redelivery: delivery.redelivery,
                delivered_at: Timestamp::from_datetime(delivery.delivered_at),
            })
            .collect())
    }

    async fn redeliver(&self, delivery_id: u64) -> Result<(), GithubError> {
        let (crab, base) = self.deliveries_endpoint().await?;
        let path = format!("{base}/{delivery_id}/attempts");
        self.transport
            .send(crab, Method::POST, &path, None)
            .await?
            .success()
            .map(drop)
    }

    async fn queued_jobs(
        &self,
        repo: &str,
        created_before: Timestamp,
    ) -> Result<Vec<ScannedJob>, GithubError> {
        let crab = self.scoped().await?;
        // A run is `queued` until its first job starts. Jobs still queued inside a run that is
        // already in progress are not seen here; the redelivery sweep and re-checks cover them.
        let runs_path = format!("/repos/{repo}/actions/runs?status=queued&per_page={PER_PAGE}");
        let runs = self
            .transport
            .get_pages(crab, runs_path, usize::MAX, |page: Runs| page.workflow_runs)
            .await?;
        let mut queued = Vec::new();
        let old_enough = runs
            .into_iter()
            .filter(|run| Timestamp::from_datetime(run.created_at) <= created_before);
        for run in old_enough {
            let jobs_path = format!(
                "/repos/{repo}/actions/runs/{}/jobs?filter=latest&per_page={PER_PAGE}",
                run.id
            );
            let jobs = match self
                .transport
                .get_pages(crab, jobs_path, usize::MAX, |page: Jobs| page.jobs)
                .await
            {
                // The run was deleted between the two calls.
                Err(GithubError::NotFound(_)) => continue,
                jobs => jobs?,
            };
            queued.extend(
                jobs.into_iter()
                    .filter(Job::is_queued)
                    .map(|job| ScannedJob {
                        job_id: job.id,
                        run_id: job.run_id,
                        repo: repo.to_owned(),
                        labels: job.labels,
                        created_at: Timestamp::from_datetime(job.created_at),
                        installation_id: self.installation_id(),
                    }),
            );
        }
        Ok(queued)
    }
}
