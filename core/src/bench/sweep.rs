//! The tick's sweeper: running jobs whose worker went silent, and locks left behind.
//!
//! A worker heartbeats every quarter of `stale_after`; a `running` job without one for
//! `stale_after` lost its worker (a killed task, a lost instance) and becomes `errored`, which
//! frees its team. A lock whose job is over or gone (a crash between the two writes that end a
//! job) is freed as well. Pending jobs are left alone: they wait in the FIFO queue, and a worker
//! that dies before starting one hands the message back to the queue.

use std::time::Duration;

use crate::bench::{BenchJob, BenchJobId, JobStatus};
use crate::Timestamp;

/// What the sweeper does about one team.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum SweepAction {
    /// Mark this running job `errored` (which also frees the team).
    Error {
        /// The job.
        id: BenchJobId,
        /// Why.
        reason: String,
    },
    /// Free the team's lock, which still names this ended or missing job.
    Unlock {
        /// The team.
        team: String,
        /// The job the lock names.
        id: BenchJobId,
    },
}

/// One team's lock as observed, with the job it names (`None`: the job is gone).
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// The team.
    pub team: String,
    /// The job id the lock names.
    pub id: BenchJobId,
    /// That job, if it exists.
    pub job: Option<BenchJob>,
}

/// How often a worker heartbeats for `stale_after`: four beats per period, so one or two lost
/// beats never make a live job stale; at least every second, at most every minute.
pub fn heartbeat_every(stale_after: Duration) -> Duration {
    (stale_after / 4).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// Decides, at `now`, what to do about the observed locks.
pub fn sweep(now: Timestamp, held: &[Held], stale_after: Duration) -> Vec<SweepAction> {
    held.iter()
        .filter_map(|h| match &h.job {
            None => Some(SweepAction::Unlock {
                team: h.team.clone(),
                id: h.id.clone(),
            }),
            Some(job) if job.status.is_terminal() => Some(SweepAction::Unlock {
                team: h.team.clone(),
                id: h.id.clone(),
            }),
            Some(job) if job.status == JobStatus::Running => {
                let last = job.heartbeat_at.or(job.started_at).unwrap_or(job.queued_at);
                let silent = now.saturating_since(last);
                (silent >= stale_after).then(|| SweepAction::Error {
                    id: job.id.clone(),
                    reason: format!(
                        "the worker stopped sending heartbeats ({}s without one, limit {}s)",
                        silent.as_secs(),
                        stale_after.as_secs()
                    ),
                })
            }
            Some(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STALE: Duration = Duration::from_secs(180);

    fn running(started: i64, beat: i64) -> BenchJob {
        let job = BenchJob::pending(
            BenchJobId::new(Timestamp(started), 1),
            "t",
            "h",
            Timestamp(0),
        );
        let mut job = job.start(Timestamp(started)).expect("starts");
        job.heartbeat_at = Some(Timestamp(beat));
        job
    }

    fn held(job: Option<BenchJob>) -> Held {
        Held {
            team: "t".into(),
            id: job
                .as_ref()
                .map_or_else(|| BenchJobId::new(Timestamp(0), 9), |j| j.id.clone()),
            job,
        }
    }

    #[test]
    fn only_silent_running_jobs_are_errored() {
        let now = Timestamp(1_000_000);
        let fresh = running(0, 1_000_000 - 179_000);
        let silent = running(0, 1_000_000 - 180_000);
        let pending = BenchJob::pending(BenchJobId::new(Timestamp(0), 2), "t", "h", Timestamp(0));
        let actions = sweep(
            now,
            &[
                held(Some(fresh)),
                held(Some(silent.clone())),
                held(Some(pending)),
            ],
            STALE,
        );
        assert_eq!(actions.len(), 1);
        assert!(matches!(&actions[0], SweepAction::Error { id, .. } if *id == silent.id));
    }

    #[test]
    fn locks_of_ended_or_missing_jobs_are_freed() {
        let ended = running(0, 0)
            .finish(&crate::bench::outcome::Outcome::errored("x"), Timestamp(1))
            .expect("ends");
        let actions = sweep(Timestamp(2), &[held(Some(ended)), held(None)], STALE);
        assert!(actions
            .iter()
            .all(|a| matches!(a, SweepAction::Unlock { .. })));
        assert_eq!(actions.len(), 2);
    }

    #[test]
    fn heartbeats_are_four_per_period_within_bounds() {
        assert_eq!(heartbeat_every(STALE), Duration::from_secs(45));
        assert_eq!(
            heartbeat_every(Duration::from_secs(2)),
            Duration::from_secs(1)
        );
        assert_eq!(
            heartbeat_every(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
    }

    proptest! {
        #[test]
        fn a_job_heartbeating_on_time_is_never_swept(stale_s in 8u64..3600, beats in 1u64..50, jitter in 0u64..1000) {
            let stale = Duration::from_secs(stale_s);
            let every = heartbeat_every(stale).as_millis() as i64;
            let last = beats as i64 * every;
            let job = running(0, last);
            // Up to two beats late is still alive.
            let now = Timestamp(last + 2 * every + jitter as i64 % every.max(1));
            prop_assert!(sweep(now, &[held(Some(job))], stale).is_empty());
        }
    }
}
