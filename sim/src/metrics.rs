//! What the world counts while it runs, and how a finished world becomes a [`RunReport`].
//!
//! Runner time is accounted on every phase change of a task, instance time from each
//! instance's launch request to its termination (EC2 bills from `running`, a few seconds later,
//! so this slightly overstates cost for every policy alike), and the counts behind the charts
//! are sampled once a minute.

use std::collections::BTreeMap;
use std::time::Duration;

use rc_core::Timestamp;

use crate::report::{
    BusiestHour, CostBreakdown, LatencySummary, Ordered, Part, PickupBucket, Rules, RunReport,
    Sample, Series, SlowPickups, SLOW_PICKUP_S,
};
use crate::world::{ApiKind, JobState, Phase, ProviderKind, World};

/// Counters kept during a run.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) calls: BTreeMap<ApiKind, u64>,
    /// GitHub calls by clock hour (hours since the epoch) and kind: an App installation's
    /// rate limit is hourly.
    github_by_hour: BTreeMap<i64, BTreeMap<ApiKind, u64>>,
    errors: BTreeMap<ApiKind, u64>,
    pub deduplicated_run_tasks: u64,
    pub over_max: u64,
    pub asg_over_max: u64,
    pub double_launches: u64,
    pub busy_stops: u64,
    pub unroutable: u64,
    pub webhooks_lost: u64,
    pub reactions_ms: Vec<u64>,
    idle_runner_ms: u64,
    booting_runner_ms: u64,
    busy_runner_ms: u64,
    pub idle_instance_ms: u64,
    pub fargate_usd: f64,
    /// Instance time held by tasks, by what the task was doing: instance-milliseconds weighted
    /// by the task's share of the instance's CPU.
    held_ms: PhaseAccount,
    /// What that time costs, with Fargate tasks' cost (they hold no instance).
    held_usd: PhaseAccount,
    pub peak_instances: u32,
    samples: Vec<Sample>,
}

impl Stats {
    /// Books `spent` of a task in `phase` on an instance: `share` of the instance's time, and
    /// `usd_per_hour` for it.
    pub fn instance_share(&mut self, phase: Phase, spent: Duration, share: f64, usd_per_hour: f64) {
        let ms = spent.as_millis() as f64;
        self.held_ms.add(phase, ms * share);
        self.held_usd.add(phase, ms / 3_600_000.0 * usd_per_hour);
    }

    /// Books the Fargate cost of a task's time in `phase`.
    pub fn fargate_share(&mut self, phase: Phase, usd: f64) {
        self.held_usd.add(phase, usd);
    }

    pub fn call(&mut self, kind: ApiKind, at: Timestamp) {
        *self.calls.entry(kind).or_default() += 1;
        if kind.is_github() {
            let hour = at.0.div_euclid(3_600_000);
            *self
                .github_by_hour
                .entry(hour)
                .or_default()
                .entry(kind)
                .or_default() += 1;
        }
    }

    /// The clock hour with the most GitHub calls, and its calls by kind.
    fn busiest_github_hour(&self) -> BusiestHour {
        let total = |kinds: &BTreeMap<ApiKind, u64>| kinds.values().sum::<u64>();
        let Some((hour, kinds)) = self
            .github_by_hour
            .iter()
            .max_by_key(|(hour, kinds)| (total(kinds), std::cmp::Reverse(**hour)))
        else {
            return BusiestHour::default();
        };
        BusiestHour {
            starts: Timestamp(hour * 3_600_000).to_string(),
            calls: total(kinds),
            by_kind: Ordered(
                kinds
                    .iter()
                    .map(|(k, n)| (k.name().to_string(), *n))
                    .collect(),
            ),
        }
    }

    pub fn error(&mut self, kind: ApiKind) {
        *self.errors.entry(kind).or_default() += 1;
    }

