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

use rc_core::routing::route;
use rc_core::scale_up::JobId;

use super::Policy;
use crate::world::{JobView, Notice, Placement, RunTask, Webhook, WebhookAction, World};

/// Messages and timers of the baseline.
pub(crate) enum Msg {
    /// The delayed scale-up message for a job of a class.
    ScaleUp { job: JobId, class: usize },
    /// The scale-down schedule.
    ScaleDown,
}

pub(crate) struct Philips;

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
                },
            )
            .is_err()
        {
            world.reject_webhook(hook);
        }
    }

    fn scale_up(world: &mut World<'_, Msg>, job: JobId, class: usize) {
        let retry = |world: &mut World<'_, Msg>| {
            let after = world.params().visibility_timeout;
            world.schedule(after, Msg::ScaleUp { job, class });
        };
        match world.github_job(job) {
            Ok(JobView::Queued) => {}
            Ok(_) => return,
            Err(_) => return retry(world),
        }
        let Ok(instances) = world.ec2_describe_runners(class) else {
            return retry(world);
        };
        if instances.len() >= world.config().classes[class].max_runners as usize {
            return;
        }
        let req = RunTask::baseline(class, job, Placement::DedicatedInstance);
        if world.ecs_run_task(&req).is_err() {
            retry(world);
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
            Notice::Message(Msg::ScaleUp { job, class }) => Self::scale_up(world, job, class),
            Notice::Message(Msg::ScaleDown) => Self::scale_down(world),
            _ => {}
        }
    }
}
