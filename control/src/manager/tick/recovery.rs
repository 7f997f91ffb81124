//! The tick's repairs for lost webhooks, the redelivery sweep and the rescue scan, drawing on
//! one GitHub API budget per tick as [`rc_core::recovery`] decides.
//!
//! # What the budget is charged
//!
//! | Call | Calls charged |
//! |---|---|
//! | list deliveries | one per page of 100, at most [`DELIVERY_PAGES_PER_TICK`] pages |
//! | redeliver | one each (the core charges it) |
//! | scan one repository | one, plus one per queued run it lists jobs of |
//! | rescue a job | one each (the core charges it: the launch path's JIT call) |
//!
//! # Where the rescue scan looks
//!
//! "Repositories seen in the last hour" are the `rc:repo` tags of our job tasks that ECS still
//! lists: live ones, and stopped ones, which ECS keeps listing for about an hour after they
//! stop ("Stopped tasks appear in the ListTasks results for at least one hour"). For a
//! repository scope the configured repository is always scanned. A repository whose every job
//! in the last hour was lost has no task to show it: the redelivery sweep repairs that case,
//! the scan is the backstop for the jobs it cannot. When the budget does not reach every
//! repository, each tick starts at a different one (by minute), so all are scanned in turn.
//!
//! A rescued job goes to the jobs queue as a `queued` message, the path a webhook takes: the
//! manager's coverage check, the client token and the at-capacity backoff apply unchanged.

use std::time::Duration;

use rc_config::{Config, GithubScope};
use rc_core::recovery::{
    listing_pages, plan_redeliveries, plan_rescue, rotated, run_listings, scan_due, scan_period,
    suggests_loss, ApiBudget, Delivery, RedeliveryDecision, RescueDecision,
};
use rc_core::Timestamp;
use serde_json::json;

use super::report::{human, Outcome, Step, TickReport};
use crate::manager::Manager;
use crate::ports::{ClusterObserver, GithubApi, JobQueue, Ports};

/// GitHub's largest page of deliveries.
const DELIVERY_PAGE: u32 = 100;

/// How far back the sweep reads each tick. A failed delivery is at the top of the list when
/// the next tick runs; 300 deliveries (about 100 jobs' queued, in-progress and completed
/// events) is more than a minute brings in the busiest setups we know. What scrolls past
/// during a longer outage is left to the rescue scan.
const DELIVERY_PAGES_PER_TICK: u32 = 3;

impl<P: Ports> Manager<P> {
    /// Redelivers failed `workflow_job` deliveries, as many as the limits allow; `true` when
    /// a job may be lost all the same ([`suggests_loss`]), or the sweep could not look.
    pub(super) async fn sweep_deliveries(
        &self,
        config: &Config,
        now: Timestamp,
        budget: &mut ApiBudget,
        report: &mut TickReport,
    ) -> bool {
        let settings = &config.manager;
        if !self.redelivery_sweep {
            let why = "skip the redelivery sweep: it is off (token credentials without RC_GITHUB_HOOK_ID)";
            report.push(Step::Redeliver, None, why.to_owned(), Outcome::Nothing, &());
            return true;
        }
        let pages = DELIVERY_PAGES_PER_TICK.min(budget.remaining());
        if settings.max_redeliveries_per_tick == 0 || pages == 0 {
            let why =
                "skip the redelivery sweep: max_redeliveries_per_tick is 0 or the budget is spent";
            report.push(Step::Redeliver, None, why.to_owned(), Outcome::Nothing, &());
            return true;
        }
        let read_back_to = self.book().read_back_to();
        let deliveries = match self
            .ports
            .github()
            .recent_deliveries(pages * DELIVERY_PAGE, read_back_to)
            .await
        {
            Ok(deliveries) => deliveries,
            Err(err) => {
                budget.charge(1);
                let what = "list the webhook's recent deliveries".to_owned();
                report.push(
                    Step::Redeliver,
                    None,
                    what,
                    Outcome::Failed(err.to_string()),
                    &(),
                );
                return true;
            }
        };
        budget.charge(listing_pages(deliveries.len(), DELIVERY_PAGE));
        let max = settings.max_redeliveries_per_tick;
        let plan = plan_redeliveries(&deliveries, now, max, budget);
        let asked = usize::try_from(pages * DELIVERY_PAGE).unwrap_or(usize::MAX);
        let previous = self.book().last_sweep();
        let loss_suspected = suggests_loss(&plan, &deliveries, asked, previous);
        let reason = format!(
            "read {} recent deliveries: {} failed workflow_job events",
            deliveries.len(),
            plan.len()
        );
        report.push(Step::Redeliver, None, reason, Outcome::Nothing, &());
        for (delivery, decision) in plan {
            let what = describe_delivery(delivery);
            let (reason, outcome) = match decision {
                RedeliveryDecision::Redeliver if report.dry_run => {
                    (format!("redeliver {what}"), Outcome::DryRun)
                }
                RedeliveryDecision::Redeliver => {
                    let outcome = match self.ports.github().redeliver(delivery.id).await {
                        Ok(()) => {
                            report.counts.redelivered += 1;
                            Outcome::Done("redelivery requested".to_owned())
                        }
                        Err(err) => Outcome::Failed(err.to_string()),
                    };
                    (format!("redeliver {what}"), outcome)
                }
                RedeliveryDecision::Delivered => (
                    format!("leave {what}: a later attempt was delivered"),
                    Outcome::Nothing,
                ),
                RedeliveryDecision::GaveUp { attempts } => (
                    format!("give up on {what}: failed {attempts} times, the rescue scan covers its job"),
                    Outcome::Nothing,
                ),
                RedeliveryDecision::TickLimit => (
                    format!("leave {what} for the next tick: max_redeliveries_per_tick ({max}) reached"),
                    Outcome::Nothing,
                ),
                RedeliveryDecision::OverBudget => (
                    format!("leave {what} for the next tick: the GitHub API budget is spent"),
                    Outcome::Nothing,
                ),
            };
            let detail = json!({ "delivery": delivery, "decision": decision });
            report.push(Step::Redeliver, None, reason, outcome, &detail);
        }
        loss_suspected
    }

