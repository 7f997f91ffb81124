//! Recovery of lost webhooks: which failed deliveries to redeliver and which long-queued jobs to
//! rescue.
//!
//! GitHub does not retry a failed webhook delivery by itself. Two repairs run on the tick, both
//! drawing on one [`ApiBudget`] of GitHub calls per tick
//! (`manager.github_api_budget_per_tick`) so an outage's backlog is worked off over several
//! ticks instead of exhausting the rate limit at once:
//!
//! - the redelivery sweep ([`plan_redeliveries`]) asks GitHub to deliver failed `workflow_job`
//!   events again, the fast path;
//! - the rescue scan ([`plan_rescue`]) turns jobs still queued after `manager.rescue_after` into
//!   queued-job messages for the normal launch path, the backstop when a delivery cannot be
//!   redelivered or was never attempted. The manager's coverage check then decides as for any
//!   queued job, so a rescued job that already has a runner booting starts nothing more.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use crate::message::{JobMessage, JobRef};
use crate::routing::{route, Route};
use crate::{Config, Timestamp};

/// GitHub API calls left to spend in this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApiBudget {
    remaining: u32,
}

impl ApiBudget {
    /// A budget of `calls` calls.
    pub fn new(calls: u32) -> Self {
        ApiBudget { remaining: calls }
    }

    /// Calls left.
    pub fn remaining(&self) -> u32 {
        self.remaining
    }

    /// Spends one call if any is left; `false` means the caller must not make it.
    #[must_use]
    pub fn try_spend(&mut self) -> bool {
        let spent = self.remaining > 0;
        self.remaining = self.remaining.saturating_sub(1);
        spent
    }

    /// Charges `calls` already made (the pages of a listing, whose count shows only in its
    /// answer), as far as the budget goes.
    pub fn charge(&mut self, calls: u32) {
        self.remaining = self.remaining.saturating_sub(calls);
    }
}

/// The calls a listing of `items` took at `page` items a page: at least the one call.
pub fn listing_pages(items: usize, page: u32) -> u32 {
    u32::try_from(items.div_ceil(page.max(1) as usize).max(1)).unwrap_or(u32::MAX)
}

/// The run job listings a repository scan made beyond its run listing, as far as its answer
/// shows: one per run with a queued job (runs whose jobs all started meanwhile are not seen).
pub fn run_listings(jobs: &[ScannedJob]) -> u32 {
    let runs: BTreeSet<u64> = jobs.iter().map(|job| job.run_id).collect();
    u32::try_from(runs.len()).unwrap_or(u32::MAX)
}

/// The repositories starting at a different one each minute, so a budget that runs out before
/// the end of the list reaches every repository in turn.
pub fn rotated(repos: &[String], now: Timestamp) -> impl Iterator<Item = &String> {
    let start = match repos.len() {
        0 => 0,
        len => usize::try_from(now.0.div_euclid(60_000).rem_euclid(len as i64)).unwrap_or(0),
    };
    repos[start..].iter().chain(&repos[..start])
}

/// The webhook event the sweep redelivers.
pub const WORKFLOW_JOB_EVENT: &str = "workflow_job";

/// Deliveries older than this are not redelivered: GitHub fails a job that waits for a
/// self-hosted runner for more than 24 hours ("Usage limits", GitHub Actions docs), so by then
/// the event can start nothing useful.
pub const REDELIVERY_LOOKBACK: Duration = Duration::from_secs(24 * 3600);

/// Failed attempts (the first delivery and its redeliveries) after which the sweep gives up on
/// an event and leaves the job to the rescue scan: a receiver that failed this often is down,
/// and redelivering would only spend the budget.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 3;

/// One webhook delivery as GitHub lists it (`GET /app/hook/deliveries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Delivery id, used to redeliver.
    pub id: u64,
    /// The event's id, shared by the first delivery and every redelivery of it.
    pub guid: String,
    /// Event name (`X-GitHub-Event`).
    pub event: String,
    /// Event action, e.g. `queued`.
    pub action: Option<String>,
    /// Our endpoint's HTTP status; 0 when GitHub got no answer.
    pub status_code: u16,
    /// Whether this was a redelivery.
    pub redelivery: bool,
    /// When GitHub delivered it.
    pub delivered_at: Timestamp,
}

