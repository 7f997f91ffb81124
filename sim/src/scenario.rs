//! The bundled scenarios: seeded generators of a [`Workload`] shaped like a real organisation's
//! CI traffic.
//!
//! Jobs come in workflow runs: a push starts a run whose matrix queues one to twenty jobs
//! with the same labels within a second or two (the "matrix bursts"). Runs arrive following a
//! day curve of office hours in Tokyo: quiet at night, a morning ramp, a lunch dip, a long
//! afternoon plateau and an evening tail. Job durations are log-normal (median about four
//! minutes, one in twenty over a quarter of an hour), as CI durations usually are.
//!
//! Jobs use the labels of a class of the config. Smaller classes get more jobs: the weight of a
//! class is inversely proportional to its cpu, so on the DeNA-like config a `small` job is eight
//! times as common as an `xlarge` one.

use std::time::Duration;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Asia::Tokyo;
use rand::Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rc_config::Config;
use rc_core::Timestamp;

use crate::params::Faults;
use crate::workload::{JobSpec, Workload};

/// A bundled scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// About 10,000 jobs over a Wednesday in Tokyo.
    BusinessDay,
    /// 1,000 jobs within 10 s at 10:00 on a Wednesday.
    Burst,
    /// The business day with lost, duplicated and reordered webhooks, and AWS and GitHub errors.
    Faults,
    /// A weekday night, 20:00 to 09:00: sparse jobs and a nightly cron batch.
    Night,
    /// A contest, 10:00 to 18:00: 50 teams asking for benchmarks, no GitHub jobs. Its requests
    /// come from the teams' closed loop in [`crate::contest`], which runs it.
    Contest,
}

/// Jobs in the business-day scenario.
pub const BUSINESS_DAY_JOBS: usize = 10_000;

/// Relative arrival rate of workflow runs for each local hour of a working day.
const DAY_CURVE: [f64; 24] = [
    0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.6, 2.0, 6.0, 9.0, 10.0, // 00-11
    4.0, 8.0, 10.0, 10.0, 10.0, 9.0, 7.0, 4.0, 2.5, 1.5, 1.0, 0.5, // 12-23
];

/// The date every scenario runs on: a Wednesday that is no Japanese holiday.
fn scenario_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 18).expect("valid date")
}

/// The instant of `hour:00` local Tokyo time on the scenario date.
pub fn tokyo(hour: u32) -> Timestamp {
    let local = scenario_date().and_hms_opt(hour, 0, 0).expect("valid time");
    Timestamp::from_datetime(
        Tokyo
            .from_local_datetime(&local)
            .single()
            .expect("Tokyo has no daylight saving time")
            .to_utc(),
    )
}

impl Scenario {
    /// Every scenario, in the order `--help` lists them.
    pub const ALL: [Scenario; 5] = [
        Scenario::BusinessDay,
        Scenario::Burst,
        Scenario::Faults,
        Scenario::Night,
        Scenario::Contest,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::BusinessDay => "business-day",
            Scenario::Burst => "burst",
            Scenario::Faults => "faults",
            Scenario::Night => "night",
            Scenario::Contest => "contest",
        }
    }

    /// The scenario called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Generates the workload for `config`'s classes; the same seed gives the same jobs.
    pub fn workload(self, config: &Config, seed: u64) -> Workload {
        let mut g = Generator::new(config, seed);
        let (start, span, jobs, faults) = match self {
            Scenario::BusinessDay | Scenario::Faults => {
                let day = Duration::from_secs(24 * 3600);
                let jobs = g.day(BUSINESS_DAY_JOBS);
                let faults = if self == Scenario::Faults {
                    Faults::harsh()
                } else {
                    Faults::none()
                };
                (tokyo(0), day, jobs, faults)
            }
            Scenario::Burst => {
                let lead = Duration::from_secs(5 * 60);
                let jobs = g.burst(1_000, lead, Duration::from_secs(10));
                (
                    tokyo(10) - lead,
                    Duration::from_secs(2 * 3600),
                    jobs,
                    Faults::none(),
                )
            }
            Scenario::Night => {
                let span = Duration::from_secs(13 * 3600);
                (tokyo(20), span, g.night(span), Faults::none())
            }
            Scenario::Contest => (
                tokyo(10),
                crate::contest::workload::CONTEST,
                Vec::new(),
                Faults::none(),
            ),
        };
        Workload {
            name: self.name().into(),
            start,
            span,
            jobs,
            faults,
        }
    }
}

