//! What the controller asks of the GitHub REST API, as one small trait in core types.
//!
//! `rc_github::client::GithubClient` implements it over octocrab for github.com and GHES; tests
//! run that same client against the fake GitHub server in `rc-testkit`.

use std::future::Future;

use chrono::{DateTime, Utc};
use rc_core::observed::ObservedRunner;
use rc_core::recovery::{Delivery, ScannedJob};
use rc_core::Timestamp;

/// A request for a just-in-time runner configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitRequest {
    /// Runner name (our prefix + a short id).
    pub name: String,
    /// Labels the runner registers with (the class's labels).
    pub labels: Vec<String>,
    /// Runner group name; the client resolves it to an id once and caches it.
    pub runner_group: String,
}

/// A registered runner and the secret it starts with.
#[derive(Clone, PartialEq, Eq)]
pub struct JitConfig {
    /// The runner's GitHub id (needed to delete the registration).
    pub runner_id: u64,
    /// `encoded_jit_config`: a credential; never log it or put it in task overrides.
    pub encoded: String,
}

impl std::fmt::Debug for JitConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "JitConfig {{ runner_id: {}, encoded: <redacted> }}",
            self.runner_id
        )
    }
}

/// A workflow job's state as the jobs API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// Job id.
    pub job_id: u64,
    /// `queued`, `in_progress`, `completed`, `waiting`, ...
    pub status: String,
    /// The runner that took it, if any.
    pub runner_name: Option<String>,
    /// When it started running.
    pub started_at: Option<DateTime<Utc>>,
}

impl JobState {
    /// Whether the job still waits for a runner.
    pub fn is_queued(&self) -> bool {
        self.status == "queued"
    }
}

/// Why a GitHub call failed.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// GitHub refused to delete a runner that is running a job (422); leave it alone.
    #[error("runner {0} is busy")]
    RunnerBusy(u64),
    /// The runner, job or hook does not exist (404); for deletes this means already gone.
    #[error("not found: {0}")]
    NotFound(String),
    /// A runner with this name is already registered (409).
    #[error("a runner named {0} already exists")]
    NameTaken(String),
    /// Primary or secondary rate limit hit; retry after the reset.
    #[error("rate limited until {reset_at:?}")]
    RateLimited {
        /// When the limit resets, if GitHub said.
        reset_at: Option<DateTime<Utc>>,
    },
    /// A 5xx or a network failure: worth retrying.
    #[error("transient GitHub failure: {0}")]
    Transient(String),
    /// Anything else (401, 403, a 4xx we did not expect, an unreadable answer).
    #[error("GitHub call failed: {0}")]
    Failed(String),
}

impl GithubError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            GithubError::RateLimited { .. } | GithubError::Transient(_)
        )
    }
}

/// The GitHub calls the manager and the tick make, scoped to the configured enterprise, org or
/// repository.
pub trait GithubApi: Send + Sync {
    /// Registers a runner and returns its JIT config.
    ///
    /// # Errors
    ///
    /// [`GithubError::NameTaken`] if the name is registered already, else the failure.
    fn generate_jit_config(
        &self,
        request: &JitRequest,
    ) -> impl Future<Output = Result<JitConfig, GithubError>> + Send;

    /// Every self-hosted runner of the scope (all pages).
    ///
    /// # Errors
    ///
    /// The failure; callers treat a failed observation as "decide nothing this round".
    fn list_runners(&self)
        -> impl Future<Output = Result<Vec<ObservedRunner>, GithubError>> + Send;

    /// Deletes a runner registration.
    ///
    /// # Errors
    ///
    /// [`GithubError::RunnerBusy`] when it runs a job; [`GithubError::NotFound`] when gone.
    fn delete_runner(&self, runner_id: u64)
        -> impl Future<Output = Result<(), GithubError>> + Send;

    /// A job's current state.
    ///
    /// # Errors
    ///
    /// The failure.
    fn job_state(
        &self,
        repo: &str,
        job_id: u64,
    ) -> impl Future<Output = Result<JobState, GithubError>> + Send;

    /// Recent deliveries of the App's (or org's) webhook, newest first, up to `limit`; with
    /// `since`, no page after the first one that reaches back to it.
    ///
    /// # Errors
    ///
    /// The failure.
    fn recent_deliveries(
        &self,
        limit: u32,
        since: Option<Timestamp>,
    ) -> impl Future<Output = Result<Vec<Delivery>, GithubError>> + Send;

    /// Asks GitHub to deliver a delivery again.
    ///
    /// # Errors
    ///
    /// The failure.
    fn redeliver(&self, delivery_id: u64) -> impl Future<Output = Result<(), GithubError>> + Send;

    /// Jobs of `repo` that are queued now (queued runs, then their queued jobs), in runs
    /// created at or before `created_before`: a younger run's jobs are younger still, so
    /// their jobs are not listed (one call saved per run).
    ///
    /// # Errors
    ///
    /// The failure.
    fn queued_jobs(
        &self,
        repo: &str,
        created_before: Timestamp,
    ) -> impl Future<Output = Result<Vec<ScannedJob>, GithubError>> + Send;
}
