//! What a manager process remembers between its invocations, so that it asks GitHub less.
//!
//! Listing every runner of the scope is the manager's most frequent GitHub call: a batch needs
//! to know which runners are idle, and a busy day brings tens of thousands of batches. Asking
//! GitHub whether a re-checked job still waits is the next one. Both answers are mostly known
//! already: the tick lists the runners once a minute, and the webhook's `in_progress` and
//! `completed` events say which runner took which job the moment it happens.
//!
//! The [`Book`] keeps the last listing for [`LISTING_MAX_AGE`] and corrects it with those
//! events: a runner that took a job is busy, one whose job completed is gone (runners are
//! ephemeral). It also remembers which jobs started, for [`RECENT_STARTS`], so a re-check of a
//! started job needs no call.
//!
//! It also remembers whether the redelivery sweeps have lately seen any sign of a lost job,
//! which sets how often the rescue scan looks ([`crate::recovery::scan_period`]).
//!
//! Each class's recent demand (for pools sized from a pickup target) is kept here too, and
//! shared with every other manager process through [`SharedDemand`]: merging is a union, so a
//! record merged twice counts nothing twice.
//!
//! Memory is an optimisation, never a source of truth. A process that remembers nothing (a cold
//! start) lists and asks as before. What a listing up to a minute old can get wrong:
//!
//! - a runner registered since shows as booting: a warm one is counted as covering a job
//!   ([`crate::observed::ClassView::state`]), a job's own is its job's cover either way;
//! - a runner that took a job whose event this process has not seen (another concurrent
//!   invocation handled it) still shows as idle: the job it is counted for waits for its
//!   re-check, which asks GitHub (the job is not in this process's starts).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::demand::{refill_time, HISTORY};
use crate::observed::ObservedRunner;
use crate::scale_up::JobId;
use crate::warm::Demand;
use crate::Timestamp;

/// How long a runner listing is reused. The tick lists once a minute, so a process that ticks
/// never lists in a batch.
pub const LISTING_MAX_AGE: Duration = Duration::from_secs(60);

/// How long a job's start is remembered: longer than the last re-check of the default
/// settings comes (2 + 4 + 8 + 15 + 15 minutes after the job).
pub const RECENT_STARTS: Duration = Duration::from_secs(3600);

/// At most this many starts are remembered (about ten busy hours of the largest setups we
/// know); older ones are forgotten first, so memory stays bounded whatever the traffic.
pub const MAX_STARTS: usize = 65_536;

/// The id of a runner known only from an `in_progress` event. Only busy runners carry it, and
/// nothing deletes a busy runner, so the id is never sent to GitHub.
pub const UNLISTED_RUNNER_ID: u64 = 0;

/// At most this many arrivals are kept per class (an hour of a class taking a job a second).
pub const MAX_ARRIVALS: usize = 4_096;

/// At most this many refill times are kept per class.
pub const MAX_REFILLS: usize = 64;

/// GitHub gives up on a delivery after 10 s; a delivery made just before a sweep may be listed
/// only after it, so sweeps overlap by this much.
pub const DELIVERY_SETTLES: Duration = Duration::from_secs(30);

/// A manager process's memory of runners and job starts.
#[derive(Debug, Default, Clone)]
pub struct Book {
    listing: Option<Listing>,
    /// Since when the redelivery sweeps have seen no sign of a lost job; `None` until a sweep
    /// of this process has, so a cold start scans at the full rate.
    calm_since: Option<Timestamp>,
    /// When this process last swept.
    last_sweep: Option<Timestamp>,
    /// Each class's recent demand, for pools sized from a pickup target ([`crate::demand`]).
    demand: BTreeMap<String, ClassDemand>,
    /// Jobs seen started, in the order seen, with when.
    starts: VecDeque<(Timestamp, JobId)>,
    started: BTreeMap<JobId, Timestamp>,
}

#[derive(Debug, Clone, Default)]
struct ClassDemand {
    /// Arrivals by GitHub's creation time; the job id makes a redelivered event count once.
    arrivals: BTreeSet<(Timestamp, JobId)>,
    /// Refill times by when the job started, the newest [`MAX_REFILLS`].
    refills: BTreeSet<(Timestamp, Duration)>,
}

impl ClassDemand {
    /// Keeps the arrivals of the [`HISTORY`] before the newest, at most [`MAX_ARRIVALS`], and
    /// the newest [`MAX_REFILLS`] refill times.
    fn trim(&mut self) {
        if let Some(&(newest, _)) = self.arrivals.last() {
            while let Some(&(oldest, _)) = self.arrivals.first() {
                if newest.saturating_since(oldest) <= HISTORY && self.arrivals.len() <= MAX_ARRIVALS
                {
                    break;
                }
                self.arrivals.pop_first();
            }
        }
        while self.refills.len() > MAX_REFILLS {
            self.refills.pop_first();
        }
    }
}

