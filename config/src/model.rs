//! The validated configuration model: what the rest of the controller reads.
//!
//! Every value here has passed validation in [`crate::parse`]; code downstream never re-checks
//! ranges or resolves references. Types are plain data so that the decision core, the simulator
//! and the adapters can share them without depending on YAML.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Where runners register and which GitHub API to talk to.
    pub github: GithubConfig,
    /// Knobs of the manager: re-checks, boot timeout, recovery budgets.
    pub manager: ManagerSettings,
    /// Runner classes in file order; routing picks the first match.
    pub classes: Vec<RunnerClass>,
    /// The benchmarker pool for contests, when configured.
    pub benchmarks: Option<crate::bench::Benchmarks>,
}

impl Config {
    /// The class with this name, if any.
    pub fn class(&self, name: &str) -> Option<&RunnerClass> {
        self.classes.iter().find(|c| c.name == name)
    }
}

/// Where runners are registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum GithubScope {
    /// An enterprise, by slug.
    Enterprise(String),
    /// An organization, by login.
    Org(String),
    /// One repository, as `owner/name`.
    Repo(String),
}

impl GithubScope {
    /// The path prefix of this scope's Actions runner endpoints, e.g. `orgs/acme`.
    pub fn api_path(&self) -> String {
        match self {
            GithubScope::Enterprise(slug) => format!("enterprises/{slug}"),
            GithubScope::Org(org) => format!("orgs/{org}"),
            GithubScope::Repo(repo) => format!("repos/{repo}"),
        }
    }
}

/// GitHub connection and registration settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GithubConfig {
    /// Enterprise, organization or repository that owns the runners.
    pub scope: GithubScope,
    /// REST API base, without a trailing slash (`https://ghe.example.com/api/v3` for GHES).
    pub api_url: String,
    /// Runner group name the runners join (`Default` when unset).
    pub runner_group: String,
    /// Prefix of every runner name we create; the reaper only touches runners with it.
    pub runner_name_prefix: String,
}

/// The manager's timing and budget settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagerSettings {
    /// How long after handling a queued job the manager checks it again.
    #[serde(with = "humantime_serde_compat")]
    pub recheck_delay: Duration,
    /// How many re-checks a job gets before the tick's rescue scan takes over.
    pub recheck_attempts: u32,
    /// A task that has not registered its runner by then is stopped by the reaper.
    #[serde(with = "humantime_serde_compat")]
    pub boot_timeout: Duration,
    /// A job queued for longer than this is picked up by the rescue scan.
    #[serde(with = "humantime_serde_compat")]
    pub rescue_after: Duration,
    /// A webhook's `queued` message for a job created longer ago than this (a redelivery, a
    /// replay, a message that sat in the queue) is checked against GitHub's job API before a
    /// runner is started for it.
    #[serde(with = "humantime_serde_compat")]
    pub replay_check_after: Duration,
    /// At most this many GitHub API calls per tick for redelivery and rescue together.
    pub github_api_budget_per_tick: u32,
    /// At most this many failed deliveries redelivered per tick.
    pub max_redeliveries_per_tick: u32,
}

impl Default for ManagerSettings {
    fn default() -> Self {
        ManagerSettings {
            recheck_delay: Duration::from_secs(120),
            recheck_attempts: 5,
            boot_timeout: Duration::from_secs(300),
            rescue_after: Duration::from_secs(300),
            replay_check_after: Duration::from_secs(3600),
            github_api_budget_per_tick: 100,
            max_redeliveries_per_tick: 20,
        }
    }
}

/// ECS CPU units: 1024 units are one vCPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct CpuUnits(pub u32);

/// Memory in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct MemMib(pub u32);

/// What one runner task asks of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
pub struct TaskSize {
    /// Task-level CPU.
    pub cpu: CpuUnits,
    /// Task-level memory.
    pub memory: MemMib,
}

impl fmt::Display for TaskSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cpu / {} MiB", self.cpu.0, self.memory.0)
    }
}

/// One kind of runner: the labels it registers with and the ECS task that runs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunnerClass {
    /// Unique name, used in tags, metrics and logs.
    pub name: String,
    /// Labels the runner registers with; a job routes here when all its labels are among these.
    pub labels: Vec<String>,
    /// ECS task definition family or ARN.
    pub task_definition: String,
    /// Container name inside the task definition that runs the runner.
    pub container: String,
    /// Task-level cpu and memory.
    pub size: TaskSize,
    /// Capacity provider the task is placed with.
    pub capacity_provider: String,
    /// Never more than this many tasks of this class at once.
    pub max_runners: u32,
    /// An idle runner above the warm target is stopped after this long.
    #[serde(with = "humantime_serde_compat")]
    pub idle_timeout: Duration,
    /// Windows in which idle runners are kept warm.
    pub warm: Vec<WarmWindow>,
    /// Dates (in each window's time zone) on which no window applies.
    pub holidays: BTreeSet<NaiveDate>,
}

/// A recurring window during which a class keeps `idle` runners ready.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarmWindow {
    /// Days of the week the window opens on.
    #[serde(serialize_with = "serialize_weekdays")]
    pub days: Vec<Weekday>,
    /// Local start time (inclusive).
    pub from: NaiveTime,
    /// Local end time (exclusive); always after `from`.
    pub to: NaiveTime,
    /// IANA time zone the times are in.
    #[serde(serialize_with = "serialize_tz")]
    pub timezone: Tz,
    /// Idle runners to keep while the window is open; with a [`PickupTarget`], the least kept.
    pub idle: u32,
    /// Size the pool from observed demand for this pickup instead of a fixed count.
    pub target: Option<PickupTarget>,
    /// While the window is open, keep free instance capacity on the class's capacity provider
    /// for as many tasks again as were started on it in this last stretch of time, so that a
    /// burst beyond the pool skips the instance launch (see `rc_core::packing`).
    #[serde(serialize_with = "serialize_optional_duration")]
    pub headroom: Option<Duration>,
}

fn serialize_optional_duration<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => humantime_serde_compat::serialize(d, s),
        None => s.serialize_none(),
    }
}

/// A warm window's pickup goal: keep as many idle runners as recent arrivals need for 95 % of
/// jobs to start within `p95`, at least the window's `idle`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PickupTarget {
    /// The pickup 95 % of the window's jobs should start within.
    #[serde(with = "humantime_serde_compat")]
    pub p95: Duration,
    /// The most idle runners the target may keep.
    pub max: u32,
}

fn serialize_weekdays<S: serde::Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(days.iter().map(|d| d.to_string()))
}

fn serialize_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

/// Serializes durations the way they are written in the file (`2m`, `1h 30m`).
mod humantime_serde_compat {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}
