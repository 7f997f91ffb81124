//! What a faster pickup costs: our policy at several settings, for the cost-vs-p95 chart.
//!
//! Two curves of settings, each a way a platform team sizes its pools: the config's warm `idle`
//! counts scaled by a factor ([`WARM_SCALES`]), and every warm window sized from a pickup
//! target instead ([`PICKUP_TARGETS`]). Every setting runs on the same workload and seed
//! through [`crate::run_measured`], and business hours stay those of the loaded config, so
//! that a setting without warm runners is judged over the same arrivals as the others.

use std::time::Duration;

use rc_config::{Config, PickupTarget};
use serde::Serialize;

use crate::{PolicyKind, RunReport, Workload, WorldParams};

/// The factors the warm `idle` counts are scaled by, one point of the first curve each.
pub const WARM_SCALES: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 4.0];

/// The pickup targets (`target_p95`, seconds) of the second curve, one point each.
pub const PICKUP_TARGETS: [u64; 4] = [60, 30, 20, 10];

/// The most idle runners a pickup-target setting keeps per class (at most `max_runners`).
pub const TARGET_MAX: u32 = 10;

/// Which way of sizing the pools a setting belongs to: one curve each on the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Curve {
    /// The config's fixed `idle` counts, scaled.
    IdleCounts,
    /// Every window sized from a pickup target.
    PickupTarget,
}

/// One setting of our policy and what it gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    /// The curve it belongs to.
    pub curve: Curve,
    /// The setting, as the chart labels it (`×2`, `20s`).
    pub label: String,
    /// EC2 (and Fargate) cost, USD.
    pub cost_usd: f64,
    /// Business-hours pickup p95, seconds.
    pub business_hours_p95_s: f64,
    /// Whole-day pickup p95, seconds.
    pub pickup_p95_s: f64,
}

impl Setting {
    fn of(curve: Curve, label: String, report: &RunReport) -> Self {
        Setting {
            curve,
            label,
            cost_usd: report.cost_usd,
            business_hours_p95_s: report.business_hours_pickup_latency_s.p95,
            pickup_p95_s: report.pickup_latency_s.p95,
        }
    }
}

/// `config` with every warm window's `idle` scaled by `factor`, rounded half up, and at most
/// the class's `max_runners`.
pub fn scaled_warm(config: &Config, factor: f64) -> Config {
    let mut scaled = config.clone();
    for class in &mut scaled.classes {
        for window in &mut class.warm {
            let idle = (f64::from(window.idle) * factor).round() as u32;
            window.idle = idle.min(class.max_runners);
        }
    }
    scaled
}

/// `config` with every warm window sized from the pickup target `p95`: at least one idle
/// runner where the window kept any, at most [`TARGET_MAX`] and the class's `max_runners`.
pub fn targeted_warm(config: &Config, p95: Duration) -> Config {
    let mut targeted = config.clone();
    for class in &mut targeted.classes {
        let max = TARGET_MAX.min(class.max_runners);
        for window in &mut class.warm {
            window.idle = window.idle.min(1);
            window.target = Some(PickupTarget { p95, max });
        }
    }
    targeted
}

/// The chart label of `factor`.
pub fn label(factor: f64) -> String {
    format!("×{factor}")
}

/// Runs our policy at each of [`WARM_SCALES`], then each of [`PICKUP_TARGETS`], on `workload`.
pub fn settings(
    config: &Config,
    workload: &Workload,
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(&str, f64),
) -> Vec<Setting> {
    let scaled = WARM_SCALES.iter().map(|&factor| {
        (
            Curve::IdleCounts,
            label(factor),
            scaled_warm(config, factor),
        )
    });
    let targeted = PICKUP_TARGETS.iter().map(|&secs| {
        let p95 = Duration::from_secs(secs);
        (
            Curve::PickupTarget,
            format!("{secs}s"),
            targeted_warm(config, p95),
        )
    });
    scaled
        .chain(targeted)
        .map(|(curve, label, setting)| {
            let report = crate::run_measured(
                &setting,
                config,
                workload,
                PolicyKind::Ours,
                params,
                seed,
                &mut |f| progress(&label, f),
            );
            Setting::of(curve, label, &report)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::dena_like;

    #[test]
    fn scaling_rounds_half_up_and_keeps_max() {
        let config = dena_like();
        let idle = |c: &Config| -> Vec<u32> {
            c.classes
                .iter()
                .flat_map(|k| k.warm.iter().map(|w| w.idle))
                .collect()
        };
        let base = idle(&config);
        assert!(base.iter().any(|&n| n > 0));
        assert!(idle(&scaled_warm(&config, 0.0)).iter().all(|&n| n == 0));
        assert_eq!(idle(&scaled_warm(&config, 1.0)), base);
        let half: Vec<u32> = base.iter().map(|&n| n.div_ceil(2)).collect();
        assert_eq!(idle(&scaled_warm(&config, 0.5)), half);
        let capped = scaled_warm(&config, 1000.0);
        for class in &capped.classes {
            assert!(class.warm.iter().all(|w| w.idle <= class.max_runners));
        }
    }

    #[test]
    fn targets_replace_every_window_size_within_bounds() {
        let config = dena_like();
        let targeted = targeted_warm(&config, Duration::from_secs(20));
        for (class, before) in targeted.classes.iter().zip(&config.classes) {
            for (window, was) in class.warm.iter().zip(&before.warm) {
                let target = window.target.expect("every window gets a target");
                assert_eq!(target.p95, Duration::from_secs(20));
                assert_eq!(target.max, TARGET_MAX.min(class.max_runners));
                assert_eq!(window.idle, was.idle.min(1));
            }
        }
        // A window that kept no idle runners keeps none at least (xlarge-arm64).
        assert!(targeted
            .classes
            .iter()
            .any(|c| c.warm.iter().any(|w| w.idle == 0)));
    }
}
