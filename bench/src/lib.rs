//! Benchmark jobs, orchestrated: the intake's accept/get/list/board, the agent's run loop and
//! the tick's sweeper, written once over small port traits.
//!
//! No AWS SDK and no runtime in this crate's tree (the optional `process` feature adds the
//! child-process benchmarker, tokio's `process` and timers). Decisions come from
//! `rc_core::bench`; this crate only sequences them: read, decide, write, in the order that
//! keeps rule 7 (a job never outlives its deadline, a team never has two, a request is answered
//! with a job id or a reason).
//!
//! # Layout
//!
//! - [`ports`]: the traits: [`BenchStore`], [`BenchQueue`], [`Portal`], [`Clock`],
//!   [`Benchmarker`], and [`PortError`].
//! - [`intake`]: `POST /benchmarks` (lock + record, queue, undo both if the queue fails), reads.
//! - [`agent`]: receive → start → heartbeat while running → judge → store → portal → delete.
//! - [`sweeper`]: the tick's pass over held locks.
//! - [`portal`]: the signed callback, retried with the same body.
//! - [`memory`]: in-memory, call-recording implementations of the ports for tests and the
//!   simulator.
//! - `child` (feature `process`): runs the benchmarker as a process group under a hard deadline.

pub mod agent;
#[cfg(feature = "process")]
pub mod child;
pub mod intake;
pub mod memory;
pub mod portal;
pub mod ports;
pub mod sweeper;

pub use ports::{
    BenchQueue, BenchStore, Benchmarker, Clock, Created, Delivery, NoWake, PoolWaker, PortError,
    Portal, RunSpec,
};