    /// Scans the repositories seen in the last hour for jobs queued too long and sends the
    /// routable ones to the jobs queue.
    pub(super) async fn rescue_scan(
        &self,
        config: &Config,
        now: Timestamp,
        budget: &mut ApiBudget,
        report: &mut TickReport,
    ) {
        let mut repos = match self.ports.observer().recent_job_repos().await {
            Ok(repos) => repos,
            Err(err) => {
                let what = "list the repositories our tasks served in the last hour".to_owned();
                report.push(
                    Step::Rescue,
                    None,
                    what,
                    Outcome::Failed(err.to_string()),
                    &(),
                );
                return;
            }
        };
        if let GithubScope::Repo(repo) = &config.github.scope {
            repos.insert(repo.clone());
        }
        let seen = repos.len();
        let rescue_after = config.manager.rescue_after;
        let calm = self.book().calm(now, scan_period(rescue_after, true));
        let period = scan_period(rescue_after, calm);
        let repos: Vec<String> = repos
            .into_iter()
            .filter(|repo| scan_due(repo, now, period))
            .collect();
        // A job cannot be rescued before it has waited `rescue_after`.
        let created_before = now - config.manager.rescue_after;
        let mut jobs = Vec::new();
        let mut scanned = 0;
        for repo in rotated(&repos, now) {
            if !budget.try_spend() {
                break;
            }
            scanned += 1;
            match self.ports.github().queued_jobs(repo, created_before).await {
                Ok(found) => {
                    budget.charge(run_listings(&found));
                    jobs.extend(found);
                }
                Err(err) => {
                    let what = format!("scan {repo} for queued jobs");
                    report.push(
                        Step::Rescue,
                        None,
                        what,
                        Outcome::Failed(err.to_string()),
                        &(),
                    );
                }
            }
        }
        let left = match repos.len() - scanned {
            0 => String::new(),
            left => format!(", {left} left for the next tick: the GitHub API budget is spent"),
        };
        let reason = format!(
            "scanned {scanned} of {} repositories due this tick ({seen} seen in the last hour, each scanned every {}{}){left}: {} queued jobs",
            repos.len(),
            human(period),
            if calm { ": no sign of a lost job lately" } else { "" },
            jobs.len()
        );
        report.push(
            Step::Rescue,
            None,
            reason,
            Outcome::Nothing,
            &json!({ "repos": repos }),
        );

        let rescue_after = human(config.manager.rescue_after);
        for (job, decision) in plan_rescue(config, &jobs, now, budget) {
            let what = format!("job {} of {}", job.job_id, job.repo);
            let queued = human(now.saturating_since(job.created_at));
            let mut class = None;
            let (reason, outcome) = match &decision {
                RescueDecision::Rescue(message) => {
                    class = message.job().map(|j| j.class.clone());
                    let reason = format!(
                        "rescue {what} ({}): queued {queued}, longer than rescue_after ({rescue_after})",
                        class.as_deref().unwrap_or_default()
                    );
                    let outcome = if report.dry_run {
                        Outcome::DryRun
                    } else {
                        match self.ports.queue().send(message, Duration::ZERO).await {
                            Ok(()) => {
                                report.counts.rescued += 1;
                                Outcome::Done("sent to the jobs queue".to_owned())
                            }
                            Err(err) => Outcome::Failed(err.to_string()),
                        }
                    };
                    (reason, outcome)
                }
                RescueDecision::NotYet { .. } => (
                    format!("leave {what}: queued {queued}, within rescue_after ({rescue_after})"),
                    Outcome::Nothing,
                ),
                RescueDecision::Unrouted { reason } => (
                    format!(
                        "leave {what} [{}]: no class: {reason}",
                        job.labels.join(", ")
                    ),
                    Outcome::Nothing,
                ),
                RescueDecision::Duplicate => {
                    (format!("leave {what}: listed twice"), Outcome::Nothing)
                }
                RescueDecision::OverBudget => (
                    format!("leave {what} for the next tick: the GitHub API budget is spent"),
                    Outcome::Nothing,
                ),
            };
            let detail = json!({ "job": job, "decision": decision });
            report.push(Step::Rescue, class.as_deref(), reason, outcome, &detail);
        }
    }
}

fn describe_delivery(delivery: &Delivery) -> String {
    let answer = match delivery.status_code {
        0 => "no answer".to_owned(),
        code => format!("answered {code}"),
    };
    let action = delivery
        .action
        .as_deref()
        .map_or(String::new(), |action| format!(".{action}"));
    format!(
        "delivery {} ({}{action}, {answer} at {})",
        delivery.id, delivery.event, delivery.delivered_at
    )
}
