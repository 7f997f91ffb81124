//! The orchestration's ports over the simulated services: what `rc-aws` and `rc-github` are to
//! production, this is to the simulator.
//!
//! Every port call goes to the world's API (which counts it, injects the workload's faults and
//! answers in production's shapes) and answers at once, so the orchestration's futures are
//! ready when first polled ([`rc_control::ready::run_ready`]). Requests are read the way the
//! services read them: a RunTask's class, origin, job and runner come from its tags, its JIT
//! parameter from its environment, exactly as the production launch path writes them.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rc_control::ports::{
    AutoScaling, AwsError, ClassLeases, ClusterObserver, ContainerInstance, DemandStore, GithubApi,
    GithubError, GroupDescription, JitConfig, JitRequest, JitSecrets, JobQueue, JobState,
    LaunchError, Ports, ProviderGroup, RunTaskRequest, Runtime, TaskLauncher,
};
use rc_core::book::SharedDemand;
use rc_core::message::JobMessage;
use rc_core::observed::{tags, ObservedRunner, ObservedTask, Origin, JIT_PARAM_ENV};
use rc_core::reaper::JitParameter;
use rc_core::recovery::{Delivery, ScannedJob};
use rc_core::scale_up::JobId;
use rc_core::Timestamp;

use super::Msg;
use crate::world::{ApiError, DeliveryId, JobView, Placement, RunTask, World};

/// The world, lent to the orchestration for one invocation (a batch, a tick, an autoscaler run).
pub(crate) struct SimPorts<'w, 'c> {
    world: Mutex<&'w mut World<'c, Msg>>,
}

impl<'w, 'c> SimPorts<'w, 'c> {
    pub(crate) fn new(world: &'w mut World<'c, Msg>) -> Self {
        SimPorts {
            world: Mutex::new(world),
        }
    }

    /// The world; never held across an await (every call here is synchronous).
    fn world(&self) -> MutexGuard<'_, &'w mut World<'c, Msg>> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An AWS call that failed on every attempt, as the SDK reports one.
fn aws(error: ApiError) -> AwsError {
    match error {
        ApiError::AboveMax => AwsError::Rejected {
            operation: "autoscaling:SetDesiredCapacity",
            code: "ValidationError".into(),
            message: error.to_string(),
        },
        ApiError::Unavailable(kind) => AwsError::Transient {
            operation: kind.name(),
            detail: error.to_string(),
        },
        // RunTask's quota refusal and GitHub's busy runner are mapped where they can occur.
        ApiError::ProvisioningQuota | ApiError::RunnerBusy => AwsError::Transient {
            operation: "sim",
            detail: error.to_string(),
        },
    }
}

/// A GitHub call that failed on every attempt, as the client reports one.
fn github(error: ApiError) -> GithubError {
    GithubError::Transient(error.to_string())
}

impl Ports for SimPorts<'_, '_> {
    type Github = Self;
    type Launcher = Self;
    type Observer = Self;
    type Queue = Self;
    type Secrets = Self;
    type Leases = Self;
    type Demand = Self;
    type Runtime = Self;

    fn github(&self) -> &Self {
        self
    }
    fn launcher(&self) -> &Self {
        self
    }
    fn observer(&self) -> &Self {
        self
    }
    fn queue(&self) -> &Self {
        self
    }
    fn secrets(&self) -> &Self {
        self
    }
    fn leases(&self) -> &Self {
        self
    }
    fn demand(&self) -> &Self {
        self
    }
    fn runtime(&self) -> &Self {
        self
    }
}

impl GithubApi for SimPorts<'_, '_> {
    async fn generate_jit_config(&self, request: &JitRequest) -> Result<JitConfig, GithubError> {
        let registered = self
            .world()
            .github_generate_jit(&request.name, &request.labels)
            .map_err(github)?;
        match registered {
            Some(runner_id) => Ok(JitConfig {
                runner_id,
                encoded: format!("jit-config-of-{}", request.name),
            }),
            None => Err(GithubError::NameTaken(request.name.clone())),
        }
    }

