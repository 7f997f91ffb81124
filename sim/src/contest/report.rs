//! What the contest reports per pool: queue waits (request accepted until a worker started
//! the job), fairness between teams, worker time and cost, and whether the goal holds.
//!
//! Waits come from the benchmark store's own records (`queued_at`, `started_at`), worker time
//! from the world's tasks, instance time and cost from the world's accounts, the same as every
//! other scenario's.

use std::collections::BTreeMap;
use std::fmt;

use rc_bench::memory::MemoryStore;
use rc_config::Config;
use rc_core::bench::JobStatus;
use rc_core::observed::Origin;
use rc_core::Timestamp;
use serde::Serialize;

use super::driver::Contest;
use super::workload::{BENCHMARK, CONTEST, TEAMS};
use crate::metrics::{by_arrival, round2, summarize};
use crate::params::WorldParams;
use crate::policy::ours::Msg;
use crate::report::{secs, write_table, LatencySummary, Ordered, RunReport};
use crate::world::{Phase, World};

/// A team whose mean wait is under this counts as waiting this long in the fairness ratio:
/// below a second the ratio would measure noise (and divide by zero).
const FAIRNESS_FLOOR_S: f64 = 1.0;

/// One pool's contest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolReport {
    /// Pool name: `ours`, `fixed-N`.
    pub pool: String,
    /// The most workers the pool may have.
    pub max_workers: u32,
    /// `POST /benchmarks` calls.
    pub requests: u64,
    /// Requests accepted (202).
    pub accepted: u64,
    /// Requests refused, by HTTP status (409: the team's job still active; 403: closed).
    pub refused: Ordered<u64>,
    /// Accepted jobs that ran to a result.
    pub finished: u64,
    /// Accepted jobs without a result when the run ended.
    pub unfinished: u64,
    /// Jobs a worker started more than once (never, with the store's conditional writes).
    pub started_twice: u64,
    /// Request accepted until a worker started the job, over every started job.
    pub wait_s: LatencySummary,
    /// Each team's mean wait, seconds.
    pub team_mean_wait_s: Ordered<f64>,
    /// The worst team's mean wait over the best team's (at least a second).
    pub fairness: f64,
    /// Live worker task time, booting included.
    pub worker_minutes: f64,
    /// Most workers live at once.
    pub peak_workers: u32,
    /// EC2 instance-hours of the cluster.
    pub instance_hours: f64,
    /// EC2 cost at on-demand list prices, USD.
    pub cost_usd: f64,
    /// Tasks started above their cap, and desired capacities above a group's max.
    pub max_violations: u64,
    /// Whether p95 wait is within the goal.
    pub goal_met: bool,
    /// The world's own report, for the charts (its pickup series holds the waits).
    #[serde(skip)]
    pub world: RunReport,
}

/// Every pool's contest, side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContestComparison {
    /// `contest`.
    pub scenario: String,
    /// The seed of the teams and of every world.
    pub seed: u64,
    /// The opening, RFC 3339.
    pub start: String,
    /// Hours the contest accepts requests.
    pub hours: f64,
    /// Teams.
    pub teams: u64,
    /// The goal: p95 wait at most one benchmark (its longest) plus a task start (its longest).
    pub goal_p95_s: f64,
    /// One report per pool, in run order.
    pub pools: Ordered<PoolReport>,
}

impl ContestComparison {
    /// The single-line JSON object `--json` prints.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports always serialize")
    }

    /// The report of `pool`.
    pub fn pool(&self, pool: &str) -> Option<&PoolReport> {
        self.pools.get(pool)
    }

    /// The cheapest pool other than `ours` that meets the goal, if any: what ours must cost
    /// less than.
    pub fn cheapest_fixed_meeting_goal(&self) -> Option<&PoolReport> {
        self.pools
            .0
            .iter()
            .map(|(_, r)| r)
            .filter(|r| r.pool != "ours" && r.goal_met)
            .min_by(|a, b| a.cost_usd.total_cmp(&b.cost_usd))
    }
}

