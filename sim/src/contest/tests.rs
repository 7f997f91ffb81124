//! The contest end to end on the bundled contest config, and its metrics on hand-built cases.

use std::collections::BTreeMap;

use rc_core::bench::JobStatus;
use rc_core::Timestamp;

use super::report::{fairness, peak};
use super::*;

fn bundled() -> Config {
    rc_config::parse(include_str!("../../../config/examples/contest.yaml"))
        .expect("the bundled example is valid")
}

/// One pool's run, with the store it leaves behind.
fn contest(pool: Pool, seed: u64) -> (PoolReport, Vec<rc_core::bench::BenchJob>) {
    let config = contest_config(&bundled()).expect("a pool");
    let mut config = config;
    let bench = config.benchmarks.as_mut().expect("a pool");
    if let Pool::Fixed(n) = pool {
        bench.pool.max_workers = n;
    }
    let workload = Scenario::Contest.workload(&config, seed);
    let mut world = World::new(&config, &workload, WorldParams::default(), seed);
    let mut driver = Contest::new(pool, seed);
    run_to_end(&mut world, &mut driver, &mut |_| {});
    let jobs = driver.store.jobs();
    let max = config.benchmarks.as_ref().expect("a pool").pool.max_workers;
    (report::pool_report(&pool.name(), max, &driver, world), jobs)
}

#[test]
fn same_seed_same_report() {
    let config = bundled();
    let params = WorldParams::default();
    let run = |seed| compare(&config, &Pool::ALL, &params, seed, &mut |_, _| {}).expect("a pool");
    let first = run(3);
    assert_eq!(first.to_json(), run(3).to_json());
    assert_eq!(first.to_string(), run(3).to_string());
    assert_ne!(first.to_json(), run(4).to_json());
}

#[test]
fn pools_stay_within_their_size_and_every_job_runs_once() {
    for pool in Pool::ALL {
        let (report, jobs) = contest(pool, 1);
        let cap = match pool {
            Pool::Autoscaled => 20,
            Pool::Fixed(n) => n,
        };
        assert!(report.peak_workers <= cap, "{report:?}");
        assert_eq!(report.max_violations, 0, "{}", report.pool);
        if let Pool::Fixed(n) = pool {
            assert_eq!(report.peak_workers, n);
        }
        // Every accepted request ran exactly once, to its result.
        assert!(
            report.accepted > 500,
            "{}: {}",
            report.pool,
            report.accepted
        );
        assert_eq!(report.accepted, jobs.len() as u64);
        assert_eq!(report.unfinished, 0, "{}", report.pool);
        assert_eq!(report.started_twice, 0);
        assert!(jobs.iter().all(|j| j.status == JobStatus::Passed));
        // One job per team at a time: a team's jobs never overlap.
        let mut by_team: BTreeMap<&str, Vec<(Timestamp, Timestamp)>> = BTreeMap::new();
        for job in &jobs {
            let end = job.finished_at.expect("finished");
            by_team
                .entry(&job.team)
                .or_default()
                .push((job.queued_at, end));
        }
        for spans in by_team.values_mut() {
            spans.sort();
            assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "{spans:?}");
        }
        // Teams only ask while the contest is open.
        assert_eq!(report.refused.get("409"), None);
        assert_eq!(
            report.requests,
            report.accepted + report.refused.get("403").copied().unwrap_or(0)
        );
    }
}

#[test]
fn a_config_without_benchmarks_has_no_pool() {
    let mut config = bundled();
    config.benchmarks = None;
    assert_eq!(contest_config(&config).err(), Some(NoPool));
    let contest = contest_config(&bundled()).expect("a pool");
    let bench = contest.benchmarks.expect("a pool");
    assert_eq!(bench.teams.len(), workload::TEAMS);
    assert_eq!(bench.pool, bundled().benchmarks.expect("a pool").pool);
}

#[test]
fn fairness_and_peaks_on_hand_built_cases() {
    assert_eq!(fairness(&[10.0, 20.0, 40.0]), 4.0);
    // A team served at once counts as one second.
    assert_eq!(fairness(&[0.0, 0.5, 3.0]), 3.0);
    assert_eq!(fairness(&[]), 1.0);
    let t = |s: i64| Timestamp(s * 1000);
    assert_eq!(peak(&[(t(0), t(10)), (t(5), t(15)), (t(10), t(20))]), 2);
    assert_eq!(peak(&[(t(0), t(10)), (t(10), t(20))]), 1);
    assert_eq!(peak(&[]), 0);
}

#[test]
fn waits_come_from_the_store_records() {
    use rc_core::bench::{BenchJob, BenchJobId};
    let store = rc_bench::memory::MemoryStore::default();
    let t = |s: i64| Timestamp(1_000_000_000_000 + s * 1000);
    let job = |n: u64, team: &str, queued: i64, started: Option<i64>| {
        let pending =
            BenchJob::pending(BenchJobId::new(t(queued), n), team, "192.0.2.1", t(queued));
        match started {
            Some(at) => pending.start(t(at)).expect("pending"),
            None => pending,
        }
    };
    store.put(job(1, "team-01", 0, Some(10)));
    store.put(job(2, "team-01", 100, Some(130)));
    store.put(job(3, "team-02", 0, Some(5)));
    store.put(job(4, "team-02", 50, None));
    let waits = report::waits(&store);
    let ms: Vec<u64> = waits.waits.iter().map(|(_, ms)| *ms).collect();
    assert_eq!(ms, [5_000, 10_000, 30_000]);
    assert_eq!(
        waits.team_means,
        [("team-01".to_owned(), 20.0), ("team-02".to_owned(), 5.0)]
    );
    assert_eq!(waits.finished, 0);
    assert_eq!(fairness(&[20.0, 5.0]), 4.0);
}
