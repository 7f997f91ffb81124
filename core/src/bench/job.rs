//! A benchmark job: its id, its status machine, its record and its queue message.
//!
//! Statuses move one way: `pending → running → passed | failed | timeout | errored`, and a
//! pending job may also be `errored` (its worker never came). A terminal job never changes
//! again; the store enforces this with conditional writes on the status the caller expects.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::bounded::abbreviate;
use crate::Timestamp;

/// Longest reason kept on a job, in characters: reasons carry benchmarker output.
pub const MAX_REASON_CHARS: usize = 512;

/// A job's id: `bj-<queued millis, hex>-<nonce, hex>`, so that ids sort by queue time and
/// "newest first" is "greatest id first".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BenchJobId(String);

impl BenchJobId {
    /// The id of a job queued at `queued_at`; `nonce` comes from the caller's randomness.
    pub fn new(queued_at: Timestamp, nonce: u64) -> Self {
        BenchJobId(format!(
            "bj-{:011x}-{:012x}",
            queued_at.0.max(0),
            nonce & 0xffff_ffff_ffff
        ))
    }

    /// An id from outside (a URL path, a store item), if it has the shape of ours.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == 3 + 11 + 1 + 12
            && text.starts_with("bj-")
            && text.as_bytes()[14] == b'-'
            && text[3..]
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 11 || b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| BenchJobId(text.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BenchJobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Accepted and queued; holds the team's lock.
    Pending,
    /// A worker is running it; holds the team's lock.
    Running,
    /// The benchmarker finished and passed.
    Passed,
    /// The benchmarker finished and failed, crashed or could not start.
    Failed,
    /// Killed at the deadline.
    Timeout,
    /// Its worker was lost (no heartbeat for `stale_after`), or it could not run at all.
    Errored,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Passed,
        JobStatus::Failed,
        JobStatus::Timeout,
        JobStatus::Errored,
    ];

    /// Whether the job is over (and no longer holds its team's lock).
    pub fn is_terminal(self) -> bool {
        !matches!(self, JobStatus::Pending | JobStatus::Running)
    }

    /// Whether a job may go from `self` to `to`.
    pub fn can_move_to(self, to: JobStatus) -> bool {
        match self {
            JobStatus::Pending => matches!(to, JobStatus::Running | JobStatus::Errored),
            JobStatus::Running => to.is_terminal(),
            _ => false,
        }
    }

    /// The status as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Passed => "passed",
            JobStatus::Failed => "failed",
            JobStatus::Timeout => "timeout",
            JobStatus::Errored => "errored",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        JobStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown job status `{}`", abbreviate(s, 32)))
    }
}

/// Why a status change was refused: the job is not where the caller thought.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job {id} is {from}, it cannot become {to}")]
pub struct BadTransition {
    /// The job.
    pub id: BenchJobId,
    /// Its status.
    pub from: JobStatus,
    /// The status asked for.
    pub to: JobStatus,
}

/// One benchmark job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchJob {
    /// Its id.
    pub id: BenchJobId,
    /// The team that asked.
    pub team: String,
    /// Where it is in its life.
    pub status: JobStatus,
    /// The server benchmarked.
    pub target: String,
    /// The benchmarker's score, once finished (absent when it printed none).
    pub score: Option<f64>,
    /// Whether it passed, once finished.
    pub passed: Option<bool>,
    /// Why it ended as it did (bounded to [`MAX_REASON_CHARS`]).
    pub reason: Option<String>,
    /// When it was accepted.
    pub queued_at: Timestamp,
    /// When a worker started it.
    pub started_at: Option<Timestamp>,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
    /// The worker's last sign of life while running.
    pub heartbeat_at: Option<Timestamp>,
}

impl BenchJob {
    /// A new pending job.
    pub fn pending(id: BenchJobId, team: &str, target: &str, queued_at: Timestamp) -> Self {
        BenchJob {
            id,
            team: team.to_string(),
            status: JobStatus::Pending,
            target: target.to_string(),
            score: None,
            passed: None,
            reason: None,
            queued_at,
            started_at: None,
            finished_at: None,
            heartbeat_at: None,
        }
    }

    /// The job once a worker starts it at `now`.
    ///
    /// # Errors
    ///
    /// [`BadTransition`] unless it is pending.
    pub fn start(&self, now: Timestamp) -> Result<BenchJob, BadTransition> {
        self.check(JobStatus::Running)?;
        Ok(BenchJob {
            status: JobStatus::Running,
            started_at: Some(now),
            heartbeat_at: Some(now),
            ..self.clone()
        })
    }

    /// The job once it ends at `now` as `outcome` says.
    ///
    /// # Errors
    ///
    /// [`BadTransition`] when it cannot move to the outcome's status.
    pub fn finish(
        &self,
        outcome: &crate::bench::outcome::Outcome,
        now: Timestamp,
    ) -> Result<BenchJob, BadTransition> {
        self.check(outcome.status)?;
        Ok(BenchJob {
            status: outcome.status,
            score: outcome.score,
            passed: Some(outcome.passed),
            reason: outcome
                .reason
                .as_deref()
                .map(|r| abbreviate(r, MAX_REASON_CHARS).into_owned()),
            finished_at: Some(now),
            ..self.clone()
        })
    }

