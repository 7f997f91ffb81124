//! rc-sim: a deterministic discrete-event world that drives runner-controller's decision core
//! and compares it with the baselines teams run today.
//!
//! The world models GitHub (job queue, runner assignment, webhook deliveries), ECS (RunTask,
//! PROVISIONING, placement, runner start-up), EC2 Auto Scaling (launch latency, the capacity
//! provider's managed scaling) and their faults, on a virtual clock. `ours` calls the same
//! rc-core functions production calls — scale-up, warm pools, reaper, recovery, packing — with
//! observations in the same rc-core types. Same seed, same report, byte for byte: there is no
//! wall clock and no unseeded randomness anywhere.
//!
//! # Layout
//!
//! - [`params`]: latencies, limits, prices and fault rates, with sources.
//! - [`workload`] and [`scenario`]: jobs from a trace or a bundled scenario.
//! - `world`: the discrete-event world and the API it offers policies.
//! - `policy`: `ours`, `dena-baseline`, `philips-baseline`, `philips-retry`, `oracle`.
//! - [`report`] and [`html`]: what a run prints.
//! - [`versus`]: two configs on one workload, with deltas.
//! - [`seeds`]: means and ranges over several seeds.
//! - [`tradeoff`]: our policy at several warm-pool settings, for the cost-vs-p95 chart.
//! - [`contest`]: benchmark requests of contest teams, our worker pool against fixed ones.
//!
//! # Use
//!
//! ```no_run
//! # let config: rc_config::Config = unimplemented!();
//! use rc_sim::{compare, PolicyKind, Scenario, WorldParams};
//! let workload = Scenario::BusinessDay.workload(&config, 1);
//! let report = compare(&config, &workload, &PolicyKind::ALL, &WorldParams::default(), 1, &mut |_, _| {});
//! println!("{report}");
//! ```

pub mod contest;
pub mod fidelity;
pub mod html;
mod metrics;
pub mod params;
mod policy;
pub mod report;
pub mod scenario;
pub mod seeds;
pub mod tradeoff;
pub mod versus;
pub mod workload;
mod world;

#[cfg(test)]
pub(crate) mod testing;

use rc_config::Config;

pub use params::{Faults, Latency, WorldParams};
pub use policy::PolicyKind;
pub use report::{Comparison, RunReport};
pub use scenario::Scenario;
pub use workload::{JobSpec, TraceError, Workload};

/// Runs one policy on `workload`; `progress` hears the fraction of virtual time done.
pub fn run(
    config: &Config,
    workload: &Workload,
    policy: PolicyKind,
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(f64),
) -> RunReport {
    policy::run_kind(policy, config, config, workload, params, seed, progress)
}

/// Like [`run`], but judges business hours by `hours_of`'s warm windows: for configs that
/// change only the warm pools of `hours_of`, so that their business-hours latencies compare.
pub fn run_measured(
    config: &Config,
    hours_of: &Config,
    workload: &Workload,
    policy: PolicyKind,
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(f64),
) -> RunReport {
    policy::run_kind(policy, config, hours_of, workload, params, seed, progress)
}

/// Runs each of `policies` on the same workload with the same seed.
pub fn compare(
    config: &Config,
    workload: &Workload,
    policies: &[PolicyKind],
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(PolicyKind, f64),
) -> Comparison {
    let reports = policies
        .iter()
        .map(|&p| {
            let report = run(config, workload, p, params, seed, &mut |f| progress(p, f));
            (p.name().to_string(), report)
        })
        .collect();
    let hours = workload.horizon(params.grace).as_secs_f64() / 3600.0;
    Comparison {
        scenario: workload.name.clone(),
        seed,
        start: workload.start.to_string(),
        hours: metrics::round2(hours),
        jobs: workload.jobs.len() as u64,
        policies: report::Ordered(reports),
    }
}
