//! rc-control: the orchestration, written once over ports.
//!
//! The core (`rc-core`) decides; this crate observes, acts on the decisions, retries, backs off,
//! names and budgets, talking to the world only through [`ports`]. Production supplies ports over
//! AWS and GitHub (the manager and cluster-autoscaler Lambdas, `serve`, `tick`); the simulator
//! supplies ports over its virtual services and runs this same code on its virtual clock, so the
//! simulator's decisions are production's decisions.
//!
//! No AWS SDK, no GitHub client, no Lambda runtime and no async runtime are linked here: every
//! entry point is an `async fn` over ports, with the time passed in.
//!
//! # Layout
//!
//! - [`ports`]: the traits the world is reached through.
//! - [`manager`]: the manager's batches, launches, re-checks and the tick ([`Manager`]).
//! - [`autoscaler`]: the cluster autoscaler's pass ([`Autoscaler`]).
//! - [`retry`]: retrying calls with a [`rc_core::schedule::Backoff`].
//! - [`emf`]: metrics as CloudWatch Embedded Metric Format records.
//! - [`ready`]: an executor for ports that answer at once (the simulator's).

pub mod autoscaler;
pub mod emf;
pub mod manager;
pub mod ports;
pub mod ready;
pub mod retry;

pub use autoscaler::Autoscaler;
pub use manager::{Manager, DEFAULT_CONTROLLER_ID};
