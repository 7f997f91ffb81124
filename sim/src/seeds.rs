//! Several seeds: each policy's headline figures as a mean with their range.
//!
//! One seed is one draw of arrivals, durations and latencies; a figure that moves between seeds
//! should be read as its mean. `simulate --seeds 1-5` runs [`crate::compare`] once per seed
//! and summarizes the reports here; nothing is measured differently from a single run.

use std::fmt;

use serde::Serialize;

use crate::report::{secs, write_table, Comparison, CostBreakdown, Ordered, Part, Rules};
use crate::tradeoff::Setting;
use crate::RunReport;

/// Mean, smallest and largest of a figure over the seeds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Stat {
    /// The statistics of `values` (all zero when there are none).
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let values: Vec<f64> = values.into_iter().collect();
        if values.is_empty() {
            return Stat::default();
        }
        let round2 = crate::metrics::round2;
        Stat {
            mean: round2(values.iter().sum::<f64>() / values.len() as f64),
            min: round2(values.iter().copied().fold(f64::INFINITY, f64::min)),
            max: round2(values.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        }
    }
}

/// One policy over the seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Pickup latency p50, seconds.
    pub pickup_p50_s: Stat,
    /// Pickup latency p95, seconds.
    pub pickup_p95_s: Stat,
    /// Pickup latency p99, seconds.
    pub pickup_p99_s: Stat,
    /// Pickup latency p95 of the arrivals inside the classes' warm windows, seconds.
    pub business_hours_p95_s: Stat,
    /// Cost, USD.
    pub cost_usd: Stat,
    /// Runner-minutes registered and idle.
    pub idle_runner_minutes: Stat,
    /// Runner-minutes waiting for capacity or starting.
    pub booting_runner_minutes: Stat,
    /// Booting plus idle runner-minutes: runner time that runs no job.
    pub overhead_runner_minutes: Stat,
    /// All runner-minutes (busy, booting, idle) as a multiple of the oracle's on the same
    /// seed; the oracle's overhead is zero, so 1.0 means none. Absent without an oracle run.
    pub runner_minutes_x_oracle: Option<Stat>,
    /// EC2 instance-hours.
    pub instance_hours: Stat,
    /// GitHub calls per job.
    pub github_calls_per_job: Stat,
    /// GitHub calls in the busiest clock hour.
    pub busiest_github_hour_calls: Stat,
    /// Rule violations, summed over the seeds.
    pub rules: Rules,
    /// Where the instance-hours and the cost go, means over the seeds.
    pub cost_breakdown: CostBreakdown,
}

fn runner_minutes(r: &RunReport) -> f64 {
    r.busy_runner_minutes + r.booting_runner_minutes + r.idle_runner_minutes
}

impl Summary {
    /// Summarizes one policy's reports, one per seed; `oracle` holds the oracle's reports of
    /// the same seeds, in the same order, when it ran.
    pub fn of(reports: &[&RunReport], oracle: Option<&[&RunReport]>) -> Self {
        let stat = |f: &dyn Fn(&RunReport) -> f64| Stat::of(reports.iter().map(|r| f(r)));
        let mean_part = |pick: &dyn Fn(&CostBreakdown) -> Part| Part {
            instance_hours: stat(&|r| pick(&r.cost_breakdown).instance_hours).mean,
            usd: stat(&|r| pick(&r.cost_breakdown).usd).mean,
        };
        let rules = reports.iter().fold(Rules::default(), |sum, r| Rules {
            stranded_jobs: sum.stranded_jobs + r.rules.stranded_jobs,
            max_violations: sum.max_violations + r.rules.max_violations,
            double_launches: sum.double_launches + r.rules.double_launches,
            busy_runner_stops: sum.busy_runner_stops + r.rules.busy_runner_stops,
        });
        Summary {
            pickup_p50_s: stat(&|r| r.pickup_latency_s.p50),
            pickup_p95_s: stat(&|r| r.pickup_latency_s.p95),
            pickup_p99_s: stat(&|r| r.pickup_latency_s.p99),
            business_hours_p95_s: stat(&|r| r.business_hours_pickup_latency_s.p95),
            cost_usd: stat(&|r| r.cost_usd),
            idle_runner_minutes: stat(&|r| r.idle_runner_minutes),
            booting_runner_minutes: stat(&|r| r.booting_runner_minutes),
            overhead_runner_minutes: stat(&|r| r.booting_runner_minutes + r.idle_runner_minutes),
            runner_minutes_x_oracle: oracle.map(|oracle| {
                Stat::of(
                    reports
                        .iter()
                        .zip(oracle)
                        .map(|(r, o)| runner_minutes(r) / runner_minutes(o).max(1.0)),
                )
            }),
            instance_hours: stat(&|r| r.instance_hours),
            github_calls_per_job: stat(&|r| r.github_calls_per_job),
            busiest_github_hour_calls: stat(&|r| r.busiest_github_hour.calls as f64),
            rules,
            cost_breakdown: CostBreakdown {
                busy: mean_part(&|b| b.busy),
                idle_runners: mean_part(&|b| b.idle_runners),
                booting_runners: mean_part(&|b| b.booting_runners),
                empty: mean_part(&|b| b.empty),
            },
        }
    }
}