impl Delivery {
    fn succeeded(&self) -> bool {
        (200..300).contains(&self.status_code)
    }
}

/// What the sweep does with one failed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[must_use]
pub enum RedeliveryDecision {
    /// Ask GitHub to deliver it again (`POST .../deliveries/{id}/attempts`).
    Redeliver,
    /// Another delivery of the same event succeeded.
    Delivered,
    /// Failed too often; the rescue scan covers its job.
    GaveUp {
        /// Failed attempts seen.
        attempts: u32,
    },
    /// `max_redeliveries_per_tick` reached; the next tick takes it.
    TickLimit,
    /// The tick's GitHub budget is spent; the next tick takes it.
    OverBudget,
}

/// Chooses which failed `workflow_job` events to redeliver, one decision per event (its latest
/// failed delivery), in the order they are considered: `queued` events first, since only those
/// start runners, then oldest first.
///
/// Deliveries of other events, older than [`REDELIVERY_LOOKBACK`], or of events with a
/// successful delivery are left out, except that a failed event with a success is reported as
/// [`RedeliveryDecision::Delivered`]. Each redelivery spends one call of `budget`.
pub fn plan_redeliveries<'a>(
    deliveries: &'a [Delivery],
    now: Timestamp,
    max_per_tick: u32,
    budget: &mut ApiBudget,
) -> Vec<(&'a Delivery, RedeliveryDecision)> {
    let recent = deliveries.iter().filter(|d| {
        d.event == WORKFLOW_JOB_EVENT && now.saturating_since(d.delivered_at) <= REDELIVERY_LOOKBACK
    });
    let mut by_event: BTreeMap<&str, Vec<&Delivery>> = BTreeMap::new();
    for delivery in recent {
        by_event
            .entry(delivery.guid.as_str())
            .or_default()
            .push(delivery);
    }
    let mut failed: Vec<(&Delivery, bool, u32)> = by_event
        .into_values()
        .filter_map(|attempts| {
            let latest_failure = attempts
                .iter()
                .filter(|d| !d.succeeded())
                .max_by_key(|d| (d.delivered_at, d.id))?;
            let failures = attempts.iter().filter(|d| !d.succeeded()).count();
            let delivered = attempts.iter().any(|d| d.succeeded());
            Some((
                *latest_failure,
                delivered,
                u32::try_from(failures).unwrap_or(u32::MAX),
            ))
        })
        .collect();
    failed.sort_by_key(|(d, _, _)| (d.action.as_deref() != Some("queued"), d.delivered_at, d.id));

    let mut redelivered = 0;
    failed
        .into_iter()
        .map(|(delivery, delivered, attempts)| {
            let decision = if delivered {
                RedeliveryDecision::Delivered
            } else if attempts >= MAX_DELIVERY_ATTEMPTS {
                RedeliveryDecision::GaveUp { attempts }
            } else if redelivered >= max_per_tick {
                RedeliveryDecision::TickLimit
            } else if !budget.try_spend() {
                RedeliveryDecision::OverBudget
            } else {
                redelivered += 1;
                RedeliveryDecision::Redeliver
            };
            (delivery, decision)
        })
        .collect()
}

/// How often the tick runs: its EventBridge schedule is `rate(1 minute)`, and `serve` ticks on
/// the minute.
pub const TICK_PERIOD: Duration = Duration::from_secs(60);

/// While the redelivery sweep sees no sign of a lost job, each repository is scanned this many
/// `rescue_after` periods apart instead of one.
///
/// The sweep sees every failed delivery within its lookback, and redelivery repairs those
/// within a tick or two; what is left for the scan is a job GitHub never tried to deliver, which
/// nothing in our view announces. Scanning every repository every `rescue_after` for that was
/// most of a busy day's GitHub calls. Calm, a job lost that way waits at most
/// `(CALM_SCAN_FACTOR + 1) × rescue_after` (35 minutes at the default 5) instead of two periods.
pub const CALM_SCAN_FACTOR: u32 = 6;

/// How far apart each repository's scans are: `rescue_after`, or [`CALM_SCAN_FACTOR`] times
/// that once the sweeps have seen no sign of loss for as long.
pub fn scan_period(rescue_after: Duration, calm: bool) -> Duration {
    if calm {
        rescue_after.saturating_mul(CALM_SCAN_FACTOR)
    } else {
        rescue_after
    }
}

