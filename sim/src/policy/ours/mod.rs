//! `ours`: runner-controller as deployed. The production orchestration (`rc-control`: the
//! manager's batches, launches and re-checks, the tick, the cluster autoscaler's pass) runs
//! here unchanged, over [`ports::SimPorts`], the simulated services behind the same port traits
//! `rc-aws` and `rc-github` implement.
//!
//! What is left here is what the AWS plumbing does in production, not what the controller
//! decides:
//!
//! - **webhook**: routes a `workflow_job` event and writes the versioned [`JobMessage`] to the
//!   jobs queue; if the queue refuses it, GitHub records a failed delivery.
//! - **SQS event source**: hands the manager up to 10 visible messages after a short batching
//!   window, then carries out each message's disposition: delete it, or make it visible again
//!   after the visibility timeout or the wait the manager asked for.
//! - **EventBridge**: the tick every minute (on the minute), the cluster autoscaler on every
//!   PROVISIONING event and once a minute; the autoscaler instance keeps its trigger memory
//!   between invocations, as a warm Lambda does.

pub(crate) mod ports;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use rc_control::autoscaler::{Dedupe, Trigger};
use rc_control::manager::Disposition;
use rc_control::ports::QueueMessage;
use rc_control::ready::run_ready;
use rc_control::{Autoscaler, Manager};
use rc_core::book::Book;
use rc_core::message::{JobMessage, JobRef, JobStatus};
use rc_core::observed::TaskState;
use rc_core::routing::route;
use rc_core::Timestamp;

use super::Policy;
use crate::world::{Notice, TaskId, Webhook, WebhookAction, World};
use ports::SimPorts;

/// Where the launch path stores JIT configs (the terraform module's default prefix).
const SSM_PREFIX: &str = "/runner-controller/jit";

/// The most messages the SQS event source hands over at once.
const BATCH_SIZE: usize = 10;

/// A message on the jobs queue: its body, and how often it was received before.
pub(crate) struct Queued {
    body: String,
    receives: u32,
}

impl Queued {
    pub(crate) fn new(body: String) -> Self {
        Queued { body, receives: 0 }
    }
}

/// Messages on the jobs queue and the schedules.
pub(crate) enum Msg {
    /// A message becomes visible in the jobs queue.
    Visible(Queued),
    /// The SQS event source invokes the manager with what is visible.
    Poll,
    /// The EventBridge schedule of the tick.
    Tick,
    /// The cluster autoscaler's safety-net schedule.
    Autoscale,
    /// An event of the contest's teams and benchmark workers (handled by
    /// [`crate::contest`], which runs this policy inside its own).
    Bench(crate::contest::Event),
}

#[derive(Default)]
pub(crate) struct Ours {
    visible: VecDeque<Queued>,
    polling: bool,
    /// What the autoscaler's warm instance remembers between triggers.
    autoscaler_memory: Mutex<Dedupe>,
    /// What the manager's warm instance remembers between invocations.
    book: Arc<Mutex<Book>>,
}

type W<'w, 'c> = &'w mut World<'c, Msg>;

impl Ours {
    /// The manager over the world, for one invocation of its warm instance.
    pub(crate) fn manager<'w, 'c>(&self, world: W<'w, 'c>) -> Manager<SimPorts<'w, 'c>> {
        Manager::new(SimPorts::new(world), SSM_PREFIX).with_book(Arc::clone(&self.book))
    }

    fn webhook(world: W<'_, '_>, hook: Webhook) {
        let config = world.config();
        let Some(class) = route(config, &hook.labels).class().map(|c| c.name.clone()) else {
            return; // 202: no class takes these labels.
        };
        let job = JobRef {
            delivery_id: format!("sim-{}", hook.delivery.0),
            job_id: hook.job.0,
            run_id: hook.job.0,
            repo: hook.repo.clone(),
            owner: hook.repo.split('/').next().unwrap_or_default().to_owned(),
            installation_id: None,
            labels: hook.labels.clone(),
            class,
            created_at: hook.created_at.to_datetime(),
        };
        let status = match hook.action {
            WebhookAction::Queued => None,
            WebhookAction::InProgress => Some(JobStatus::InProgress),
            WebhookAction::Completed => Some(JobStatus::Completed),
        };
        let message = match status {
            None => JobMessage::Queued { job, attempt: 0 },
            Some(status) => JobMessage::Lifecycle {
                job,
                status,
                runner_name: hook.runner_name.clone(),
                started_at: hook.started_at.map(Timestamp::to_datetime),
            },
        };
        let visible = Msg::Visible(Queued::new(message.to_json()));
        if world.sqs_send(std::time::Duration::ZERO, visible).is_err() {
            world.reject_webhook(hook);
        }
    }

