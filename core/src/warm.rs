//! Warm pools: how many idle runners a class should keep right now, and what to start or stop to
//! get there.
//!
//! A class's `warm` windows (days, local `from`..`to`, IANA time zone, `idle` count) and its
//! `holidays` give a target at every instant: the largest `idle` among the windows open then, 0
//! outside every window. [`next_change`] says when that target may change next, so the tick and
//! the simulator wake up exactly at a window edge instead of polling.
//!
//! # Windows and daylight-saving time
//!
//! A window of local date `D` is the interval from the first instant the local clock reads `from`
//! on `D` until the first instant it reads `to` (a left-closed, right-open interval of real time).
//! Where the clock skips a time (spring forward), "reads" means "has passed": the edge falls on
//! the transition. With America/New_York and a window 01:30–03:00:
//!
//! - on the spring-forward day (02:00 EST jumps to 03:00 EDT) the window is open 01:30 EST to
//!   03:00 EDT, thirty real minutes, and a window starting at 02:30 opens at 03:00 EDT;
//! - on the fall-back day (02:00 EDT falls back to 01:00 EST) it opens at the first 01:30 (EDT)
//!   and closes at 03:00 EST, two and a half real hours without a gap, although the clock shows
//!   01:00–01:30 twice. A window ending at 01:30 closes at the first 01:30.
//!
//! A window never reopens within its day, so a pool is not trimmed and refilled around a
//! transition. Holidays are dates in the window's own time zone and switch off that date's
//! windows.
//!
//! # Pool decisions
//!
//! [`plan_pool`] is level-triggered like [`crate::scale_up`]: idle runners plus booting warm
//! tasks are topped up to the target within `max_runners`, and the idle runners above the target
//! that have waited `idle_timeout` are trimmed, oldest first. The tick calls it once a minute;
//! [`replenish_on_take`] is the same decision run when a job takes a warm runner, so the pool is
//! refilled at once rather than at the next tick. Which idle runners are surplus is chosen once,
//! by [`idle_surplus`], over runners of either origin: the pool trims the warm ones and the
//! reaper ([`crate::reaper`]) stops the on-demand ones, so the two never name the same runner.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use crate::observed::Origin;
use crate::{RunnerClass, Timestamp, WarmWindow};

/// The fixed part of `class`'s idle target at `now`: the largest `idle` among its windows open
/// at `now` (for a window with a pickup target, its least), 0 outside every window and on
/// holidays. [`pickup_target`] adds what demand asks of windows with a pickup target.
pub fn warm_target(class: &RunnerClass, now: Timestamp) -> u32 {
    window_target(&class.warm, &class.holidays, now)
}

/// Whether any warm window of `class` is open at `now` (whatever its size).
pub fn in_window(class: &RunnerClass, now: Timestamp) -> bool {
    open_windows(&class.warm, &class.holidays, now)
        .next()
        .is_some()
}

/// Whether a window of `class` open at `now` is sized from a pickup target, and so from demand.
pub fn sized_from_demand(class: &RunnerClass, now: Timestamp) -> bool {
    open_windows(&class.warm, &class.holidays, now).any(|window| window.target.is_some())
}

/// The capacity headroom `class` asks for at `now`: the longest `headroom` among its windows
/// open at `now`, `None` outside every window and on holidays.
pub fn headroom(class: &RunnerClass, now: Timestamp) -> Option<Duration> {
    open_windows(&class.warm, &class.holidays, now)
        .filter_map(|window| window.headroom)
        .max()
}

/// What a class's recent demand looks like, for windows with a pickup target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    /// Recent arrivals, oldest first ([`crate::demand::HISTORY`]).
    pub arrivals: Vec<Timestamp>,
    /// Measured time from RunTask to a runner taking its job.
    pub refill: Duration,
}