/// Whether a sweep suggests a lost job: a failed event it did not settle (given up, or left for
/// a later tick), or a read that did not reach back to the `previous` sweep of this process
/// (unknown on a cold start): deliveries in between were never looked at.
pub fn suggests_loss(
    plan: &[(&Delivery, RedeliveryDecision)],
    read: &[Delivery],
    asked: usize,
    previous: Option<Timestamp>,
) -> bool {
    let unsettled = plan.iter().any(|(_, decision)| {
        !matches!(
            decision,
            RedeliveryDecision::Redeliver | RedeliveryDecision::Delivered
        )
    });
    let everything = read.len() < asked;
    let reached_back =
        previous.is_some_and(|previous| read.iter().any(|d| d.delivered_at <= previous));
    unsettled || !(everything || reached_back)
}

/// Whether the rescue scan looks at `repo` on the tick at `now`.
///
/// Each repository is scanned once per `period` ([`scan_period`]), on a tick chosen by a
/// stable hash of its name, so the scans of many repositories spread over the period instead of
/// all repeating every minute: a job cannot be rescued before it has waited `rescue_after`
/// anyway, and a scan costs GitHub calls from the same hourly rate limit the launch path needs.
/// A lost job is therefore rescued between `rescue_after` and `rescue_after + period` after it
/// was queued.
pub fn scan_due(repo: &str, now: Timestamp, period: Duration) -> bool {
    let slots = (period.as_millis() / TICK_PERIOD.as_millis()).max(1) as u64;
    let tick = now.0.div_euclid(TICK_PERIOD.as_millis() as i64) as u64;
    // FNV-1a: stable across builds and platforms, unlike the standard library's hasher.
    let hash = repo.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    tick % slots == hash % slots
}

/// A queued job found by the rescue scan (the runs and jobs APIs of a repository).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedJob {
    /// Workflow job id.
    pub job_id: u64,
    /// Workflow run id.
    pub run_id: u64,
    /// Repository as `owner/name`.
    pub repo: String,
    /// The job's `runs-on` labels.
    pub labels: Vec<String>,
    /// When GitHub created the job.
    pub created_at: Timestamp,
    /// GitHub App installation the scan used, if any.
    pub installation_id: Option<u64>,
}

/// What the rescue does with one scanned job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[must_use]
pub enum RescueDecision {
    /// Send this queued-job message down the normal launch path.
    Rescue(JobMessage),
    /// Queued for less than `rescue_after`: its webhook and re-checks may still come.
    NotYet {
        /// How long it has been queued.
        queued_for: Duration,
    },
    /// Its labels route to no class.
    Unrouted {
        /// Why, from routing.
        reason: String,
    },
    /// The same job appeared earlier in the scan.
    Duplicate,
    /// The tick's GitHub budget is spent; the next tick takes it.
    OverBudget,
}

/// Chooses which scanned jobs to rescue, oldest first.
///
/// The rescue's attempt number starts after the re-checks' (`recheck_attempts + 1`) and grows
/// by one every `rescue_after` the job keeps waiting. The RunTask client token derived from it
/// is therefore stable from one tick to the next (a repeated rescue cannot double-launch) yet
/// new once per period, so a job whose rescued runner was taken by another job gets another.
/// Each rescue spends one call of `budget`: handling it costs the launch path at least one
/// GitHub call (the JIT config), and bounding it keeps an outage's backlog from stampeding.
pub fn plan_rescue<'a>(
    config: &Config,
    jobs: &'a [ScannedJob],
    now: Timestamp,
    budget: &mut ApiBudget,
) -> Vec<(&'a ScannedJob, RescueDecision)> {
    let settings = &config.manager;
    let mut oldest_first: Vec<&ScannedJob> = jobs.iter().collect();
    oldest_first.sort_by_key(|job| (job.created_at, job.job_id));
    let mut seen = BTreeSet::new();
    oldest_first
        .into_iter()
        .map(|job| {
            let queued_for = now.saturating_since(job.created_at);
            let decision = if !seen.insert(job.job_id) {
                RescueDecision::Duplicate
            } else if queued_for < settings.rescue_after {
                RescueDecision::NotYet { queued_for }
            } else {
                match route(config, &job.labels) {
                    Route::Unmatched { reason, .. } => RescueDecision::Unrouted { reason },
                    Route::Matched { .. } if !budget.try_spend() => RescueDecision::OverBudget,
                    Route::Matched { class, .. } => {
                        let periods =
                            queued_for.as_millis() / settings.rescue_after.as_millis().max(1);
                        let attempt = settings
                            .recheck_attempts
                            .saturating_add(u32::try_from(periods).unwrap_or(u32::MAX));
                        RescueDecision::Rescue(JobMessage::Queued {
                            job: job_ref(job, class.name.clone(), attempt),
                            attempt,
                        })
                    }
                }
            };
            (job, decision)
        })
        .collect()
}