pub(crate) fn compare(
    config: &Config,
    params: &WorldParams,
    seed: u64,
    pools: Vec<(String, PoolReport)>,
) -> ContestComparison {
    let window = config
        .benchmarks
        .as_ref()
        .and_then(|b| b.window)
        .expect("a contest config");
    let goal = goal_p95_s(params);
    let mut pools = pools;
    for (_, report) in &mut pools {
        report.goal_met = report.wait_s.count > 0 && report.wait_s.p95 <= goal;
    }
    ContestComparison {
        scenario: "contest".into(),
        seed,
        start: window.from.to_rfc3339(),
        hours: CONTEST.as_secs_f64() / 3600.0,
        teams: TEAMS as u64,
        goal_p95_s: goal,
        pools: Ordered(pools),
    }
}

/// One benchmark at its longest plus a task start at its longest.
fn goal_p95_s(params: &WorldParams) -> f64 {
    BENCHMARK.1.as_secs_f64() + params.task_start.max_ms as f64 / 1000.0
}

/// The worst team mean over the best, the best floored at [`FAIRNESS_FLOOR_S`].
pub(crate) fn fairness(team_means_s: &[f64]) -> f64 {
    if team_means_s.is_empty() {
        return 1.0;
    }
    let worst = team_means_s.iter().copied().fold(0.0, f64::max);
    let best = team_means_s.iter().copied().fold(f64::INFINITY, f64::min);
    round2(worst.max(FAIRNESS_FLOOR_S) / best.max(FAIRNESS_FLOOR_S))
}

/// The most intervals `[from, to)` open at once.
pub(crate) fn peak(lives: &[(Timestamp, Timestamp)]) -> u32 {
    let mut edges: Vec<(Timestamp, i32)> = lives
        .iter()
        .flat_map(|&(from, to)| [(from, 1), (to, -1)])
        .collect();
    // At the same instant an end comes before a start: a replacement is not an overlap.
    edges.sort();
    let (mut open, mut most) = (0i32, 0i32);
    for (_, delta) in edges {
        open += delta;
        most = most.max(open);
    }
    most as u32
}

/// Builds `contest`'s report and closes `world`'s accounts.
pub(crate) fn pool_report(
    name: &str,
    max_workers: u32,
    contest: &Contest,
    world: World<'_, Msg>,
) -> PoolReport {
    let end = world.end;
    let lives: Vec<(Timestamp, Timestamp)> = world
        .tasks
        .iter()
        .filter(|t| t.origin == Origin::Bench)
        .map(|t| {
            let stopped = (t.phase == Phase::Stopped).then_some(t.phase_since);
            (t.created_at, stopped.unwrap_or(end))
        })
        .collect();
    let worker_ms: u128 = lives
        .iter()
        .map(|(from, to)| to.saturating_since(*from).as_millis())
        .sum();
    let start = world.start;
    let mut run = world.finish(name);

    let Waits {
        waits,
        team_means,
        finished,
    } = waits(&contest.store);
    let accepted = contest.store.jobs().len() as u64;
    let mut all_ms: Vec<u64> = waits.iter().map(|&(_, ms)| ms).collect();
    run.series.pickup_over_time = by_arrival(start, &waits);
    let means: Vec<f64> = team_means.iter().map(|(_, s)| *s).collect();
    PoolReport {
        pool: name.to_owned(),
        max_workers,
        requests: contest.tally.requests,
        accepted,
        refused: Ordered(
            contest
                .tally
                .refused
                .iter()
                .map(|(status, n)| (status.to_string(), *n))
                .collect(),
        ),
        finished,
        unfinished: accepted - finished,
        started_twice: contest.tally.starts.values().filter(|&&n| n > 1).count() as u64,
        wait_s: summarize(&mut all_ms),
        fairness: fairness(&means),
        team_mean_wait_s: Ordered(team_means),
        worker_minutes: round2(worker_ms as f64 / 60_000.0),
        peak_workers: peak(&lives),
        instance_hours: run.instance_hours,
        cost_usd: run.cost_usd,
        max_violations: run.rules.max_violations,
        goal_met: false,
        world: run,
    }
}

