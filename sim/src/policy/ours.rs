//! `ours`: runner-controller as deployed, driving rc-core's decisions against the simulated
//! services.
//!
//! The parts and their triggers are those of production:
//!
//! - **webhook**: routes a `workflow_job` event and writes the versioned [`JobMessage`] to the
//!   jobs queue; if the queue refuses it, GitHub records a failed delivery.
//! - **manager**: the SQS event source hands it up to 10 messages after a short batching
//!   window. Per class it observes tasks and runners, asks GitHub whether re-checked jobs still
//!   wait, runs [`plan_scale_up`], launches (JIT config → SSM → RunTask with a client token
//!   from job and attempt, cleaned up on failure) and sends the delayed re-check. An
//!   `in_progress` lifecycle message refills the class's warm pool at once
//!   ([`replenish_on_take`]).
//! - **tick** (every minute): warm pools ([`plan_pool`]), the reaper ([`plan_reap`]), the
//!   redelivery sweep ([`plan_redeliveries`]) and the rescue scan ([`plan_rescue`]) within one
//!   GitHub API budget.
//! - **cluster autoscaler**: on every PROVISIONING event and once a minute, [`plan_capacity`]
//!   over the waiting tasks, then `SetDesiredCapacity` for each raise.
//!
//! Nothing is remembered between invocations except what production also keeps: the messages
//! in the queue and the repositories seen in the last hour (for the rescue scan).

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use rc_core::message::{JobMessage, JobRef, JobStatus};
use rc_core::observed::{Origin, TaskState};
use rc_core::packing::{plan_capacity, WaitingTask};
use rc_core::reaper::{plan_reap, ClassPolicy, ReapAction, ReapInput};
use rc_core::recovery::{
    plan_redeliveries, plan_rescue, scan_due, ApiBudget, RedeliveryDecision, RescueDecision,
    ScannedJob,
};
use rc_core::routing::route;
use rc_core::scale_up::{plan_scale_up, ClassState, JobDecision, JobId, QueuedJob};
use rc_core::warm::{plan_pool, replenish_on_take, warm_target, IdleRunner, PoolObservation};
use rc_core::Timestamp;

use super::Policy;
use crate::world::ssm::parameter_name;
use crate::world::{
    ApiError, DeliveryId, JobView, Notice, Placement, RunTask, Webhook, WebhookAction, World,
};

/// How far back the redelivery sweep lists deliveries. Older failures are the rescue scan's
/// (it takes jobs queued for `rescue_after`, 5 minutes by default).
const DELIVERY_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The rescue scan looks at repositories that had a job in this period.
const REPO_MEMORY: Duration = Duration::from_secs(3600);

/// Messages on the jobs queue and the schedules.
pub(crate) enum Msg {
    /// A message body becomes visible in the jobs queue.
    Visible(String),
    /// The SQS event source invokes the manager with what is visible.
    Poll,
    /// The EventBridge schedule of the tick.
    Tick,
    /// The cluster autoscaler's safety-net schedule.
    Autoscale,
}

#[derive(Default)]
pub(crate) struct Ours {
    queue: VecDeque<String>,
    polling: bool,
    repos: BTreeMap<String, Timestamp>,
}

type W<'w, 'c> = &'w mut World<'c, Msg>;

