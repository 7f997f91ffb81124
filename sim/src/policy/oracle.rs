//! The oracle: every runner is ready the instant its job is queued, on capacity that appears the
//! instant it is needed and disappears the instant it is empty.
//!
//! It sees jobs when GitHub creates them rather than through webhooks, suffers no faults, and
//! makes no API calls. Its idle time is the lower bound for any policy; its pickup latency is
//! GitHub's own assignment latency. It still respects `max_runners`: a job beyond it waits for
//! a runner of its class to finish, as it would under any policy.

use std::collections::VecDeque;

use rc_core::observed::TaskState;
use rc_core::scale_up::JobId;

use super::Policy;
use crate::world::{Notice, Placement, RunTask, World};

/// The oracle's only state: jobs it could not start a runner for yet, by class.
#[derive(Default)]
pub(crate) struct Oracle {
    waiting: Vec<VecDeque<JobId>>,
}

impl Oracle {
    fn launch(&mut self, world: &mut World<'_, ()>, class: usize) {
        while let Some(&job) = self.waiting[class].front() {
            if !world.job_waits(job) {
                self.waiting[class].pop_front();
                continue;
            }
            if world.live_count(class) >= world.config().classes[class].max_runners as usize {
                return;
            }
            self.waiting[class].pop_front();
            let req = RunTask::baseline(class, job, Placement::CapacityProvider);
            // Without faults and below max, the world always starts the task.
            if world.create_task(&req).is_ok() {
                world.grant_capacity(world.provider_of(class));
            }
        }
    }
}

impl Policy for Oracle {
    type Msg = ();

    fn start(&mut self, world: &mut World<'_, ()>) {
        self.waiting = vec![VecDeque::new(); world.config().classes.len()];
    }

    fn on_notice(&mut self, world: &mut World<'_, ()>, notice: Notice<()>) {
        match notice {
            Notice::JobCreated(job) => {
                if let Some(class) = world.routed_class(job) {
                    self.waiting[class].push_back(job);
                    self.launch(world, class);
                }
            }
            Notice::TaskChanged(task, TaskState::Stopped) => {
                let class = world.task_class(task);
                self.launch(world, class);
            }
            _ => {}
        }
    }
}
