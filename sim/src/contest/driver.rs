//! The contest as a policy of the world: the teams, the benchmark flows of `rc-bench`, the
//! workers' agents, and production's orchestration around them.
//!
//! What runs production's code: every request goes through [`Intake::request`] (bearer token,
//! window, the team's lock and record in one conditional write, then the FIFO queue) over
//! [`MemoryStore`] and [`MemoryQueue`], which keep the real store's and queue's guarantees. A
//! worker starts and ends its job with the store's conditional writes, as `bench-agent` does.
//! [`Ours`] runs unchanged inside this policy (the tick, the cluster autoscaler); the tick is
//! followed by the sweeper and, for the autoscaled pool, [`Manager::tend_bench_pool`], in the
//! manager Lambda's order.
//!
//! What is modelled: a worker's agent long-polls the queue, so a message reaches an idle worker
//! at once (the one idle longest, when several wait); a run takes its drawn duration and
//! passes; the agent exits after `idle_exit` without work. A fixed pool is what ops start by
//! hand at the opening: its workers wait for work all day and leave `idle_exit` after the close.
//!
//! [`Manager::tend_bench_pool`]: rc_control::Manager::tend_bench_pool

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use rc_bench::agent::{AgentSettings, ONCE_WAIT};
use rc_bench::intake::{Intake, Request, Requested, PATH};
use rc_bench::memory::{ManualClock, MemoryPortal, MemoryQueue, MemoryStore};
use rc_bench::portal::PortalTarget;
use rc_bench::{BenchQueue, BenchStore, Delivery, NoWake};
use rc_config::Benchmarks;
use rc_control::ready::run_ready;
use rc_core::bench::outcome::{judge, Exit, RunReport};
use rc_core::bench::{BenchJob, BenchJobId, BenchMessage, JobStatus};
use rc_core::observed::Origin;
use rc_core::Timestamp;

use super::workload::{teams, Team};
use super::Pool;
use crate::policy::ours::{Msg, Ours};
use crate::policy::Policy;
use crate::world::{Notice, Phase, RunTask, TaskId, World};

/// A team refused with 409 (its job still active) asks again this much later.
const RETRY_BUSY: Duration = Duration::from_secs(30);

/// The contest's own events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Team number `n` asks for a benchmark.
    Request(usize),
    /// The run on this worker ends.
    RunEnds(TaskId),
    /// The worker's idle time runs out, if it has finished no job since (the count it had).
    IdleExit(TaskId, u32),
}

/// One live worker's agent.
#[derive(Default)]
struct Agent {
    /// Jobs it finished.
    done: u32,
    /// The job it runs and the message's receipt.
    running: Option<(BenchJob, String)>,
}

/// What the contest counts beyond the store.
#[derive(Default)]
pub(crate) struct Tally {
    /// `POST /benchmarks` calls.
    pub requests: u64,
    /// Refusals by HTTP status.
    pub refused: BTreeMap<u16, u64>,
    /// Successful `running` writes per job: one each, or a job ran twice.
    pub starts: BTreeMap<BenchJobId, u32>,
}

pub(crate) struct Contest {
    ours: Ours,
    pool: Pool,
    pub(crate) store: MemoryStore,
    queue: MemoryQueue,
    teams: Vec<Team>,
    /// Drawn at acceptance, so a job's length does not depend on which worker runs it.
    durations: BTreeMap<BenchJobId, Duration>,
    agents: BTreeMap<TaskId, Agent>,
    /// Workers waiting on the queue, longest first.
    idle: VecDeque<TaskId>,
    pub(crate) tally: Tally,
}

fn section<'c>(world: &World<'c, Msg>) -> &'c Benchmarks {
    world
        .config()
        .benchmarks
        .as_ref()
        .expect("the contest config has a benchmarks section")
}

fn opening(bench: &Benchmarks) -> (Timestamp, Timestamp) {
    let window = bench.window.expect("the contest config has a window");
    (
        Timestamp::from_datetime(window.from.to_utc()),
        Timestamp::from_datetime(window.to.to_utc()),
    )
}

