//! Sizing a warm pool from a pickup target: how many idle runners recent arrivals need.
//!
//! # The model
//!
//! A class keeps `k` idle runners and starts a replacement each time a job takes one; a
//! replacement is ready `refill` after it is started (RunTask to a registered runner). A job that
//! finds an idle runner starts at once; one that finds none waits for a runner started after it
//! arrived, about `refill`. So a job waits longer than the target `p95` exactly when more than `k`
//! jobs arrived within the `refill − p95` before it, itself included: they took the idle
//! runners, and their replacements are not ready yet.
//!
//! For 95 % of jobs to start within `p95`, `k` is therefore the 95th percentile, over the
//! class's recent arrivals, of how many arrived in that window before each ([`idle_for`]). The
//! count is per arrival, not per minute, so matrix fan-outs (twenty jobs within a second) weigh
//! as much as they make developers wait: burstiness sizes the pool, not the mean rate. When a
//! runner is ready within the target anyway (`refill ≤ p95`), no idle runner is needed.
//!
//! `refill` is measured: the pickups of recent jobs that found no idle runner (they started on a
//! runner launched after they arrived), their 90th percentile ([`refill_time`]). Until there is a
//! measurement, [`DEFAULT_REFILL`] stands in.
//!
//! The history is the last [`HISTORY`] of arrivals, kept by the manager process
//! ([`crate::book`]), so the pool follows the day's ramp with up to an hour's lag, and a cold
//! process starts from the window's `min`.

use std::time::Duration;

use crate::Timestamp;

/// How far back arrivals count.
pub const HISTORY: Duration = Duration::from_secs(3600);

/// The refill time assumed before any is measured: a task start and a runner registration on
/// capacity already running, with margin.
pub const DEFAULT_REFILL: Duration = Duration::from_secs(60);

/// Idle runners needed for 95 % of `arrivals` (ascending) to start within `p95`, given runners
/// take `refill` to be ready.
pub fn idle_for(arrivals: &[Timestamp], refill: Duration, p95: Duration) -> u32 {
    let Some(window) = refill.checked_sub(p95).filter(|w| !w.is_zero()) else {
        return 0;
    };
    let mut counts: Vec<u32> = Vec::with_capacity(arrivals.len());
    let mut first = 0;
    for (index, &at) in arrivals.iter().enumerate() {
        // Arrivals in (at − window, at], this one included.
        while at.saturating_since(arrivals[first]) >= window {
            first += 1;
        }
        counts.push(u32::try_from(index + 1 - first).unwrap_or(u32::MAX));
    }
    percentile_95(&mut counts)
}

/// The refill time from measured `samples`: their 90th percentile, since the target is about
/// the tail (a job that misses the pool while instances launch waits minutes, not seconds), or
/// [`DEFAULT_REFILL`] when there are none.
pub fn refill_time(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = sorted.len() * 9 / 10;
    sorted.get(rank).copied().unwrap_or(DEFAULT_REFILL)
}

/// The smallest count at or above which 95 % of `counts` lie (0 when empty).
fn percentile_95(counts: &mut [u32]) -> u32 {
    if counts.is_empty() {
        return 0;
    }
    counts.sort_unstable();
    // The 95 % of jobs that must not wait are those whose count is at most k.
    let rank = (counts.len() * 95).div_ceil(100);
    counts[rank.max(1) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp(1_765_000_000_000);

    fn at(secs: &[u64]) -> Vec<Timestamp> {
        secs.iter().map(|&s| T0 + Duration::from_secs(s)).collect()
    }

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn a_runner_ready_within_the_target_needs_no_pool() {
        assert_eq!(idle_for(&at(&[0, 1, 2, 3]), 10 * SEC, 10 * SEC), 0);
        assert_eq!(idle_for(&at(&[0, 1, 2, 3]), 5 * SEC, 10 * SEC), 0);
        assert_eq!(idle_for(&[], 60 * SEC, 10 * SEC), 0);
    }

    #[test]
    fn sparse_arrivals_need_one_runner_and_bursts_need_their_size() {
        // One job every ten minutes: each finds the pool refilled.
        let sparse = at(&[0, 600, 1200, 1800, 2400]);
        assert_eq!(idle_for(&sparse, 60 * SEC, 10 * SEC), 1);
        // Twenty fan-outs of 8 jobs in a second, ten minutes apart: every job of a fan-out must
        // find a runner, so 95 % of jobs are served only with 8 idle.
        let bursts: Vec<u64> = (0..20).flat_map(|b| (0..8).map(move |_| b * 600)).collect();
        assert_eq!(idle_for(&at(&bursts), 60 * SEC, 10 * SEC), 8);
    }

    #[test]
    fn the_refill_is_the_tail_of_what_was_measured() {
        assert_eq!(refill_time(&[]), DEFAULT_REFILL);
        let samples: Vec<Duration> = (1..=10u32).map(|s| SEC * (s * 10)).collect();
        assert_eq!(refill_time(&samples), 100 * SEC);
        assert_eq!(refill_time(&samples[..5]), 50 * SEC);
    }

    proptest! {
        /// With k idle runners, at most 5 % of the arrivals see more than k in their window.
        #[test]
        fn the_pool_serves_95_percent_of_the_history(
            mut gaps in proptest::collection::vec(0u64..120, 1..300),
            refill in 1u64..200,
            p95 in 0u64..60,
        ) {
            gaps.sort_unstable();
            let mut t = 0;
            let secs: Vec<u64> = gaps.iter().map(|g| { t += g; t }).collect();
            let arrivals = at(&secs);
            let (refill, p95) = (Duration::from_secs(refill), Duration::from_secs(p95));
            let k = idle_for(&arrivals, refill, p95);
            let window = refill.saturating_sub(p95);
            // Arrivals before each (in order, itself included) within the window.
            let seen: Vec<usize> = arrivals.iter().enumerate().map(|(i, &a)| {
                arrivals[..=i].iter().filter(|&&b| a.saturating_since(b) < window).count()
            }).collect();
            let waiting = seen.iter().filter(|&&n| n > k as usize).count();
            prop_assert!(waiting * 100 <= arrivals.len() * 5);
            // And k is the least such count: one fewer would leave more than 5 % waiting.
            if k > 0 {
                let short = seen.iter().filter(|&&n| n > (k - 1) as usize).count();
                prop_assert!(short * 100 > arrivals.len() * 5);
            }
        }
    }
}
