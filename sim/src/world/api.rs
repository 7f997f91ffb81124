//! Every call a policy makes to AWS or GitHub: its name for the report, its fault injection and
//! its error.
//!
//! A call is tried up to [`crate::WorldParams::aws_attempts`] times, as the AWS SDK's standard
//! retry mode and octocrab's retry layer do; each attempt counts as a call and may fail with the
//! workload's error rate. A failed attempt may still have taken effect (ECS started the task but
//! the answer timed out): the caller learns that only through what it observes later.

use serde::Serialize;

use super::World;

/// The API calls the simulator counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ApiKind {
    /// `ecs:RunTask`.
    EcsRunTask,
    /// `ecs:StopTask`.
    EcsStopTask,
    /// `ecs:ListTasks` (one call per page of 100).
    EcsListTasks,
    /// `ecs:DescribeTasks` (one call per 100 tasks).
    EcsDescribeTasks,
    /// `ecs:DescribeCapacityProviders`.
    EcsDescribeCapacityProviders,
    /// `ecs:ListContainerInstances` + `ecs:DescribeContainerInstances`, counted as one.
    EcsDescribeContainerInstances,
    /// `autoscaling:DescribeAutoScalingGroups`.
    AsgDescribeGroups,
    /// `autoscaling:SetDesiredCapacity`.
    AsgSetDesiredCapacity,
    /// `ec2:RunInstances` (philips baseline).
    Ec2RunInstances,
    /// `ec2:TerminateInstances` (philips baseline).
    Ec2TerminateInstances,
    /// `ec2:DescribeInstances` (philips baseline).
    Ec2DescribeInstances,
    /// `ssm:PutParameter`.
    SsmPutParameter,
    /// `ssm:DeleteParameter`.
    SsmDeleteParameter,
    /// `ssm:DescribeParameters` (the reaper's listing, one call per page of 50).
    SsmListParameters,
    /// `sqs:SendMessage` (delayed re-checks and retries).
    SqsSendMessage,
    /// `POST .../actions/runners/generate-jitconfig`.
    GithubJitConfig,
    /// `GET /repos/{repo}/actions/jobs/{id}`.
    GithubGetJob,
    /// `GET .../actions/runners` (one call per page of 100).
    GithubListRunners,
    /// `DELETE .../actions/runners/{id}`.
    GithubDeleteRunner,
    /// `GET /app/hook/deliveries`.
    GithubListDeliveries,
    /// `POST /app/hook/deliveries/{id}/attempts`.
    GithubRedeliver,
    /// Queued workflow runs of one repository (one call per page of 100) and each run's jobs
    /// (one call per run): the rescue scan.
    GithubListQueuedJobs,
}

impl ApiKind {
    /// Every kind, in report order.
    pub const ALL: [ApiKind; 22] = [
        ApiKind::EcsRunTask,
        ApiKind::EcsStopTask,
        ApiKind::EcsListTasks,
        ApiKind::EcsDescribeTasks,
        ApiKind::EcsDescribeCapacityProviders,
        ApiKind::EcsDescribeContainerInstances,
        ApiKind::AsgDescribeGroups,
        ApiKind::AsgSetDesiredCapacity,
        ApiKind::Ec2RunInstances,
        ApiKind::Ec2TerminateInstances,
        ApiKind::Ec2DescribeInstances,
        ApiKind::SsmPutParameter,
        ApiKind::SsmDeleteParameter,
        ApiKind::SsmListParameters,
        ApiKind::SqsSendMessage,
        ApiKind::GithubJitConfig,
        ApiKind::GithubGetJob,
        ApiKind::GithubListRunners,
        ApiKind::GithubDeleteRunner,
        ApiKind::GithubListDeliveries,
        ApiKind::GithubRedeliver,
        ApiKind::GithubListQueuedJobs,
    ];

