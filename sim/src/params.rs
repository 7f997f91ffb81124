//! The world's physics: latencies, limits, prices and fault rates, each with its default and
//! where the number comes from.
//!
//! Everything the simulator assumes about AWS and GitHub lives here, so that a reader can check
//! one file against their own measurements, and a test can turn one knob. Latencies are uniform
//! ranges: the model cares about their scale and spread, not their exact shape.

use std::time::Duration;

use rand::Rng;
use rc_core::TaskSize;
use serde::Serialize;

/// A latency drawn uniformly from `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Shortest value, in milliseconds.
    pub min_ms: u64,
    /// Longest value, in milliseconds.
    pub max_ms: u64,
}

impl Latency {
    /// A range in whole seconds.
    pub const fn secs(min: u64, max: u64) -> Self {
        Latency {
            min_ms: min * 1000,
            max_ms: max * 1000,
        }
    }

    /// A range in milliseconds.
    pub const fn millis(min_ms: u64, max_ms: u64) -> Self {
        Latency { min_ms, max_ms }
    }

    /// Always zero.
    pub const ZERO: Latency = Latency::millis(0, 0);

    /// One draw.
    pub fn sample(&self, rng: &mut impl Rng) -> Duration {
        if self.max_ms <= self.min_ms {
            return Duration::from_millis(self.min_ms);
        }
        Duration::from_millis(rng.random_range(self.min_ms..=self.max_ms))
    }
}

/// CPU architecture of an instance type; a capacity provider's name picks one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Intel/AMD.
    Amd64,
    /// Graviton.
    Arm64,
}

/// An EC2 instance type as the ECS agent registers it, with its price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceType {
    /// EC2 name.
    pub name: &'static str,
    /// Architecture.
    pub arch: Arch,
    /// vCPUs.
    pub vcpu: u32,
    /// Memory the ECS agent registers, in MiB: the instance's memory minus about 1 GiB the
    /// operating system and the agent keep.
    pub registered_memory_mib: u32,
    /// On-demand Linux list price, USD per hour.
    pub usd_per_hour: f64,
}

impl InstanceType {
    /// CPU units the agent registers (1024 per vCPU).
    pub fn registered_cpu(&self) -> u32 {
        self.vcpu * 1024
    }

    /// Price of one vCPU-hour of this family, used to price an instance of another size.
    pub fn usd_per_vcpu_hour(&self) -> f64 {
        self.usd_per_hour / f64::from(self.vcpu)
    }
}

/// Instance types the simulator knows, with us-east-1 on-demand Linux list prices
/// (<https://aws.amazon.com/ec2/pricing/on-demand/>, read November 2026: m7g.large is listed at
/// $0.0816/h and every M7g/M7i size scales linearly from its `large`). Tokyo (ap-northeast-1)
/// lists the same types roughly 25-30 % higher; policies are compared on the same prices, so
/// the ranking does not depend on the region.
pub const INSTANCE_TYPES: &[InstanceType] = &[
    InstanceType {
        name: "m7i.4xlarge",
        arch: Arch::Amd64,
        vcpu: 16,
        registered_memory_mib: 64 * 1024 - 1024,
        usd_per_hour: 0.8064,
    },
    InstanceType {
        name: "m7g.4xlarge",
        arch: Arch::Arm64,
        vcpu: 16,
        registered_memory_mib: 64 * 1024 - 1024,
        usd_per_hour: 0.6528,
    },
    InstanceType {
        name: "m7i.2xlarge",
        arch: Arch::Amd64,
        vcpu: 8,
        registered_memory_mib: 32 * 1024 - 1024,
        usd_per_hour: 0.4032,
    },
    InstanceType {
        name: "m7g.2xlarge",
        arch: Arch::Arm64,
        vcpu: 8,
        registered_memory_mib: 32 * 1024 - 1024,
        usd_per_hour: 0.3264,
    },
];

/// The instance type a capacity provider's Auto Scaling Group runs, guessed from its name: an
/// exact type name inside it wins (`cp-m7g-2xlarge` or `cp-m7g.2xlarge`), else `arm64`, `arm`
/// or `graviton` pick `m7g.4xlarge` and anything else `m7i.4xlarge`.
pub fn instance_type_for(capacity_provider: &str) -> &'static InstanceType {
    let name = capacity_provider.to_ascii_lowercase();
    if let Some(t) = INSTANCE_TYPES
        .iter()
        .find(|t| name.contains(t.name) || name.contains(&t.name.replace('.', "-")))
    {
        return t;
    }
    let arm = ["arm", "graviton", "aarch64"]
        .iter()
        .any(|k| name.contains(k));
    let arch = if arm { Arch::Arm64 } else { Arch::Amd64 };
    INSTANCE_TYPES
        .iter()
        .find(|t| t.arch == arch)
        .expect("the catalogue has a type per architecture")
}