    /// Books `spent` to the phase a task is leaving.
    pub fn runner_time(&mut self, phase: Phase, spent: Duration) {
        let ms = spent.as_millis() as u64;
        match phase {
            Phase::Provisioning | Phase::Starting => self.booting_runner_ms += ms,
            Phase::Idle => self.idle_runner_ms += ms,
            Phase::Busy(_) | Phase::Benchmarking => self.busy_runner_ms += ms,
            Phase::Stopped => {}
        }
    }
}

/// A quantity split by the phase of the tasks it belongs to.
#[derive(Debug, Default, Clone, Copy)]
struct PhaseAccount {
    booting: f64,
    idle: f64,
    busy: f64,
}

impl PhaseAccount {
    fn add(&mut self, phase: Phase, amount: f64) {
        match phase {
            Phase::Provisioning | Phase::Starting => self.booting += amount,
            Phase::Idle => self.idle += amount,
            Phase::Busy(_) | Phase::Benchmarking => self.busy += amount,
            Phase::Stopped => {}
        }
    }
}

/// Rounds to two decimals, so reports stay readable and stable; never -0.0 (a sum of zeros
/// starts from -0.0), which would print as `-0.00`.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

/// Nearest-rank percentiles of `values_ms`, in seconds.
pub(crate) fn summarize(values_ms: &mut [u64]) -> LatencySummary {
    values_ms.sort_unstable();
    let n = values_ms.len();
    let pick = |q: f64| -> f64 {
        if n == 0 {
            return 0.0;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        values_ms[rank - 1] as f64 / 1000.0
    };
    let mean = if n == 0 {
        0.0
    } else {
        values_ms.iter().sum::<u64>() as f64 / n as f64 / 1000.0
    };
    LatencySummary {
        count: n as u64,
        p50: round2(pick(0.50)),
        p95: round2(pick(0.95)),
        p99: round2(pick(0.99)),
        max: round2(pick(1.0)),
        mean: round2(mean),
    }
}

const BUCKET_MINUTES: i64 = 15;

/// Latencies (arrival, milliseconds) grouped by the 15 minutes after `start` they arrived in.
pub(crate) fn by_arrival(start: Timestamp, latencies: &[(Timestamp, u64)]) -> Vec<PickupBucket> {
    let mut buckets: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    for &(at, ms) in latencies {
        let bucket = (at.0 - start.0).div_euclid(60_000 * BUCKET_MINUTES);
        buckets.entry(bucket).or_default().push(ms);
    }
    buckets
        .into_iter()
        .map(|(bucket, mut v)| {
            let s = summarize(&mut v);
            PickupBucket {
                minute: (bucket * BUCKET_MINUTES) as u32,
                jobs: s.count,
                p50: s.p50,
                p95: s.p95,
                max: s.max,
            }
        })
        .collect()
}

impl<M> World<'_, M> {
    pub(crate) fn take_sample(&mut self) {
        let mut sample = Sample {
            minute: (self.now.0 - self.start.0).div_euclid(60_000) as u32,
            queued: self.github.queued_jobs,
            ..Sample::default()
        };
        for t in self.live.iter().flatten() {
            match self.tasks[t.0 as usize].phase {
                Phase::Provisioning => {
                    sample.provisioning += 1;
                    sample.booting += 1;
                }
                Phase::Starting => sample.booting += 1,
                Phase::Idle => sample.idle += 1,
                Phase::Busy(_) | Phase::Benchmarking => sample.busy += 1,
                Phase::Stopped => {}
            }
        }
        // Dedicated (per-runner) instances are never empty while alive, so the providers'
        // groups hold every empty one.
        sample.instances = self.alive_instances;
        for p in &self.providers {
            sample.empty_instances += p
                .alive
                .iter()
                .filter(|i| self.instances[i.0 as usize].tasks == 0)
                .count() as u32;
        }
        self.stats.samples.push(sample);
    }

    /// Cuts a slow job's wait at its runner task's launch, placement and registration (each
    /// no earlier than the job's arrival: a warm runner's were before it).
    fn attribute_slow_pickup(
        &self,
        job: &crate::world::Job,
        started: Timestamp,
        slow: &mut SlowPickups,
    ) {
        let Some(task) = job.ran_on.map(|t| &self.tasks[t.0 as usize]) else {
            return;
        };
        slow.jobs += 1;
        let arrived = job.created_at;
        let launched = task.created_at.max(arrived);
        let placed = task.placed_at.unwrap_or(launched).max(launched);
        let registered = task.registered_at.unwrap_or(placed).max(placed);
        let secs = |from: Timestamp, to: Timestamp| to.saturating_since(from).as_secs_f64();
        slow.before_launch_s += secs(arrived, launched);
        slow.waiting_for_instance_s += secs(launched, placed);
        slow.runner_start_s += secs(placed, registered);
        slow.assignment_s += secs(registered, started);
    }

    /// Closes every account at the end of the run and builds the report.
    pub(crate) fn finish(mut self, policy: &str) -> RunReport {
        let end = self.now.max(self.end);
        self.now = end;
        let live: Vec<_> = self.live.iter().flatten().copied().collect();
        for task in live {
            let phase = self.tasks[task.0 as usize].phase;
            self.set_phase(task, phase);
        }
        let mut instance_ms = 0u64;
        let mut ec2_usd = 0.0;
        for inst in &mut self.instances {
            let until = inst.terminated_at.unwrap_or(end);
            let ms = until.saturating_since(inst.requested_at).as_millis() as u64;
            instance_ms += ms;
            // EC2 bills per second with a one-minute minimum.
            ec2_usd += (ms.max(60_000) as f64 / 3_600_000.0) * inst.usd_per_hour;
            if let Some(since) = inst.empty_since.take() {
                self.stats.idle_instance_ms += until.saturating_since(since).as_millis() as u64;
            }
        }
        // Fargate tasks still running are billed up to the end.
        for task in self.live.iter().flatten() {
            let t = &self.tasks[task.0 as usize];
            let class = &self.classes[t.class];
            if let (ProviderKind::Fargate, Some(placed)) =
                (self.providers[class.provider].kind, t.placed_at)
            {
                self.stats.fargate_usd += self
                    .params
                    .fargate_usd(class.size, end.saturating_since(placed));
            }
        }

        let mut overall = Vec::new();
        let mut by_class: Vec<Vec<u64>> = vec![Vec::new(); self.classes.len()];
        let mut business_hours = Vec::new();
        let mut arrivals = Vec::new();
        let mut slow = SlowPickups::default();
        let mut slow_by_class = vec![0u64; self.classes.len()];
        let mut stranded = 0;
        let mut killed = 0;
        for job in &self.jobs {
            if job.state == JobState::Killed {
                killed += 1;
            }
            let Some(started) = job.started_at else {
                if job.state == JobState::Queued && self.label_sets[job.label_set].routed.is_some()
                {
                    stranded += 1;
                }
                continue;
            };
            let ms = started.saturating_since(job.created_at).as_millis() as u64;
            overall.push(ms);
            if let Some(class) = self.label_sets[job.label_set].routed {
                by_class[class].push(ms);
                if rc_core::warm::in_window(&self.classes[class].config, job.created_at) {
                    business_hours.push(ms);
                    if ms as f64 > SLOW_PICKUP_S * 1000.0 {
                        slow_by_class[class] += 1;
                        self.attribute_slow_pickup(job, started, &mut slow);
                    }
                }
            }
            arrivals.push((job.created_at, ms));
        }
        // Only the config's classes: the benchmark pool's slot after them takes no GitHub jobs.
        let pickup_by_class = Ordered(
            self.classes
                .iter()
                .take(self.config.classes.len())
                .zip(by_class.iter_mut())
                .map(|(c, v)| (c.name.clone(), summarize(v)))
                .collect(),
        );
        slow.by_class = Ordered(
            self.classes
                .iter()
                .zip(&slow_by_class)
                .filter(|(_, n)| **n > 0)
                .map(|(c, n)| (c.name.clone(), *n))
                .collect(),
        );
        for part in [
            &mut slow.before_launch_s,
            &mut slow.waiting_for_instance_s,
            &mut slow.runner_start_s,
            &mut slow.assignment_s,
        ] {
            *part = round2(*part);
        }
        let pickup_over_time = by_arrival(self.start, &arrivals);
        let stats = &mut self.stats;
        let hours = |ms: u64| round2(ms as f64 / 3_600_000.0);
        let minutes = |ms: u64| round2(ms as f64 / 60_000.0);
        let (held_ms, held_usd) = (stats.held_ms, stats.held_usd);
        let part = |ms: f64, usd: f64| Part {
            instance_hours: round2(ms / 3_600_000.0),
            usd: round2(usd),
        };
        let busy = part(held_ms.busy, held_usd.busy);
        let idle_runners = part(held_ms.idle, held_usd.idle);
        let booting_runners = part(held_ms.booting, held_usd.booting);
        let (instance_hours, cost_usd) = (hours(instance_ms), round2(ec2_usd + stats.fargate_usd));
        let held = [busy, idle_runners, booting_runners];
        // The rest, from the rounded figures, so that the printed parts add up.
        let empty = Part {
            instance_hours: round2(
                instance_hours - held.iter().map(|p| p.instance_hours).sum::<f64>(),
            ),
            usd: round2(cost_usd - held.iter().map(|p| p.usd).sum::<f64>()),
        };
        RunReport {
            policy: policy.to_string(),
            jobs: self.jobs.len() as u64,
            started_jobs: overall.len() as u64,
            pickup_latency_s: summarize(&mut overall),
            pickup_latency_by_class_s: pickup_by_class,
            business_hours_pickup_latency_s: summarize(&mut business_hours),
            idle_runner_minutes: minutes(stats.idle_runner_ms),
            booting_runner_minutes: minutes(stats.booting_runner_ms),
            busy_runner_minutes: minutes(stats.busy_runner_ms),
            instance_hours,
            idle_instance_hours: hours(stats.idle_instance_ms),
            peak_instances: stats.peak_instances,
            cost_usd,
            scale_out_reaction_s: summarize(&mut stats.reactions_ms),
            rules: Rules {
                stranded_jobs: stranded,
                max_violations: stats.over_max + stats.asg_over_max,
                double_launches: stats.double_launches,
                busy_runner_stops: stats.busy_stops,
            },
            killed_jobs: killed,
            unroutable_jobs: stats.unroutable,
            webhooks_lost: stats.webhooks_lost,
            run_tasks_deduplicated_by_client_token: stats.deduplicated_run_tasks,
            api_calls: Ordered(
                ApiKind::ALL
                    .iter()
                    .filter_map(|k| stats.calls.get(k).map(|n| (k.name().to_string(), *n)))
                    .collect(),
            ),
            github_calls_per_job: round2(
                stats
                    .calls
                    .iter()
                    .filter(|(k, _)| k.is_github())
                    .map(|(_, n)| *n)
                    .sum::<u64>() as f64
                    / (self.jobs.len().max(1) as f64),
            ),
            busiest_github_hour: stats.busiest_github_hour(),
            api_errors: Ordered(
                ApiKind::ALL
                    .iter()
                    .filter_map(|k| stats.errors.get(k).map(|n| (k.name().to_string(), *n)))
                    .collect(),
            ),
            cost_breakdown: CostBreakdown {
                busy,
                idle_runners,
                booting_runners,
                empty,
            },
            slow_pickups: slow,
            series: Series {
                samples: std::mem::take(&mut stats.samples),
                pickup_over_time,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).map(|s| s * 1000).collect();
        let s = summarize(&mut v);
        assert_eq!((s.p50, s.p95, s.p99, s.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(s.mean, 50.5);
        assert_eq!(summarize(&mut []).count, 0);
    }
}