/// What the store's records say of the waits.
#[derive(Debug, PartialEq)]
pub(crate) struct Waits {
    /// Each started job's acceptance and wait in milliseconds, by acceptance.
    pub waits: Vec<(Timestamp, u64)>,
    /// Each team's mean wait in seconds, in id order (teams with a started job).
    pub team_means: Vec<(String, f64)>,
    /// Jobs that ran to a result.
    pub finished: u64,
}

pub(crate) fn waits(store: &MemoryStore) -> Waits {
    let mut waits = Vec::new();
    let mut by_team: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut finished = 0;
    for job in store.jobs() {
        if job.status.is_terminal() && job.status != JobStatus::Errored {
            finished += 1;
        }
        if let Some(started) = job.started_at {
            let ms = started.saturating_since(job.queued_at).as_millis() as u64;
            waits.push((job.queued_at, ms));
            by_team.entry(job.team.clone()).or_default().push(ms);
        }
    }
    waits.sort();
    let means = by_team
        .into_iter()
        .map(|(team, ms)| {
            let mean = ms.iter().sum::<u64>() as f64 / ms.len() as f64 / 1000.0;
            (team, round2(mean))
        })
        .collect();
    Waits {
        waits,
        team_means: means,
        finished,
    }
}

impl fmt::Display for ContestComparison {
    /// The side-by-side text summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "scenario {} · seed {} · {} teams · from {} for {:.0} h · goal: p95 wait <= {}",
            self.scenario,
            self.seed,
            self.teams,
            self.start,
            self.hours,
            secs(self.goal_p95_s)
        )?;
        let reports: Vec<&PoolReport> = self.pools.0.iter().map(|(_, r)| r).collect();
        let headers: Vec<String> = reports.iter().map(|r| r.pool.clone()).collect();
        let rows: Vec<(String, Vec<String>)> = rows()
            .into_iter()
            .map(|(name, cell)| (name.to_owned(), reports.iter().map(|r| cell(r)).collect()))
            .collect();
        write_table(f, &headers, &rows)?;
        if let (Some(ours), Some(fixed)) = (self.pool("ours"), self.cheapest_fixed_meeting_goal()) {
            writeln!(
                f,
                "cheapest fixed pool meeting the goal: {} at {:.2} USD; ours {:.2} USD",
                fixed.pool, fixed.cost_usd, ours.cost_usd
            )?;
        }
        Ok(())
    }
}

type Cell = fn(&PoolReport) -> String;

/// The summary's rows, shared by the text and the HTML report.
pub(crate) fn rows() -> Vec<(&'static str, Cell)> {
    vec![
        ("requests", |r| r.requests.to_string()),
        ("accepted", |r| r.accepted.to_string()),
        ("unfinished", |r| r.unfinished.to_string()),
        ("wait p50", |r| secs(r.wait_s.p50)),
        ("wait p95", |r| secs(r.wait_s.p95)),
        ("wait max", |r| secs(r.wait_s.max)),
        ("fairness (worst/best team mean)", |r| {
            format!("{:.2}", r.fairness)
        }),
        ("goal met (p95)", |r| {
            if r.goal_met { "yes" } else { "no" }.to_owned()
        }),
        ("worker-minutes", |r| format!("{:.0}", r.worker_minutes)),
        ("peak workers", |r| r.peak_workers.to_string()),
        ("instance-hours", |r| format!("{:.1}", r.instance_hours)),
        ("cost (USD)", |r| format!("{:.2}", r.cost_usd)),
    ]
}
