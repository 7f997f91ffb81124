//! The runner-controller configuration: YAML in, a validated [`Config`] out.
//!
//! Parsing is two-staged: [`parse`] reads the YAML into a tree that remembers where each value
//! came from, then validates it into [`Config`], collecting every problem with its line and
//! column instead of stopping at the first. It takes text and reads no files, so the CLI, the
//! tests and the AppConfig validator Lambda all run the same checks.

mod bench;
mod model;
mod parse;

pub use bench::{BenchPool, BenchWindow, Benchmarks, PortalConfig, TargetMode, Team};
pub use model::{
    Config, CpuUnits, GithubConfig, GithubScope, ManagerSettings, MemMib, PickupTarget,
    RunnerClass, TaskSize, WarmWindow,
};
pub use parse::{parse, Problem, Problems};

/// The label every self-hosted job carries; routing and validation both depend on it.
pub const SELF_HOSTED_LABEL: &str = "self-hosted";