/// A class's demand as one manager process hands it to the others: what a pool sized from a
/// pickup target is sized from ([`crate::demand`]). Times in milliseconds since the epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDemand {
    /// Recent arrivals: (created at, job id).
    pub arrivals: Vec<(i64, u64)>,
    /// Recent refill times: (job started at, milliseconds from RunTask to the start).
    pub refills: Vec<(i64, u64)>,
}

#[derive(Debug, Clone)]
struct Listing {
    at: Timestamp,
    runners: Vec<ObservedRunner>,
}

impl Book {
    /// The runners as last listed and corrected since, if listed within [`LISTING_MAX_AGE`]
    /// of `now` (and not in its future: a clock that went back trusts nothing).
    pub fn runners(&self, now: Timestamp) -> Option<&[ObservedRunner]> {
        let listing = self.listing.as_ref()?;
        let fresh = listing.at <= now && now.saturating_since(listing.at) <= LISTING_MAX_AGE;
        fresh.then_some(listing.runners.as_slice())
    }

    /// Keeps `runners`, listed at `at`.
    pub fn listed(&mut self, at: Timestamp, runners: Vec<ObservedRunner>) {
        self.listing = Some(Listing { at, runners });
    }

    /// `job` started at `at` on `runner` (the `in_progress` event): the runner is busy.
    pub fn started(&mut self, job: JobId, runner: Option<&str>, at: Timestamp) {
        self.remember(job, at);
        if let Some(found) = self.runner_mut(runner) {
            found.busy = true;
        } else if let (Some(listing), Some(name)) = (self.listing.as_mut(), runner) {
            // Registered since the listing, and busy already: without it, its task would count
            // as a warm runner still booting, and the pool would wait for the tick to refill.
            listing.runners.push(ObservedRunner {
                id: UNLISTED_RUNNER_ID,
                name: name.to_owned(),
                online: true,
                busy: true,
                labels: Vec::new(),
            });
        }
    }

