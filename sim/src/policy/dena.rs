//! The DeNA-style baseline: what a team builds first on ECS.
//!
//! - Warm runners: during the configured windows each class keeps an ECS service at the
//!   window's `idle` count (a scheduled action sets the desired count at the window edges). An
//!   ephemeral runner's task exits after its job and the service scheduler replaces it then —
//!   so a warm runner taken by a job comes back only when that job ends, not when it is taken.
//!   At the window's end the service stops its idle tasks (task scale-in protection keeps busy
//!   ones).
//! - On demand: each `queued` webhook goes through SQS to a handler that acknowledges it if the
//!   class has an idle runner, waits for the visibility timeout if the class is at
//!   `max_runners`, and otherwise calls RunTask once, without a client token; nothing re-checks
//!   the job afterwards.
//! - Capacity: the capacity provider's managed scaling only.

use std::collections::BTreeSet;
use std::time::Duration;

use rc_core::observed::{Origin, TaskState};
use rc_core::routing::route;
use rc_core::scale_up::JobId;
use rc_core::warm::{next_change, warm_target};

use super::Policy;
use crate::world::{Notice, Placement, RunTask, TaskId, Webhook, WebhookAction, World};

/// Timers of the baseline.
pub(crate) enum Msg {
    /// A warm window of this class may have opened or closed.
    Window(usize),
    /// The service scheduler brings this class's service back to its desired count.
    Replace(usize),
    /// The on-demand handler's SQS message for a queued job of a class.
    Queued(JobId, usize),
}

#[derive(Default)]
pub(crate) struct Dena {
    /// Each class's service tasks.
    service: Vec<BTreeSet<TaskId>>,
    /// Each class's service desired count.
    desired: Vec<u32>,
}

impl Dena {
    fn fill(&mut self, world: &mut World<'_, Msg>, class: usize) {
        let max = world.config().classes[class].max_runners as usize;
        while self.service[class].len() < self.desired[class] as usize
            && world.live_count(class) < max
        {
            let req = RunTask::unmanaged(class, Origin::Warm);
            // The service scheduler retries its own launches; it is not one of our API calls.
            match world.create_task(&req) {
                Ok(task) => {
                    self.service[class].insert(task);
                }
                Err(_) => return,
            }
        }
    }

    fn window(&mut self, world: &mut World<'_, Msg>, class: usize) {
        let now = world.now();
        let config = world.config();
        let c = &config.classes[class];
        self.desired[class] = warm_target(c, now);
        self.fill(world, class);
        let excess = self.service[class]
            .len()
            .saturating_sub(self.desired[class] as usize);
        let idle: Vec<TaskId> = self.service[class]
            .iter()
            .copied()
            .filter(|&t| world.task_is_idle(t))
            .take(excess)
            .collect();
        for task in idle {
            self.service[class].remove(&task);
            world.stop_task(task);
        }
        if let Some(next) = next_change(c, now) {
            world.schedule_message_at(next, Msg::Window(class));
        }
    }

    fn webhook(world: &mut World<'_, Msg>, hook: Webhook) {
        let Some(class) = route(world.config(), &hook.labels)
            .class()
            .and_then(|class| world.class_index(&class.name))
        else {
            return;
        };
        if world
            .sqs_send(Duration::ZERO, Msg::Queued(hook.job, class))
            .is_err()
        {
            world.reject_webhook(hook);
        }
    }

    fn on_demand(world: &mut World<'_, Msg>, job: JobId, class: usize) {
        let retry = |world: &mut World<'_, Msg>| {
            let after = world.params().visibility_timeout;
            world.schedule(after, Msg::Queued(job, class));
        };
        let Ok(runners) = world.github_runners(class) else {
            return retry(world);
        };
        if runners.iter().any(|r| r.online && !r.busy) {
            return;
        }
        let Ok(tasks) = world.ecs_list_tasks(class) else {
            return retry(world);
        };
        if tasks.len() >= world.config().classes[class].max_runners as usize {
            return retry(world);
        }
        let req = RunTask::baseline(class, job, Placement::CapacityProvider);
        if world.ecs_run_task(&req).is_err() {
            retry(world);
        }
    }
}

impl Policy for Dena {
    type Msg = Msg;

    fn start(&mut self, world: &mut World<'_, Msg>) {
        let n = world.config().classes.len();
        self.service = vec![BTreeSet::new(); n];
        self.desired = vec![0; n];
        for class in 0..n {
            world.schedule(Duration::ZERO, Msg::Window(class));
        }
    }

    fn on_notice(&mut self, world: &mut World<'_, Msg>, notice: Notice<Msg>) {
        match notice {
            Notice::Webhook(hook) if hook.action == WebhookAction::Queued => {
                Self::webhook(world, hook);
            }
            Notice::Message(Msg::Queued(job, class)) => Self::on_demand(world, job, class),
            Notice::TaskChanged(task, TaskState::Stopped) => {
                let class = world.task_class(task);
                if self.service[class].remove(&task)
                    && self.service[class].len() < self.desired[class] as usize
                {
                    let after = world.sample(world.params().service_replace_latency);
                    world.schedule(after, Msg::Replace(class));
                }
            }
            Notice::Message(Msg::Window(class)) => self.window(world, class),
            Notice::Message(Msg::Replace(class)) => self.fill(world, class),
            _ => {}
        }
    }
}
