//! The philips-labs baseline (terraform-aws-github-runner) with its defaults: no warm pool,
//! one EC2 instance per runner.
//!
//! - Scale-up: the webhook puts each `queued` job on SQS with a 30 s delay; the scale-up
//!   function then asks GitHub whether the job still waits and, below the class's max, launches
//!   an instance whose runner registers about a minute later. A failed launch is retried when
//!   the message becomes visible again; nothing re-checks a job whose runner another job took.
//! - Scale-down: every 5 minutes, runners idle and older than the minimum running time (5
//!   minutes) are deregistered and their instances terminated; instances whose runner never
//!   registered within that time are terminated too.
//!
//! `philips-retry` adds the module's opt-in job retry (the `job_retry` variable, off by
//! default; modules/runners/job-retry and
//! lambdas/functions/control-plane/src/scale-runners/job-retry.ts in
//! github.com/philips-labs/terraform-aws-github-runner, now github-aws-runners): after the
//! scale-up function has handled a queued job without rejecting its message (a runner launched,
//! or none because the class is at its max), it publishes the job to a retry queue with a delay
//! of `delay_in_seconds * delay_backoff ^ retryCounter` (at most 900 s), while the counter is
//! below `max_attempts`. The retry function asks GitHub whether the job still waits and, if so,
//! puts it back on the build queue, where scale-up handles it like any other job: a job whose
//! runner another job took gets a second runner. The variable's defaults are modelled: 300 s,
//! backoff 2, one attempt.

use std::time::Duration;

use rc_core::routing::route;
use rc_core::scale_up::JobId;

use super::Policy;
use crate::world::{JobView, Notice, Placement, RunTask, Webhook, WebhookAction, World};

/// Messages and timers of the baseline.
pub(crate) enum Msg {
    /// The delayed scale-up message for a job of a class; `retried` is the job retry's
    /// `retryCounter`, absent on the webhook's message.
    ScaleUp {
        job: JobId,
        class: usize,
        retried: Option<u32>,
    },
    /// A job retry's delayed check of a job (job retry only).
    RetryCheck {
        job: JobId,
        class: usize,
        counter: u32,
    },
    /// The scale-down schedule.
    ScaleDown,
}

/// The module's `job_retry` settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobRetry {
    /// `delay_in_seconds`.
    pub delay: Duration,
    /// `delay_backoff`.
    pub backoff: u32,
    /// `max_attempts`.
    pub max_attempts: u32,
}

impl Default for JobRetry {
    /// The variable's defaults (modules/runners/variables.tf, `job_retry`).
    fn default() -> Self {
        JobRetry {
            delay: Duration::from_secs(300),
            backoff: 2,
            max_attempts: 1,
        }
    }
}

/// SQS's longest message delay, which job retry caps its delay at.
const SQS_MAX_DELAY: Duration = Duration::from_secs(900);

#[derive(Default)]
pub(crate) struct Philips {
    /// Job retry, when enabled.
    pub retry: Option<JobRetry>,
}

impl Philips {
    fn webhook(world: &mut World<'_, Msg>, hook: Webhook) {
        let Some(class) = route(world.config(), &hook.labels)
            .class()
            .and_then(|class| world.class_index(&class.name))
        else {
            return;
        };
        let delay = world.params().philips_delay;
        if world
            .sqs_send(
                delay,
                Msg::ScaleUp {
                    job: hook.job,
                    class,
                    retried: None,
                },
            )
            .is_err()
        {
            world.reject_webhook(hook);
        }
    }