    /// This process counted `runners` as taking jobs it saw queued: they are busy for every
    /// later decision, until a listing says otherwise. Without this, every batch until the
    /// `in_progress` events arrive would count the same idle runners again.
    pub fn claimed<'r>(&mut self, runners: impl IntoIterator<Item = &'r str>) {
        for name in runners {
            if let Some(found) = self.runner_mut(Some(name)) {
                found.busy = true;
            }
        }
    }

    /// The registration of runner `id` was deleted: no job can take it.
    pub fn deleted(&mut self, id: u64) {
        if let Some(listing) = self.listing.as_mut() {
            listing.runners.retain(|r| r.id != id);
        }
    }

    /// `job` completed on `runner` (the `completed` event): the runner is gone, since every
    /// runner is ephemeral.
    pub fn completed(&mut self, job: JobId, runner: Option<&str>, at: Timestamp) {
        self.remember(job, at);
        if let (Some(listing), Some(name)) = (self.listing.as_mut(), runner) {
            listing.runners.retain(|r| r.name != name);
        }
    }

    /// Whether `job` was seen started or completed within [`RECENT_STARTS`] of `now`.
    pub fn has_started(&self, job: JobId, now: Timestamp) -> bool {
        self.started
            .get(&job)
            .is_some_and(|&at| now.saturating_since(at) <= RECENT_STARTS)
    }

    /// A redelivery sweep ran at `now`; `loss_suspected` as
    /// [`crate::recovery::suggests_loss`] says (or the sweep could not run).
    pub fn swept(&mut self, now: Timestamp, loss_suspected: bool) {
        self.last_sweep = Some(now);
        if loss_suspected {
            self.calm_since = None;
        } else if self.calm_since.is_none() {
            self.calm_since = Some(now);
        }
    }

    /// When this process last swept, if it has.
    pub fn last_sweep(&self) -> Option<Timestamp> {
        self.last_sweep
    }

    /// How far back the next sweep must read: to the previous sweep, less the time a delivery
    /// can take to be answered ([`DELIVERY_SETTLES`]), when that sweep left nothing unsettled;
    /// else (a cold start, or a failure left for a later tick) as far as it reads anyway.
    pub fn read_back_to(&self) -> Option<Timestamp> {
        let previous = self.last_sweep.filter(|_| self.calm_since.is_some())?;
        Some(previous - DELIVERY_SETTLES)
    }

    /// Whether the sweeps have seen no sign of loss for at least `long` before `now`.
    pub fn calm(&self, now: Timestamp, long: Duration) -> bool {
        self.calm_since
            .is_some_and(|since| since <= now && now.saturating_since(since) >= long)
    }

    /// A job of `class` was created at `at` (its webhook's `queued` event).
    pub fn arrived(&mut self, class: &str, job: JobId, at: Timestamp) {
        let demand = self.demand.entry(class.to_owned()).or_default();
        demand.arrivals.insert((at, job));
        demand.trim();
    }

    /// A runner of `class` took the job it was started for at `at`, `took` after its task was
    /// created.
    pub fn refilled(&mut self, class: &str, at: Timestamp, took: Duration) {
        let demand = self.demand.entry(class.to_owned()).or_default();
        demand.refills.insert((at, took));
        demand.trim();
    }

    /// `class`'s demand as this process knows it, to share.
    pub fn shared_demand(&self, class: &str) -> SharedDemand {
        let Some(demand) = self.demand.get(class) else {
            return SharedDemand::default();
        };
        SharedDemand {
            arrivals: demand
                .arrivals
                .iter()
                .map(|(at, job)| (at.0, job.0))
                .collect(),
            refills: demand
                .refills
                .iter()
                .map(|(at, took)| (at.0, u64::try_from(took.as_millis()).unwrap_or(u64::MAX)))
                .collect(),
        }
    }

    /// Adds what another process shared of `class`'s demand, within the usual bounds.
    pub fn merge_demand(&mut self, class: &str, shared: &SharedDemand) {
        let demand = self.demand.entry(class.to_owned()).or_default();
        demand.arrivals.extend(
            shared
                .arrivals
                .iter()
                .map(|&(at, job)| (Timestamp(at), JobId(job))),
        );
        demand.refills.extend(
            shared
                .refills
                .iter()
                .map(|&(at, took)| (Timestamp(at), Duration::from_millis(took))),
        );
        demand.trim();
    }

    /// `class`'s demand over the [`HISTORY`] before `now`.
    pub fn demand(&self, class: &str, now: Timestamp) -> Demand {
        let Some(demand) = self.demand.get(class) else {
            return Demand {
                arrivals: Vec::new(),
                refill: refill_time(&[]),
            };
        };
        let refills: Vec<Duration> = demand.refills.iter().map(|(_, took)| *took).collect();
        Demand {
            arrivals: demand
                .arrivals
                .iter()
                .map(|(at, _)| *at)
                .filter(|&at| at <= now && now.saturating_since(at) <= HISTORY)
                .collect(),
            refill: refill_time(&refills),
        }
    }

    /// Jobs remembered (for tests and metrics).
    pub fn remembered(&self) -> usize {
        self.started.len()
    }

    fn runner_mut(&mut self, name: Option<&str>) -> Option<&mut ObservedRunner> {
        let name = name?;
        self.listing
            .as_mut()?
            .runners
            .iter_mut()
            .find(|r| r.name == name)
    }

    fn remember(&mut self, job: JobId, at: Timestamp) {
        // A job seen again (started, then completed) is queued again under its later time; the
        // earlier entry then no longer matches and is dropped without forgetting the job.
        self.started.insert(job, at);
        self.starts.push_back((at, job));
        while let Some(&(seen, oldest)) = self.starts.front() {
            let expired = at.saturating_since(seen) > RECENT_STARTS;
            if !expired && self.starts.len() <= MAX_STARTS {
                break;
            }
            self.starts.pop_front();
            if self.started.get(&oldest) == Some(&seen) {
                self.started.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Timestamp = Timestamp(1_765_000_000_000);

    fn runner(name: &str) -> ObservedRunner {
        ObservedRunner {
            id: 1,
            name: name.into(),
            online: true,
            busy: false,
            labels: vec!["self-hosted".into()],
        }
    }

    fn after(secs: u64) -> Timestamp {
        T0 + Duration::from_secs(secs)
    }

    #[test]
    fn a_listing_is_reused_for_a_minute_and_not_from_the_future() {
        let mut book = Book::default();
        assert!(book.runners(T0).is_none());
        book.listed(T0, vec![runner("a")]);
        assert_eq!(book.runners(after(60)).map(<[_]>::len), Some(1));
        assert!(book.runners(after(61)).is_none());
        assert!(book.runners(T0 - Duration::from_secs(1)).is_none());
    }

    #[test]
    fn events_correct_the_listing() {
        let mut book = Book::default();
        book.listed(T0, vec![runner("a"), runner("b")]);
        book.started(JobId(7), Some("a"), after(5));
        book.completed(JobId(8), Some("b"), after(6));
        book.started(JobId(9), Some("registered-since"), after(7));
        let runners = book.runners(after(10)).expect("fresh");
        assert_eq!(runners.len(), 2);
        assert!(runners.iter().all(|r| r.busy));
        book.listed(after(11), vec![runner("c"), runner("d")]);
        book.claimed(["d"]);
        book.deleted(99);
        let busy: Vec<bool> = book
            .runners(after(12))
            .expect("fresh")
            .iter()
            .map(|r| r.busy)
            .collect();
        assert_eq!(busy, [false, true]);
        assert!(book.has_started(JobId(7), after(10)));
        assert!(book.has_started(JobId(8), after(10)));
        assert!(!book.has_started(JobId(10), after(10)));
    }

    #[test]
    fn calm_needs_a_quiet_stretch_of_sweeps() {
        let mut book = Book::default();
        let long = Duration::from_secs(1800);
        assert!(!book.calm(T0, long), "a cold start knows nothing");
        assert_eq!(book.read_back_to(), None);
        book.swept(T0, false);
        book.swept(after(1000), false);
        assert!(!book.calm(after(1799), long));
        assert!(book.calm(after(1800), long));
        book.swept(after(1900), true);
        assert!(!book.calm(after(4000), long));
        book.swept(after(4000), false);
        assert!(book.calm(after(5800), long));
        assert_eq!(book.read_back_to(), Some(after(4000) - DELIVERY_SETTLES));
        book.swept(after(4060), true);
        assert_eq!(
            book.read_back_to(),
            None,
            "a failure left unsettled is read again"
        );
    }

    #[test]
    fn demand_keeps_an_hour_of_arrivals_once_each() {
        let mut book = Book::default();
        book.arrived("small", JobId(1), T0);
        book.arrived("small", JobId(1), T0); // a redelivered event
        book.arrived("small", JobId(2), after(30));
        book.refilled("small", after(20), Duration::from_secs(40));
        let demand = book.demand("small", after(60));
        assert_eq!(demand.arrivals, [T0, after(30)]);
        assert_eq!(demand.refill, Duration::from_secs(40));
        book.arrived("small", JobId(3), after(3_700));
        assert_eq!(book.demand("small", after(3_700)).arrivals, [after(3_700)]);
        assert!(book.demand("large", T0).arrivals.is_empty());
    }

    #[test]
    fn shared_demand_merges_once_whatever_the_order() {
        let mut one = Book::default();
        one.arrived("small", JobId(1), T0);
        one.arrived("small", JobId(2), after(10));
        one.refilled("small", after(40), Duration::from_secs(30));
        let mut other = Book::default();
        other.arrived("small", JobId(2), after(10));
        other.arrived("small", JobId(3), after(20));
        other.merge_demand("small", &one.shared_demand("small"));
        other.merge_demand("small", &one.shared_demand("small"));
        let demand = other.demand("small", after(60));
        assert_eq!(demand.arrivals, [T0, after(10), after(20)]);
        assert_eq!(demand.refill, Duration::from_secs(30));
        // What the other now shares holds both processes' demand, and merges back as a no-op.
        let merged = other.shared_demand("small");
        one.merge_demand("small", &merged);
        assert_eq!(one.shared_demand("small"), merged);
        assert_eq!(other.shared_demand("large"), SharedDemand::default());
    }

    #[test]
    fn starts_are_forgotten_after_an_hour() {
        let mut book = Book::default();
        book.started(JobId(1), None, T0);
        assert!(book.has_started(JobId(1), after(3600)));
        assert!(!book.has_started(JobId(1), after(3601)));
        book.started(JobId(2), None, after(3601));
        assert_eq!(book.remembered(), 1);
    }

    proptest! {
        #[test]
        fn shared_demand_stays_bounded_and_merges_idempotently(
            arrivals in proptest::collection::vec((0i64..8_000_000, 0u64..100_000), 0..6_000),
            refills in proptest::collection::vec((0i64..8_000_000, 0u64..600_000), 0..200),
        ) {
            let shared = SharedDemand { arrivals, refills };
            let mut book = Book::default();
            book.merge_demand("small", &shared);
            let kept = book.shared_demand("small");
            prop_assert!(kept.arrivals.len() <= MAX_ARRIVALS);
            prop_assert!(kept.refills.len() <= MAX_REFILLS);
            if let (Some(first), Some(last)) = (kept.arrivals.first(), kept.arrivals.last()) {
                prop_assert!(last.0 - first.0 <= HISTORY.as_millis() as i64);
            }
            book.merge_demand("small", &kept);
            prop_assert_eq!(book.shared_demand("small"), kept);
        }

        #[test]
        fn memory_stays_bounded(jobs in proptest::collection::vec((0u64..200_000, 0u64..10), 0..2_000)) {
            let mut book = Book::default();
            let mut at = T0;
            for (job, step) in jobs {
                at = at + Duration::from_secs(step);
                book.started(JobId(job), None, at);
                prop_assert!(book.remembered() <= MAX_STARTS);
                prop_assert!(book.has_started(JobId(job), at));
            }
        }
    }
}