    async fn list_runners(&self) -> Result<Vec<ObservedRunner>, GithubError> {
        self.world().github_all_runners().map_err(github)
    }

    async fn delete_runner(&self, runner_id: u64) -> Result<(), GithubError> {
        match self.world().github_delete_registration(runner_id) {
            Ok(true) => Ok(()),
            Ok(false) => Err(GithubError::NotFound(format!("runner {runner_id}"))),
            Err(ApiError::RunnerBusy) => Err(GithubError::RunnerBusy(runner_id)),
            Err(e) => Err(github(e)),
        }
    }

    async fn job_state(&self, _repo: &str, job_id: u64) -> Result<JobState, GithubError> {
        let mut world = self.world();
        let job = JobId(job_id);
        let view = world.github_job(job).map_err(github)?;
        let (runner_name, started_at) = world.job_runner(job);
        let status = match view {
            JobView::Queued => "queued",
            JobView::InProgress => "in_progress",
            JobView::Completed => "completed",
        };
        Ok(JobState {
            job_id,
            status: status.to_owned(),
            runner_name,
            started_at: started_at.map(|t| t.to_datetime()),
        })
    }

    async fn recent_deliveries(
        &self,
        limit: u32,
        since: Option<Timestamp>,
    ) -> Result<Vec<Delivery>, GithubError> {
        self.world()
            .github_recent_deliveries(limit, since)
            .map_err(github)
    }

    async fn redeliver(&self, delivery_id: u64) -> Result<(), GithubError> {
        self.world()
            .github_redeliver(DeliveryId(delivery_id))
            .map_err(github)
    }

    async fn queued_jobs(
        &self,
        repo: &str,
        created_before: Timestamp,
    ) -> Result<Vec<ScannedJob>, GithubError> {
        let jobs = self
            .world()
            .github_queued_jobs(repo, created_before)
            .map_err(github)?;
        Ok(jobs
            .into_iter()
            .map(|(job, labels, created_at)| ScannedJob {
                job_id: job.0,
                run_id: job.0,
                repo: repo.to_owned(),
                labels,
                created_at,
                installation_id: None,
            })
            .collect())
    }
}

impl TaskLauncher for SimPorts<'_, '_> {
    async fn run_task(&self, request: &RunTaskRequest) -> Result<String, LaunchError> {
        let mut world = self.world();
        let rejected = |detail: &str| {
            LaunchError::Aws(AwsError::Rejected {
                operation: "ecs:RunTask",
                code: "InvalidParameterException".into(),
                message: detail.to_owned(),
            })
        };
        let origin = request
            .tag(tags::ORIGIN)
            .and_then(Origin::from_tag)
            .unwrap_or(Origin::Job);
        // A benchmark worker names no class: it runs the pool's task definition.
        let class = match origin {
            Origin::Bench => world.bench_slot,
            _ => request
                .tag(tags::CLASS)
                .and_then(|name| world.class_index(name)),
        }
        .ok_or_else(|| rejected("no task definition for this class"))?;
        let job = request
            .tag(tags::JOB_ID)
            .and_then(|id| id.parse().ok())
            .map(JobId);
        let run = RunTask {
            class,
            origin,
            job,
            attempt: request
                .tag(tags::ATTEMPT)
                .and_then(|a| a.parse().ok())
                .unwrap_or(0),
            runner_name: request.tag(tags::RUNNER).map(str::to_owned),
            client_token: Some(request.client_token.clone()),
            placement: Placement::CapacityProvider,
            jit_parameter: request
                .environment
                .iter()
                .find(|(k, _)| k == JIT_PARAM_ENV)
                .map(|(_, v)| v.clone()),
            controller: request.tag(tags::CONTROLLER).map(str::to_owned),
            headroom: request
                .tag(tags::HEADROOM)
                .and_then(|s| s.parse().ok())
                .map(Duration::from_secs),
        };
        match world.ecs_run_task(&run) {
            Ok(task) => Ok(task.arn),
            Err(ApiError::ProvisioningQuota) => Err(LaunchError::NotPlaced {
                reasons: "RESOURCE:PROVISIONING (too many tasks in PROVISIONING)".into(),
            }),
            Err(e) => Err(LaunchError::Aws(aws(e))),
        }
    }

