//! Starting one runner: JIT config from GitHub, then its SSM parameter, then the ECS task.
//!
//! The order is the one the reaper expects ([`rc_core::reaper`], "Observation order"): a
//! registration without a parameter or task is young enough to be left alone while the launch
//! finishes. When a later step fails the earlier ones are undone here, parameter first, and
//! whatever an undo misses (the process dies, a delete fails) the reaper removes later.

use std::time::Duration;

use rc_config::{Config, RunnerClass};
use rc_core::message::JobRef;
use rc_core::naming::{
    client_token, job_runner_name, parameter_name, warm_runner_name, JIT_PARAM_ENV,
};
use rc_core::observed::{controller_label, tags, Origin};
use rc_core::schedule::Backoff;
use rc_core::Timestamp;

use super::Manager;
use crate::ports::{
    AwsError, GithubApi, GithubError, JitRequest, JitSecrets, LaunchError, Ports, RunTaskRequest,
    Runtime, TaskLauncher,
};
use crate::retry::retry;

/// RunTask attempts within one launch before giving the message back to SQS. ECS throttles
/// RunTask per account (a token bucket, "Request throttling for the Amazon ECS API"); a couple
/// of short waits ride out a burst, longer waits are SQS redelivery's job.
const RUN_TASK_BACKOFF: Backoff = Backoff {
    attempts: 3,
    first_wait: Duration::from_millis(250),
};

/// What a runner is started for.
#[derive(Debug, Clone, Copy)]
pub enum Purpose<'a> {
    /// A queued job; the `attempt` of its message names the runner.
    Job {
        /// The job.
        job: &'a JobRef,
        /// 0 for the webhook's message, n for the n-th re-check.
        attempt: u32,
    },
    /// A warm pool top-up: the `index`-th runner of the decision made at `decided_at`.
    Warm {
        /// When the top-up was decided.
        decided_at: Timestamp,
        /// Which of the decision's runners this is.
        index: u32,
    },
}

/// A runner whose task ECS accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launched {
    /// The GitHub runner name.
    pub runner_name: String,
    /// The ECS task ARN.
    pub task_arn: String,
}

/// Why a launch did not start a task.
#[derive(Debug, thiserror::Error)]
pub enum LaunchFailure {
    /// GitHub already has a runner of this name: this launch happened before (a redelivered
    /// message), so nothing new is started.
    #[error("runner {0} is already registered")]
    AlreadyRegistered(String),
    /// GitHub would not register the runner.
    #[error("JIT config for {runner}: {source}")]
    Github {
        /// The runner name.
        runner: String,
        /// GitHub's failure.
        #[source]
        source: GithubError,
    },
    /// The JIT config could not be stored; the registration was undone (and the parameter
    /// deleted, in case the write landed).
    #[error("storing the JIT config of {runner}: {source}")]
    Parameter {
        /// The runner name.
        runner: String,
        /// SSM's failure.
        #[source]
        source: AwsError,
    },
    /// ECS did not start the task; the parameter and the registration were undone.
    #[error("starting the task of {runner}: {source}")]
    Task {
        /// The runner name.
        runner: String,
        /// ECS's failure.
        #[source]
        source: LaunchError,
    },
}

impl LaunchFailure {
    /// A short label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            LaunchFailure::AlreadyRegistered(_) => "already_registered",
            LaunchFailure::Github { .. } => "github_failed",
            LaunchFailure::Parameter { .. } => "parameter_failed",
            LaunchFailure::Task { .. } => "run_task_failed",
        }
    }
}

impl<P: Ports> Manager<P> {
    /// Starts one runner of `class` for `purpose`.
    ///
    /// # Errors
    ///
    /// [`LaunchFailure::AlreadyRegistered`] when the runner name is taken, else the step that
    /// failed, after undoing the steps before it.
    pub async fn launch(
        &self,
        config: &Config,
        class: &RunnerClass,
        purpose: Purpose<'_>,
    ) -> Result<Launched, LaunchFailure> {
        let prefix = &config.github.runner_name_prefix;
        let runner = match purpose {
            Purpose::Job { job, attempt } => job_runner_name(prefix, job.job_id, attempt),
            Purpose::Warm { decided_at, index } => {
                warm_runner_name(prefix, &class.name, decided_at, index)
            }
        };
        let mut labels = class.labels.clone();
        labels.push(controller_label(&self.controller));
        let request = JitRequest {
            name: runner.clone(),
            labels,
            runner_group: config.github.runner_group.clone(),
        };
        let jit = match self.ports.github().generate_jit_config(&request).await {
            Ok(jit) => jit,
            Err(GithubError::NameTaken(_)) => return Err(LaunchFailure::AlreadyRegistered(runner)),
            Err(source) => return Err(LaunchFailure::Github { runner, source }),
        };
        // A fresh random name on every attempt, even a retry of the same runner: names are
        // never derived, so none can be guessed. The undos below delete the one written here
        // (also after a failed write, which may have landed before its answer was lost); if the
        // process dies first, no task refers to it and the reaper deletes it after
        // `PARAMETER_GRACE`. The description records the runner (not secret, and the task role
        // may not list parameters) so the reaper sees a launch in flight.
        let parameter = parameter_name(&self.ssm_prefix, self.ports.runtime().random_u128());
        if let Err(source) = self
            .ports
            .secrets()
            .put_secure(&parameter, &jit.encoded, &runner)
            .await
        {
            self.undo(&runner, jit.runner_id, &parameter).await;
            return Err(LaunchFailure::Parameter { runner, source });
        }
        let request = run_task_request(class, purpose, &runner, &parameter, &self.controller);
        match self.start_task(&request).await {
            Ok(task_arn) => Ok(Launched {
                runner_name: runner,
                task_arn,
            }),
            Err(source) => {
                self.undo(&runner, jit.runner_id, &parameter).await;
                Err(LaunchFailure::Task { runner, source })
            }
        }
    }

