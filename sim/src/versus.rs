//! Two configs on one workload: what a config change does to pickup, cost and API calls.
//!
//! `simulate --compare OLD NEW` runs our policy under each config on the same seeded workload
//! and world, through the same [`crate::run`] entry point a plain `simulate` uses, so it keeps
//! measuring whatever production's orchestration does. Every metric compared here is better
//! lower, so a delta's sign says whether the change helps.

use std::fmt;

use rc_config::Config;
use serde::Serialize;

use crate::report::{Comparison, Ordered, RunReport};
use crate::{PolicyKind, Workload, WorldParams};

/// The two runs and the metrics compared, old first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Versus {
    /// Both runs, as `old` and `new`, in the shape of a policy comparison (for the charts).
    pub runs: Comparison,
    /// Each compared metric.
    pub rows: Vec<Row>,
}

/// One metric under both configs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What is measured, with its unit.
    pub metric: String,
    /// Under the old config (`None`: the class does not exist there).
    pub old: Option<f64>,
    /// Under the new config.
    pub new: Option<f64>,
    /// `new - old`, when both exist.
    pub delta: Option<f64>,
    /// The delta as a percentage of `old`, when both exist and `old` is not zero.
    pub percent: Option<f64>,
}

/// Runs `ours` under `old` and under `new` on `workload` with the same seed.
pub fn versus(
    old: &Config,
    new: &Config,
    workload: &Workload,
    params: &WorldParams,
    seed: u64,
    progress: &mut dyn FnMut(&str, f64),
) -> Versus {
    let mut runs = crate::compare(
        old,
        workload,
        &[PolicyKind::Ours],
        params,
        seed,
        &mut |_, f| progress("old", f),
    );
    let new_run = crate::run(new, workload, PolicyKind::Ours, params, seed, &mut |f| {
        progress("new", f)
    });
    let old_run = runs.policies.0.remove(0).1;
    let rows = rows(&old_run, &new_run);
    runs.policies = Ordered(vec![("old".into(), old_run), ("new".into(), new_run)]);
    Versus { runs, rows }
}

fn rows(old: &RunReport, new: &RunReport) -> Vec<Row> {
    let calls = |r: &RunReport| r.api_calls.0.iter().map(|(_, n)| *n).sum::<u64>() as f64;
    let mut rows = vec![
        row(
            "pickup p50 (s)",
            Some(old.pickup_latency_s.p50),
            Some(new.pickup_latency_s.p50),
        ),
        row(
            "pickup p95 (s)",
            Some(old.pickup_latency_s.p95),
            Some(new.pickup_latency_s.p95),
        ),
        row(
            "business-hours pickup p95 (s)",
            Some(old.business_hours_pickup_latency_s.p95),
            Some(new.business_hours_pickup_latency_s.p95),
        ),
        row("cost (USD)", Some(old.cost_usd), Some(new.cost_usd)),
        row(
            "idle runner-minutes",
            Some(old.idle_runner_minutes),
            Some(new.idle_runner_minutes),
        ),
        row("API calls", Some(calls(old)), Some(calls(new))),
        row(
            "unroutable jobs",
            Some(old.unroutable_jobs as f64),
            Some(new.unroutable_jobs as f64),
        ),
    ];
    let mut classes: Vec<&String> = old
        .pickup_latency_by_class_s
        .0
        .iter()
        .map(|(c, _)| c)
        .collect();
    for (class, _) in &new.pickup_latency_by_class_s.0 {
        if !classes.contains(&class) {
            classes.push(class);
        }
    }
    for class in classes {
        let (a, b) = (
            old.pickup_latency_by_class_s.get(class),
            new.pickup_latency_by_class_s.get(class),
        );
        rows.push(row(
            &format!("{class} pickup p50 (s)"),
            a.map(|s| s.p50),
            b.map(|s| s.p50),
        ));
        rows.push(row(
            &format!("{class} pickup p95 (s)"),
            a.map(|s| s.p95),
            b.map(|s| s.p95),
        ));
    }
    rows
}

fn row(metric: &str, old: Option<f64>, new: Option<f64>) -> Row {
    let delta = old.zip(new).map(|(a, b)| round2(b - a));
    let percent = old
        .zip(delta)
        .filter(|(a, _)| *a != 0.0)
        .map(|(a, d)| round2(d / a * 100.0));
    Row {
        metric: metric.to_string(),
        old,
        new,
        delta,
        percent,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Versus {
    /// The single-line JSON object `--json` prints.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports always serialize")
    }

    /// The HTML report: the comparison table, deltas coloured (green better, red worse),
    /// then the simulator's charts with `old` and `new` as the two series.
    pub fn html(&self) -> String {
        let mut table = String::from(
            "<h1>Config comparison</h1><p>Our policy under the old and the new config, same \
             workload and seed. Lower is better in every row.</p><table><thead><tr><th>metric</th>\
             <th>old</th><th>new</th><th>delta</th><th>%</th></tr></thead><tbody>",
        );
        for r in &self.rows {
            let colour = match r.delta {
                Some(d) if d < 0.0 => "background:#dcfce7",
                Some(d) if d > 0.0 => "background:#fee2e2",
                _ => "",
            };
            table += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td style=\"{colour}\">{}</td><td style=\"{colour}\">{}</td></tr>",
                r.metric.replace('&', "&amp;").replace('<', "&lt;"),
                cell(r.old),
                cell(r.new),
                signed(r.delta),
                r.percent.map_or(String::new(), |p| format!("{p:+.1}%")),
            );
        }
        table += "</tbody></table>";
        crate::html::render(&self.runs).replacen("<body>", &format!("<body>{table}"), 1)
    }
}

fn cell(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.2}"))
}

fn signed(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:+.2}"))
}

impl fmt::Display for Versus {
    /// Old, new, signed delta and percentage per metric.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runs = &self.runs;
        writeln!(
            f,
            "scenario {} · seed {} · {} jobs · policy ours · old vs new config",
            runs.scenario, runs.seed, runs.jobs
        )?;
        let width = self.rows.iter().map(|r| r.metric.len()).max().unwrap_or(0);
        writeln!(
            f,
            "{:width$}  {:>10}  {:>10}  {:>10}  {:>8}",
            "", "old", "new", "delta", "%"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:width$}  {:>10}  {:>10}  {:>10}  {:>8}",
                r.metric,
                cell(r.old),
                cell(r.new),
                signed(r.delta),
                r.percent.map_or(String::new(), |p| format!("{p:+.1}%")),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_and_percentages() {
        let r = row("x", Some(10.0), Some(7.5));
        assert_eq!((r.delta, r.percent), (Some(-2.5), Some(-25.0)));
        let r = row("x", Some(0.0), Some(1.0));
        assert_eq!((r.delta, r.percent), (Some(1.0), None));
        let r = row("x", None, Some(1.0));
        assert_eq!((r.delta, r.percent), (None, None));
    }
}