impl Contest {
    pub(crate) fn new(pool: Pool, seed: u64) -> Self {
        Contest {
            ours: Ours::default(),
            pool,
            store: MemoryStore::default(),
            queue: MemoryQueue::default(),
            teams: teams(seed),
            durations: BTreeMap::new(),
            agents: BTreeMap::new(),
            idle: VecDeque::new(),
            tally: Tally::default(),
        }
    }

    fn request(&mut self, world: &mut World<'_, Msg>, team: usize) {
        let (now, bench) = (world.now(), section(world));
        self.tally.requests += 1;
        let authorization = format!("Bearer {}", self.teams[team].token);
        let request = Request {
            method: "POST",
            path: PATH,
            query: None,
            authorization: Some(&authorization),
            source: None,
        };
        let intake = Intake {
            store: &self.store,
            queue: &self.queue,
            // The world tends the pool at the tick, as before wake-ups existed.
            waker: &NoWake,
            clock: &ManualClock::at(now),
            bench,
            ops_digest: None,
        };
        match run_ready(intake.request(now, self.tally.requests, &request)) {
            Requested::Accepted(job) => {
                let run = self.teams[team].benchmark();
                self.durations.insert(job.id, run);
                self.dispatch(world);
            }
            Requested::Refused(refusal) => {
                *self.tally.refused.entry(refusal.status).or_default() += 1;
                // 403 after the close ends the team's day; anything but 409 would be a bug
                // the report's refusal counts show.
                if refusal.status == 409 {
                    world.schedule(RETRY_BUSY, Msg::Bench(Event::Request(team)));
                }
            }
        }
    }

    /// Hands visible messages to idle workers, oldest message to the longest-idle worker.
    fn dispatch(&mut self, world: &mut World<'_, Msg>) {
        let visibility = AgentSettings::from_config(section(world), false).visibility;
        while let Some(&worker) = self.idle.front() {
            let received = run_ready(self.queue.receive(ONCE_WAIT, visibility));
            let Some(delivery) = received.expect("the memory queue receives") else {
                return;
            };
            if self.take(world, worker, &delivery) {
                self.idle.pop_front();
            }
        }
    }

    /// The agent's handling of a message up to the run: whether the worker is now busy.
    fn take(&mut self, world: &mut World<'_, Msg>, worker: TaskId, delivery: &Delivery) -> bool {
        let message = BenchMessage::from_json(&delivery.body).expect("the intake writes messages");
        let stored = run_ready(self.store.get(&message.id)).expect("the memory store reads");
        let pending = stored.filter(|job| job.status == JobStatus::Pending);
        let started = pending.and_then(|job| {
            let running = job.start(world.now()).expect("a pending job can start");
            let written = run_ready(self.store.start(&running)).expect("the memory store writes");
            written.then_some(running)
        });
        let Some(running) = started else {
            // Already started or ended: the agent drops the message.
            let _ = run_ready(self.queue.delete(&delivery.receipt));
            return false;
        };
        *self.tally.starts.entry(running.id.clone()).or_default() += 1;
        world.set_phase(worker, Phase::Benchmarking);
        world.schedule(
            self.durations[&running.id],
            Msg::Bench(Event::RunEnds(worker)),
        );
        let agent = self.agents.get_mut(&worker).expect("a busy worker is live");
        agent.running = Some((running, delivery.receipt.clone()));
        true
    }

    fn run_ends(&mut self, world: &mut World<'_, Msg>, worker: TaskId) {
        let (now, bench) = (world.now(), section(world));
        let agent = self
            .agents
            .get_mut(&worker)
            .expect("a running worker is live");
        let (job, receipt) = agent.running.take().expect("the worker runs a job");
        agent.done += 1;
        // The simulator judges no code: every run exits 0 with a score line.
        let report = RunReport {
            exit: Exit::Code(0),
            stdout_tail: r#"{"score": 1000}"#.to_owned(),
            stderr_tail: String::new(),
        };
        let finished = job
            .finish(&judge(&report, bench.pool.deadline), now)
            .expect("a running job can end");
        let stored = run_ready(self.store.finish(&finished, JobStatus::Running));
        stored.expect("the memory store writes");
        let _ = run_ready(self.queue.delete(&receipt));
        let team = self
            .teams
            .iter()
            .position(|t| t.id == job.team)
            .expect("jobs belong to the scenario's teams");
        let think = self.teams[team].think(now.saturating_since(opening(bench).0));
        world.schedule(think, Msg::Bench(Event::Request(team)));
        self.wait_for_work(world, worker);
        self.dispatch(world);
    }