/// The idle target of `class` at `now`: among its windows open at `now`, the largest of each
/// window's `idle`, or, for a window with a pickup target, what `demand` needs for that pickup
/// ([`crate::demand::idle_for`]) kept within the window's `idle` (its least) and `max`.
pub fn pickup_target(class: &RunnerClass, now: Timestamp, demand: &Demand) -> u32 {
    open_windows(&class.warm, &class.holidays, now)
        .map(|window| match window.target {
            None => window.idle,
            Some(target) => crate::demand::idle_for(&demand.arrivals, demand.refill, target.p95)
                .clamp(window.idle, target.max.max(window.idle)),
        })
        .max()
        .unwrap_or(0)
}

/// The largest `idle` among `windows` open at `now` (none on `holidays`), else 0: the warm
/// target of any pool with warm windows, runner classes and benchmark workers alike.
pub fn window_target(
    windows: &[WarmWindow],
    holidays: &BTreeSet<NaiveDate>,
    now: Timestamp,
) -> u32 {
    open_windows(windows, holidays, now)
        .map(|window| window.idle)
        .max()
        .unwrap_or(0)
}

/// The windows open at `now`.
fn open_windows<'w>(
    windows: &'w [WarmWindow],
    holidays: &'w BTreeSet<NaiveDate>,
    now: Timestamp,
) -> impl Iterator<Item = &'w WarmWindow> + 'w {
    // A window of the local day before or after can still be open at `now` when a transition
    // moves the clock across midnight, so look one day either side.
    (-1..=1)
        .flat_map(move |day| openings(windows, holidays, now, day))
        .filter(move |(_, open, close)| *open <= now && now < *close)
        .map(|(window, _, _)| window)
}

/// The next instant after `now` at which [`warm_target`] may change (a window opening or
/// closing), or `None` when no window of `class` ever opens again.
///
/// The target is constant from `now` until just before the returned instant. An edge between
/// windows of the same `idle` is returned too; waking up there is harmless.
pub fn next_change(class: &RunnerClass, now: Timestamp) -> Option<Timestamp> {
    if class.warm.is_empty() {
        return None;
    }
    // A week covers every weekday; holidays can push the next opening past their last date.
    let today = now.to_datetime().date_naive();
    let past_holidays = class
        .holidays
        .last()
        .map_or(0, |last| (*last - today).num_days().max(0));
    let horizon = past_holidays + 8;
    let mut best: Option<Timestamp> = None;
    let mut found_on = None;
    for day in -1..=horizon {
        // The edges of the window-local day `day` lie between `now + (day - 1)` and
        // `now + (day + 1)` days, give or take a transition: a day more than two after the
        // first hit cannot beat it.
        if found_on.is_some_and(|found: i64| day > found + 2) {
            break;
        }
        for (_, open, close) in openings(&class.warm, &class.holidays, now, day) {
            for edge in [open, close].into_iter().filter(|edge| *edge > now) {
                best = Some(best.map_or(edge, |b| b.min(edge)));
            }
        }
        if best.is_some() && found_on.is_none() {
            found_on = Some(day);
        }
    }
    best
}

/// The open interval of every window of `class` on the local date `day` days from `now`'s own
/// local date (in each window's zone), skipping holidays and days the window does not run.
fn openings<'w>(
    windows: &'w [WarmWindow],
    holidays: &'w BTreeSet<NaiveDate>,
    now: Timestamp,
    day: i64,
) -> impl Iterator<Item = (&'w WarmWindow, Timestamp, Timestamp)> + 'w {
    windows.iter().filter_map(move |window| {
        let tz = window.timezone;
        let today = now.to_datetime().with_timezone(&tz).date_naive();
        let date = today.checked_add_signed(chrono::TimeDelta::days(day))?;
        if !window.days.contains(&date.weekday()) || holidays.contains(&date) {
            return None;
        }
        let open = first_instant_reading(tz, date.and_time(window.from));
        let close = first_instant_reading(tz, date.and_time(window.to));
        Some((window, open, close))
    })
}

/// The first instant at which the clock of `tz` reads `local` or, if the clock skips it, has
/// just passed it.
fn first_instant_reading(tz: Tz, local: NaiveDateTime) -> Timestamp {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
            Timestamp::from_datetime(at.to_utc())
        }
        LocalResult::None => first_instant_after_gap(tz, local),
    }
}

