//! When things happen again: the queue's delays and backoffs, and what becomes of a message once
//! its job's decision is carried out.
//!
//! Everything here is a pure function of counts and settings; the orchestration carries out the
//! answers (sends the delayed re-check, hands the message back to the queue, sleeps before a
//! retry) and the simulator runs that same orchestration, so both wait exactly as long.

use std::time::Duration;

use rc_config::ManagerSettings;

use crate::scale_up::JobDecision;

/// SQS refuses delays and visibility timeouts beyond 15 minutes for these uses
/// (`DelaySeconds` maximum, and our own cap on visibility for at-capacity backoff).
pub const SQS_MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// How long a message waits when its class is at `max_runners`, on first receipt; doubled per
/// further receipt. About how long an ephemeral job takes to free a slot at the short end.
const AT_CAPACITY_WAIT: Duration = Duration::from_secs(60);

/// What becomes of a queue message once the batch is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Handled, or unreadable: delete it.
    Done,
    /// Something failed on the way: deliver it again after the queue's visibility timeout.
    Retry,
    /// The class is at `max_runners`: deliver it again after this long.
    RetryAfter(Duration),
}

/// How a job's launch went, as far as its message is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchResult {
    /// A task was started.
    Started,
    /// An earlier delivery of the same message started it already (the runner name is taken).
    AlreadyStarted,
    /// Nothing was started.
    Failed,
}

/// What the orchestration does next for a job whose decision it carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// Send the job's next re-check ([`next_recheck`]); the message is done once it is sent.
    Recheck,
    /// Nothing more to send: the message ends this way.
    Settle(Disposition),
}

/// The follow-up of `decision` for a message received `receive_count` times, given how its
/// launch went (`launch` only matters for [`JobDecision::Launch`]).
pub fn follow_up(decision: JobDecision, launch: LaunchResult, receive_count: u32) -> FollowUp {
    match decision {
        JobDecision::Launch => match launch {
            LaunchResult::Started | LaunchResult::AlreadyStarted => FollowUp::Recheck,
            LaunchResult::Failed => FollowUp::Settle(Disposition::Retry),
        },
        JobDecision::CoveredByOwnTask | JobDecision::CoveredByIdle => FollowUp::Recheck,
        // The first copy in the batch schedules the re-check.
        JobDecision::Duplicate => FollowUp::Settle(Disposition::Done),
        JobDecision::AtCapacity => {
            FollowUp::Settle(Disposition::RetryAfter(at_capacity_wait(receive_count)))
        }
    }
}

/// The re-check that follows a message of `attempt`: the next attempt and its delay, or `None`
/// once the job has had `recheck_attempts` (the tick's rescue scan is the safety net after).
pub fn next_recheck(settings: &ManagerSettings, attempt: u32) -> Option<(u32, Duration)> {
    (attempt < settings.recheck_attempts).then(|| (attempt + 1, recheck_delay(settings, attempt)))
}

/// How a message ends after its re-check was (or was not) sent: a failed send fails the
/// message, and its redelivery finds the job covered and sends the re-check again.
pub fn after_recheck_send(sent: bool) -> Disposition {
    if sent {
        Disposition::Done
    } else {
        Disposition::Retry
    }
}

/// How long a message of a full class waits before its `receive_count`-th + 1 delivery:
/// 60 s doubled per earlier receipt, at most 15 minutes.
pub fn at_capacity_wait(receive_count: u32) -> Duration {
    let doublings = receive_count.saturating_sub(1).min(16);
    (AT_CAPACITY_WAIT * 2u32.pow(doublings)).min(SQS_MAX_DELAY)
}

/// Delay of the re-check that follows a message of `attempt`: `recheck_delay`, doubled per
/// attempt, at most the 15 minutes SQS `DelaySeconds` allows.
pub fn recheck_delay(settings: &ManagerSettings, attempt: u32) -> Duration {
    settings
        .recheck_delay
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(SQS_MAX_DELAY)
}

/// How many attempts a retried call gets, and the wait before the second one (doubled before
/// each further one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Total attempts, the first included.
    pub attempts: u32,
    /// Wait before the second attempt.
    pub first_wait: Duration,
}

impl Backoff {
    /// The wait before attempt `attempt` (1 is the first, which waits for nothing), or `None`
    /// when no such attempt is made.
    pub fn wait_before(self, attempt: u32) -> Option<Duration> {
        match attempt {
            0 => None,
            1 => Some(Duration::ZERO),
            n if n <= self.attempts => Some(self.first_wait.saturating_mul(1 << (n - 2).min(16))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_capacity_waits_double_up_to_fifteen_minutes() {
        assert_eq!(at_capacity_wait(0), Duration::from_secs(60));
        assert_eq!(at_capacity_wait(1), Duration::from_secs(60));
        assert_eq!(at_capacity_wait(2), Duration::from_secs(120));
        assert_eq!(at_capacity_wait(4), Duration::from_secs(480));
        assert_eq!(at_capacity_wait(5), SQS_MAX_DELAY);
        assert_eq!(at_capacity_wait(u32::MAX), SQS_MAX_DELAY);
    }

    #[test]
    fn recheck_delays_back_off_within_the_sqs_limit() {
        let settings = ManagerSettings::default();
        assert_eq!(recheck_delay(&settings, 0), Duration::from_secs(120));
        assert_eq!(recheck_delay(&settings, 1), Duration::from_secs(240));
        assert_eq!(recheck_delay(&settings, 3), SQS_MAX_DELAY);
        assert_eq!(recheck_delay(&settings, u32::MAX), SQS_MAX_DELAY);
    }

    #[test]
    fn rechecks_stop_after_the_configured_attempts() {
        let settings = ManagerSettings::default();
        let last = settings.recheck_attempts;
        assert_eq!(
            next_recheck(&settings, 0),
            Some((1, recheck_delay(&settings, 0)))
        );
        assert!(next_recheck(&settings, last - 1).is_some());
        assert_eq!(next_recheck(&settings, last), None);
    }

    #[test]
    fn decisions_map_to_follow_ups() {
        use FollowUp::{Recheck, Settle};
        let ok = LaunchResult::Started;
        assert_eq!(follow_up(JobDecision::Launch, ok, 1), Recheck);
        assert_eq!(
            follow_up(JobDecision::Launch, LaunchResult::AlreadyStarted, 1),
            Recheck
        );
        assert_eq!(
            follow_up(JobDecision::Launch, LaunchResult::Failed, 1),
            Settle(Disposition::Retry)
        );
        assert_eq!(follow_up(JobDecision::CoveredByIdle, ok, 1), Recheck);
        assert_eq!(follow_up(JobDecision::CoveredByOwnTask, ok, 1), Recheck);
        assert_eq!(
            follow_up(JobDecision::Duplicate, ok, 1),
            Settle(Disposition::Done)
        );
        assert_eq!(
            follow_up(JobDecision::AtCapacity, ok, 3),
            Settle(Disposition::RetryAfter(Duration::from_secs(240)))
        );
    }

    #[test]
    fn backoff_waits_double_and_stop() {
        let backoff = Backoff {
            attempts: 3,
            first_wait: Duration::from_millis(250),
        };
        let waits: Vec<_> = (1..=4).map(|n| backoff.wait_before(n)).collect();
        assert_eq!(
            waits,
            [
                Some(Duration::ZERO),
                Some(Duration::from_millis(250)),
                Some(Duration::from_millis(500)),
                None
            ]
        );
    }
}