    /// The worker's agent goes back to long-polling, and leaves after `idle_exit` without work.
    fn wait_for_work(&mut self, world: &mut World<'_, Msg>, worker: TaskId) {
        let (now, bench) = (world.now(), section(world));
        world.set_phase(worker, Phase::Idle);
        self.idle.push_back(worker);
        let idle_from = match self.pool {
            Pool::Autoscaled => now,
            Pool::Fixed(_) => now.max(opening(bench).1),
        };
        let done = self.agents.get(&worker).map_or(0, |a| a.done);
        world.schedule_message_at(
            idle_from + bench.pool.idle_exit,
            Msg::Bench(Event::IdleExit(worker, done)),
        );
    }

    fn idle_exit(&mut self, world: &mut World<'_, Msg>, worker: TaskId, done: u32) {
        let idle = self
            .agents
            .get(&worker)
            .is_some_and(|a| a.done == done && a.running.is_none());
        if idle {
            self.agents.remove(&worker);
            self.idle.retain(|&w| w != worker);
            world.stop_task(worker);
        }
    }

    /// The manager Lambda's benchmark steps after its tick: the sweeper, then the pool pass.
    fn bench_steps(&mut self, world: &mut World<'_, Msg>) {
        let (now, bench) = (world.now(), section(world));
        let clock = ManualClock::at(now);
        let no_portal: Option<&PortalTarget<'_, MemoryPortal>> = None;
        let swept = rc_bench::sweeper::sweep(&self.store, no_portal, &clock, bench, now);
        let _ = run_ready(swept);
        if self.pool == Pool::Autoscaled {
            let boot_timeout = world.config().manager.boot_timeout;
            run_ready(self.ours.manager(world).tend_bench_pool(
                &self.store,
                bench,
                boot_timeout,
                now,
            ));
        }
    }

    /// Ops' fixed pool: `n` workers started by hand at the opening, outside the controller.
    fn start_fixed_pool(world: &mut World<'_, Msg>, n: u32) {
        let slot = world.bench_slot.expect("the contest config has a pool");
        for _ in 0..n {
            let run = RunTask::unmanaged(slot, Origin::Bench);
            // The world's faults are off in the contest, so RunTask succeeds.
            let _ = world.ecs_run_task(&run);
        }
    }
}

impl Policy for Contest {
    type Msg = Msg;

    fn start(&mut self, world: &mut World<'_, Msg>) {
        self.ours.start(world);
        let open = opening(section(world)).0;
        for (index, team) in self.teams.iter_mut().enumerate() {
            let at = open + team.first_request();
            world.schedule_message_at(at, Msg::Bench(Event::Request(index)));
        }
        if let Pool::Fixed(n) = self.pool {
            Self::start_fixed_pool(world, n);
        }
    }

    fn on_notice(&mut self, world: &mut World<'_, Msg>, notice: Notice<Msg>) {
        match notice {
            Notice::Message(Msg::Bench(Event::Request(team))) => self.request(world, team),
            Notice::Message(Msg::Bench(Event::RunEnds(worker))) => self.run_ends(world, worker),
            Notice::Message(Msg::Bench(Event::IdleExit(worker, done))) => {
                self.idle_exit(world, worker, done);
            }
            Notice::WorkerStarted(worker) => {
                self.agents.insert(worker, Agent::default());
                self.wait_for_work(world, worker);
                self.dispatch(world);
            }
            tick @ Notice::Message(Msg::Tick) => {
                self.ours.on_notice(world, tick);
                self.bench_steps(world);
            }
            other => self.ours.on_notice(world, other),
        }
    }
}
