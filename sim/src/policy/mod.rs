//! Policies: who decides when runners start and stop.
//!
//! `ours` drives rc-core's decisions (scale-up, warm pools, reaper, recovery, packing) the way
//! the Lambdas do; the baselines are what teams run today, modelled from their public designs;
//! the oracle knows every arrival in advance and bounds what any policy could do.
//!
//! A policy reacts to [`Notice`]s in the order the world delivers them and acts only through the
//! world's API methods, which count calls and inject faults.

mod dena;
mod oracle;
pub(crate) mod ours;
mod philips;

use std::fmt;

use rc_config::Config;

use crate::params::WorldParams;
use crate::workload::Workload;
use crate::world::{Notice, World};

/// The policies the simulator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyKind {
    /// runner-controller: the real decision core.
    Ours,
    /// Fixed warm runners in business hours, replaced only when their job ends; on-demand
    /// RunTask per queued job; capacity-provider scaling only.
    DenaBaseline,
    /// philips-labs/terraform-aws-github-runner: a 30 s delayed scale-up per job, one EC2
    /// instance per runner, no warm pool.
    PhilipsBaseline,
    /// The philips-labs baseline with its opt-in job retry: a job still queued five minutes
    /// after scale-up handled it is scaled up once more.
    PhilipsRetry,
    /// Each runner is ready exactly when its job arrives, on instantly available capacity: the
    /// lower bound on latency and idle time.
    Oracle,
}

impl PolicyKind {
    /// Every policy, in report order.
    pub const ALL: [PolicyKind; 5] = [
        PolicyKind::Ours,
        PolicyKind::DenaBaseline,
        PolicyKind::PhilipsBaseline,
        PolicyKind::PhilipsRetry,
        PolicyKind::Oracle,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Ours => "ours",
            PolicyKind::DenaBaseline => "dena-baseline",
            PolicyKind::PhilipsBaseline => "philips-baseline",
            PolicyKind::PhilipsRetry => "philips-retry",
            PolicyKind::Oracle => "oracle",
        }
    }

    /// The policy called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        PolicyKind::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A policy reacting to the world.
pub(crate) trait Policy {
    /// The policy's own timers and queue messages.
    type Msg;

    /// Called once before the first event: schedule ticks and the like.
    fn start(&mut self, world: &mut World<'_, Self::Msg>);

    /// Reacts to one notice.
    fn on_notice(&mut self, world: &mut World<'_, Self::Msg>, notice: Notice<Self::Msg>);
}

/// Runs `policy` in `world` to the end, reporting progress as a fraction of virtual time.
pub(crate) fn drive<P: Policy>(
    mut world: World<'_, P::Msg>,
    mut policy: P,
    name: &str,
    progress: &mut dyn FnMut(f64),
) -> crate::RunReport {
    run_to_end(&mut world, &mut policy, progress);
    world.finish(name)
}

/// Runs `policy` in `world` until the world's end, leaving both to be read.
pub(crate) fn run_to_end<P: Policy>(
    world: &mut World<'_, P::Msg>,
    policy: &mut P,
    progress: &mut dyn FnMut(f64),
) {
    policy.start(world);
    let mut steps = 0u64;
    while let Some(notice) = world.step() {
        if let Some(notice) = notice {
            policy.on_notice(world, notice);
        }
        steps += 1;
        if steps.is_multiple_of(8192) {
            progress(world.progress());
        }
    }
    progress(1.0);
}

/// A fresh world whose business hours are `hours_of`'s.
fn world<'c, M>(
    config: &'c Config,
    hours_of: &Config,
    workload: &Workload,
    params: WorldParams,
    seed: u64,
) -> World<'c, M> {
    let mut world = World::new(config, workload, params, seed);
    world.measure_business_hours_of(hours_of);
    world
}

/// Runs the policy `kind` on `workload` in a fresh world, measuring business hours by
/// `hours_of`'s warm windows.
pub(crate) fn run_kind(
    kind: PolicyKind,
    config: &Config,
    hours_of: &Config,
    workload: &Workload,
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(f64),
) -> crate::RunReport {
    let name = kind.name();
    match kind {
        PolicyKind::Ours => {
            let world = world(config, hours_of, workload, params.clone(), seed);
            drive(world, ours::Ours::default(), name, progress)
        }
        PolicyKind::DenaBaseline => {
            let world = world(config, hours_of, workload, params.clone(), seed);
            drive(world, dena::Dena::default(), name, progress)
        }
        PolicyKind::PhilipsBaseline => {
            let world = world(config, hours_of, workload, params.clone(), seed);
            drive(world, philips::Philips::default(), name, progress)
        }
        PolicyKind::PhilipsRetry => {
            let world = world(config, hours_of, workload, params.clone(), seed);
            let policy = philips::Philips {
                retry: Some(philips::JobRetry::default()),
            };
            drive(world, policy, name, progress)
        }
        PolicyKind::Oracle => {
            // The oracle sees no faults and waits for no infrastructure.
            let calm = Workload {
                faults: crate::params::Faults::none(),
                ..workload.clone()
            };
            let world = world(config, hours_of, &calm, params.perfect(), seed);
            drive(world, oracle::Oracle::default(), name, progress)
        }
    }
}