/// Binary search for the transition that skips `local`, to the second (tz offsets change on
/// whole seconds). UTC offsets are under a day, so the clock reads less than `local` a day
/// before `local`-as-UTC and at least `local` a day after; a gap has no other transition
/// within that range in any real zone, which keeps the predicate monotone.
fn first_instant_after_gap(tz: Tz, local: NaiveDateTime) -> Timestamp {
    const DAY_SECS: i64 = 86_400;
    let reads_at_least = |secs: i64| {
        let at = chrono::DateTime::from_timestamp(secs, 0).expect("within chrono's range");
        tz.from_utc_datetime(&at.naive_utc()).naive_local() >= local
    };
    let centre = local.and_utc().timestamp();
    let (mut before, mut after) = (centre - DAY_SECS, centre + DAY_SECS);
    while after - before > 1 {
        let mid = before + (after - before) / 2;
        if reads_at_least(mid) {
            after = mid;
        } else {
            before = mid;
        }
    }
    Timestamp::from_secs(after)
}

/// One idle runner of a class: registered, online, not busy, with the live task it runs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdleRunner {
    /// GitHub's runner id.
    pub runner_id: u64,
    /// Runner name.
    pub runner_name: String,
    /// ARN of the task the runner runs in.
    pub task_arn: String,
    /// Why the task was started.
    pub origin: Origin,
    /// Since when the runner has been waiting for a job.
    pub idle_since: Timestamp,
}

/// What is observed of one class's pool right now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PoolObservation {
    /// Registered, online, not busy runners of the class.
    pub idle: Vec<IdleRunner>,
    /// Live warm-origin tasks whose runner is not online yet. Tasks booting for a job are not
    /// counted: their job will take them.
    pub booting_warm: u32,
    /// Every live task of the class, whatever its state: what `max_runners` bounds.
    pub live_tasks: u32,
}

/// What to do to one class's warm pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use]
pub struct PoolPlan {
    /// The target idle count this plan aims at.
    pub target: u32,
    /// Idle runners plus booting warm tasks: what counts towards the target.
    pub ready: u32,
    /// Warm runners to start now.
    pub top_up: u32,
    /// Starts the target wanted but `max_runners` did not allow.
    pub held_back: u32,
    /// Warm-origin idle runners to stop (busy-safe), oldest-idle first.
    pub trim: Vec<IdleRunner>,
}

/// Decides the top-up and trim of `class`'s pool against `target`.
///
/// Never starts more than `max_runners - live_tasks`; never trims an idle runner that has waited
/// less than `idle_timeout` or that the target still needs.
pub fn plan_pool(
    class: &RunnerClass,
    target: u32,
    observed: &PoolObservation,
    now: Timestamp,
) -> PoolPlan {
    let ready = count(observed.idle.len()).saturating_add(observed.booting_warm);
    let wanted = target.saturating_sub(ready);
    let top_up = wanted.min(class.max_runners.saturating_sub(observed.live_tasks));
    let trim = idle_surplus(&observed.idle, target, class.idle_timeout, now)
        .into_iter()
        .filter(|runner| runner.origin == Origin::Warm)
        .cloned()
        .collect();
    PoolPlan {
        target,
        ready,
        top_up,
        held_back: wanted - top_up,
        trim,
    }
}

/// How many warm runners to start at once after a job took one of `class`'s idle runners.
///
/// The pool decision itself, on a fresh observation: if the runner list still shows the taken
/// runner idle, this answers 0 and the next tick tops up.
pub fn replenish_on_take(
    class: &RunnerClass,
    target: u32,
    now: Timestamp,
    observed: &PoolObservation,
) -> u32 {
    plan_pool(class, target, observed, now).top_up
}