/// Draws an item of a list of `(item, cumulative weight)`.
fn pick<'a, T>(rng: &mut ChaCha8Rng, cumulative: &'a [(T, f64)]) -> &'a T {
    let total = cumulative.last().map_or(0.0, |(_, w)| *w);
    let x = rng.random::<f64>() * total;
    let index = cumulative.partition_point(|(_, w)| *w <= x);
    &cumulative[index.min(cumulative.len() - 1)].0
}

struct Generator {
    rng: ChaCha8Rng,
    /// Label sets of the config's classes with their cumulative weights.
    classes: Vec<(Vec<String>, f64)>,
    repos: Vec<(String, f64)>,
    /// Minutes of the day with the cumulative [`DAY_CURVE`] rate, linear between hour midpoints.
    minutes: Vec<(u64, f64)>,
}

impl Generator {
    fn new(config: &Config, seed: u64) -> Self {
        let mut total = 0.0;
        let classes = config
            .classes
            .iter()
            .map(|c| {
                total += 16_384.0 / f64::from(c.size.cpu.0.max(256));
                (c.labels.clone(), total)
            })
            .collect();
        let org = match &config.github.scope {
            rc_config::GithubScope::Repo(repo) => {
                repo.split('/').next().unwrap_or("org").to_string()
            }
            rc_config::GithubScope::Org(name) | rc_config::GithubScope::Enterprise(name) => {
                name.clone()
            }
        };
        let mut total = 0.0;
        // Zipf-like: a few busy repositories and a long tail.
        let repos = (0..40)
            .map(|i| {
                total += 1.0 / f64::from(i + 1);
                (format!("{org}/repo-{i:02}"), total)
            })
            .collect();
        let rate = |minute: u64| {
            let h = minute as f64 / 60.0 - 0.5;
            let lo = h.floor().rem_euclid(24.0) as usize;
            let frac = h - h.floor();
            DAY_CURVE[lo] * (1.0 - frac) + DAY_CURVE[(lo + 1) % 24] * frac
        };
        let mut total = 0.0;
        let minutes = (0..24 * 60)
            .map(|minute| {
                total += rate(minute);
                (minute, total)
            })
            .collect();
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            classes,
            repos,
            minutes,
        }
    }

    /// A standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u1: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = self.rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A log-normal duration around `median_secs`, clamped to 20 s .. 1 h.
    fn duration(&mut self, median_secs: f64, sigma: f64) -> Duration {
        let secs = median_secs * (sigma * self.normal()).exp();
        Duration::from_secs_f64(secs.clamp(20.0, 3600.0))
    }

    /// How many jobs a workflow run's matrix queues.
    fn matrix_size(&mut self) -> usize {
        let x: f64 = self.rng.random();
        if x < 0.60 {
            1
        } else if x < 0.85 {
            self.rng.random_range(2..=4)
        } else if x < 0.97 {
            self.rng.random_range(5..=10)
        } else {
            self.rng.random_range(11..=20)
        }
    }

    /// One workflow run at `at`: its jobs share labels and a typical duration.
    fn run(&mut self, at: Duration, size: usize, jobs: &mut Vec<JobSpec>) {
        let labels = pick(&mut self.rng, &self.classes).clone();
        let repo = pick(&mut self.rng, &self.repos).clone();
        let median = self.duration(240.0, 0.8).as_secs_f64();
        for _ in 0..size {
            let stagger = Duration::from_millis(self.rng.random_range(0..2_000));
            let duration = self.duration(median, 0.3);
            jobs.push(JobSpec {
                at: at + stagger,
                labels: labels.clone(),
                duration,
                repo: repo.clone(),
            });
        }
    }

    /// A time of day drawn from the day curve.
    fn time_of_day(&mut self) -> Duration {
        let minute = *pick(&mut self.rng, &self.minutes);
        Duration::from_millis(minute * 60_000 + self.rng.random_range(0..60_000))
    }

    fn day(&mut self, count: usize) -> Vec<JobSpec> {
        let mut jobs = Vec::with_capacity(count + 40);
        while jobs.len() < count {
            let at = self.time_of_day();
            let size = self.matrix_size().min(count - jobs.len());
            self.run(at, size, &mut jobs);
        }
        jobs.sort_by_key(|j| j.at);
        jobs
    }

    fn burst(&mut self, count: usize, lead: Duration, within: Duration) -> Vec<JobSpec> {
        let mut jobs = Vec::with_capacity(count);
        let within_ms = within.as_millis() as u64;
        while jobs.len() < count {
            let at = lead + Duration::from_millis(self.rng.random_range(0..within_ms));
            let size = self.matrix_size().min(count - jobs.len());
            self.run(at, size, &mut jobs);
        }
        for job in &mut jobs {
            job.at = job.at.min(lead + within);
        }
        jobs.sort_by_key(|j| j.at);
        jobs
    }

    /// About a dozen runs an hour in the evening thinning out to a few, and a nightly batch of
    /// 30 jobs at 02:00.
    fn night(&mut self, span: Duration) -> Vec<JobSpec> {
        let mut jobs = Vec::new();
        let mut at = Duration::ZERO;
        loop {
            let hour = at.as_secs() / 3600;
            let runs_per_hour = if hour < 3 { 12.0 } else { 3.0 };
            let gap =
                -self.rng.random::<f64>().max(f64::MIN_POSITIVE).ln() * 3600.0 / runs_per_hour;
            at += Duration::from_secs_f64(gap);
            if at >= span {
                break;
            }
            let size = self.matrix_size().min(4);
            self.run(at, size, &mut jobs);
        }
        let nightly = Duration::from_secs(6 * 3600);
        self.run(nightly, 30, &mut jobs);
        jobs.sort_by_key(|j| j.at);
        jobs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::dena_like;

    #[test]
    fn business_day_has_its_jobs_in_office_hours() {
        let w = Scenario::BusinessDay.workload(&dena_like(), 7);
        assert_eq!(w.jobs.len(), BUSINESS_DAY_JOBS);
        let office = w
            .jobs
            .iter()
            .filter(|j| (9 * 3600..20 * 3600).contains(&j.at.as_secs()))
            .count();
        assert!(office > BUSINESS_DAY_JOBS * 8 / 10, "{office}");
        let lunch = w
            .jobs
            .iter()
            .filter(|j| j.at.as_secs() / 3600 == 12)
            .count();
        let afternoon = w
            .jobs
            .iter()
            .filter(|j| j.at.as_secs() / 3600 == 15)
            .count();
        assert!(
            lunch * 3 / 2 < afternoon,
            "lunch {lunch} vs 15:00 {afternoon}"
        );
    }

    #[test]
    fn same_seed_same_jobs() {
        let config = dena_like();
        assert_eq!(
            Scenario::Night.workload(&config, 3),
            Scenario::Night.workload(&config, 3)
        );
        assert_ne!(
            Scenario::Night.workload(&config, 3).jobs,
            Scenario::Night.workload(&config, 4).jobs
        );
    }

    #[test]
    fn burst_is_a_thousand_jobs_in_ten_seconds() {
        let w = Scenario::Burst.workload(&dena_like(), 1);
        assert_eq!(w.jobs.len(), 1000);
        let first = w.jobs[0].at;
        let last = w.jobs[999].at;
        assert!(last - first <= Duration::from_secs(10));
        assert_eq!(
            w.start + first,
            tokyo(10) + (first - Duration::from_secs(300))
        );
    }

    #[test]
    fn tokyo_hours_are_utc_plus_nine() {
        assert_eq!(tokyo(9).to_string(), "2026-11-18T00:00:00.000Z");
    }
}