/// Every policy over several seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seeds {
    /// Scenario name, or `trace`.
    pub scenario: String,
    /// The seeds, in run order.
    pub seeds: Vec<u64>,
    /// Mean jobs per seed.
    pub jobs: f64,
    /// One summary per policy, in run order.
    pub policies: Ordered<Summary>,
    /// Our policy at each warm-pool setting, means over the seeds (empty unless asked for).
    pub settings: Vec<Setting>,
}

impl Seeds {
    /// Summarizes `runs`, one comparison per seed with the same policies in the same order,
    /// and our policy's `settings`, one list per seed (or none).
    ///
    /// # Panics
    ///
    /// If `runs` is empty.
    pub fn of(runs: &[Comparison], settings: &[Vec<Setting>]) -> Self {
        let first = runs.first().expect("at least one seed");
        let reports = |name: &str| -> Vec<&RunReport> {
            runs.iter()
                .map(|c| c.policy(name).expect("every seed runs the same policies"))
                .collect()
        };
        let oracle = first.policy("oracle").map(|_| reports("oracle"));
        let policies = first
            .policies
            .0
            .iter()
            .map(|(name, _)| {
                let summary = Summary::of(&reports(name), oracle.as_deref());
                (name.clone(), summary)
            })
            .collect();
        let settings = match settings.first() {
            None => Vec::new(),
            Some(first) => (0..first.len())
                .map(|i| Setting {
                    curve: first[i].curve,
                    label: first[i].label.clone(),
                    cost_usd: Stat::of(settings.iter().map(|s| s[i].cost_usd)).mean,
                    business_hours_p95_s: Stat::of(
                        settings.iter().map(|s| s[i].business_hours_p95_s),
                    )
                    .mean,
                    pickup_p95_s: Stat::of(settings.iter().map(|s| s[i].pickup_p95_s)).mean,
                })
                .collect(),
        };
        Seeds {
            scenario: first.scenario.clone(),
            seeds: runs.iter().map(|c| c.seed).collect(),
            jobs: Stat::of(runs.iter().map(|c| c.jobs as f64)).mean,
            policies: Ordered(policies),
            settings,
        }
    }

