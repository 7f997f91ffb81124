//! Benchmark jobs for contest ops: every decision of the intake, the agent and the sweeper.
//!
//! Pure like the rest of the core: the time, the caller and the observed jobs come in, answers
//! and new job states go out. The flows that carry these out over a store, a FIFO queue and a
//! portal live in `rc-bench`; AWS lives in `rc-aws`.
//!
//! # Layout
//!
//! - [`job`]: job ids, statuses and the status machine, the queue message.
//! - [`auth`]: bearer tokens against the configured SHA-256 digests, in constant time.
//! - [`intake`]: a request → accepted (team, target) or refused with an HTTP status and reason.
//! - [`outcome`]: a finished run (exit, captured output) → `passed` / `failed` / `timeout`.
//! - [`sweep`]: which running jobs lost their worker, which locks were left behind.
//! - [`pool`]: how many benchmark workers to start.
//! - [`portal`]: the signed result callback body.
//! - [`board`]: the ops board and list pages, bounded however many results exist.

pub mod auth;
pub mod board;
pub mod intake;
pub mod job;
pub mod outcome;
pub mod pool;
pub mod portal;
pub mod sweep;

pub use job::{BenchJob, BenchJobId, BenchMessage, JobStatus};

/// Hex of a byte string, lower case.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}
