//! What adapters observe, translated once at the boundary into core types.
//!
//! ECS `lastStatus` strings become [`TaskState`], our task tags become typed fields, GitHub's
//! runner objects become [`ObservedRunner`]. Nothing in the core compares raw AWS strings.

use serde::{Deserialize, Serialize};

use crate::scale_up::JobId;
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
}

impl Origin {
    /// The tag value.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Job => "job",
            Origin::Warm => "warm",
        }
    }

    /// Parses the tag value.
    pub fn from_tag(value: &str) -> Option<Self> {
        match value {
            "job" => Some(Origin::Job),
            "warm" => Some(Origin::Warm),
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
