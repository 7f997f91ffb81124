//! Messages on the jobs queue, written by the webhook (and the manager's own re-checks) and read
//! by the manager.
//!
//! The envelope carries a version number `v` so the manager can keep reading messages written by
//! an older webhook during a deploy; a reader rejects versions it does not know rather than
//! guessing.

use chrono::{DateTime, Utc};
use rc_config::ManagerSettings;
use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The message format version this build writes.
pub const MESSAGE_VERSION: u32 = 1;

/// A job as the webhook saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    /// `X-GitHub-Delivery` of the webhook that announced the job.
    pub delivery_id: String,
    /// Workflow job id.
    pub job_id: u64,
    /// Workflow run id.
    pub run_id: u64,
    /// Repository as `owner/name`.
    pub repo: String,
    /// Repository owner login.
    pub owner: String,
    /// GitHub App installation that sent the event, when it came through an App.
    pub installation_id: Option<u64>,
    /// The job's `runs-on` labels.
    pub labels: Vec<String>,
    /// The class the labels routed to.
    pub class: String,
    /// When GitHub created the job.
    pub created_at: DateTime<Utc>,
}

/// What the manager is asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobMessage {
    /// A job was queued: start a runner unless one already covers it.
    Queued {
        /// The job.
        job: JobRef,
        /// 0 for the webhook's message, n for the n-th re-check.
        attempt: u32,
    },
    /// A job started or finished on some runner.
    Lifecycle {
        /// The job.
        job: JobRef,
        /// What happened.
        status: JobStatus,
        /// The runner that took it, when GitHub says.
        runner_name: Option<String>,
        /// When the job started running (for pickup latency).
        started_at: Option<DateTime<Utc>>,
    },
}

/// A job's lifecycle status after it was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// A runner took the job.
    InProgress,
    /// The job finished.
    Completed,
}

/// Whether a `queued` message of `attempt` for a job created at `created_at` must be checked
/// against GitHub's job API before a runner is started at `now`.
///
/// Re-checks (attempt > 0) always are: they exist to ask. A webhook's own message (attempt 0)
/// is checked once the job is older than `manager.replay_check_after`: a fresh one is almost
/// surely still queued and asking would cost a GitHub call per job, but an old one (a delivery
/// replayed from GitHub's log, or a message that waited out an outage in the queue) may be for a
/// job that finished long ago, and a runner started for it would idle until the reaper stops it.
pub fn needs_job_check(
    now: Timestamp,
    created_at: DateTime<Utc>,
    attempt: u32,
    settings: &ManagerSettings,
) -> bool {
    attempt > 0
        || now.saturating_since(Timestamp::from_datetime(created_at)) >= settings.replay_check_after
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: u32,
    #[serde(flatten)]
    body: T,
}

/// Why a queue message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The body is not JSON of the expected shape.
    #[error("malformed job message: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The envelope names a version this build does not read.
    #[error("job message version {0} is not supported (this build reads {MESSAGE_VERSION})")]
    UnsupportedVersion(u32),
}

impl MessageError {
    /// Whether a newer build may read the message: its version is above this build's. Such a
    /// message is left for retry (and the dead-letter queue) rather than deleted, so a rollback
    /// during a deploy loses no job; anything else unreadable stays unreadable.
    pub fn is_from_newer_build(&self) -> bool {
        matches!(self, MessageError::UnsupportedVersion(v) if *v > MESSAGE_VERSION)
    }
}

impl JobMessage {
    /// The job this message is about.
    pub fn job(&self) -> &JobRef {
        match self {
            JobMessage::Queued { job, .. } | JobMessage::Lifecycle { job, .. } => job,
        }
    }

    /// Serializes the message with the current version.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Envelope {
            v: MESSAGE_VERSION,
            body: self,
        })
        .expect("job messages always serialize")
    }

    /// Reads a message, checking its version first.
    ///
    /// # Errors
    ///
    /// [`MessageError::UnsupportedVersion`] for an unknown `v`, [`MessageError::Malformed`] for
    /// anything that is not a job message.
    pub fn from_json(body: &str) -> Result<Self, MessageError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            v: u32,
        }
        let VersionOnly { v } = serde_json::from_str(body)?;
        if v != MESSAGE_VERSION {
            return Err(MessageError::UnsupportedVersion(v));
        }
        let envelope: Envelope<JobMessage> = serde_json::from_str(body)?;
        Ok(envelope.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> JobRef {
        JobRef {
            delivery_id: "d-1".into(),
            job_id: 7,
            run_id: 3,
            repo: "acme/app".into(),
            owner: "acme".into(),
            installation_id: Some(42),
            labels: vec!["self-hosted".into(), "large".into()],
            class: "large".into(),
            created_at: "2026-11-20T01:02:03Z".parse().expect("valid date"),
        }
    }

    #[test]
    fn round_trips_with_version() {
        let msg = JobMessage::Queued {
            job: job(),
            attempt: 2,
        };
        let json = msg.to_json();
        assert!(json.contains("\"v\":1"));
        assert!(json.contains("\"kind\":\"queued\""));
        assert_eq!(JobMessage::from_json(&json).expect("readable"), msg);
    }

    #[test]
    fn rejects_unknown_version() {
        let json = JobMessage::Queued {
            job: job(),
            attempt: 0,
        }
        .to_json()
        .replace("\"v\":1", "\"v\":9");
        assert!(matches!(
            JobMessage::from_json(&json),
            Err(MessageError::UnsupportedVersion(9))
        ));
    }

    #[test]
    fn old_deliveries_and_rechecks_are_checked_fresh_ones_are_not() {
        let settings = ManagerSettings::default();
        let created = job().created_at;
        let at = |secs: i64| Timestamp::from_datetime(created + chrono::Duration::seconds(secs));
        assert!(!needs_job_check(at(5), created, 0, &settings));
        assert!(!needs_job_check(at(3599), created, 0, &settings));
        assert!(needs_job_check(at(3600), created, 0, &settings));
        assert!(needs_job_check(at(5), created, 1, &settings));
        // A job GitHub dates after our clock is fresh, not old.
        assert!(!needs_job_check(at(-60), created, 0, &settings));
    }

    #[test]
    fn only_newer_versions_are_worth_keeping() {
        let newer = MessageError::UnsupportedVersion(MESSAGE_VERSION + 1);
        assert!(newer.is_from_newer_build());
        assert!(!MessageError::UnsupportedVersion(0).is_from_newer_build());
        let malformed = JobMessage::from_json("{\"v\":1}").expect_err("no body");
        assert!(!malformed.is_from_newer_build());
    }
}