/// What can go wrong, as probabilities per event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Faults {
    /// A webhook delivery fails (GitHub records it as failed; it can be redelivered).
    pub webhook_lost: f64,
    /// A webhook is delivered twice.
    pub webhook_duplicated: f64,
    /// A webhook is held back by [`Faults::webhook_delay`], so later events overtake it.
    pub webhook_delayed: f64,
    /// How long a delayed webhook is held back.
    pub webhook_delay: Latency,
    /// An AWS call (ECS, Auto Scaling, SSM) fails with throttling or a 5xx.
    pub aws_error: f64,
    /// Of those failures, the share where the call took effect but the answer was lost (a
    /// timeout after ECS started the task): what client tokens exist for.
    pub aws_error_took_effect: f64,
    /// A GitHub API call answers 5xx.
    pub github_error: f64,
    /// A runner task exits during start-up without registering (bad pull, crash).
    pub runner_start_failure: f64,
    /// A runner task keeps running without ever registering (hung start-up).
    pub runner_start_hang: f64,
}

impl Faults {
    /// Nothing goes wrong.
    pub fn none() -> Self {
        Faults {
            webhook_lost: 0.0,
            webhook_duplicated: 0.0,
            webhook_delayed: 0.0,
            webhook_delay: Latency::ZERO,
            aws_error: 0.0,
            aws_error_took_effect: 0.0,
            github_error: 0.0,
            runner_start_failure: 0.0,
            runner_start_hang: 0.0,
        }
    }

    /// The `faults` scenario: 5 % lost and 20 % duplicated webhooks, 10 % held back by up to
    /// 90 s (reordered), 10 % failed AWS calls of which a third took effect, 5 % GitHub 5xx,
    /// 2 % of runners crash while starting and 1 % hang.
    pub fn harsh() -> Self {
        Faults {
            webhook_lost: 0.05,
            webhook_duplicated: 0.20,
            webhook_delayed: 0.10,
            webhook_delay: Latency::secs(5, 90),
            aws_error: 0.10,
            aws_error_took_effect: 1.0 / 3.0,
            github_error: 0.05,
            runner_start_failure: 0.02,
            runner_start_hang: 0.01,
        }
    }
}

/// Every parameter of the world. [`WorldParams::default`] documents each value's source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorldParams {
    /// A placed ECS task until its runner is registered and idle: container start from a cached
    /// image plus runner configuration and registration. 20-30 s is what the issue and DeNA's
    /// write-up of their ECS runners report; a cold pull of a 1-2 GB image adds 30-60 s.
    pub task_start: Latency,
    /// A Fargate task until idle: no image cache, so a pull every time (typically 40-70 s).
    pub fargate_task_start: Latency,
    /// `SetDesiredCapacity` until the instance is registered with the cluster: EC2 boot of the
    /// ECS-optimized AMI plus agent registration, 60-180 s (the range).
    pub instance_launch: Latency,
    /// The philips baseline's EC2-per-job runner until idle: boot plus runner registration,
    /// about 60 s (the figure).
    pub ec2_runner_boot: Latency,
    /// GitHub event until the handler sees it: delivery, Function URL, SQS and Lambda poll.
    pub webhook_latency: Latency,
    /// ECS task state change until EventBridge invokes the cluster autoscaler.
    pub eventbridge_latency: Latency,
    /// GitHub handing a queued job to an idle runner until the job is `in_progress`.
    pub assign_latency: Latency,
    /// The ECS service scheduler replacing a stopped task (dena baseline).
    pub service_replace_latency: Latency,
    /// SQS-to-Lambda batching window of the manager; up to 10 messages per invocation
    /// (the event source mapping's default batch size).
    pub manager_batch_window: Duration,
    /// A failed message becomes visible again after this (SQS visibility timeout).
    pub visibility_timeout: Duration,
    /// Period of the manager's tick (EventBridge `rate(1 minute)`).
    pub tick_period: Duration,
    /// Period of the cluster autoscaler's safety-net schedule.
    pub autoscaler_period: Duration,
    /// CloudWatch period of `CapacityProviderReservation`; the scale-out alarm needs one
    /// datapoint, so managed scaling reacts one to two periods after a task starts waiting.
    pub cp_metric_period: Duration,
    /// Managed scaling's `instanceWarmupPeriod` (default 300 s, ECS API reference
    /// `ManagedScaling`): no further scale-out until the last one's instances count.
    pub cp_warmup: Duration,
    /// Managed scaling terminates an instance after it has been empty this long (the scale-in
    /// alarm needs 15 one-minute datapoints, ECS developer guide "cluster auto scaling").
    pub cp_scale_in_after: Duration,
    /// ECS quota "Tasks in the PROVISIONING state per cluster" (500): RunTask fails above it.
    pub provisioning_limit: u32,
    /// Attempts per AWS call inside one handler (the AWS SDK standard retry mode's default of
    /// 3).
    pub aws_attempts: u32,
    /// After the last arrival, the world runs this long; a job still queued then is stranded.
    pub grace: Duration,
    /// How often the runner and instance counts are sampled for the report.
    pub sample_period: Duration,
    /// Philips baseline: delay of the scale-up message (the module's `delay_webhook_event`
    /// default of 30 s).
    pub philips_delay: Duration,
    /// Philips baseline: the scale-down function's period and the minimum time a runner lives
    /// before it may be removed (`minimum_running_time_in_minutes` default 5).
    pub philips_scale_down: Duration,
    /// Fargate on-demand Linux/x86 price per vCPU-hour, us-east-1 ($0.04048,
    /// <https://aws.amazon.com/fargate/pricing/>).
    pub fargate_usd_per_vcpu_hour: f64,
    /// Fargate on-demand Linux/x86 price per GB-hour, us-east-1 ($0.004445).
    pub fargate_usd_per_gb_hour: f64,
}