    /// RunTask, retried with backoff while the failure is retryable: the one path by which
    /// every kind of pool starts a task (a runner after its registration and secret; a worker
    /// of a pool that needs neither, directly). The request keeps its client token, so on ECS a
    /// retry of a call that did start a task starts no second one.
    ///
    /// # Errors
    ///
    /// The last attempt's failure.
    pub async fn start_task(&self, request: &RunTaskRequest) -> Result<String, LaunchError> {
        let launcher = self.ports.launcher();
        retry(
            RUN_TASK_BACKOFF,
            self.ports.runtime(),
            "ecs:RunTask",
            LaunchError::is_retryable,
            || launcher.run_task(request),
        )
        .await
    }

    /// Removes the parameter (gone already counts as removed) and the registration of a launch
    /// that failed. A failure here is only logged: the reaper deletes stale parameters and
    /// ghost runners.
    async fn undo(&self, runner: &str, runner_id: u64, parameter: &str) {
        if let Err(err) = self.ports.secrets().delete(parameter).await {
            tracing::warn!(runner, error = %err, "could not delete the JIT parameter; the reaper will");
        }
        match self.ports.github().delete_runner(runner_id).await {
            Ok(()) | Err(GithubError::NotFound(_)) => {}
            Err(err) => {
                tracing::warn!(runner, error = %err, "could not delete the registration; the reaper will")
            }
        }
    }
}

/// The task for `runner`: the class's definition, provider and size, the parameter's name in
/// the environment, and our tags.
fn run_task_request(
    class: &RunnerClass,
    purpose: Purpose<'_>,
    runner: &str,
    parameter: &str,
    controller: &str,
) -> RunTaskRequest {
    let mut task_tags = vec![
        (tags::CONTROLLER.to_owned(), controller.to_owned()),
        (tags::CLASS.to_owned(), class.name.clone()),
        (tags::RUNNER.to_owned(), runner.to_owned()),
    ];
    // The window in force when the job was queued or the top-up decided: the launch itself
    // happens moments later.
    let window_at = match purpose {
        Purpose::Job { job, attempt } => {
            task_tags.extend([
                (tags::ORIGIN.to_owned(), Origin::Job.as_str().to_owned()),
                (tags::JOB_ID.to_owned(), job.job_id.to_string()),
                (tags::REPO.to_owned(), job.repo.clone()),
                (tags::ATTEMPT.to_owned(), attempt.to_string()),
            ]);
            Timestamp::from_datetime(job.created_at)
        }
        Purpose::Warm { decided_at, .. } => {
            task_tags.push((tags::ORIGIN.to_owned(), Origin::Warm.as_str().to_owned()));
            decided_at
        }
    };
    if let Some(headroom) = rc_core::warm::headroom(class, window_at) {
        task_tags.push((tags::HEADROOM.to_owned(), headroom.as_secs().to_string()));
    }
    RunTaskRequest {
        task_definition: class.task_definition.clone(),
        capacity_provider: class.capacity_provider.clone(),
        container: class.container.clone(),
        size: class.size,
        environment: vec![(JIT_PARAM_ENV.to_owned(), parameter.to_owned())],
        tags: task_tags,
        client_token: client_token(runner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "github: {scope: org, name: a}\nclasses:\n  - name: small\n    labels: [self-hosted]\n    task_definition: td\n    cpu: 1024\n    memory: 2048\n    capacity_provider: cp\n    max_runners: 20\n    warm:\n      - {days: daily, from: \"09:00\", to: \"18:00\", timezone: UTC, idle: 2, headroom: 45s}\n";

    #[test]
    fn runners_started_in_a_window_carry_its_headroom() {
        let config = rc_config::parse(CONFIG).expect("valid");
        let class = &config.classes[0];
        let at = |rfc3339: &str| {
            chrono::DateTime::parse_from_rfc3339(rfc3339)
                .expect("a valid time")
                .to_utc()
        };
        let warm = |rfc3339: &str| {
            let decided_at = Timestamp::from_datetime(at(rfc3339));
            let purpose = Purpose::Warm {
                decided_at,
                index: 0,
            };
            run_task_request(class, purpose, "rc-w", "p", "c")
        };
        let job = |rfc3339: &str| {
            let job = JobRef {
                delivery_id: "d".into(),
                job_id: 7,
                run_id: 1,
                repo: "a/b".into(),
                owner: "a".into(),
                installation_id: None,
                labels: vec!["self-hosted".into()],
                class: "small".into(),
                created_at: at(rfc3339),
            };
            let purpose = Purpose::Job {
                job: &job,
                attempt: 0,
            };
            run_task_request(class, purpose, "rc-j", "p", "c")
        };
        let (in_window, after) = ("2030-11-22T10:00:00Z", "2030-11-22T19:00:00Z");
        assert_eq!(warm(in_window).tag(tags::ORIGIN), Some("warm"));
        assert_eq!(warm(in_window).tag(tags::HEADROOM), Some("45"));
        assert_eq!(job(in_window).tag(tags::ORIGIN), Some("job"));
        assert_eq!(job(in_window).tag(tags::HEADROOM), Some("45"));
        assert_eq!(warm(after).tag(tags::HEADROOM), None);
        assert_eq!(job(after).tag(tags::HEADROOM), None);
    }
}
