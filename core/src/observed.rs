//! What adapters observe, translated once at the boundary into core types.
//!
//! ECS `lastStatus` strings become [`TaskState`], our task tags become typed fields, GitHub's
//! runner objects become [`ObservedRunner`]. Nothing in the core compares raw AWS strings.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scale_up::{ClassState, JobId};
use crate::warm::{IdleRunner, PoolObservation};
use crate::{TaskSize, Timestamp};

/// Tag keys we put on every task we start; the reaper only touches tasks carrying them.
pub mod tags {
    /// Runner class name.
    pub const CLASS: &str = "rc:class";
    /// Workflow job id the task was started for (absent for warm runners).
    pub const JOB_ID: &str = "rc:job-id";
    /// Repository `owner/name` of that job.
    pub const REPO: &str = "rc:repo";
    /// GitHub runner name the task registers as.
    pub const RUNNER: &str = "rc:runner";
    /// Why the task exists: `job` or `warm`.
    pub const ORIGIN: &str = "rc:origin";
    /// Launch attempt of the job (0 for the webhook, n for the n-th re-check).
    pub const ATTEMPT: &str = "rc:attempt";
    /// Minimum number of instances the cluster autoscaler adds at once for this task.
    pub const MIN_STEP: &str = "rc:min-step";
    /// On a runner started while its class's warm window asked for headroom: seconds of recent
    /// launches to keep free instance capacity for on its capacity provider (see
    /// `crate::packing`).
    pub const HEADROOM: &str = "rc:headroom";
    /// The controller deployment that started the task (`RC_CONTROLLER_ID`).
    pub const CONTROLLER: &str = "rc:controller";
}

/// The extra label our runners register with, naming the controller deployment: GitHub lists
/// every runner of the scope, and this is how a runner tells which deployment may delete it.
pub fn controller_label(controller: &str) -> String {
    format!("rc-controller-{controller}")
}

/// `startedBy` of every task we start (ECS allows up to 36 characters).
pub const STARTED_BY: &str = "runner-controller";

/// The container environment variable that names the SSM parameter a runner task reads its
/// JIT config from (the name, never the config): set at launch, read back when tasks are
/// observed, and read by the runner image's entrypoint.
pub const JIT_PARAM_ENV: &str = "RC_JIT_CONFIG_PARAM";

/// An ECS task's lifecycle state (`lastStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskState {
    /// Waiting for capacity (a capacity provider is scaling out).
    Provisioning,
    /// Placed, pulling the image.
    Pending,
    /// Setting up networking and attachments.
    Activating,
    /// Containers running.
    Running,
    /// Tearing down attachments.
    Deactivating,
    /// Containers stopping.
    Stopping,
    /// Releasing capacity.
    Deprovisioning,
    /// Gone.
    Stopped,
}

impl TaskState {
    /// Parses ECS `lastStatus`; unknown strings are `None`.
    pub fn from_ecs(status: &str) -> Option<Self> {
        Some(match status {
            "PROVISIONING" => TaskState::Provisioning,
            "PENDING" => TaskState::Pending,
            "ACTIVATING" => TaskState::Activating,
            "RUNNING" => TaskState::Running,
            "DEACTIVATING" => TaskState::Deactivating,
            "STOPPING" => TaskState::Stopping,
            "DEPROVISIONING" => TaskState::Deprovisioning,
            "STOPPED" => TaskState::Stopped,
            _ => return None,
        })
    }

    /// Whether the task still holds (or is waiting for) capacity and counts towards limits.
    pub fn is_live(self) -> bool {
        self <= TaskState::Running
    }
}

/// Why one of our tasks exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Started for a queued job.
    Job,
    /// Started to keep a warm pool at its target.
    Warm,
    /// A benchmark worker (no runner class: the runner reaper and pools never count it).
    Bench,
}

impl Origin {
    /// The tag value.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Job => "job",
            Origin::Warm => "warm",
            Origin::Bench => "bench",
        }
    }

    /// Parses the tag value.
    pub fn from_tag(value: &str) -> Option<Self> {
        match value {
            "job" => Some(Origin::Job),
            "warm" => Some(Origin::Warm),
            "bench" => Some(Origin::Bench),
            _ => None,
        }
    }
}