/// The idle runners beyond `target` that have waited at least `idle_timeout`, oldest-idle first
/// (ties broken by name, so the choice is deterministic).
///
/// Runners of both origins count: any idle runner of the class serves the next job equally.
pub fn idle_surplus(
    idle: &[IdleRunner],
    target: u32,
    idle_timeout: Duration,
    now: Timestamp,
) -> Vec<&IdleRunner> {
    let mut oldest_first: Vec<&IdleRunner> = idle.iter().collect();
    oldest_first
        .sort_by(|a, b| (a.idle_since, &a.runner_name).cmp(&(b.idle_since, &b.runner_name)));
    let above_target = idle.len().saturating_sub(target as usize);
    oldest_first
        .into_iter()
        .take(above_target)
        .take_while(|runner| now.saturating_since(runner.idle_since) >= idle_timeout)
        .collect()
}

fn count(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::{ClassView, ObservedRunner, ObservedTask, TaskState};
    use crate::TaskSize;
    use chrono::{NaiveDate, NaiveTime, Weekday};
    use proptest::prelude::*;

    const MIN: Duration = Duration::from_secs(60);

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::from_datetime(
            chrono::DateTime::parse_from_rfc3339(rfc3339)
                .expect("valid test time")
                .to_utc(),
        )
    }

    fn hm(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").expect("valid test time of day")
    }

    fn window(days: &[Weekday], from: &str, to: &str, tz: Tz, idle: u32) -> WarmWindow {
        WarmWindow {
            days: days.to_vec(),
            from: hm(from),
            to: hm(to),
            timezone: tz,
            idle,
            target: None,
            headroom: None,
        }
    }

    const WEEKDAYS: [Weekday; 5] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];

    fn class() -> RunnerClass {
        RunnerClass {
            name: "large".into(),
            labels: vec!["self-hosted".into(), "large".into()],
            task_definition: "runner-large".into(),
            container: "runner".into(),
            size: TaskSize::default(),
            capacity_provider: "cp".into(),
            max_runners: 10,
            idle_timeout: 10 * MIN,
            warm: Vec::new(),
            holidays: Default::default(),
        }
    }

    fn tokyo_business_hours(idle: u32) -> RunnerClass {
        RunnerClass {
            warm: vec![window(&WEEKDAYS, "09:00", "20:00", Tz::Asia__Tokyo, idle)],
            holidays: ["2026-11-03".parse().expect("valid date")].into(),
            ..class()
        }
    }

    fn new_york_sunday(from: &str, to: &str) -> RunnerClass {
        RunnerClass {
            warm: vec![window(&[Weekday::Sun], from, to, Tz::America__New_York, 2)],
            ..class()
        }
    }

    #[test]
    fn weekday_business_hours_in_tokyo() {
        let class = tokyo_business_hours(3);
        assert_eq!(
            warm_target(&class, at("2026-11-20T10:00:00+09:00")),
            3,
            "Friday 10:00"
        );
        assert_eq!(
            warm_target(&class, at("2026-11-20T21:00:00+09:00")),
            0,
            "Friday 21:00"
        );
        assert_eq!(
            warm_target(&class, at("2026-11-20T08:59:59+09:00")),
            0,
            "before opening"
        );
        assert_eq!(
            warm_target(&class, at("2026-11-21T10:00:00+09:00")),
            0,
            "Saturday"
        );
    }

    #[test]
    fn a_pickup_target_sizes_the_pool_from_demand_within_its_bounds() {
        let mut class = tokyo_business_hours(1);
        class.warm[0].target = Some(rc_config::PickupTarget {
            p95: Duration::from_secs(10),
            max: 6,
        });
        let now = at("2026-11-20T10:00:00+09:00");
        let demand = |burst: usize| Demand {
            // Fan-outs of `burst` jobs, a minute apart, over the last hour.
            arrivals: (1..=60u64)
                .flat_map(|m| std::iter::repeat_n(now - Duration::from_secs(60 * m), burst))
                .rev()
                .collect(),
            refill: Duration::from_secs(40),
        };
        assert!(in_window(&class, now));
        assert_eq!(
            pickup_target(&class, now, &Demand::default()),
            1,
            "no demand: min"
        );
        assert_eq!(pickup_target(&class, now, &demand(4)), 4);
        assert_eq!(pickup_target(&class, now, &demand(9)), 6, "at most max");
        let night = at("2026-11-20T22:00:00+09:00");
        assert!(!in_window(&class, night));
        assert_eq!(
            pickup_target(&class, night, &demand(9)),
            0,
            "outside the window"
        );
        assert_eq!(warm_target(&class, now), 1, "the fixed part is the least");
    }

    #[test]
    fn window_edges_are_from_inclusive_to_exclusive() {
        let class = tokyo_business_hours(3);
        assert_eq!(warm_target(&class, at("2026-11-20T09:00:00+09:00")), 3);
        assert_eq!(warm_target(&class, at("2026-11-20T19:59:59.999+09:00")), 3);
        assert_eq!(warm_target(&class, at("2026-11-20T20:00:00+09:00")), 0);
    }

    #[test]
    fn holiday_keeps_the_pool_empty() {
        let class = tokyo_business_hours(3);
        assert_eq!(
            warm_target(&class, at("2026-11-03T10:00:00+09:00")),
            0,
            "Culture Day"
        );
        assert_eq!(
            warm_target(&class, at("2026-11-04T10:00:00+09:00")),
            3,
            "day after"
        );
    }

    #[test]
    fn days_are_local_to_the_window() {
        // Monday 08:00 in Tokyo is still Sunday in UTC: the window's own zone decides.
        let class = tokyo_business_hours(3);
        assert_eq!(
            warm_target(&class, at("2026-11-23T00:30:00Z")),
            3,
            "Monday 09:30 JST"
        );
    }

    #[test]
    fn overlapping_windows_take_the_largest() {
        let class = RunnerClass {
            warm: vec![
                window(&WEEKDAYS, "09:00", "20:00", Tz::Asia__Tokyo, 2),
                window(&[Weekday::Fri], "12:00", "14:00", Tz::Asia__Tokyo, 5),
                window(&[Weekday::Fri], "13:00", "15:00", Tz::Asia__Tokyo, 1),
            ],
            ..class()
        };
        assert_eq!(warm_target(&class, at("2026-11-20T13:30:00+09:00")), 5);
        assert_eq!(warm_target(&class, at("2026-11-20T14:30:00+09:00")), 2);
        assert_eq!(
            warm_target(&class, at("2026-11-19T13:30:00+09:00")),
            2,
            "Thursday"
        );
    }

    #[test]
    fn spring_forward_shortens_a_window_across_the_gap() {
        // 2026-03-08: 02:00 EST (07:00Z) jumps to 03:00 EDT.
        let class = new_york_sunday("01:30", "03:00");
        assert_eq!(warm_target(&class, at("2026-03-08T06:29:59Z")), 0);
        assert_eq!(
            warm_target(&class, at("2026-03-08T06:30:00Z")),
            2,
            "01:30 EST"
        );
        assert_eq!(warm_target(&class, at("2026-03-08T06:59:59Z")), 2);
        assert_eq!(
            warm_target(&class, at("2026-03-08T07:00:00Z")),
            0,
            "03:00 EDT"
        );
        assert_eq!(
            next_change(&class, at("2026-03-08T06:40:00Z")),
            Some(at("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn spring_forward_opens_a_window_that_starts_in_the_gap_at_the_transition() {
        let class = new_york_sunday("02:30", "04:00");
        assert_eq!(
            next_change(&class, at("2026-03-08T00:00:00Z")),
            Some(at("2026-03-08T07:00:00Z"))
        );
        assert_eq!(warm_target(&class, at("2026-03-08T06:59:59Z")), 0);
        assert_eq!(
            warm_target(&class, at("2026-03-08T07:00:00Z")),
            2,
            "03:00 EDT"
        );
        assert_eq!(
            warm_target(&class, at("2026-03-08T08:00:00Z")),
            0,
            "04:00 EDT"
        );
    }

    #[test]
    fn fall_back_keeps_a_window_open_through_the_repeated_hour() {
        // 2026-11-01: 02:00 EDT (06:00Z) falls back to 01:00 EST.
        let class = new_york_sunday("01:30", "03:00");
        assert_eq!(warm_target(&class, at("2026-11-01T05:29:59Z")), 0);
        assert_eq!(
            warm_target(&class, at("2026-11-01T05:30:00Z")),
            2,
            "first 01:30 (EDT)"
        );
        assert_eq!(
            warm_target(&class, at("2026-11-01T06:15:00Z")),
            2,
            "01:15 EST, second pass"
        );
        assert_eq!(warm_target(&class, at("2026-11-01T07:59:59Z")), 2);
        assert_eq!(
            warm_target(&class, at("2026-11-01T08:00:00Z")),
            0,
            "03:00 EST"
        );
        assert_eq!(
            next_change(&class, at("2026-11-01T05:45:00Z")),
            Some(at("2026-11-01T08:00:00Z"))
        );
    }

    #[test]
    fn fall_back_closes_at_the_first_reading_of_to() {
        let class = new_york_sunday("00:00", "01:30");
        assert_eq!(warm_target(&class, at("2026-11-01T05:29:59Z")), 2);
        assert_eq!(
            warm_target(&class, at("2026-11-01T05:30:00Z")),
            0,
            "first 01:30 (EDT)"
        );
        assert_eq!(
            warm_target(&class, at("2026-11-01T06:45:00Z")),
            0,
            "01:45 EST, second pass"
        );
    }

    #[test]
    fn next_change_is_the_next_window_edge() {
        let class = tokyo_business_hours(3);
        let friday_ten = at("2026-11-20T10:00:00+09:00");
        assert_eq!(
            next_change(&class, friday_ten),
            Some(at("2026-11-20T20:00:00+09:00"))
        );
        let friday_night = at("2026-11-20T21:00:00+09:00");
        assert_eq!(
            next_change(&class, friday_night),
            Some(at("2026-11-23T09:00:00+09:00"))
        );
        let before_holiday = at("2026-11-02T21:00:00+09:00");
        assert_eq!(
            next_change(&class, before_holiday),
            Some(at("2026-11-04T09:00:00+09:00"))
        );
    }

    #[test]
    fn next_change_skips_a_long_run_of_holidays() {
        let mut class = tokyo_business_hours(3);
        let first: NaiveDate = "2026-12-28".parse().expect("valid date");
        class.holidays = (0..30).map(|d| first + chrono::Days::new(d)).collect();
        assert_eq!(
            next_change(&class, at("2026-12-25T21:00:00+09:00")),
            Some(at("2027-01-27T09:00:00+09:00")),
        );
    }

    #[test]
    fn no_window_means_no_change() {
        assert_eq!(next_change(&class(), at("2026-11-20T10:00:00+09:00")), None);
        let never = RunnerClass {
            warm: vec![window(&[], "09:00", "20:00", Tz::Asia__Tokyo, 3)],
            ..class()
        };
        assert_eq!(next_change(&never, at("2026-11-20T10:00:00+09:00")), None);
    }

    fn idle(name: &str, origin: Origin, idle_since: Timestamp) -> IdleRunner {
        IdleRunner {
            runner_id: name.len() as u64,
            runner_name: name.into(),
            task_arn: format!("arn:task/{name}"),
            origin,
            idle_since,
        }
    }

    fn pool(idle: Vec<IdleRunner>, booting_warm: u32, extra_live: u32) -> PoolObservation {
        let live_tasks = idle.len() as u32 + booting_warm + extra_live;
        PoolObservation {
            idle,
            booting_warm,
            live_tasks,
        }
    }

    #[test]
    fn tops_up_idle_and_booting_to_the_target() {
        let now = at("2026-11-20T10:00:00Z");
        let observed = pool(vec![idle("rc-a", Origin::Warm, now)], 1, 0);
        let plan = plan_pool(&class(), 5, &observed, now);
        assert_eq!((plan.ready, plan.top_up, plan.held_back), (2, 3, 0));
        assert!(plan.trim.is_empty());
    }

    #[test]
    fn top_up_stops_at_max_runners() {
        let now = at("2026-11-20T10:00:00Z");
        let observed = pool(Vec::new(), 0, 8);
        let plan = plan_pool(&class(), 5, &observed, now);
        assert_eq!((plan.top_up, plan.held_back), (2, 3));
    }

    #[test]
    fn trims_only_past_idle_timeout_and_never_below_target() {
        let now = at("2026-11-20T12:00:00Z");
        let observed = pool(
            vec![
                idle("rc-new", Origin::Warm, now - 5 * MIN),
                idle("rc-oldest", Origin::Warm, now - 60 * MIN),
                idle("rc-old", Origin::Warm, now - 30 * MIN),
                idle("rc-older", Origin::Warm, now - 45 * MIN),
            ],
            0,
            0,
        );
        let names = |plan: &PoolPlan| -> Vec<String> {
            plan.trim.iter().map(|r| r.runner_name.clone()).collect()
        };
        assert_eq!(
            names(&plan_pool(&class(), 2, &observed, now)),
            ["rc-oldest", "rc-older"]
        );
        // With no target, the runner idle for 5 minutes is still within its 10-minute timeout.
        assert_eq!(
            names(&plan_pool(&class(), 0, &observed, now)),
            ["rc-oldest", "rc-older", "rc-old"]
        );
        assert!(plan_pool(&class(), 4, &observed, now).trim.is_empty());
    }

    #[test]
    fn pool_trims_warm_runners_and_leaves_on_demand_ones_to_the_reaper() {
        let now = at("2026-11-20T12:00:00Z");
        let observed = pool(
            vec![
                idle("rc-job", Origin::Job, now - 60 * MIN),
                idle("rc-warm", Origin::Warm, now - 30 * MIN),
            ],
            0,
            0,
        );
        let surplus = idle_surplus(&observed.idle, 0, 10 * MIN, now);
        assert_eq!(surplus.len(), 2);
        let plan = plan_pool(&class(), 0, &observed, now);
        assert_eq!(plan.trim.len(), 1);
        assert_eq!(plan.trim[0].runner_name, "rc-warm");
        // A target of one keeps the runner idle the shortest and removes the on-demand one only.
        assert!(plan_pool(&class(), 1, &observed, now).trim.is_empty());
    }

    #[test]
    fn replenish_after_a_take_in_an_open_window() {
        let class = tokyo_business_hours(3);
        let now = at("2026-11-20T10:00:00+09:00");
        let after_take = pool(
            vec![
                idle("rc-a", Origin::Warm, now),
                idle("rc-b", Origin::Warm, now),
            ],
            0,
            1,
        );
        let target = warm_target(&class, now);
        assert_eq!(replenish_on_take(&class, target, now, &after_take), 1);
        let at_night = at("2026-11-20T21:00:00+09:00");
        let target = warm_target(&class, at_night);
        assert_eq!(replenish_on_take(&class, target, at_night, &after_take), 0);
    }

    fn task(name: &str, state: TaskState, origin: Option<Origin>, class: &str) -> ObservedTask {
        ObservedTask {
            arn: format!("arn:task/{name}"),
            state,
            size: TaskSize::default(),
            capacity_provider: None,
            created_at: Timestamp(1_000),
            boot_started_at: None,
            controller: None,
            class: Some(class.into()),
            job_id: None,
            runner_name: Some(name.into()),
            origin,
            min_step: None,
            headroom: None,
            jit_parameter: None,
        }
    }

    fn runner(name: &str, online: bool, busy: bool) -> ObservedRunner {
        ObservedRunner {
            id: 7,
            name: name.into(),
            online,
            busy,
            labels: Vec::new(),
        }
    }

    #[test]
    fn observe_joins_tasks_and_runners_of_one_class() {
        let tasks = [
            task("rc-idle", TaskState::Running, Some(Origin::Warm), "large"),
            task("rc-busy", TaskState::Running, Some(Origin::Warm), "large"),
            task(
                "rc-boot-warm",
                TaskState::Pending,
                Some(Origin::Warm),
                "large",
            ),
            task(
                "rc-boot-job",
                TaskState::Provisioning,
                Some(Origin::Job),
                "large",
            ),
            task("rc-untagged-origin", TaskState::Running, None, "large"),
            task(
                "rc-stopped",
                TaskState::Stopped,
                Some(Origin::Warm),
                "large",
            ),
            task("rc-other", TaskState::Running, Some(Origin::Warm), "small"),
        ];
        let runners = [
            runner("rc-idle", true, false),
            runner("rc-busy", true, true),
            runner("rc-boot-warm", false, false),
            runner("rc-untagged-origin", true, false),
            runner("rc-other", true, false),
        ];
        let observed = ClassView::observe("large", &tasks, &runners).pool();
        assert_eq!(observed.live_tasks, 5);
        assert_eq!(observed.booting_warm, 1);
        let idle: Vec<(&str, Origin)> = observed
            .idle
            .iter()
            .map(|r| (r.runner_name.as_str(), r.origin))
            .collect();
        assert_eq!(
            idle,
            [
                ("rc-idle", Origin::Warm),
                ("rc-untagged-origin", Origin::Job)
            ]
        );
        assert_eq!(observed.idle[0].idle_since, Timestamp(1_000));
    }

    fn arb_pool() -> impl Strategy<Value = (PoolObservation, Timestamp)> {
        let now = Timestamp(10_000_000);
        (
            proptest::collection::vec((any::<bool>(), 0u64..7_200), 0..12),
            0u32..6,
            0u32..20,
        )
            .prop_map(move |(idle_runners, booting_warm, extra)| {
                let idle = idle_runners
                    .into_iter()
                    .enumerate()
                    .map(|(i, (warm, secs))| {
                        let origin = if warm { Origin::Warm } else { Origin::Job };
                        self::idle(&format!("rc-{i}"), origin, now - Duration::from_secs(secs))
                    })
                    .collect();
                (pool(idle, booting_warm, extra), now)
            })
    }

    proptest! {
        #[test]
        fn top_up_never_exceeds_max(max in 0u32..20, target in 0u32..20, (observed, now) in arb_pool()) {
            let class = RunnerClass { max_runners: max, ..class() };
            let plan = plan_pool(&class, target, &observed, now);
            prop_assert!(plan.top_up <= max.saturating_sub(observed.live_tasks));
            prop_assert!(plan.ready + plan.top_up + plan.held_back >= target);
        }

        #[test]
        fn trim_keeps_the_target_and_the_recently_idle(target in 0u32..20, (observed, now) in arb_pool()) {
            let surplus = idle_surplus(&observed.idle, target, 10 * MIN, now);
            prop_assert!(observed.idle.len() - surplus.len() >= observed.idle.len().min(target as usize));
            for runner in &surplus {
                prop_assert!(now.saturating_since(runner.idle_since) >= 10 * MIN);
            }
            let plan = plan_pool(&class(), target, &observed, now);
            prop_assert!(plan.trim.iter().all(|r| r.origin == Origin::Warm));
            prop_assert!(plan.top_up == 0 || plan.trim.is_empty());
        }

        #[test]
        fn target_is_constant_until_next_change(
            start in 1_767_225_600i64..1_830_297_600,
            probes in proptest::collection::vec(0.0f64..1.0, 1..8),
        ) {
            // 2026–2027 in New York (with DST) and Tokyo, two overlapping windows and a holiday.
            let class = RunnerClass {
                warm: vec![
                    window(&[Weekday::Sun, Weekday::Mon], "01:30", "03:00", Tz::America__New_York, 2),
                    window(&WEEKDAYS, "09:00", "20:00", Tz::Asia__Tokyo, 3),
                ],
                holidays: ["2026-11-03".parse().expect("valid date")].into(),
                ..class()
            };
            let now = Timestamp::from_secs(start);
            let next = next_change(&class, now).expect("weekly windows always change");
            prop_assert!(next > now);
            prop_assert!(next.0 - now.0 <= 8 * 86_400_000);
            let target = warm_target(&class, now);
            for p in probes {
                let probe = Timestamp(now.0 + ((next.0 - now.0) as f64 * p) as i64);
                prop_assert_eq!(warm_target(&class, probe), target);
            }
        }
    }
}