impl Ours {
    fn webhook(world: W<'_, '_>, hook: Webhook) {
        let config = world.config();
        let Some(class) = route(config, &hook.labels).class().map(str::to_owned) else {
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
                started_at: None,
            },
        };
        if world
            .sqs_send(Duration::ZERO, Msg::Visible(message.to_json()))
            .is_err()
        {
            world.reject_webhook(hook);
        }
    }

    fn visible(&mut self, world: W<'_, '_>, body: String) {
        self.queue.push_back(body);
        if !self.polling {
            self.polling = true;
            let window = world.params().manager_batch_window;
            world.schedule(window, Msg::Poll);
        }
    }

    fn poll(&mut self, world: W<'_, '_>) {
        let n = self.queue.len().min(10);
        let batch: Vec<String> = self.queue.drain(..n).collect();
        self.manage(world, batch);
        if self.queue.is_empty() {
            self.polling = false;
        } else {
            world.schedule(Duration::ZERO, Msg::Poll);
        }
    }

    /// One manager invocation over a batch of queue messages.
    fn manage(&mut self, world: W<'_, '_>, batch: Vec<String>) {
        let now = world.now();
        let mut queued: BTreeMap<String, Vec<(JobRef, u32)>> = BTreeMap::new();
        let mut took_warm: BTreeMap<String, u64> = BTreeMap::new();
        for body in batch {
            // A malformed message is acknowledged, never retried.
            let Ok(message) = JobMessage::from_json(&body) else {
                continue;
            };
            match message {
                JobMessage::Queued { job, attempt } => {
                    self.repos.insert(job.repo.clone(), now);
                    queued
                        .entry(job.class.clone())
                        .or_default()
                        .push((job, attempt));
                }
                JobMessage::Lifecycle {
                    job,
                    status: JobStatus::InProgress,
                    ..
                } => {
                    took_warm.insert(job.class, job.job_id);
                }
                JobMessage::Lifecycle { .. } => {}
            }
        }
        for (class, jobs) in queued {
            self.scale_up(world, &class, jobs);
        }
        for (class, job) in took_warm {
            if let Some(index) = world.class_index(&class) {
                let _ = Self::replenish(world, index, job);
            }
        }
    }

    fn scale_up(&mut self, world: W<'_, '_>, class_name: &str, jobs: Vec<(JobRef, u32)>) {
        let Some(class) = world.class_index(class_name) else {
            return; // The class left the config: acknowledge.
        };
        let mut waiting = Vec::new();
        for (job, attempt) in jobs {
            if attempt == 0 {
                waiting.push((job, attempt));
                continue;
            }
            // A re-check first asks GitHub whether the job still waits.
            match world.github_job(JobId(job.job_id)) {
                Ok(JobView::Queued) => waiting.push((job, attempt)),
                Ok(_) => {}
                Err(_) => Self::retry(world, &job, attempt, world.params().visibility_timeout),
            }
        }
        if waiting.is_empty() {
            return;
        }
        let observed = world
            .ecs_list_tasks(class)
            .and_then(|tasks| Ok((tasks, world.github_runners(class)?)));
        let Ok((tasks, runners)) = observed else {
            for (job, attempt) in &waiting {
                Self::retry(world, job, *attempt, world.params().visibility_timeout);
            }
            return;
        };
        let state = ClassState::observe(&world.config().classes[class].name, &tasks, &runners);
        let max = world.config().classes[class].max_runners;
        let plan = plan_scale_up(
            max,
            &state,
            &waiting
                .iter()
                .map(|(job, attempt)| QueuedJob {
                    job_id: JobId(job.job_id),
                    attempt: *attempt,
                })
                .collect::<Vec<_>>(),
        );
        for ((job, attempt), (_, decision)) in waiting.iter().zip(plan) {
            match decision {
                JobDecision::Launch => {
                    let token = format!("{}-{attempt}", job.job_id);
                    match Self::launch(world, class, Some(JobId(job.job_id)), *attempt, token) {
                        Ok(()) => Self::recheck(world, job, *attempt),
                        Err(_) => {
                            Self::retry(world, job, *attempt, world.params().visibility_timeout)
                        }
                    }
                }
                JobDecision::CoveredByOwnTask | JobDecision::CoveredByIdle => {
                    Self::recheck(world, job, *attempt);
                }
                JobDecision::Duplicate => {}
                JobDecision::AtCapacity => {
                    Self::retry(world, job, *attempt, world.params().at_capacity_backoff);
                }
            }
        }
    }

    /// JIT config, then its SSM parameter, then RunTask; on failure, undo the first two.
    fn launch(
        world: W<'_, '_>,
        class: usize,
        job: Option<JobId>,
        attempt: u32,
        client_token: String,
    ) -> Result<(), ApiError> {
        let name = world.github_jit_config()?;
        if let Err(e) = world.ssm_put(&name) {
            let _ = world.github_delete_runner(&name);
            return Err(e);
        }
        let req = RunTask {
            class,
            origin: if job.is_some() {
                Origin::Job
            } else {
                Origin::Warm
            },
            job,
            attempt,
            runner_name: Some(name.clone()),
            client_token: Some(client_token),
            placement: Placement::CapacityProvider,
        };
        match world.ecs_run_task(&req) {
            // The client token returned a task started earlier: this launch's registration and
            // parameter will never be used.
            Ok(task) if task.runner_name.as_deref() != Some(name.as_str()) => {
                let _ = world.ssm_delete(&parameter_name(&name));
                let _ = world.github_delete_runner(&name);
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                let _ = world.ssm_delete(&parameter_name(&name));
                let _ = world.github_delete_runner(&name);
                Err(e)
            }
        }
    }

    /// The delayed re-check, while the job has attempts left; after them the rescue scan.
    fn recheck(world: W<'_, '_>, job: &JobRef, attempt: u32) {
        let settings = &world.config().manager;
        if attempt >= settings.recheck_attempts {
            return;
        }
        let next = JobMessage::Queued {
            job: job.clone(),
            attempt: attempt + 1,
        };
        if world
            .sqs_send(settings.recheck_delay, Msg::Visible(next.to_json()))
            .is_err()
        {
            // The batch item fails and SQS redrives the message.
            Self::retry(world, job, attempt, world.params().visibility_timeout);
        }
    }

    /// The message was not deleted: SQS makes it visible again after `after`.
    fn retry(world: W<'_, '_>, job: &JobRef, attempt: u32, after: Duration) {
        let again = JobMessage::Queued {
            job: job.clone(),
            attempt,
        };
        world.schedule(after, Msg::Visible(again.to_json()));
    }

    /// Warm launches carry a client token derived from what triggered them (`key`: the tick's
    /// minute, or the job that took a warm runner), so a repeated trigger starts nothing more
    /// while two different triggers in the same minute both get their runners.
    fn warm_launches(world: W<'_, '_>, class: usize, count: u32, key: &str) {
        for i in 0..count {
            let token = format!("warm-{class}-{key}-{i}");
            if Self::launch(world, class, None, 0, token).is_err() {
                return;
            }
        }
    }

    /// Refills the pool of `class` after `job` took one of its runners.
    fn replenish(world: W<'_, '_>, class: usize, job: u64) -> Result<(), ApiError> {
        let tasks = world.ecs_list_tasks(class)?;
        let runners = world.github_runners(class)?;
        let config = world.config();
        let c = &config.classes[class];
        let pool = PoolObservation::observe(&c.name, &tasks, &runners);
        let top_up = replenish_on_take(c, world.now(), &pool);
        Self::warm_launches(world, class, top_up, &format!("took-{job}"));
        Ok(())
    }

    /// Busy-safe stop: the GitHub registration first (422 for a busy runner: leave it), then
    /// the task, then its JIT parameter.
    fn stop_runner(world: W<'_, '_>, runner: &IdleRunner) {
        if world.github_delete_runner(&runner.runner_name).is_err() {
            return;
        }
        if world.ecs_stop_task(&runner.task_arn).is_ok() {
            let _ = world.ssm_delete(&parameter_name(&runner.runner_name));
        }
    }

    fn tick(&mut self, world: W<'_, '_>) {
        let now = world.now();
        let config = world.config();
        // Runners, then parameters, then tasks: the reaper's documented observation order.
        let observed = world.github_all_runners().and_then(|runners| {
            let parameters = world.ssm_list()?;
            Ok((runners, parameters, world.ecs_list_all_tasks()?))
        });
        if let Ok((runners, parameters, tasks)) = observed {
            let key = format!("tick-{}", now.0.div_euclid(60_000));
            for (class, c) in config.classes.iter().enumerate() {
                let pool = PoolObservation::observe(&c.name, &tasks, &runners);
                let plan = plan_pool(c, warm_target(c, now), &pool, now);
                Self::warm_launches(world, class, plan.top_up, &key);
                for runner in &plan.trim {
                    Self::stop_runner(world, runner);
                }
            }
            let classes: Vec<ClassPolicy> = config
                .classes
                .iter()
                .map(|c| ClassPolicy::at(c, now))
                .collect();
            let input = ReapInput {
                now,
                tasks: &tasks,
                runners: &runners,
                parameters: &parameters,
                runner_name_prefix: &config.github.runner_name_prefix,
                // Simulated runners are online while their task lives: never ghosts.
                controller_label: "",
                boot_timeout: config.manager.boot_timeout,
                classes: &classes,
            };
            for action in plan_reap(&input) {
                let _ = match action {
                    ReapAction::StopTask { task_arn, .. } => world.ecs_stop_task(&task_arn),
                    ReapAction::DeleteRunner { runner_name, .. } => {
                        world.github_delete_runner(&runner_name)
                    }
                    ReapAction::DeleteParameter { name, .. } => world.ssm_delete(&name),
                    ReapAction::StopRunner { runner, .. } => {
                        Self::stop_runner(world, &runner);
                        Ok(())
                    }
                };
            }
        }
        self.recover(world);
    }

    /// The redelivery sweep, then the rescue scan, within one GitHub API budget.
    fn recover(&mut self, world: W<'_, '_>) {
        let now = world.now();
        let config = world.config();
        let mut budget = ApiBudget::new(config.manager.github_api_budget_per_tick);
        if let Ok(deliveries) = world.github_deliveries(now - DELIVERY_WINDOW) {
            let plan = plan_redeliveries(
                &deliveries,
                now,
                config.manager.max_redeliveries_per_tick,
                &mut budget,
            );
            for (delivery, decision) in plan {
                if decision == RedeliveryDecision::Redeliver {
                    let _ = world.github_redeliver(DeliveryId(delivery.id));
                }
            }
        }
        self.repos
            .retain(|_, seen| now.saturating_since(*seen) <= REPO_MEMORY);
        let mut scanned = Vec::new();
        let rescue_after = world.config().manager.rescue_after;
        for repo in self
            .repos
            .keys()
            .filter(|repo| scan_due(repo, now, rescue_after))
        {
            if !budget.try_spend() {
                break;
            }
            let Ok(jobs) = world.github_queued_jobs(repo) else {
                continue;
            };
            scanned.extend(
                jobs.into_iter()
                    .map(|(job, labels, created_at)| ScannedJob {
                        job_id: job.0,
                        run_id: job.0,
                        repo: repo.clone(),
                        labels,
                        created_at,
                        installation_id: None,
                    }),
            );
        }
        for (_, decision) in plan_rescue(config, &scanned, now, &mut budget) {
            if let RescueDecision::Rescue(message) = decision {
                let _ = world.sqs_send(Duration::ZERO, Msg::Visible(message.to_json()));
            }
        }
    }

    /// The cluster autoscaler: pack what waits in PROVISIONING, raise what must rise.
    fn autoscale(world: W<'_, '_>) {
        let Ok(tasks) = world.ecs_provisioning_tasks() else {
            return;
        };
        let waiting: Vec<WaitingTask> = tasks
            .iter()
            .filter_map(WaitingTask::from_observed)
            .collect();
        if waiting.is_empty() {
            return;
        }
        let Ok(groups) = world.asg_groups() else {
            return;
        };
        let plan = plan_capacity(&waiting, &groups);
        for (group, to) in plan.raises() {
            let _ = world.asg_set_desired(&group.group, to);
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
            Notice::TaskChanged(_, TaskState::Provisioning) => Self::autoscale(world),
            Notice::Message(Msg::Visible(body)) => self.visible(world, body),
            Notice::Message(Msg::Poll) => self.poll(world),
            Notice::Message(Msg::Tick) => {
                self.tick(world);
                let period = world.params().tick_period;
                world.schedule(period, Msg::Tick);
            }
            Notice::Message(Msg::Autoscale) => {
                Self::autoscale(world);
                let period = world.params().autoscaler_period;
                world.schedule(period, Msg::Autoscale);
            }
            Notice::TaskChanged(..) | Notice::JobCreated(_) => {}
        }
    }
}
