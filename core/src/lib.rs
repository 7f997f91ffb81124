//! The decision core of runner-controller.
//!
//! Deterministic, no networking, no clock reads: every function here takes the time and the
//! observed state as arguments and returns what to do as plain data. The Lambdas, `serve`,
//! `tick`, `explain` and the simulator all call these same functions, so a decision seen in the
//! simulator is the decision production makes.
//!
//! # Layout
//!
//! - [`time`]: the UTC [`Timestamp`] newtype every decision takes.
//! - [`routing`]: job labels → runner class.
//! - [`diff`]: what changes between two configs, routing included.
//! - [`scope`]: whether a delivery comes from the configured enterprise, organization or repository.
//! - [`bounded`]: outside text shortened before it is echoed into reasons and logs.
//! - [`message`]: the versioned queue messages shared by the webhook and the manager.
//! - [`schedule`]: re-check delays, backoffs, and what becomes of a message after its decision.
//! - [`naming`]: runner names, client tokens, JIT parameter names.
//! - [`scale_up`]: how many runners to start for queued jobs.
//! - [`warm`]: warm-pool targets from schedules, top-up and trim.
//! - [`reaper`]: stuck tasks, ghost runners, stale JIT parameters, idle on-demand runners.
//! - [`recovery`]: lost webhooks: redelivery sweep and rescue scan, within an API budget.
//! - [`observed`]: tasks and runners as adapters observe them.
//! - [`book`]: what a manager process remembers of runners and job starts between invocations.
//! - [`demand`]: warm pool size from a pickup target and recent arrivals.
//! - [`mod@bench`]: benchmark jobs for contests: intake, results, sweeper, portal, board.
//! - [`packing`]: PROVISIONING tasks → how far each Auto Scaling Group's desired capacity rises.
#![warn(missing_docs)]

pub mod bench;
pub mod book;
pub mod bounded;
pub mod demand;
pub mod diff;
pub mod message;
pub mod naming;
pub mod observed;
pub mod packing;
pub mod reaper;
pub mod recovery;
pub mod routing;
pub mod scale_up;
pub mod schedule;
pub mod scope;
pub mod time;
pub mod warm;

pub use rc_config::{Config, CpuUnits, MemMib, RunnerClass, TaskSize, WarmWindow};
pub use time::Timestamp;