    async fn stop_task(&self, task_arn: &str, _reason: &str) -> Result<(), AwsError> {
        self.world().ecs_stop_task(task_arn).map_err(aws)
    }
}

impl ClusterObserver for SimPorts<'_, '_> {
    async fn live_tasks(&self) -> Result<Vec<ObservedTask>, AwsError> {
        self.world().ecs_list_all_tasks().map_err(aws)
    }

    async fn provider_groups(&self, names: &[String]) -> Result<Vec<ProviderGroup>, AwsError> {
        self.world().ecs_capacity_providers(names).map_err(aws)
    }

    async fn container_instances(&self) -> Result<Vec<ContainerInstance>, AwsError> {
        self.world().ecs_container_instances().map_err(aws)
    }

    async fn recent_job_repos(&self) -> Result<BTreeSet<String>, AwsError> {
        self.world().ecs_recent_job_repos().map_err(aws)
    }
}

impl AutoScaling for SimPorts<'_, '_> {
    async fn describe_groups(&self, names: &[String]) -> Result<Vec<GroupDescription>, AwsError> {
        self.world().asg_describe(names).map_err(aws)
    }

    async fn set_desired_capacity(&self, group: &str, desired: u32) -> Result<(), AwsError> {
        self.world().asg_set_desired(group, desired).map_err(aws)
    }
}

impl JobQueue for SimPorts<'_, '_> {
    async fn send(&self, message: &JobMessage, delay: Duration) -> Result<(), AwsError> {
        let queued = Msg::Visible(super::Queued::new(message.to_json()));
        self.world().sqs_send(delay, queued).map_err(aws)
    }
}

impl JitSecrets for SimPorts<'_, '_> {
    async fn put_secure(
        &self,
        name: &str,
        _value: &str,
        description: &str,
    ) -> Result<(), AwsError> {
        self.world().ssm_put(name, description).map_err(aws)
    }

    async fn delete(&self, name: &str) -> Result<(), AwsError> {
        self.world().ssm_delete(name).map_err(aws)
    }

    async fn list_jit_parameters(&self, _path: &str) -> Result<Vec<JitParameter>, AwsError> {
        self.world().ssm_list().map_err(aws)
    }
}

/// One decider at a time is all the simulator has: every invocation runs to its end before the
/// next event, so a class lease is always free. (Production's leases are tested against
/// DynamoDB with concurrent managers.)
impl ClassLeases for SimPorts<'_, '_> {
    type Lease = ();

    async fn acquire(&self, _class: &str) -> Result<Option<()>, AwsError> {
        Ok(Some(()))
    }

    async fn release(&self, _lease: ()) -> Result<(), AwsError> {
        Ok(())
    }
}

/// The lease table's demand items, kept in the world: every manager invocation of the run reads
/// and writes them as production's do.
impl DemandStore for SimPorts<'_, '_> {
    async fn load(&self, class: &str) -> Result<SharedDemand, AwsError> {
        Ok(self.world().demand_load(class))
    }

    async fn save(&self, class: &str, demand: &SharedDemand) -> Result<(), AwsError> {
        self.world().demand_save(class, demand.clone());
        Ok(())
    }
}

/// Port calls take no virtual time, so a retry's wait passes at once; names come from the
/// world's own counter-based stream.
impl Runtime for SimPorts<'_, '_> {
    async fn sleep(&self, _wait: Duration) {}

    fn random_u128(&self) -> u128 {
        self.world().ssm_fresh_random()
    }
}