    fn check(&self, to: JobStatus) -> Result<(), BadTransition> {
        if self.status.can_move_to(to) {
            Ok(())
        } else {
            Err(BadTransition {
                id: self.id.clone(),
                from: self.status,
                to,
            })
        }
    }

    /// The job as `GET /benchmarks/{id}` shows it: the contract's fields, times in RFC 3339.
    pub fn view(&self) -> serde_json::Value {
        let at = |t: Option<Timestamp>| t.map(|t| t.to_string());
        serde_json::json!({
            "id": self.id,
            "team": self.team,
            "status": self.status,
            "target": self.target,
            "score": self.score,
            "passed": self.passed,
            "reason": self.reason,
            "queued_at": self.queued_at.to_string(),
            "started_at": at(self.started_at),
            "finished_at": at(self.finished_at),
        })
    }

    /// How long it has been running at `now`, or waited if still pending.
    pub fn age(&self, now: Timestamp) -> Duration {
        now.saturating_since(self.started_at.unwrap_or(self.queued_at))
    }
}

/// The FIFO queue's message: which job to run. Contestants pass nothing, so this holds only
/// what the intake decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchMessage {
    /// Format version; the agent refuses others rather than guessing.
    pub v: u32,
    /// The job.
    pub id: BenchJobId,
    /// Its team: the message group.
    pub team: String,
    /// The server to benchmark.
    pub target: String,
}

impl BenchMessage {
    /// The version written by this build.
    pub const VERSION: u32 = 1;

    /// The message for a job.
    pub fn for_job(job: &BenchJob) -> Self {
        BenchMessage {
            v: Self::VERSION,
            id: job.id.clone(),
            team: job.team.clone(),
            target: job.target.clone(),
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a message always serializes")
    }

    /// A body read back from the queue.
    ///
    /// # Errors
    ///
    /// Why the body is not a message of this version.
    pub fn from_json(body: &str) -> Result<Self, String> {
        let message: BenchMessage =
            serde_json::from_str(body).map_err(|e| format!("not a benchmark message: {e}"))?;
        if message.v != Self::VERSION {
            return Err(format!(
                "unsupported benchmark message version {}",
                message.v
            ));
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::outcome::Outcome;
    use proptest::prelude::*;

    #[test]
    fn ids_sort_by_queue_time_and_parse_back() {
        let early = BenchJobId::new(Timestamp(1_000), u64::MAX);
        let late = BenchJobId::new(Timestamp(1_001), 0);
        assert!(early < late);
        assert_eq!(BenchJobId::parse(late.as_str()), Some(late));
        for bad in [
            "",
            "bj-",
            "bj-../../etc",
            "BJ-0000000000a-000000000000",
            "bj-0000000000a_000000000000",
        ] {
            assert_eq!(BenchJobId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_terminal_job_never_changes() {
        let job = BenchJob::pending(BenchJobId::new(Timestamp(0), 1), "t", "h", Timestamp(0));
        let running = job.start(Timestamp(5)).expect("pending starts");
        let done = running
            .finish(&Outcome::errored("lost"), Timestamp(9))
            .expect("running ends");
        assert!(done.start(Timestamp(10)).is_err());
        assert!(done
            .finish(&Outcome::errored("again"), Timestamp(10))
            .is_err());
        assert!(running.start(Timestamp(6)).is_err());
    }

    #[test]
    fn messages_round_trip_and_refuse_other_versions() {
        let job = BenchJob::pending(
            BenchJobId::new(Timestamp(7), 7),
            "team-01",
            "192.0.2.1",
            Timestamp(7),
        );
        let message = BenchMessage::for_job(&job);
        assert_eq!(BenchMessage::from_json(&message.to_json()), Ok(message));
        assert!(BenchMessage::from_json(r#"{"v":2,"id":"x","team":"t","target":"h"}"#).is_err());
        assert!(BenchMessage::from_json("garbage").is_err());
    }

    proptest! {
        #[test]
        fn statuses_only_move_forward(path in proptest::collection::vec(0usize..6, 0..12)) {
            let mut status = JobStatus::Pending;
            for next in path {
                let to = JobStatus::ALL[next];
                if status.can_move_to(to) {
                    prop_assert!(!status.is_terminal());
                    prop_assert!(JobStatus::ALL.iter().position(|s| *s == to) > JobStatus::ALL.iter().position(|s| *s == status));
                    status = to;
                }
            }
        }

        #[test]
        fn ids_always_parse_back(at in 0i64..(1i64 << 44), nonce in any::<u64>()) {
            let id = BenchJobId::new(Timestamp(at), nonce);
            prop_assert_eq!(BenchJobId::parse(id.as_str()), Some(id));
        }
    }
}