/// The message the webhook would have written for `job`. No delivery announced it, so the
/// delivery id names the rescue instead, for logs.
fn job_ref(job: &ScannedJob, class: String, attempt: u32) -> JobRef {
    JobRef {
        delivery_id: format!("rescue-{}-{attempt}", job.job_id),
        job_id: job.job_id,
        run_id: job.run_id,
        repo: job.repo.clone(),
        owner: job.repo.split('/').next().unwrap_or_default().to_owned(),
        installation_id: job.installation_id,
        labels: job.labels.clone(),
        class,
        created_at: job.created_at.to_datetime(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_starts_at_a_different_repository_each_minute() {
        let repos: Vec<String> = ["a/1", "b/2", "c/3"].map(String::from).into();
        let order = |minute: i64| -> Vec<&str> {
            rotated(&repos, Timestamp(minute * 60_000 + 59_999))
                .map(String::as_str)
                .collect()
        };
        assert_eq!(order(0), ["a/1", "b/2", "c/3"]);
        assert_eq!(order(1), ["b/2", "c/3", "a/1"]);
        assert_eq!(order(5), ["c/3", "a/1", "b/2"]);
        assert_eq!(rotated(&[], Timestamp(0)).count(), 0);
    }

    #[test]
    fn listings_charge_their_pages_within_the_budget() {
        assert_eq!(listing_pages(0, 100), 1);
        assert_eq!(listing_pages(100, 100), 1);
        assert_eq!(listing_pages(101, 100), 2);
        let mut budget = ApiBudget::new(3);
        budget.charge(2);
        assert_eq!(budget.remaining(), 1);
        budget.charge(5);
        assert_eq!(budget.remaining(), 0);
    }

    #[test]
    fn each_repository_is_scanned_once_per_rescue_period() {
        let rescue_after = Duration::from_secs(300);
        let repos: Vec<String> = (0..40).map(|i| format!("acme/repo-{i}")).collect();
        let minute = |m: i64| Timestamp(1_795_000_000_000 + m * 60_000);
        for repo in &repos {
            let due: Vec<i64> = (0..10)
                .filter(|m| scan_due(repo, minute(*m), rescue_after))
                .collect();
            assert_eq!(due.len(), 2, "{repo} is due twice in two periods: {due:?}");
            assert_eq!(due[1] - due[0], 5);
        }
        let busiest = (0..5)
            .map(|m| {
                repos
                    .iter()
                    .filter(|r| scan_due(r, minute(m), rescue_after))
                    .count()
            })
            .max();
        assert!(
            busiest < Some(20),
            "scans spread over the period: {busiest:?}"
        );
        assert!(
            scan_due("acme/app", minute(3), Duration::from_secs(30)),
            "a period shorter than a tick scans every tick"
        );
    }
    use crate::{RunnerClass, TaskSize};
    use proptest::prelude::*;
    use rc_config::ManagerSettings;

    const MIN: Duration = Duration::from_secs(60);
    const NOW: Timestamp = Timestamp(1_000_000_000);

    fn delivery(id: u64, guid: &str, status_code: u16, age: Duration) -> Delivery {
        Delivery {
            id,
            guid: guid.into(),
            event: WORKFLOW_JOB_EVENT.into(),
            action: Some("queued".into()),
            status_code,
            redelivery: id > 100,
            delivered_at: NOW - age,
        }
    }

    #[test]
    fn loss_is_suspected_until_a_sweep_reads_back_to_the_last_one() {
        const MIN: Duration = Duration::from_secs(60);
        let read = [delivery(2, "g2", 200, MIN), delivery(1, "g1", 200, 3 * MIN)];
        let previous = Some(NOW - 2 * MIN);
        // Fewer than asked: everything there is was read.
        assert!(!suggests_loss(&[], &read, 300, None));
        // A full read reaching back past the last sweep saw everything since.
        assert!(!suggests_loss(&[], &read, 2, previous));
        // A full read that stops short of it, or a cold start, may have missed some.
        assert!(suggests_loss(&[], &read, 2, Some(NOW - 4 * MIN)));
        assert!(suggests_loss(&[], &read, 2, None));
        // A failed event left unrepaired.
        let failed = delivery(3, "g3", 502, MIN);
        let plan = [(&failed, RedeliveryDecision::GaveUp { attempts: 3 })];
        assert!(suggests_loss(&plan, &read, 300, previous));
        let plan = [(&failed, RedeliveryDecision::Redeliver)];
        assert!(!suggests_loss(&plan, &read, 300, previous));
    }

    fn decisions(plan: &[(&Delivery, RedeliveryDecision)]) -> Vec<(u64, RedeliveryDecision)> {
        plan.iter().map(|(d, decision)| (d.id, *decision)).collect()
    }

    #[test]
    fn redelivers_a_failed_event_once() {
        let first = [delivery(1, "g1", 503, 5 * MIN)];
        let mut budget = ApiBudget::new(10);
        let plan = plan_redeliveries(&first, NOW, 20, &mut budget);
        assert_eq!(decisions(&plan), [(1, RedeliveryDecision::Redeliver)]);
        assert_eq!(budget.remaining(), 9);
        // Next tick: the redelivery succeeded.
        let next = [
            delivery(1, "g1", 503, 6 * MIN),
            delivery(101, "g1", 202, MIN),
        ];
        let plan = plan_redeliveries(&next, NOW, 20, &mut budget);
        assert_eq!(decisions(&plan), [(1, RedeliveryDecision::Delivered)]);
        assert_eq!(budget.remaining(), 9);
    }

    #[test]
    fn redelivers_the_latest_failure_and_gives_up_after_three() {
        let twice = [
            delivery(1, "g1", 0, 5 * MIN),
            delivery(101, "g1", 500, 4 * MIN),
        ];
        let plan = plan_redeliveries(&twice, NOW, 20, &mut ApiBudget::new(10));
        assert_eq!(decisions(&plan), [(101, RedeliveryDecision::Redeliver)]);
        let thrice = [
            delivery(1, "g1", 0, 5 * MIN),
            delivery(101, "g1", 500, 4 * MIN),
            delivery(102, "g1", 502, 3 * MIN),
        ];
        let plan = plan_redeliveries(&thrice, NOW, 20, &mut ApiBudget::new(10));
        assert_eq!(
            decisions(&plan),
            [(102, RedeliveryDecision::GaveUp { attempts: 3 })]
        );
    }

    #[test]
    fn ignores_other_events_successes_and_old_deliveries() {
        let mut ping = delivery(1, "g1", 500, MIN);
        ping.event = "ping".into();
        let deliveries = [
            ping,
            delivery(2, "g2", 200, MIN),
            delivery(3, "g3", 500, 25 * 60 * MIN),
        ];
        assert!(plan_redeliveries(&deliveries, NOW, 20, &mut ApiBudget::new(10)).is_empty());
    }

    #[test]
    fn queued_events_go_first_then_oldest() {
        let mut completed = delivery(1, "g1", 500, 30 * MIN);
        completed.action = Some("completed".into());
        let deliveries = [
            completed,
            delivery(2, "g2", 500, MIN),
            delivery(3, "g3", 500, 10 * MIN),
        ];
        let plan = plan_redeliveries(&deliveries, NOW, 2, &mut ApiBudget::new(10));
        assert_eq!(
            decisions(&plan),
            [
                (3, RedeliveryDecision::Redeliver),
                (2, RedeliveryDecision::Redeliver),
                (1, RedeliveryDecision::TickLimit),
            ]
        );
    }

    fn config(rescue_after: Duration) -> Config {
        let class = |name: &str| RunnerClass {
            name: name.into(),
            labels: vec!["self-hosted".into(), "linux".into(), name.into()],
            task_definition: format!("runner-{name}"),
            container: "runner".into(),
            size: TaskSize::default(),
            capacity_provider: "cp".into(),
            max_runners: 10,
            idle_timeout: 10 * MIN,
            warm: Vec::new(),
            holidays: Default::default(),
        };
        Config {
            github: rc_config::GithubConfig {
                scope: rc_config::GithubScope::Org("acme".into()),
                api_url: "https://api.github.com".into(),
                runner_group: "Default".into(),
                runner_name_prefix: "rc-".into(),
            },
            manager: ManagerSettings {
                rescue_after,
                recheck_attempts: 5,
                ..ManagerSettings::default()
            },
            classes: vec![class("small"), class("large")],
            benchmarks: None,
        }
    }

    fn scanned(job_id: u64, labels: &[&str], age: Duration) -> ScannedJob {
        ScannedJob {
            job_id,
            run_id: 9,
            repo: "acme/app".into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            created_at: NOW - age,
            installation_id: Some(42),
        }
    }

    #[test]
    fn rescues_long_queued_routable_jobs_as_queued_messages() {
        let jobs = [
            scanned(1, &["self-hosted", "large"], 7 * MIN),
            scanned(2, &["self-hosted", "large"], 2 * MIN),
            scanned(3, &["ubuntu-latest"], 20 * MIN),
            scanned(1, &["self-hosted", "large"], 7 * MIN),
            scanned(4, &["self-hosted", "small"], 16 * MIN),
        ];
        let plan = plan_rescue(&config(5 * MIN), &jobs, NOW, &mut ApiBudget::new(10));
        let ids: Vec<u64> = plan.iter().map(|(job, _)| job.job_id).collect();
        assert_eq!(ids, [3, 4, 1, 1, 2], "oldest first");
        assert!(matches!(plan[0].1, RescueDecision::Unrouted { .. }));
        let RescueDecision::Rescue(JobMessage::Queued { job, attempt }) = &plan[1].1 else {
            panic!("job 4 is rescued: {:?}", plan[1].1);
        };
        assert_eq!(
            (job.class.as_str(), job.owner.as_str(), *attempt),
            ("small", "acme", 8)
        );
        assert!(matches!(
            &plan[2].1,
            RescueDecision::Rescue(JobMessage::Queued { attempt: 6, .. })
        ));
        assert_eq!(plan[3].1, RescueDecision::Duplicate);
        assert_eq!(
            plan[4].1,
            RescueDecision::NotYet {
                queued_for: 2 * MIN
            }
        );
    }

    #[test]
    fn rescue_attempt_is_stable_within_a_period() {
        let config = config(5 * MIN);
        let jobs = [scanned(1, &["self-hosted", "large"], Duration::ZERO)];
        let attempt_at = |later: Duration| match &plan_rescue(
            &config,
            &jobs,
            NOW + later,
            &mut ApiBudget::new(1),
        )[0]
        .1
        {
            RescueDecision::Rescue(JobMessage::Queued { attempt, .. }) => *attempt,
            other => panic!("rescued: {other:?}"),
        };
        assert_eq!(attempt_at(5 * MIN), attempt_at(9 * MIN));
        assert_eq!(attempt_at(10 * MIN), attempt_at(5 * MIN) + 1);
    }

    proptest! {
        #[test]
        fn both_repairs_stay_within_one_budget(
            calls in 0u32..8,
            max_per_tick in 0u32..8,
            failures in proptest::collection::vec((0u8..12, 0u16..600, 0u32..120), 0..30),
            ages in proptest::collection::vec(0u32..60, 0..30),
        ) {
            let deliveries: Vec<Delivery> = failures
                .iter()
                .enumerate()
                .map(|(i, (guid, status, age))| delivery(i as u64, &format!("g{guid}"), *status, *age * MIN))
                .collect();
            let jobs: Vec<ScannedJob> =
                ages.iter().enumerate().map(|(i, age)| scanned(i as u64, &["self-hosted", "large"], *age * MIN)).collect();
            let mut budget = ApiBudget::new(calls);
            let redelivered = plan_redeliveries(&deliveries, NOW, max_per_tick, &mut budget)
                .iter()
                .filter(|(_, d)| *d == RedeliveryDecision::Redeliver)
                .count() as u32;
            let rescued = plan_rescue(&config(5 * MIN), &jobs, NOW, &mut budget)
                .iter()
                .filter(|(_, d)| matches!(d, RescueDecision::Rescue(_)))
                .count() as u32;
            prop_assert!(redelivered <= max_per_tick);
            prop_assert_eq!(redelivered + rescued + budget.remaining(), calls);
        }
    }
}
