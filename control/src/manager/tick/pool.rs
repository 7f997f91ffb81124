//! The tick's warm-pool step for one class: the target now, top-up launches through the
//! manager's launch path (origin `warm`), and busy-safe trims of warm runners the target no
//! longer needs, as [`plan_pool`] decides.

use rc_config::{Config, RunnerClass};
use rc_core::observed::ClassView;
use rc_core::warm::{next_change, plan_pool, PoolObservation, PoolPlan};
use rc_core::Timestamp;

use super::report::{human, Outcome, Step, TickReport};
use super::Observed;
use crate::manager::launch::Purpose;
use crate::manager::Manager;
use crate::ports::Ports;

/// The ECS stop reason of a trimmed warm runner.
const TRIM_REASON: &str = "runner-controller: warm pool trim";

impl<P: Ports> Manager<P> {
    /// Decides and acts on `class`'s pool: one decision for the top-up, one per trim.
    pub(super) async fn tend_pool(
        &self,
        config: &Config,
        class: &RunnerClass,
        now: Timestamp,
        observed: &Observed,
        report: &mut TickReport,
    ) {
        self.share_demand(class, now, report.dry_run).await;
        let target = self.warm_target(class, now);
        let pool = ClassView::observe(&class.name, &observed.tasks, &observed.runners).pool();
        let plan = plan_pool(class, target, &pool, now);
        let reason = pool_reason(class, &plan, &pool, next_change(class, now));
        let outcome = match plan.top_up {
            0 => Outcome::Nothing,
            _ if report.dry_run => Outcome::DryRun,
            wanted => {
                let (started, outcome) = self.top_up(config, class, now, wanted).await;
                if started > 0 {
                    *report
                        .counts
                        .warm_started
                        .entry(class.name.clone())
                        .or_default() += started;
                }
                outcome
            }
        };
        report.push(Step::Pool, Some(&class.name), reason, outcome, &plan);

        for runner in &plan.trim {
            let reason = format!(
                "trim runner {} ({}, warm): idle {}, above the warm target of {target}",
                runner.runner_name,
                class.name,
                human(now.saturating_since(runner.idle_since)),
            );
            let outcome = if report.dry_run {
                Outcome::DryRun
            } else {
                self.stop_idle_runner(runner, observed, TRIM_REASON).await
            };
            if matches!(outcome, Outcome::Done(_)) {
                *report
                    .counts
                    .warm_trimmed
                    .entry(class.name.clone())
                    .or_default() += 1;
            }
            report.push(Step::Trim, Some(&class.name), reason, outcome, runner);
        }
    }

    /// Starts `wanted` warm runners one after another; stops at the first failure (the next
    /// tick tries again). Returns how many started and the outcome to report.
    async fn top_up(
        &self,
        config: &Config,
        class: &RunnerClass,
        now: Timestamp,
        wanted: u32,
    ) -> (u32, Outcome) {
        let mut started = Vec::new();
        for index in 0..wanted {
            let purpose = Purpose::Warm {
                decided_at: now,
                index,
            };
            match self.launch(config, class, purpose).await {
                Ok(launched) => started.push(launched.runner_name),
                Err(failure) => {
                    let done = count(&started);
                    let why = format!(
                        "started {done} of {wanted} ({}), then: {failure}",
                        started.join(", ")
                    );
                    return (done, Outcome::Failed(why));
                }
            }
        }
        let how = format!("started {}", started.join(", "));
        (count(&started), Outcome::Done(how))
    }
}

/// The pool decision in words: the target and until when it holds, what is ready, and the
/// verdict. Trims get their own lines.
fn pool_reason(
    class: &RunnerClass,
    plan: &PoolPlan,
    pool: &PoolObservation,
    next: Option<Timestamp>,
) -> String {
    // Shown in the zone of the class's first window, the clock its schedule is written in.
    let until = match (next, class.warm.first()) {
        (Some(at), Some(window)) => {
            let local = at.to_datetime().with_timezone(&window.timezone);
            format!(" until {}", local.format("%Y-%m-%d %H:%M %Z"))
        }
        _ => " (no warm window)".to_owned(),
    };
    let verdict = match (plan.top_up, plan.held_back, plan.trim.len()) {
        (0, 0, 0) => "nothing to do".to_owned(),
        (0, 0, trims) => format!("trim {trims}"),
        (0, held, _) => format!("start none, {held} held back by max_runners"),
        (n, 0, _) => format!("start {n}"),
        (n, held, _) => format!("start {n}, {held} held back by max_runners"),
    };
    format!(
        "{}: warm target {}{until}; ready {} ({} idle, {} booting), {} of max {} tasks live: {verdict}",
        class.name,
        plan.target,
        plan.ready,
        pool.idle.len(),
        pool.booting_warm,
        pool.live_tasks,
        class.max_runners,
    )
}

fn count(items: &[String]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}
