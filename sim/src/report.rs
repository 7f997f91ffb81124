//! What a run reports: the `--json` object and the side-by-side text summary.
//!
//! Maps keep a fixed order (config order for classes, a fixed list for API calls, run order for
//! policies) and numbers are rounded to two decimals, so that the same seed prints the same
//! bytes.

use std::fmt::{self, Write as _};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// A list of named values that serializes as a JSON object in list order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<T> Ordered<T> {
    /// The value named `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Percentiles of a latency, in seconds (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LatencySummary {
    /// How many values.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// The architecture's rules, as violation counts; all zero for a correct controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Rules {
    /// Routable jobs still queued when the run ended (rule 1).
    pub stranded_jobs: u64,
    /// Tasks started above a class's `max_runners`, plus desired capacities requested above an
    /// Auto Scaling Group's max (rule 2).
    pub max_violations: u64,
    /// Second tasks started for the same job and attempt (rule 3).
    pub double_launches: u64,
    /// Runners stopped while running a job (rule 4).
    pub busy_runner_stops: u64,
}

impl Rules {
    /// Whether every count is zero.
    pub fn clean(&self) -> bool {
        *self == Rules::default()
    }
}

/// Counts sampled once a minute, for the charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Sample {
    /// Minutes since the start.
    pub minute: u32,
    /// Registered runners without a job.
    pub idle: u32,
    /// Tasks waiting for capacity or starting their runner.
    pub booting: u32,
    /// Of those, tasks in PROVISIONING.
    pub provisioning: u32,
    /// Runners running a job.
    pub busy: u32,
    /// Instances launching or registered.
    pub instances: u32,
    /// Of those, instances without a task.
    pub empty_instances: u32,
    /// Jobs waiting for a runner.
    pub queued: u32,
}

/// Pickup latency of the jobs that arrived in one 15-minute bucket.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PickupBucket {
    /// Minutes since the start at which the bucket begins.
    pub minute: u32,
    /// Jobs that arrived in it and were picked up.
    pub jobs: u64,
    /// Median pickup latency, seconds.
    pub p50: f64,
    /// 95th percentile, seconds.
    pub p95: f64,
    /// Largest, seconds.
    pub max: f64,
}

/// The time series behind the HTML report (not part of `--json`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// One sample a minute.
    pub samples: Vec<Sample>,
    /// Pickup latency by arrival time.
    pub pickup_over_time: Vec<PickupBucket>,
}

/// Everything one policy's run reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Policy name.
    pub policy: String,
    /// Jobs in the workload.
    pub jobs: u64,
    /// Jobs a runner picked up.
    pub started_jobs: u64,
    /// Job creation until a runner picked it up, over every picked-up job.
    pub pickup_latency_s: LatencySummary,
    /// The same per class the job routes to, in config order.
    pub pickup_latency_by_class_s: Ordered<LatencySummary>,
    /// Pickup latency of the jobs that arrived while their class kept warm runners: the hours
    /// the warm pools are paid for.
    pub business_hours_pickup_latency_s: LatencySummary,
    /// Runner-minutes registered and idle: the waste warm pools trade for latency.
    pub idle_runner_minutes: f64,
    /// Runner-minutes waiting for capacity or starting.
    pub booting_runner_minutes: f64,
    /// Runner-minutes running jobs.
    pub busy_runner_minutes: f64,
    /// EC2 instance-hours, from launch request to termination.
    pub instance_hours: f64,
    /// Instance-hours with no task on a registered instance.
    pub idle_instance_hours: f64,
    /// Most instances alive at once.
    pub peak_instances: u32,
    /// EC2 (and Fargate) cost at on-demand list prices, USD.
    pub cost_usd: f64,
    /// From a task entering PROVISIONING to the raise of its group's desired capacity, for the
    /// tasks that need one (the instances already launching cannot take them).
    pub scale_out_reaction_s: LatencySummary,
    /// Rule violations.
    pub rules: Rules,
    /// Jobs whose runner was stopped under them.
    pub killed_jobs: u64,
    /// Jobs whose labels route to no class (no policy starts runners for them).
    pub unroutable_jobs: u64,
    /// Webhook deliveries that failed (the workload's faults).
    pub webhooks_lost: u64,
    /// RunTask calls that ECS answered with an existing task because of the client token.
    pub run_tasks_deduplicated_by_client_token: u64,
    /// Calls by kind, each attempt counted.
    pub api_calls: Ordered<u64>,
    /// GitHub calls (every kind) per job of the workload.
    pub github_calls_per_job: f64,
    /// The clock hour with the most GitHub calls: an App installation may make 5,000 an hour.
    pub busiest_github_hour: BusiestHour,
    /// Failed attempts by kind (throttling, 5xx).
    pub api_errors: Ordered<u64>,
    /// Where the instance-hours and the cost go.
    pub cost_breakdown: CostBreakdown,
    /// Where the slow business-hours pickups spent their wait.
    pub slow_pickups: SlowPickups,
    /// Chart data.
    #[serde(skip)]
    pub series: Series,
}