    fn scale_up(&self, world: &mut World<'_, Msg>, job: JobId, class: usize, retried: Option<u32>) {
        let again = |world: &mut World<'_, Msg>| {
            let after = world.params().visibility_timeout;
            world.schedule(
                after,
                Msg::ScaleUp {
                    job,
                    class,
                    retried,
                },
            );
        };
        match world.github_job(job) {
            Ok(JobView::Queued) => {}
            Ok(_) => return,
            Err(_) => return again(world),
        }
        let Ok(instances) = world.ec2_describe_runners(class) else {
            return again(world);
        };
        if instances.len() < world.config().classes[class].max_runners as usize {
            let req = RunTask::baseline(class, job, Placement::DedicatedInstance);
            if world.ecs_run_task(&req).is_err() {
                // A rejected message comes back with its visibility timeout, not as a retry.
                return again(world);
            }
        }
        self.publish_retry(world, job, class, retried);
    }

    /// Job retry's `publishRetryMessage`: the job to the retry queue, while attempts remain.
    fn publish_retry(
        &self,
        world: &mut World<'_, Msg>,
        job: JobId,
        class: usize,
        retried: Option<u32>,
    ) {
        let Some(retry) = self.retry else {
            return;
        };
        let counter = retried.map_or(0, |n| n + 1);
        if counter >= retry.max_attempts {
            return;
        }
        let delay = retry
            .delay
            .saturating_mul(retry.backoff.saturating_pow(counter))
            .min(SQS_MAX_DELAY);
        // A failed publish fails the scale-up function after its launch; the launch stands.
        let _ = world.sqs_send(
            delay,
            Msg::RetryCheck {
                job,
                class,
                counter,
            },
        );
    }

    /// Job retry's `checkAndRetryJob`: a job still queued goes back to the build queue. A
    /// failed look-up or send leaves the retry message to come back after the visibility
    /// timeout.
    fn retry_check(world: &mut World<'_, Msg>, job: JobId, class: usize, counter: u32) {
        let handled = match world.github_job(job) {
            Ok(JobView::Queued) => {
                let delay = world.params().philips_delay;
                let message = Msg::ScaleUp {
                    job,
                    class,
                    retried: Some(counter),
                };
                world.sqs_send(delay, message).is_ok()
            }
            Ok(_) => true,
            Err(_) => false,
        };
        if !handled {
            let after = world.params().visibility_timeout;
            let again = Msg::RetryCheck {
                job,
                class,
                counter,
            };
            world.schedule(after, again);
        }
    }

    fn scale_down(world: &mut World<'_, Msg>) {
        let minimum = world.params().philips_scale_down;
        let now = world.now();
        for class in 0..world.config().classes.len() {
            let (Ok(instances), Ok(runners)) = (
                world.ec2_describe_runners(class),
                world.github_runners(class),
            ) else {
                continue;
            };
            for task in instances {
                if now.saturating_since(task.created_at) < minimum {
                    continue;
                }
                let name = task.runner_name.as_deref().unwrap_or_default();
                match runners.iter().find(|r| r.name == name) {
                    Some(r) if r.busy => continue,
                    Some(r) if world.github_delete_runner(&r.name).is_err() => continue,
                    _ => {}
                }
                if let Some(id) = crate::world::TaskId::from_arn(&task.arn) {
                    let _ = world.ec2_terminate_runner(id);
                }
            }
        }
        world.schedule(minimum, Msg::ScaleDown);
    }
}

impl Policy for Philips {
    type Msg = Msg;

    fn start(&mut self, world: &mut World<'_, Msg>) {
        let period = world.params().philips_scale_down;
        world.schedule(period, Msg::ScaleDown);
    }

    fn on_notice(&mut self, world: &mut World<'_, Msg>, notice: Notice<Msg>) {
        match notice {
            Notice::Webhook(hook) if hook.action == WebhookAction::Queued => {
                Self::webhook(world, hook);
            }
            Notice::Message(Msg::ScaleUp {
                job,
                class,
                retried,
            }) => self.scale_up(world, job, class, retried),
            Notice::Message(Msg::RetryCheck {
                job,
                class,
                counter,
            }) => Self::retry_check(world, job, class, counter),
            Notice::Message(Msg::ScaleDown) => Self::scale_down(world),
            _ => {}
        }
    }
}