    /// The single-line JSON object `--json` prints.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports always serialize")
    }

    /// The rows of the summary table, each cell `mean (min–max)`, for text and HTML alike.
    pub fn rows(&self) -> Vec<(String, Vec<String>)> {
        let summaries: Vec<&Summary> = self.policies.0.iter().map(|(_, s)| s).collect();
        let mut rows = Vec::new();
        let mut row = |name: &str, cell: &dyn Fn(&Summary) -> String| {
            rows.push((
                name.to_string(),
                summaries.iter().map(|s| cell(s)).collect(),
            ));
        };
        let range = |s: Stat, f: &dyn Fn(f64) -> String| {
            format!("{} ({}–{})", f(s.mean), f(s.min), f(s.max))
        };
        let n0 = |v: f64| format!("{v:.0}");
        let n1 = |v: f64| format!("{v:.1}");
        let n2 = |v: f64| format!("{v:.2}");
        row("pickup p50", &|s| range(s.pickup_p50_s, &secs));
        row("pickup p95", &|s| range(s.pickup_p95_s, &secs));
        row("pickup p99", &|s| range(s.pickup_p99_s, &secs));
        row("business-hours p95", &|s| {
            range(s.business_hours_p95_s, &secs)
        });
        row("cost (USD)", &|s| range(s.cost_usd, &n2));
        row("idle runner-minutes", &|s| {
            range(s.idle_runner_minutes, &n0)
        });
        row("booting runner-minutes", &|s| {
            range(s.booting_runner_minutes, &n0)
        });
        row("overhead runner-minutes", &|s| {
            range(s.overhead_runner_minutes, &n0)
        });
        row("runner-minutes ×oracle", &|s| {
            s.runner_minutes_x_oracle
                .map_or_else(|| "-".into(), |x| range(x, &n2))
        });
        row("instance-hours", &|s| range(s.instance_hours, &n1));
        for (i, (name, _)) in CostBreakdown::default().parts().into_iter().enumerate() {
            row(&format!("  {name} (h, USD)"), &|s| {
                let part = s.cost_breakdown.parts()[i].1;
                format!("{:.1} h {:.2}", part.instance_hours, part.usd)
            });
        }
        row("GitHub calls per job", &|s| {
            range(s.github_calls_per_job, &n2)
        });
        row("GitHub calls, busiest hour", &|s| {
            range(s.busiest_github_hour_calls, &n0)
        });
        row("stranded jobs (sum)", &|s| {
            s.rules.stranded_jobs.to_string()
        });
        row("max violations (sum)", &|s| {
            s.rules.max_violations.to_string()
        });
        row("double launches (sum)", &|s| {
            s.rules.double_launches.to_string()
        });
        row("busy runners stopped (sum)", &|s| {
            s.rules.busy_runner_stops.to_string()
        });
        rows
    }
}

impl fmt::Display for Seeds {
    /// Means with their range, side by side, then our policy's settings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seeds: Vec<String> = self.seeds.iter().map(u64::to_string).collect();
        writeln!(
            f,
            "scenario {} · seeds {} · {:.0} jobs a seed · mean (min–max)",
            self.scenario,
            seeds.join(","),
            self.jobs
        )?;
        let headers: Vec<String> = self.policies.0.iter().map(|(n, _)| n.clone()).collect();
        write_table(f, &headers, &self.rows())?;
        write_settings(f, &self.settings)
    }
}

/// Our policy's settings as a small table (nothing when there are none).
fn write_settings(f: &mut fmt::Formatter<'_>, settings: &[Setting]) -> fmt::Result {
    if settings.is_empty() {
        return Ok(());
    }
    writeln!(
        f,
        "ours by warm setting (idle counts scaled, then pickup targets):"
    )?;
    let headers: Vec<String> = settings.iter().map(|s| s.label.clone()).collect();
    let rows = vec![
        (
            "cost (USD)".to_string(),
            settings
                .iter()
                .map(|s| format!("{:.2}", s.cost_usd))
                .collect(),
        ),
        (
            "business-hours p95".to_string(),
            settings
                .iter()
                .map(|s| secs(s.business_hours_p95_s))
                .collect(),
        ),
        (
            "pickup p95".to_string(),
            settings.iter().map(|s| secs(s.pickup_p95_s)).collect(),
        ),
    ];
    write_table(f, &headers, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_mean_min_max() {
        let s = Stat::of([1.0, 2.0, 6.0]);
        assert_eq!((s.mean, s.min, s.max), (3.0, 1.0, 6.0));
        assert_eq!(Stat::of([]), Stat::default());
    }
}