/// Instance-hours and cost, split by what the capacity was doing. Each task on an instance
/// holds its share of the instance's CPU (a dedicated instance: all of it) while it starts,
/// waits idle or runs a job; whatever no task holds is empty: instances without tasks, room
/// on partly used ones, instances still launching for tasks that wait, and EC2's one-minute
/// billing minimum. The four parts sum to `instance_hours` and `cost_usd`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CostBreakdown {
    /// Held by runners running a job.
    pub busy: Part,
    /// Held by registered runners waiting for a job.
    pub idle_runners: Part,
    /// Held by runners starting up.
    pub booting_runners: Part,
    /// Held by no task.
    pub empty: Part,
}

/// One part of a [`CostBreakdown`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Part {
    /// EC2 instance-hours (Fargate tasks hold none).
    pub instance_hours: f64,
    /// Cost, USD (Fargate included).
    pub usd: f64,
}

impl CostBreakdown {
    /// The parts with their names, in report order.
    pub fn parts(&self) -> [(&'static str, Part); 4] {
        [
            ("busy", self.busy),
            ("idle runners", self.idle_runners),
            ("booting runners", self.booting_runners),
            ("empty or fragmented", self.empty),
        ]
    }
}

/// A pickup slower than this is slow: the pickup target the example configs ask of business
/// hours.
pub const SLOW_PICKUP_S: f64 = 20.0;

/// Where the business-hours jobs that waited longer than [`SLOW_PICKUP_S`] spent their wait,
/// cut along the life of the runner task that took each job: the task's launch (RunTask), its
/// placement on an instance, and its runner's registration. Times are summed over those jobs.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SlowPickups {
    /// Jobs that waited longer.
    pub jobs: u64,
    /// Until the launch of the task that took the job: no runner was launched at once (the
    /// class at `max_runners`, or the launch went to another job and this one took a later
    /// runner).
    pub before_launch_s: f64,
    /// The task in PROVISIONING: no instance had room for it.
    pub waiting_for_instance_s: f64,
    /// Placed, its runner starting: image, container, JIT registration.
    pub runner_start_s: f64,
    /// Registered, until GitHub started the job on it.
    pub assignment_s: f64,
    /// The slow jobs by the class they route to.
    pub by_class: Ordered<u64>,
}

impl SlowPickups {
    /// The parts of the wait with their names, in report order.
    pub fn parts(&self) -> [(&'static str, f64); 4] {
        [
            ("before launch", self.before_launch_s),
            ("waiting for an instance", self.waiting_for_instance_s),
            ("runner start", self.runner_start_s),
            ("assignment", self.assignment_s),
        ]
    }
}

/// The clock hour with the most GitHub calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BusiestHour {
    /// When the hour starts (UTC).
    pub starts: String,
    /// GitHub calls in it.
    pub calls: u64,
    /// Those calls by kind.
    pub by_kind: Ordered<u64>,
}

/// Several policies on the same workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Scenario name, or `trace`.
    pub scenario: String,
    /// The seed of the workload and of every world.
    pub seed: u64,
    /// The instant the workload starts, RFC 3339.
    pub start: String,
    /// Hours the world ran.
    pub hours: f64,
    /// Jobs in the workload.
    pub jobs: u64,
    /// One report per policy, by name, in run order.
    pub policies: Ordered<RunReport>,
}

impl Comparison {
    /// The report of `policy`.
    pub fn policy(&self, policy: &str) -> Option<&RunReport> {
        self.policies.get(policy)
    }

    /// The single-line JSON object `--json` prints.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports always serialize")
    }
}

/// Seconds as the text summaries print them.
pub(crate) fn secs(s: f64) -> String {
    if s >= 600.0 {
        format!("{:.0}m", s / 60.0)
    } else if s >= 100.0 {
        format!("{s:.0}s")
    } else {
        format!("{s:.1}s")
    }
}

