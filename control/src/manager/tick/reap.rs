//! The tick's reaper step: [`plan_reap`] over the pass's observation, each action executed in
//! the core's order, and the busy-safe stop that the pool's trims share.
//!
//! The adapters add no reach of their own: every task ARN, runner id and parameter name comes
//! from the core's actions, which only name what carries our tags and runner-name prefix (and,
//! for ghost registrations, our controller label).

use rc_config::Config;
use rc_core::observed::controller_label;
use rc_core::reaper::{plan_reap, ClassPolicy, ReapAction, ReapInput};
use rc_core::warm::IdleRunner;
use rc_core::Timestamp;

use super::report::{Outcome, Step, TickReport};
use super::Observed;
use crate::manager::Manager;
use crate::ports::{GithubError, JitSecrets, Ports, TaskLauncher};

/// The ECS stop reason of a task whose runner never came online.
const STUCK_REASON: &str = "runner-controller: runner not online within boot_timeout";

/// The ECS stop reason of an idle on-demand runner.
const IDLE_REASON: &str = "runner-controller: idle past idle_timeout";

impl<P: Ports> Manager<P> {
    /// Decides one reaper pass and executes it (unless dry).
    pub(super) async fn reap(
        &self,
        config: &Config,
        now: Timestamp,
        observed: &Observed,
        report: &mut TickReport,
    ) {
        let classes: Vec<ClassPolicy> = config
            .classes
            .iter()
            .map(|class| ClassPolicy::at(class, self.warm_target(class, now)))
            .collect();
        let label = controller_label(&self.controller);
        let actions = plan_reap(&ReapInput {
            now,
            tasks: &observed.tasks,
            runners: &observed.runners,
            parameters: &observed.parameters,
            runner_name_prefix: &config.github.runner_name_prefix,
            controller_label: &label,
            boot_timeout: config.manager.boot_timeout,
            classes: &classes,
        });
        for action in actions {
            let outcome = if report.dry_run {
                Outcome::DryRun
            } else {
                self.execute_reap(&action, observed).await
            };
            if matches!(outcome, Outcome::Done(_)) {
                *report.counts.reaped.entry(action.kind()).or_default() += 1;
            }
            let class = match &action {
                ReapAction::StopTask { class, .. } | ReapAction::StopRunner { class, .. } => {
                    Some(class.as_str())
                }
                ReapAction::DeleteRunner { .. } | ReapAction::DeleteParameter { .. } => None,
            };
            report.push(Step::Reap, class, action.to_string(), outcome, &action);
        }
    }

    async fn execute_reap(&self, action: &ReapAction, observed: &Observed) -> Outcome {
        match action {
            ReapAction::StopTask {
                task_arn,
                runner_id,
                ..
            } => {
                // The registration goes first: a runner that came online since the observation
                // could otherwise lose its task mid-job.
                if let Some(runner_id) = runner_id {
                    match self.delete_registration(*runner_id).await {
                        Ok(()) | Err(GithubError::NotFound(_)) => {}
                        Err(GithubError::RunnerBusy(_)) => {
                            return Outcome::LeftAlone(
                                "GitHub says its runner is running a job".to_owned(),
                            )
                        }
                        Err(err) => return Outcome::Failed(err.to_string()),
                    }
                }
                match self
                    .ports
                    .launcher()
                    .stop_task(task_arn, STUCK_REASON)
                    .await
                {
                    Ok(()) => Outcome::Done("task stopped".to_owned()),
                    Err(err) => Outcome::Failed(err.to_string()),
                }
            }
            ReapAction::DeleteRunner { runner_id, .. } => {
                match self.delete_registration(*runner_id).await {
                    Ok(()) => Outcome::Done("registration deleted".to_owned()),
                    Err(GithubError::NotFound(_)) => Outcome::Done("already gone".to_owned()),
                    // Offline when listed, and has since taken a job.
                    Err(GithubError::RunnerBusy(_)) => {
                        Outcome::LeftAlone("GitHub says it is running a job".to_owned())
                    }
                    Err(err) => Outcome::Failed(err.to_string()),
                }
            }
            ReapAction::DeleteParameter { name, .. } => {
                match self.ports.secrets().delete(name).await {
                    Ok(()) => Outcome::Done("parameter deleted".to_owned()),
                    Err(err) => Outcome::Failed(err.to_string()),
                }
            }
            ReapAction::StopRunner { runner, .. } => {
                self.stop_idle_runner(runner, observed, IDLE_REASON).await
            }
        }
    }

    /// Stops an idle runner busy-safe: deletes its registration (GitHub refuses with 422 while
    /// it runs a job: then nothing else happens), stops its task, deletes the JIT parameter the
    /// task was given (normally the entrypoint deleted it already).
    ///
    /// Once the registration is gone the runner cannot take a job, so the later steps are
    /// safe. A later step that fails is reported; the reaper finishes it on a later tick (a
    /// live task whose runner is not registered is stopped after `boot_timeout`, a parameter
    /// without a task is deleted after an hour).
    pub(super) async fn stop_idle_runner(
        &self,
        runner: &IdleRunner,
        observed: &Observed,
        reason: &str,
    ) -> Outcome {
        match self.delete_registration(runner.runner_id).await {
            Ok(()) | Err(GithubError::NotFound(_)) => {}
            Err(GithubError::RunnerBusy(_)) => {
                return Outcome::LeftAlone("GitHub says it is running a job".to_owned())
            }
            Err(err) => return Outcome::Failed(format!("deleting the registration: {err}")),
        }
        if let Err(err) = self
            .ports
            .launcher()
            .stop_task(&runner.task_arn, reason)
            .await
        {
            return Outcome::Failed(format!(
                "registration deleted; stopping the task failed: {err}"
            ));
        }
        let parameter = observed
            .tasks
            .iter()
            .find(|task| task.arn == runner.task_arn)
            .and_then(|task| task.jit_parameter.as_deref());
        let Some(parameter) = parameter else {
            return Outcome::Done("registration deleted, task stopped".to_owned());
        };
        match self.ports.secrets().delete(parameter).await {
            Ok(()) => Outcome::Done("registration deleted, task stopped".to_owned()),
            Err(err) => Outcome::Failed(format!(
                "registration deleted, task stopped; deleting {parameter} failed: {err}"
            )),
        }
    }
}
