//! The `workflow_job` webhook payload, read as far as we need it.
//!
//! Only the fields we use are declared, so GitHub adding fields never breaks parsing; fields
//! GitHub documents as nullable are `Option`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use rc_core::message::{JobRef, JobStatus};
use rc_core::scope::Origin;

/// A `workflow_job` event.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowJobEvent {
    /// `queued`, `in_progress`, `completed` or `waiting`.
    pub action: String,
    /// The job.
    pub workflow_job: WorkflowJob,
    /// The repository the job runs in.
    pub repository: Repository,
    /// Present when the event came through a GitHub App.
    pub installation: Option<Installation>,
    /// Present when the owner belongs to an enterprise.
    pub enterprise: Option<Enterprise>,
}

/// The enterprise object.
#[derive(Debug, Clone, Deserialize)]
pub struct Enterprise {
    /// The enterprise's URL slug, as `github.scope: enterprise` names it.
    pub slug: String,
}

/// The `workflow_job` object.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowJob {
    /// Job id.
    pub id: u64,
    /// Run id.
    pub run_id: u64,
    /// `runs-on` labels.
    pub labels: Vec<String>,
    /// When the job was created.
    pub created_at: DateTime<Utc>,
    /// When a runner started it.
    pub started_at: Option<DateTime<Utc>>,
    /// The runner that took it.
    pub runner_name: Option<String>,
}

/// The repository object.
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    /// Owner.
    pub owner: Owner,
}

/// A repository owner.
#[derive(Debug, Clone, Deserialize)]
pub struct Owner {
    /// Login.
    pub login: String,
}

/// The installation object.
#[derive(Debug, Clone, Deserialize)]
pub struct Installation {
    /// Installation id.
    pub id: u64,
}

/// What a `workflow_job` action means to the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// The job waits for a runner.
    Queued,
    /// The job moved on: lifecycle information for the manager.
    Lifecycle(JobStatus),
    /// An action we do not act on (e.g. `waiting` for an environment approval).
    Ignored,
}

impl WorkflowJobEvent {
    /// Classifies the action.
    pub fn job_action(&self) -> JobAction {
        match self.action.as_str() {
            "queued" => JobAction::Queued,
            "in_progress" => JobAction::Lifecycle(JobStatus::InProgress),
            "completed" => JobAction::Lifecycle(JobStatus::Completed),
            _ => JobAction::Ignored,
        }
    }

    /// Where the event comes from, for the scope check.
    pub fn origin(&self) -> Origin<'_> {
        Origin {
            enterprise: self.enterprise.as_ref().map(|e| e.slug.as_str()),
            owner: &self.repository.owner.login,
            repository: &self.repository.full_name,
            installation: self.installation.as_ref().map(|i| i.id),
        }
    }

    /// The job as the queue message carries it.
    pub fn job_ref(&self, delivery_id: &str, class: &str) -> JobRef {
        JobRef {
            delivery_id: delivery_id.to_string(),
            job_id: self.workflow_job.id,
            run_id: self.workflow_job.run_id,
            repo: self.repository.full_name.clone(),
            owner: self.repository.owner.login.clone(),
            installation_id: self.installation.as_ref().map(|i| i.id),
            labels: self.workflow_job.labels.clone(),
            class: class.to_string(),
            created_at: self.workflow_job.created_at,
        }
    }
}
