//! The `runner-controller` binary driven as an operator drives it: one test binary, so the
//! shared support code is compiled once.

mod bench;
mod config_diff;
mod config_push;
mod job_timeline;
mod serve_all;
mod serve_webhook;
mod simulate_compare;
mod simulate_contest;
mod simulate_seeds;
mod support;
mod tick;
mod validate_explain;
