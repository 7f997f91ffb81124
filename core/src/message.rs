//! Messages on the jobs queue, written by the webhook (and the manager's own re-checks) and read
//! by the manager.
//!
//! The envelope carries a version number `v` so the manager can keep reading messages written by
//! an older webhook during a deploy; a reader rejects versions it does not know rather than
//! guessing.
//!
//! # Versions
//!
//! - 1: `queued` and `lifecycle`, the job messages.
//! - 2: version 1 plus `bench_wake`, the benchmark intake's nudge to the worker pool.
//!
//! Each message is written with the oldest version that has its kind: job messages stay at 1,
//! so a manager of any build reads them; a wake-up is 2. A manager built before version 2
//! reads a wake-up as [`MessageError::is_from_newer_build`] and hands it back to the queue
//! (until the redrive policy parks it in the dead-letter queue) instead of dropping it as
//! malformed: an unknown kind under a known version would look like garbage to it. A wake-up
//! that ends there, or is lost, costs nothing: the tick tends the pool anyway.

use chrono::{DateTime, Utc};
use rc_config::ManagerSettings;
use serde::{Deserialize, Serialize};

use crate::bench::BenchJobId;
use crate::Timestamp;

/// The version job messages (`queued`, `lifecycle`) are written with.
pub const MESSAGE_VERSION: u32 = 1;

/// The version a `bench_wake` is written with: the first that has it.
pub const WAKE_VERSION: u32 = 2;

/// The newest version this build reads.
pub const NEWEST_VERSION: u32 = WAKE_VERSION;

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
    /// A benchmark job was recorded and queued: tend the benchmark worker pool now rather than
    /// at the next tick. Level-triggered: the pass decides from the store and the cluster, so a
    /// duplicate changes nothing and a lost one only waits for the tick.
    BenchWake {
        /// The job whose request sent it (for logs; the pass looks at every job).
        job: BenchJobId,
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
    #[error("job message version {0} is not supported (this build reads {MESSAGE_VERSION} to {NEWEST_VERSION})")]
    UnsupportedVersion(u32),
}

impl MessageError {
    /// Whether a newer build may read the message: its version is above this build's. Such a
    /// message is left for retry (and the dead-letter queue) rather than deleted, so a rollback
    /// during a deploy loses no job; anything else unreadable stays unreadable.
    pub fn is_from_newer_build(&self) -> bool {
        matches!(self, MessageError::UnsupportedVersion(v) if *v > NEWEST_VERSION)
    }
}

impl JobMessage {
    /// The workflow job this message is about; `None` for a wake-up.
    pub fn job(&self) -> Option<&JobRef> {
        match self {
            JobMessage::Queued { job, .. } | JobMessage::Lifecycle { job, .. } => Some(job),
            JobMessage::BenchWake { .. } => None,
        }
    }

    /// The oldest version that has this message's kind: the one it is written with.
    pub fn version(&self) -> u32 {
        match self {
            JobMessage::Queued { .. } | JobMessage::Lifecycle { .. } => MESSAGE_VERSION,
            JobMessage::BenchWake { .. } => WAKE_VERSION,
        }
    }

    /// Serializes the message with its [`version`](JobMessage::version).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Envelope {
            v: self.version(),
            body: self,
        })
        .expect("job messages always serialize")
    }

    /// Reads a message, checking its version first.
    ///
    /// # Errors
    ///
    /// [`MessageError::UnsupportedVersion`] for an unknown `v`, [`MessageError::Malformed`] for
    /// anything that is not a message of that version (a kind newer than its `v` included).
    pub fn from_json(body: &str) -> Result<Self, MessageError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            v: u32,
        }
        let VersionOnly { v } = serde_json::from_str(body)?;
        if !(MESSAGE_VERSION..=NEWEST_VERSION).contains(&v) {
            return Err(MessageError::UnsupportedVersion(v));
        }
        let envelope: Envelope<JobMessage> = serde_json::from_str(body)?;
        if envelope.body.version() > v {
            let kind_too_new = format!("a version {v} message cannot be of this kind");
            return Err(MessageError::Malformed(serde::de::Error::custom(
                kind_too_new,
            )));
        }
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
    fn a_wake_up_is_version_2_and_job_messages_stay_at_1() {
        let wake = JobMessage::BenchWake {
            job: BenchJobId::new(Timestamp(1_000), 7),
        };
        let json = wake.to_json();
        assert_eq!(
            json,
            r#"{"v":2,"kind":"bench_wake","job":"bj-000000003e8-000000000007"}"#
        );
        assert_eq!(JobMessage::from_json(&json).expect("readable"), wake);
        assert_eq!(wake.job(), None);
        // A build that knows version 2 still reads version 1 job messages, and a later
        // version-2 job message too.
        let queued = JobMessage::Queued {
            job: job(),
            attempt: 0,
        };
        assert!(queued.to_json().contains("\"v\":1"));
        let as_v2 = queued.to_json().replace("\"v\":1", "\"v\":2");
        assert_eq!(JobMessage::from_json(&as_v2).expect("readable"), queued);
        // A wake-up claiming version 1 is not one: version 1 has no such kind.
        let as_v1 = json.replace("\"v\":2", "\"v\":1");
        let err = JobMessage::from_json(&as_v1).expect_err("no wake-ups in version 1");
        assert!(!err.is_from_newer_build());
    }

    #[test]
    fn a_build_reading_only_version_1_keeps_a_wake_up_for_a_newer_build() {
        // What a manager built before wake-ups does with one: its reader refuses any `v` but
        // 1, and keeps what is newer than that (the check this module's older builds ran).
        let json = JobMessage::BenchWake {
            job: BenchJobId::new(Timestamp(1_000), 7),
        }
        .to_json();
        #[derive(Deserialize)]
        struct VersionOnly {
            v: u32,
        }
        let VersionOnly { v } = serde_json::from_str(&json).expect("an envelope");
        assert!(
            v > MESSAGE_VERSION,
            "an old build retries, never drops, version {v}"
        );
    }

    #[test]
    fn only_newer_versions_are_worth_keeping() {
        let newer = MessageError::UnsupportedVersion(NEWEST_VERSION + 1);
        assert!(newer.is_from_newer_build());
        assert!(!MessageError::UnsupportedVersion(0).is_from_newer_build());
        let malformed = JobMessage::from_json("{\"v\":1}").expect_err("no body");
        assert!(!malformed.is_from_newer_build());
    }
}