    /// The name used in reports, `service:Operation`.
    pub fn name(self) -> &'static str {
        match self {
            ApiKind::EcsRunTask => "ecs:RunTask",
            ApiKind::EcsStopTask => "ecs:StopTask",
            ApiKind::EcsListTasks => "ecs:ListTasks",
            ApiKind::EcsDescribeTasks => "ecs:DescribeTasks",
            ApiKind::EcsDescribeCapacityProviders => "ecs:DescribeCapacityProviders",
            ApiKind::EcsDescribeContainerInstances => "ecs:DescribeContainerInstances",
            ApiKind::AsgDescribeGroups => "autoscaling:DescribeAutoScalingGroups",
            ApiKind::AsgSetDesiredCapacity => "autoscaling:SetDesiredCapacity",
            ApiKind::Ec2RunInstances => "ec2:RunInstances",
            ApiKind::Ec2TerminateInstances => "ec2:TerminateInstances",
            ApiKind::Ec2DescribeInstances => "ec2:DescribeInstances",
            ApiKind::SsmPutParameter => "ssm:PutParameter",
            ApiKind::SsmDeleteParameter => "ssm:DeleteParameter",
            ApiKind::SsmListParameters => "ssm:DescribeParameters",
            ApiKind::SqsSendMessage => "sqs:SendMessage",
            ApiKind::GithubJitConfig => "github:GenerateJitConfig",
            ApiKind::GithubGetJob => "github:GetJob",
            ApiKind::GithubListRunners => "github:ListRunners",
            ApiKind::GithubDeleteRunner => "github:DeleteRunner",
            ApiKind::GithubListDeliveries => "github:ListDeliveries",
            ApiKind::GithubRedeliver => "github:Redeliver",
            ApiKind::GithubListQueuedJobs => "github:ListQueuedJobs",
        }
    }

    pub(crate) fn is_github(self) -> bool {
        matches!(
            self,
            ApiKind::GithubJitConfig
                | ApiKind::GithubGetJob
                | ApiKind::GithubListRunners
                | ApiKind::GithubDeleteRunner
                | ApiKind::GithubListDeliveries
                | ApiKind::GithubRedeliver
                | ApiKind::GithubListQueuedJobs
        )
    }
}

/// Why a call failed after its retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Throttling or a 5xx on every attempt.
    #[error("{} failed: throttled or 5xx on every attempt", .0.name())]
    Unavailable(ApiKind),
    /// ECS refused the task: the cluster is at its PROVISIONING quota.
    #[error("ecs:RunTask refused: too many tasks in PROVISIONING")]
    ProvisioningQuota,
    /// Auto Scaling refused a desired capacity above the group's max.
    #[error("autoscaling:SetDesiredCapacity refused: above the group's max")]
    AboveMax,
    /// GitHub refused to delete a runner that is running a job (HTTP 422).
    #[error("github:DeleteRunner refused: the runner is busy")]
    RunnerBusy,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// The call succeeded.
    Ok,
    /// The call failed; `took_effect` says whether it happened anyway.
    Failed { took_effect: bool },
}

impl<M> World<'_, M> {
    /// One attempt of a call: counts it and rolls the workload's error rate.
    pub(crate) fn attempt(&mut self, kind: ApiKind) -> Attempt {
        self.stats.call(kind, self.now);
        let rate = if kind.is_github() {
            self.faults.github_error
        } else {
            self.faults.aws_error
        };
        if self.chance(rate) {
            self.stats.error(kind);
            let took_effect = self.chance(self.faults.aws_error_took_effect) && !kind.is_github();
            Attempt::Failed { took_effect }
        } else {
            Attempt::Ok
        }
    }

    /// A call whose effect the world applies only on success, with retries.
    pub(crate) fn call(&mut self, kind: ApiKind) -> Result<(), ApiError> {
        for _ in 0..self.params.aws_attempts.max(1) {
            if self.attempt(kind) == Attempt::Ok {
                return Ok(());
            }
        }
        Err(ApiError::Unavailable(kind))
    }

    /// `calls` calls of `kind` (pages of a listing), failing if any fails.
    pub(crate) fn call_pages(
        &mut self,
        kind: ApiKind,
        items: usize,
        page: usize,
    ) -> Result<(), ApiError> {
        for _ in 0..items.div_ceil(page).max(1) {
            self.call(kind)?;
        }
        Ok(())
    }
}