    fn visible(&mut self, world: W<'_, '_>, message: Queued) {
        self.visible.push_back(message);
        if !self.polling {
            self.polling = true;
            let window = world.params().manager_batch_window;
            world.schedule(window, Msg::Poll);
        }
    }

    /// One manager invocation: a batch in, each message's disposition carried out.
    fn poll(&mut self, world: W<'_, '_>) {
        let n = self.visible.len().min(BATCH_SIZE);
        let batch: Vec<Queued> = self.visible.drain(..n).collect();
        let messages: Vec<QueueMessage> = batch
            .iter()
            .enumerate()
            .map(|(index, queued)| QueueMessage {
                id: index.to_string(),
                receipt_handle: String::new(),
                body: queued.body.clone(),
                receive_count: queued.receives + 1,
            })
            .collect();
        let (config, now) = (world.config(), world.now());
        let outcome = run_ready(self.manager(world).handle_batch(config, now, &messages));
        let visibility = world.params().visibility_timeout;
        for (queued, disposition) in batch.into_iter().zip(outcome.dispositions) {
            let again = Queued {
                body: queued.body,
                receives: queued.receives + 1,
            };
            match disposition {
                Disposition::Done => {}
                Disposition::Retry => world.schedule(visibility, Msg::Visible(again)),
                Disposition::RetryAfter(wait) => world.schedule(wait, Msg::Visible(again)),
            }
        }
        if self.visible.is_empty() {
            self.polling = false;
        } else {
            world.schedule(std::time::Duration::ZERO, Msg::Poll);
        }
    }

    fn tick(&self, world: W<'_, '_>) {
        let (config, now) = (world.config(), world.now());
        run_ready(self.manager(world).tick(config, now, false));
    }

    fn autoscale(&self, world: W<'_, '_>, trigger: Trigger) {
        let now = world.now();
        let ports = SimPorts::new(world);
        let autoscaler = Autoscaler::new(&ports, &ports);
        // A failed run is retried by the next trigger, as EventBridge's retry would.
        let _ = run_ready(autoscaler.handle(&self.autoscaler_memory, &trigger, now));
    }

    /// What EventBridge says of a task entering PROVISIONING.
    fn provisioning(world: &World<'_, Msg>, task: TaskId) -> Trigger {
        Trigger::Provisioning {
            task: task.arn(),
            version: 1,
            created_at: Some(world.tasks[task.0 as usize].created_at),
        }
    }
}

impl Policy for Ours {
    type Msg = Msg;

    fn start(&mut self, world: W<'_, '_>) {
        // EventBridge schedules fire on the minute.
        let now = world.now();
        let period = world.params().tick_period.as_millis().max(1) as i64;
        let first = Timestamp((now.0.div_euclid(period) + 1) * period);
        world.schedule_message_at(first, Msg::Tick);
        let period = world.params().autoscaler_period;
        world.schedule(period, Msg::Autoscale);
    }

    fn on_notice(&mut self, world: W<'_, '_>, notice: Notice<Msg>) {
        match notice {
            Notice::Webhook(hook) => Self::webhook(world, hook),
            Notice::TaskChanged(task, TaskState::Provisioning) => {
                let trigger = Self::provisioning(world, task);
                self.autoscale(world, trigger);
            }
            Notice::Message(Msg::Visible(message)) => self.visible(world, message),
            Notice::Message(Msg::Poll) => self.poll(world),
            Notice::Message(Msg::Tick) => {
                self.tick(world);
                let period = world.params().tick_period;
                world.schedule(period, Msg::Tick);
            }
            Notice::Message(Msg::Autoscale) => {
                self.autoscale(world, Trigger::Reconcile);
                let period = world.params().autoscaler_period;
                world.schedule(period, Msg::Autoscale);
            }
            Notice::TaskChanged(..)
            | Notice::JobCreated(_)
            | Notice::WorkerStarted(_)
            | Notice::Message(Msg::Bench(_)) => {}
        }
    }
}
