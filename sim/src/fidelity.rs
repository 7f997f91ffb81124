//! The simulator's half of the fidelity check: the production orchestration (`rc-control`'s
//! [`Manager`]) run over the simulated services for a few exact steps, with the calls each step
//! made, by kind, so that a test can hold them against what the same steps cost against the AWS
//! emulator and the fake GitHub (`manager/tests/fidelity.rs`).
//!
//! Whole runs cannot be compared call for call: the world's event loop brings in the autoscaler,
//! managed scaling, runner start-ups and jobs that start, none of which the emulators do. So
//! this runs no policy at all. It builds a world for the workload without faults, lets its
//! clock reach the steps' instant (the jobs arrive and GitHub queues them; their webhooks are
//! dropped, because the step's messages are built here, as the webhook builds them), and then
//! runs each step through `ours`'s ports ([`SimPorts`]) on a world that stands still in between,
//! as the emulators do (moto's tasks are frozen, the fake's runners never come online).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rc_config::Config;
use rc_control::ports::QueueMessage;
use rc_control::ready::run_ready;
use rc_control::Manager;
use rc_core::book::Book;
use rc_core::message::{JobMessage, JobRef};
use rc_core::routing::route;
use rc_core::Timestamp;

use crate::params::{Faults, WorldParams};
use crate::policy::ours::ports::SimPorts;
use crate::policy::ours::Msg;
use crate::workload::Workload;
use crate::world::{ApiKind, JobState, Notice, World};

/// Where the launch path stores JIT configs (the value `ours` uses).
const SSM_PREFIX: &str = "/runner-controller/jit";

/// Without faults nothing is drawn from the world's generator that changes a call count; the
/// seed is fixed anyway, so a run repeats exactly.
const SEED: u64 = 1;

/// One step of the orchestration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One [`Manager::handle_batch`] with a `queued` message of `attempt` for every routed job
    /// of the workload (see [`messages`]): attempt 0 is the webhook's, n the n-th re-check.
    Batch {
        /// The messages' attempt.
        attempt: u32,
    },
    /// One [`Manager::tick`], not a dry run.
    Tick,
}

/// Calls of one step by kind, named `service:Operation` as in the run report (`ecs:RunTask`,
/// `github:ListRunners`); kinds the step did not call are absent.
pub type Calls = BTreeMap<&'static str, u64>;

/// The `queued` messages of `attempt` for the workload's jobs that route to a class, in arrival
/// order, as SQS hands them to the manager on their first receipt. Job `n` (1-based, in the
/// workload's order) has id `n` and run id `n`, as in the simulated GitHub; each message's id
/// is `q-{job}-{attempt}`.
pub fn messages(config: &Config, workload: &Workload, attempt: u32) -> Vec<QueueMessage> {
    workload
        .jobs
        .iter()
        .enumerate()
        .filter_map(|(index, spec)| {
            let class = route(config, &spec.labels).class()?.name.clone();
            let job_id = index as u64 + 1;
            let job = JobRef {
                delivery_id: format!("sim-{job_id}"),
                job_id,
                run_id: job_id,
                repo: spec.repo.clone(),
                owner: spec.repo.split('/').next().unwrap_or_default().to_owned(),
                installation_id: None,
                labels: spec.labels.clone(),
                class,
                created_at: (workload.start + spec.at).to_datetime(),
            };
            Some(QueueMessage {
                id: format!("q-{job_id}-{attempt}"),
                receipt_handle: String::new(),
                body: JobMessage::Queued { job, attempt }.to_json(),
                receive_count: 1,
            })
        })
        .collect()
}

/// Runs `steps` at `at` on a world of `workload` (its faults ignored: none are injected) and
/// returns the calls of each step.
///
/// # Panics
///
/// If a job of the workload arrives after `at`.
pub fn run_steps(
    config: &Config,
    workload: &Workload,
    at: Timestamp,
    steps: &[Step],
) -> Vec<Calls> {
    let workload = Workload {
        faults: Faults::none(),
        ..workload.clone()
    };
    let mut world: World<'_, Msg> = World::new(config, &workload, WorldParams::default(), SEED);
    // Run the world's own events up to `at`; this marker is the last event of that instant.
    world.schedule_message_at(at, Msg::Poll);
    loop {
        match world.step() {
            Some(Some(Notice::Message(Msg::Poll))) | None => break,
            Some(_) => {}
        }
    }
    assert!(
        world.jobs.iter().all(|job| job.state != JobState::NotYet),
        "every job must have arrived by the steps' instant"
    );
    // One process runs every step, as the production manager under comparison does.
    let book: Arc<Mutex<Book>> = Arc::default();
    steps
        .iter()
        .map(|step| {
            let before = world.stats.calls.clone();
            match *step {
                Step::Batch { attempt } => {
                    let messages = messages(config, &workload, attempt);
                    let manager = Manager::new(SimPorts::new(&mut world), SSM_PREFIX)
                        .with_book(Arc::clone(&book));
                    run_ready(manager.handle_batch(config, at, &messages));
                }
                Step::Tick => {
                    let manager = Manager::new(SimPorts::new(&mut world), SSM_PREFIX)
                        .with_book(Arc::clone(&book));
                    run_ready(manager.tick(config, at, false));
                }
            }
            ApiKind::ALL
                .iter()
                .filter_map(|kind| {
                    let after = world.stats.calls.get(kind).copied().unwrap_or(0);
                    let made = after - before.get(kind).copied().unwrap_or(0);
                    (made > 0).then_some((kind.name(), made))
                })
                .collect()
        })
        .collect()
}