/// A table of named rows with one right-aligned column per header.
pub(crate) fn write_table(
    f: &mut fmt::Formatter<'_>,
    headers: &[String],
    rows: &[(String, Vec<String>)],
) -> fmt::Result {
    let label_width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            rows.iter()
                .map(|(_, cells)| cells[i].len())
                .chain([header.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut line = format!("{:label_width$}", "");
    for (header, w) in headers.iter().zip(&widths) {
        write!(line, "  {header:>w$}").expect("writing to a String");
    }
    writeln!(f, "{}", line.trim_end())?;
    for (name, cells) in rows {
        write!(f, "{name:label_width$}")?;
        for (cell, w) in cells.iter().zip(&widths) {
            write!(f, "  {cell:>w$}")?;
        }
        writeln!(f)?;
    }
    Ok(())
}

impl fmt::Display for Comparison {
    /// The side-by-side text summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reports: Vec<&RunReport> = self.policies.0.iter().map(|(_, r)| r).collect();
        writeln!(
            f,
            "scenario {} · seed {} · {} jobs · from {} for {:.1} h",
            self.scenario, self.seed, self.jobs, self.start, self.hours
        )?;
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        let mut row = |name: &str, cell: &dyn Fn(&RunReport) -> String| {
            rows.push((name.to_string(), reports.iter().map(|r| cell(r)).collect()));
        };
        row("pickup p50", &|r| secs(r.pickup_latency_s.p50));
        row("pickup p95", &|r| secs(r.pickup_latency_s.p95));
        row("pickup p99", &|r| secs(r.pickup_latency_s.p99));
        row("pickup max", &|r| secs(r.pickup_latency_s.max));
        row("idle runner-minutes", &|r| {
            format!("{:.0}", r.idle_runner_minutes)
        });
        row("instance-hours", &|r| format!("{:.1}", r.instance_hours));
        row("idle instance-hours", &|r| {
            format!("{:.1}", r.idle_instance_hours)
        });
        row("peak instances", &|r| r.peak_instances.to_string());
        row("cost (USD)", &|r| format!("{:.2}", r.cost_usd));
        for (i, (name, _)) in CostBreakdown::default().parts().into_iter().enumerate() {
            row(&format!("  {name} (h, USD)"), &|r| {
                let part = r.cost_breakdown.parts()[i].1;
                format!("{:.1} h {:.2}", part.instance_hours, part.usd)
            });
        }
        row(
            &format!("slow pickups (> {SLOW_PICKUP_S}s, business hours)"),
            &|r| r.slow_pickups.jobs.to_string(),
        );
        for (i, (name, _)) in SlowPickups::default().parts().into_iter().enumerate() {
            row(&format!("  {name} (job-minutes)"), &|r| {
                format!("{:.0}", r.slow_pickups.parts()[i].1 / 60.0)
            });
        }
        row("scale-out reaction p50", &|r| {
            secs(r.scale_out_reaction_s.p50)
        });
        row("scale-out reaction p95", &|r| {
            secs(r.scale_out_reaction_s.p95)
        });
        row("stranded jobs", &|r| r.rules.stranded_jobs.to_string());
        row("max violations", &|r| r.rules.max_violations.to_string());
        row("double launches", &|r| r.rules.double_launches.to_string());
        row("busy runners stopped", &|r| {
            r.rules.busy_runner_stops.to_string()
        });
        row("GitHub calls per job", &|r| {
            format!("{:.2}", r.github_calls_per_job)
        });
        row("GitHub calls, busiest hour", &|r| {
            r.busiest_github_hour.calls.to_string()
        });
        row("API calls", &|r| {
            r.api_calls
                .0
                .iter()
                .map(|(_, n)| n)
                .sum::<u64>()
                .to_string()
        });
        let class_names: Vec<String> = reports
            .first()
            .map(|r| {
                r.pickup_latency_by_class_s
                    .0
                    .iter()
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        for class in &class_names {
            row(&format!("p95 {class}"), &|r| {
                r.pickup_latency_by_class_s
                    .get(class)
                    .map_or_else(|| "-".into(), |s| secs(s.p95))
            });
        }

        let headers: Vec<String> = reports.iter().map(|r| r.policy.clone()).collect();
        write_table(f, &headers, &rows)?;
        let calls: Vec<String> = reports
            .iter()
            .map(|r| {
                let list: Vec<String> = r
                    .api_calls
                    .0
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                format!("  {}: {}", r.policy, list.join(", "))
            })
            .collect();
        writeln!(f, "API calls by kind:")?;
        for line in calls {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}
