//! What a faster pickup costs: our policy at several settings, for the cost-vs-p95 chart.
//!
//! Until warm pools are sized from a latency target, a setting is the config's warm `idle`
//! counts scaled by a factor ([`WARM_SCALES`]). Every setting runs on the same workload and
//! seed through [`crate::run_measured`], and business hours stay those of the loaded config,
//! so that a setting without warm runners is judged over the same arrivals as the others.

use rc_config::Config;
use serde::Serialize;

use crate::{PolicyKind, RunReport, Workload, WorldParams};

/// The factors the warm `idle` counts are scaled by, one point of the curve each. A list of
/// latency targets replaces it once pools are sized from one.
pub const WARM_SCALES: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 4.0];

/// One setting of our policy and what it gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    /// The setting, as the chart labels it (`×2`).
    pub label: String,
    /// EC2 (and Fargate) cost, USD.
    pub cost_usd: f64,
    /// Business-hours pickup p95, seconds.
    pub business_hours_p95_s: f64,
    /// Whole-day pickup p95, seconds.
    pub pickup_p95_s: f64,
}

impl Setting {
    fn of(label: String, report: &RunReport) -> Self {
        Setting {
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

/// The chart label of `factor`.
pub fn label(factor: f64) -> String {
    format!("×{factor}")
}

/// Runs our policy at each of [`WARM_SCALES`] on `workload`.
pub fn settings(
    config: &Config,
    workload: &Workload,
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(&str, f64),
) -> Vec<Setting> {
    WARM_SCALES
        .iter()
        .map(|&factor| {
            let scaled = scaled_warm(config, factor);
            let label = label(factor);
            let report = crate::run_measured(
                &scaled,
                config,
                workload,
                PolicyKind::Ours,
                params,
                seed,
                &mut |f| progress(&label, f),
            );
            Setting::of(label, &report)
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
}
