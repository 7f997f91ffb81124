//! The validated `benchmarks` section: contest ops reusing the cluster as a benchmarker pool.
//!
//! Contestants pass nothing but their identity (a bearer token whose SHA-256 digest is listed
//! here); ops fix the command, the task size and the deadline, so every run is the same run.
//! Parsed by [`crate::parse`] like the rest of the file; see ARCHITECTURE.md, "Benchmark jobs".

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::model::{TaskSize, WarmWindow};

/// The optional `benchmarks` section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Benchmarks {
    /// When requests are accepted; `None`: always (trainings without a fixed schedule).
    pub window: Option<BenchWindow>,
    /// What a team's benchmark targets, and who may ask.
    pub target: TargetMode,
    /// The teams, in file order; ids and digests are unique.
    pub teams: Vec<Team>,
    /// The one fixed size and command every run gets.
    pub pool: BenchPool,
    /// A `running` job without a heartbeat for this long is `errored` by the tick's sweeper.
    #[serde(serialize_with = "humantime_str")]
    pub stale_after: Duration,
    /// Where results are posted, if anywhere.
    pub portal: Option<PortalConfig>,
    /// A header carrying the caller's address, set by a proxy we trust (`serve` behind a load
    /// balancer); `None`: the socket peer (or the Function URL's source IP) is the caller.
    pub trusted_proxy_header: Option<String>,
}

impl Benchmarks {
    /// The team with this id.
    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }
}

/// The contest's opening hours: requests are accepted from `from` (inclusive) to `to`
/// (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BenchWindow {
    /// Opening instant, with the offset it was written in.
    pub from: DateTime<FixedOffset>,
    /// Closing instant; always after `from`.
    pub to: DateTime<FixedOffset>,
}

/// What a benchmark targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetMode {
    /// The team's registered server (`teams[].target`), whoever asks with the token.
    #[default]
    Registered,
    /// The caller's address, which must be the team's registered one.
    SourceIp,
}

impl fmt::Display for TargetMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetMode::Registered => "registered",
            TargetMode::SourceIp => "source_ip",
        })
    }
}

/// One contest team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    /// Unique id: letters, digits, `-`, `_`; also the FIFO message group.
    pub id: String,
    /// SHA-256 of the team's bearer token. The token itself never appears in config.
    #[serde(serialize_with = "hex_str")]
    pub token_sha256: [u8; 32],
    /// The server to benchmark (an address or host name).
    pub target: String,
}

/// The benchmarker pool: one task size and one command for every run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchPool {
    /// ECS task definition family or ARN of the benchmarker image.
    pub task_definition: String,
    /// Container that runs `bench-agent`.
    pub container: String,
    /// Task-level cpu and memory, the same for every run.
    pub size: TaskSize,
    /// Capacity provider the workers are placed with.
    pub capacity_provider: String,
    /// Never more than this many workers at once.
    pub max_workers: u32,
    /// Hard limit of one run: SIGTERM at it, SIGKILL 5 s later.
    #[serde(serialize_with = "humantime_str")]
    pub deadline: Duration,
    /// The benchmarker's argv; `{target}` is replaced by the team's target.
    pub command: Vec<String>,
    /// A worker with no job for this long exits.
    #[serde(serialize_with = "humantime_str")]
    pub idle_exit: Duration,
    /// Windows in which idle workers are kept.
    pub warm: Vec<WarmWindow>,
}

/// The portal's result callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortalConfig {
    /// URL the result is POSTed to.
    pub url: String,
}

fn humantime_str<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&humantime::format_duration(*d).to_string())
}

fn hex_str<S: serde::Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}