/// One ECS task as observed, with our tags decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedTask {
    /// Task ARN.
    pub arn: String,
    /// Last observed state.
    pub state: TaskState,
    /// Task-level cpu and memory.
    pub size: TaskSize,
    /// Capacity provider the task was placed with, when known.
    pub capacity_provider: Option<String>,
    /// When ECS created the task.
    pub created_at: Timestamp,
    /// When the task left PROVISIONING (ECS `pullStartedAt`, else `startedAt`), when ECS says:
    /// the start of its boot, which capacity waits do not count towards.
    pub boot_started_at: Option<Timestamp>,
    /// Our controller tag: the deployment that started the task.
    pub controller: Option<String>,
    /// Our class tag; `None` means the task is not ours.
    pub class: Option<String>,
    /// Job the task was started for.
    pub job_id: Option<JobId>,
    /// Runner name the task registers as.
    pub runner_name: Option<String>,
    /// Why we started it.
    pub origin: Option<Origin>,
    /// Minimum instances to add at once for this task (cluster autoscaler).
    pub min_step: Option<u32>,
    /// The capacity headroom its warm window asks for (cluster autoscaler).
    pub headroom: Option<Duration>,
    /// The SSM parameter the task was told to read its JIT config from (its
    /// `RC_JIT_CONFIG_PARAM` override): how the reaper knows which parameters are still wanted.
    pub jit_parameter: Option<String>,
}

impl ObservedTask {
    /// Whether `controller` started this task. Another deployment's tasks are invisible to our
    /// decisions, even with our class names: they count towards its `max_runners`, not ours.
    pub fn is_owned_by(&self, controller: &str) -> bool {
        self.controller.as_deref() == Some(controller)
    }

    /// How long its boot has lasted at `now`: since ECS began pulling its image (it left
    /// PROVISIONING), or since it was created when ECS has not said. A boot timeout counts
    /// from here, so a task kept waiting for capacity is not blamed for the wait.
    pub fn boot_age(&self, now: Timestamp) -> Duration {
        now.saturating_since(self.boot_started_at.unwrap_or(self.created_at))
    }
}

/// One self-hosted runner as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedRunner {
    /// GitHub's runner id.
    pub id: u64,
    /// Runner name.
    pub name: String,
    /// Connected to GitHub.
    pub online: bool,
    /// Running a job.
    pub busy: bool,
    /// Labels it registered with.
    pub labels: Vec<String>,
}

/// One runner class as observed: its live tasks joined once with GitHub's runners by runner
/// name. Scale-up ([`ClassView::state`]), the warm pool ([`ClassView::pool`]) and the reaper
/// decide from this same join.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassView {
    /// Every live task of the class, whatever its state: what `max_runners` bounds.
    pub live_tasks: u32,
    /// Live tasks whose runner is registered, online and not busy.
    pub idle: Vec<IdleRunner>,
    /// Live warm-origin tasks whose runner is not online yet.
    pub booting_warm: u32,
    /// Jobs whose own task is live and its runner not online yet.
    pub booting_for: BTreeSet<JobId>,
}

impl ClassView {
    /// Joins the live tasks tagged with `class` to the GitHub runners they registered as: a
    /// task whose runner is online and not busy is idle; one whose runner is not online yet is
    /// booting (for its job, or for the warm pool).
    ///
    /// Runners are ephemeral: idle from registration until they take their one job, then gone.
    /// So a runner's idle time is counted from its task's creation, which overstates it by the
    /// boot time; that only makes `idle_timeout` end a little early. A task without an origin
    /// tag counts as started for a job, the only kind there was before warm pools.
    pub fn observe(class: &str, tasks: &[ObservedTask], runners: &[ObservedRunner]) -> Self {
        let by_name: BTreeMap<&str, &ObservedRunner> =
            runners.iter().map(|r| (r.name.as_str(), r)).collect();
        let mut view = ClassView::default();
        for task in tasks
            .iter()
            .filter(|t| t.state.is_live() && t.class.as_deref() == Some(class))
        {
            view.live_tasks += 1;
            let origin = task.origin.unwrap_or(Origin::Job);
            let runner = task
                .runner_name
                .as_deref()
                .and_then(|name| by_name.get(name));
            match runner {
                Some(runner) if runner.busy => {}
                Some(runner) if runner.online => view.idle.push(IdleRunner {
                    runner_id: runner.id,
                    runner_name: runner.name.clone(),
                    task_arn: task.arn.clone(),
                    origin,
                    idle_since: task.created_at,
                }),
                _ => match (origin, task.job_id) {
                    (Origin::Warm, _) => view.booting_warm += 1,
                    (Origin::Job, Some(job)) => {
                        view.booting_for.insert(job);
                    }
                    (Origin::Job, None) | (Origin::Bench, _) => {}
                },
            }
        }
        view
    }

    /// What scale-up decides from.
    pub fn state(&self) -> ClassState {
        ClassState {
            idle_runners: u32::try_from(self.idle.len()).unwrap_or(u32::MAX),
            booting_for: self.booting_for.clone(),
            live_tasks: self.live_tasks,
        }
    }

    /// What the warm pool decides from.
    pub fn pool(&self) -> PoolObservation {
        PoolObservation {
            idle: self.idle.clone(),
            booting_warm: self.booting_warm,
            live_tasks: self.live_tasks,
        }
    }
}