impl Default for WorldParams {
    fn default() -> Self {
        WorldParams {
            task_start: Latency::secs(20, 30),
            fargate_task_start: Latency::secs(40, 70),
            instance_launch: Latency::secs(60, 180),
            ec2_runner_boot: Latency::secs(50, 70),
            webhook_latency: Latency::millis(500, 2000),
            eventbridge_latency: Latency::millis(500, 3000),
            assign_latency: Latency::millis(1000, 3000),
            service_replace_latency: Latency::secs(5, 15),
            manager_batch_window: Duration::from_millis(200),
            visibility_timeout: Duration::from_secs(30),
            tick_period: Duration::from_secs(60),
            autoscaler_period: Duration::from_secs(60),
            cp_metric_period: Duration::from_secs(60),
            cp_warmup: Duration::from_secs(300),
            cp_scale_in_after: Duration::from_secs(15 * 60),
            provisioning_limit: 500,
            aws_attempts: 3,
            grace: Duration::from_secs(30 * 60),
            sample_period: Duration::from_secs(60),
            philips_delay: Duration::from_secs(30),
            philips_scale_down: Duration::from_secs(5 * 60),
            fargate_usd_per_vcpu_hour: 0.04048,
            fargate_usd_per_gb_hour: 0.004445,
        }
    }
}

impl WorldParams {
    /// What a Fargate task of `size` costs for `running`.
    pub fn fargate_usd(&self, size: TaskSize, running: Duration) -> f64 {
        let hours = running.as_secs_f64() / 3600.0;
        let vcpu = f64::from(size.cpu.0) / 1024.0;
        let gb = f64::from(size.memory.0) / 1024.0;
        hours * (vcpu * self.fargate_usd_per_vcpu_hour + gb * self.fargate_usd_per_gb_hour)
    }

    /// The oracle's infrastructure: everything instant, and an empty instance gone at once.
    pub fn perfect(&self) -> Self {
        WorldParams {
            task_start: Latency::ZERO,
            fargate_task_start: Latency::ZERO,
            instance_launch: Latency::ZERO,
            ec2_runner_boot: Latency::ZERO,
            eventbridge_latency: Latency::ZERO,
            cp_scale_in_after: Duration::ZERO,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_provider_names_pick_instance_types() {
        assert_eq!(instance_type_for("cp-amd64").name, "m7i.4xlarge");
        assert_eq!(instance_type_for("cp-arm64").name, "m7g.4xlarge");
        assert_eq!(instance_type_for("runners-m7g-2xlarge").name, "m7g.2xlarge");
        assert_eq!(instance_type_for("Graviton").arch, Arch::Arm64);
    }
}
