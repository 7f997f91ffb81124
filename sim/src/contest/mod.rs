//! The `contest` scenario: 50 teams asking for benchmarks over an eight-hour contest, served by
//! our autoscaled worker pool or by a fixed pool of N workers (what ops did by hand), with
//! each team's queue wait, fairness between teams, worker time and cost side by side.
//!
//! # Layout
//!
//! - [`workload`]: the teams' closed loop of requests.
//! - `driver`: the contest as a policy of the world, over `rc-bench`'s flows and `ours`.
//! - [`report`]: what a run reports, as text and `--json` (the HTML is in [`crate::html`]).

mod driver;
pub mod report;
pub mod workload;

use chrono::FixedOffset;
use rc_config::{BenchWindow, Config, Team};
use rc_core::bench::auth::token_digest;

use crate::params::WorldParams;
use crate::policy::run_to_end;
use crate::scenario::{tokyo, Scenario};
use crate::world::World;
use driver::Contest;
pub(crate) use driver::Event;
pub use report::{ContestComparison, PoolReport};
use workload::{CONTEST, TEAMS};

/// Who keeps workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Our pool: production's pool pass on the tick, workers leaving after `idle_exit`.
    Autoscaled,
    /// N workers started at the opening, waiting for work until the close.
    Fixed(u32),
}

impl Pool {
    /// The pools the scenario compares.
    pub const ALL: [Pool; 3] = [Pool::Autoscaled, Pool::Fixed(5), Pool::Fixed(20)];

    /// The name in reports.
    pub fn name(self) -> String {
        match self {
            Pool::Autoscaled => "ours".to_owned(),
            Pool::Fixed(n) => format!("fixed-{n}"),
        }
    }
}

/// The config has no `benchmarks` section to take the pool from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the contest scenario needs a `benchmarks` section for its pool settings")]
pub struct NoPool;

/// `base` with the scenario's teams and opening hours, keeping its pool settings.
///
/// The teams are always the scenario's own: config holds only digests of tokens, and the
/// simulator must know the tokens to ask as the teams do.
///
/// # Errors
///
/// [`NoPool`] when `base` has no `benchmarks` section.
pub fn contest_config(base: &Config) -> Result<Config, NoPool> {
    let mut config = base.clone();
    let bench = config.benchmarks.as_mut().ok_or(NoPool)?;
    let tokyo_offset = FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset");
    let at = |t: rc_core::Timestamp| t.to_datetime().with_timezone(&tokyo_offset);
    bench.window = Some(BenchWindow {
        from: at(tokyo(10)),
        to: at(tokyo(10) + CONTEST),
    });
    // Ids and tokens do not depend on the seed; only the teams' behaviour does.
    bench.teams = workload::teams(0)
        .into_iter()
        .enumerate()
        .map(|(index, team)| Team {
            token_sha256: token_digest(&team.token),
            target: format!("192.0.2.{}", index + 1),
            id: team.id,
        })
        .collect();
    debug_assert_eq!(bench.teams.len(), TEAMS);
    Ok(config)
}

/// Runs the contest once per pool on `base`'s pool settings, same teams and seed for each.
///
/// # Errors
///
/// [`NoPool`] when `base` has no `benchmarks` section.
pub fn compare(
    base: &Config,
    pools: &[Pool],
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(Pool, f64),
) -> Result<ContestComparison, NoPool> {
    let config = contest_config(base)?;
    let reports = pools
        .iter()
        .map(|&pool| {
            let report = run(&config, pool, params, seed, &mut |f| progress(pool, f));
            (pool.name(), report)
        })
        .collect();
    Ok(report::compare(&config, params, seed, reports))
}

/// One pool's contest on `config` (from [`contest_config`]).
fn run(
    config: &Config,
    pool: Pool,
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(f64),
) -> PoolReport {
    let mut config = config.clone();
    let bench = config.benchmarks.as_mut().expect("a contest config");
    if let Pool::Fixed(n) = pool {
        // Ops' pool has N workers; the slot's cap (and its group's max) follows.
        bench.pool.max_workers = n;
    }
    let max_workers = bench.pool.max_workers;
    let workload = Scenario::Contest.workload(&config, seed);
    let mut world = World::new(&config, &workload, params.clone(), seed);
    let mut contest = Contest::new(pool, seed);
    run_to_end(&mut world, &mut contest, progress);
    report::pool_report(&pool.name(), max_workers, &contest, world)
}

#[cfg(test)]
mod tests;
