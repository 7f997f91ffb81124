//! GitHub: the job queue, runner registration and assignment, webhook deliveries, and the REST
//! calls policies make.
//!
//! Assignment follows what GitHub does with self-hosted runners: a queued job goes to any
//! online idle runner whose labels contain all of the job's labels, whichever class started it.
//! When several fit, the oldest runner takes the oldest job. A job taken this way is no longer
//! available to the runner that was started for it, which is why the manager re-checks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rc_core::observed::ObservedRunner;
use rc_core::recovery::{Delivery, WORKFLOW_JOB_EVENT};
use rc_core::scale_up::JobId;
use rc_core::Timestamp;

use super::api::{ApiError, ApiKind};
use super::{Event, JobState, Notice, Phase, TaskId, World};
use crate::params::{Faults, Latency};

/// GitHub's id of one webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliveryId(pub u64);

/// The `action` of a `workflow_job` webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAction {
    /// The job waits for a runner.
    Queued,
    /// A runner took the job.
    InProgress,
    /// The job finished.
    Completed,
}

impl WebhookAction {
    fn index(self) -> usize {
        match self {
            WebhookAction::Queued => 0,
            WebhookAction::InProgress => 1,
            WebhookAction::Completed => 2,
        }
    }
}

/// A `workflow_job` webhook as the receiving endpoint sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The delivery (a redelivery gets a new one).
    pub delivery: DeliveryId,
    /// The job.
    pub job: JobId,
    /// What happened.
    pub action: WebhookAction,
    /// The job's labels.
    pub labels: Vec<String>,
    /// Repository `owner/name`.
    pub repo: String,
    /// When GitHub created the job.
    pub created_at: Timestamp,
    /// The runner that took the job (`in_progress` and `completed`).
    pub runner_name: Option<String>,
    /// When the job started running (`in_progress` and `completed`).
    pub started_at: Option<Timestamp>,
}

/// What the job API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobView {
    /// Waiting for a runner.
    Queued,
    /// A runner has it.
    InProgress,
    /// Finished, successfully or not.
    Completed,
}

/// One delivery of one webhook, drawn before the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlannedDelivery {
    after: Duration,
    fails: bool,
}

/// How one webhook will be delivered: once, late, twice, or not at all.
pub(crate) fn plan_delivery(
    faults: &Faults,
    latency: Latency,
    rng: &mut ChaCha8Rng,
) -> Vec<PlannedDelivery> {
    use rand::Rng;
    let mut chance = |p: f64| p > 0.0 && rng.random::<f64>() < p;
    let delayed = chance(faults.webhook_delayed);
    let duplicated = chance(faults.webhook_duplicated);
    let fails = chance(faults.webhook_lost);
    let mut after = latency.sample(rng);
    if delayed {
        after += faults.webhook_delay.sample(rng);
    }
    let mut plan = vec![PlannedDelivery { after, fails }];
    if duplicated {
        let again = after + latency.sample(rng);
        plan.push(PlannedDelivery {
            after: again,
            fails: false,
        });
    }
    plan
}

/// One delivery of an event that had a failed delivery: what the deliveries API lists.
struct LoggedDelivery {
    at: Timestamp,
    hook: Webhook,
    ok: bool,
    redelivery: bool,
}

/// GitHub's side of the world.
pub(crate) struct GithubState {
    /// Queued jobs by label set, oldest (lowest id) first.
    queued: Vec<BTreeSet<JobId>>,
    /// Online idle runners by class.
    pub idle: Vec<BTreeSet<TaskId>>,
    /// Runners online (their task registered), by name.
    runners: HashMap<String, TaskId>,
    /// JIT registrations whose runner has not connected yet (offline runners), by name: their
    /// id and labels.
    pending: BTreeMap<String, (u64, Vec<String>)>,
    /// The name of every registration, online or not, by runner id.
    names: HashMap<u64, String>,
    next_runner_id: u64,
    /// Deliveries of every event that had a failed one (the others never matter to recovery).
    log: BTreeMap<DeliveryId, LoggedDelivery>,
    /// Deliveries attempted per minute since the epoch, for paging the deliveries list.
    deliveries_per_minute: BTreeMap<i64, u32>,
    next_delivery: u64,
    next_runner: u64,
    pub queued_jobs: u32,
}

impl GithubState {
    pub fn new(classes: usize, label_sets: usize) -> Self {
        GithubState {
            queued: vec![BTreeSet::new(); label_sets],
            idle: vec![BTreeSet::new(); classes],
            runners: HashMap::new(),
            pending: BTreeMap::new(),
            names: HashMap::new(),
            next_runner_id: 0,
            log: BTreeMap::new(),
            deliveries_per_minute: BTreeMap::new(),
            next_delivery: 0,
            next_runner: 0,
            queued_jobs: 0,
        }
    }

    /// Registrations GitHub lists: online runners and offline JIT registrations.
    pub fn registered(&self) -> usize {
        self.runners.len() + self.pending.len()
    }

    fn register(&mut self, name: &str) -> u64 {
        self.next_runner_id += 1;
        self.names.insert(self.next_runner_id, name.to_owned());
        self.next_runner_id
    }
}

impl<M> World<'_, M> {
    pub(crate) fn job(&self, job: JobId) -> &super::Job {
        &self.jobs[(job.0 - 1) as usize]
    }

    fn job_mut(&mut self, job: JobId) -> &mut super::Job {
        &mut self.jobs[(job.0 - 1) as usize]
    }

    pub(crate) fn job_arrives(&mut self, job: JobId) {
        let set = self.job(job).label_set;
        if self.label_sets[set].routed.is_none() {
            self.stats.unroutable += 1;
        }
        self.job_mut(job).state = JobState::Queued;
        self.github.queued[set].insert(job);
        self.github.queued_jobs += 1;
        self.send_webhook(job, WebhookAction::Queued);
        let runner = self.label_sets[set]
            .taken_by
            .iter()
            .filter_map(|&class| self.github.idle[class].first().copied())
            .min();
        if let Some(task) = runner {
            self.assign(job, task);
        }
    }

    /// GitHub hands the oldest job this runner can take to it, if any is queued.
    pub(crate) fn runner_idle(&mut self, task: TaskId) {
        let t = &mut self.tasks[task.0 as usize];
        t.registered_at.get_or_insert(self.now);
        let class = t.class;
        self.set_phase(task, Phase::Idle);
        self.github.idle[class].insert(task);
        let job = self.classes[class]
            .takes
            .iter()
            .filter_map(|&set| self.github.queued[set].first().copied())
            .min();
        if let Some(job) = job {
            self.assign(job, task);
        }
    }

    /// The runner of `task` connects: a JIT runner with the registration its config names, a
    /// baseline's runner with a registration of its own.
    pub(crate) fn runner_registers(&mut self, task: TaskId) {
        let t = &self.tasks[task.0 as usize];
        let (name, class) = (t.runner_name.clone(), t.class);
        let registration = if t.jit_parameter.is_some() {
            let Some(registration) = self.github.pending.remove(&name) else {
                // The registration was deleted while the task booted: its config is void.
                self.stop_task(task);
                return;
            };
            registration
        } else {
            let labels = self.classes[class].labels.clone();
            (self.github.register(&name), labels)
        };
        self.tasks[task.0 as usize].registration = Some(registration);
        self.github.runners.insert(name, task);
        self.runner_idle(task);
    }

    /// The runner of `task` leaves GitHub (its task stopped); a job it held is lost.
    pub(crate) fn runner_leaves(&mut self, task: TaskId) {
        let t = &self.tasks[task.0 as usize];
        let class = t.class;
        let phase = t.phase;
        let name = t.runner_name.clone();
        let registration = t.registration.as_ref().map(|(id, _)| *id);
        self.github.idle[class].remove(&task);
        if let Some(id) = registration {
            // An ephemeral runner's registration goes with it.
            self.github.runners.remove(&name);
            self.github.names.remove(&id);
        }
        if let Phase::Busy(job) = phase {
            if matches!(
                self.job(job).state,
                JobState::Assigned(_) | JobState::Running(_)
            ) {
                self.job_mut(job).state = JobState::Killed;
                self.stats.busy_stops += 1;
            }
        }
    }

    fn assign(&mut self, job: JobId, task: TaskId) {
        let set = self.job(job).label_set;
        let class = self.tasks[task.0 as usize].class;
        self.github.queued[set].remove(&job);
        self.github.queued_jobs -= 1;
        self.github.idle[class].remove(&task);
        self.job_mut(job).state = JobState::Assigned(task);
        self.set_phase(task, Phase::Busy(job));
        let after = self.sample(self.params.assign_latency);
        self.schedule_at(self.now + after, Event::JobStarts(job));
    }

    pub(crate) fn job_starts(&mut self, job: JobId) {
        let JobState::Assigned(task) = self.job(job).state else {
            return;
        };
        let now = self.now;
        let j = self.job_mut(job);
        j.state = JobState::Running(task);
        j.started_at = Some(now);
        j.ran_on = Some(task);
        let duration = j.duration;
        self.send_webhook(job, WebhookAction::InProgress);
        self.schedule_at(now + duration, Event::JobEnds(job));
    }

    pub(crate) fn job_ends(&mut self, job: JobId) {
        let JobState::Running(task) = self.job(job).state else {
            return;
        };
        // GitHub's `completed` payload names the runner, as `in_progress` does.
        self.send_webhook(job, WebhookAction::Completed);
        self.job_mut(job).state = JobState::Done;
        // Ephemeral runners exit after one job, and the task with them.
        self.stop_task(task);
    }

    fn webhook(&mut self, job: JobId, action: WebhookAction) -> Webhook {
        self.github.next_delivery += 1;
        let j = self.job(job);
        let runner_name = match j.state {
            JobState::Assigned(task) | JobState::Running(task) => {
                Some(self.tasks[task.0 as usize].runner_name.clone())
            }
            _ => None,
        };
        Webhook {
            delivery: DeliveryId(self.github.next_delivery),
            job,
            action,
            labels: j.labels.clone(),
            repo: j.repo.clone(),
            created_at: j.created_at,
            runner_name,
            started_at: j.started_at,
        }
    }

    fn send_webhook(&mut self, job: JobId, action: WebhookAction) {
        let plan = self.deliveries[(job.0 - 1) as usize][action.index()].clone();
        let logged = plan.iter().any(|d| d.fails);
        for planned in plan {
            let hook = self.webhook(job, action);
            let at = self.now + planned.after;
            *self
                .github
                .deliveries_per_minute
                .entry(at.0.div_euclid(60_000))
                .or_default() += 1;
            if planned.fails {
                self.stats.webhooks_lost += 1;
            } else {
                self.notify(planned.after, Notice::Webhook(hook.clone()));
            }
            if logged {
                self.log_delivery(at, hook, !planned.fails, false);
            }
        }
    }

    fn log_delivery(&mut self, at: Timestamp, hook: Webhook, ok: bool, redelivery: bool) {
        self.github.log.insert(
            hook.delivery,
            LoggedDelivery {
                at,
                hook,
                ok,
                redelivery,
            },
        );
    }

    /// The endpoint answered `hook` with an error (it could not enqueue it): GitHub records the
    /// delivery as failed.
    pub fn reject_webhook(&mut self, hook: Webhook) {
        self.stats.webhooks_lost += 1;
        self.log_delivery(self.now, hook, false, false);
    }

    /// The job API.
    ///
    /// # Errors
    ///
    /// GitHub 5xx on every attempt.
    pub fn github_job(&mut self, job: JobId) -> Result<JobView, ApiError> {
        self.call(ApiKind::GithubGetJob)?;
        Ok(match self.job(job).state {
            JobState::NotYet | JobState::Queued => JobView::Queued,
            JobState::Assigned(_) | JobState::Running(_) => JobView::InProgress,
            JobState::Done | JobState::Killed => JobView::Completed,
        })
    }

    /// The runners of `class` GitHub lists (paging over every registered runner).
    ///
    /// # Errors
    ///
    /// GitHub 5xx on every attempt.
    pub fn github_runners(&mut self, class: usize) -> Result<Vec<ObservedRunner>, ApiError> {
        self.call_pages(ApiKind::GithubListRunners, self.github.registered(), 100)?;
        Ok(self.runners_of(class))
    }

    fn runners_of(&self, class: usize) -> Vec<ObservedRunner> {
        self.live[class]
            .iter()
            .map(|&id| &self.tasks[id.0 as usize])
            .filter(|t| matches!(t.phase, Phase::Idle | Phase::Busy(_)))
            .filter_map(|t| {
                let (id, labels) = t.registration.as_ref()?;
                Some(ObservedRunner {
                    id: *id,
                    name: t.runner_name.clone(),
                    online: true,
                    busy: matches!(t.phase, Phase::Busy(_)),
                    labels: labels.clone(),
                })
            })
            .collect()
    }

    /// Registers a just-in-time runner named `name` with `labels`: its id, or `None` when a
    /// runner of that name is registered already (GitHub's 409).
    ///
    /// # Errors
    ///
    /// GitHub 5xx on every attempt.
    pub fn github_generate_jit(
        &mut self,
        name: &str,
        labels: &[String],
    ) -> Result<Option<u64>, ApiError> {
        self.call(ApiKind::GithubJitConfig)?;
        if self.github.runners.contains_key(name) || self.github.pending.contains_key(name) {
            return Ok(None);
        }
        let id = self.github.register(name);
        self.github
            .pending
            .insert(name.to_owned(), (id, labels.to_vec()));
        Ok(Some(id))
    }

    /// Deletes the registration `id`: an online ephemeral runner exits, so its task stops; an
    /// offline one never connects. `false` when there is no such registration (GitHub's 404).
    ///
    /// # Errors
    ///
    /// [`ApiError::RunnerBusy`] when it runs a job (GitHub's 422); 5xx on every attempt.
    pub fn github_delete_registration(&mut self, id: u64) -> Result<bool, ApiError> {
        self.call(ApiKind::GithubDeleteRunner)?;
        let Some(name) = self.github.names.get(&id).cloned() else {
            return Ok(false);
        };
        match self.github.runners.get(&name) {
            Some(&task) if matches!(self.tasks[task.0 as usize].phase, Phase::Busy(_)) => {
                Err(ApiError::RunnerBusy)
            }
            Some(&task) => {
                self.stop_task(task);
                Ok(true)
            }
            None => {
                self.github.pending.remove(&name);
                self.github.names.remove(&id);
                Ok(true)
            }
        }
    }

    /// The runner that took `job` and when the job started, as the job API shows them.
    pub(crate) fn job_runner(&self, job: JobId) -> (Option<String>, Option<Timestamp>) {
        let j = self.job(job);
        let runner = match j.state {
            JobState::Assigned(task) | JobState::Running(task) => {
                Some(self.tasks[task.0 as usize].runner_name.clone())
            }
            _ => None,
        };
        (runner, j.started_at)
    }

    pub(crate) fn next_runner_name(&mut self) -> String {
        self.github.next_runner += 1;
        format!(
            "{}{:06}",
            self.config.github.runner_name_prefix, self.github.next_runner
        )
    }

    /// Deletes a runner registration. An ephemeral runner whose registration is gone exits, so
    /// its task stops. An unknown name is not an error (already gone).
    ///
    /// # Errors
    ///
    /// [`ApiError::RunnerBusy`] when it runs a job (GitHub's 422); 5xx on every attempt.
    pub fn github_delete_runner(&mut self, name: &str) -> Result<(), ApiError> {
        self.call(ApiKind::GithubDeleteRunner)?;
        let Some(&task) = self.github.runners.get(name) else {
            return Ok(());
        };
        if matches!(self.tasks[task.0 as usize].phase, Phase::Busy(_)) {
            return Err(ApiError::RunnerBusy);
        }
        self.stop_task(task);
        Ok(())
    }

    /// The newest `limit` webhook deliveries, newest first, as `GET /app/hook/deliveries`
    /// pages them (100 a page). Only deliveries of events that had a failure carry details; the
    /// others are counted for paging but never matter to recovery.
    ///
    /// # Errors
    ///
    /// GitHub 5xx on every attempt.
    pub fn github_recent_deliveries(
        &mut self,
        limit: u32,
        reach_back_to: Option<Timestamp>,
    ) -> Result<Vec<Delivery>, ApiError> {
        let now = self.now;
        // With `reach_back_to`, reading stops after the page of 100 that reaches it.
        let newer: u32 = reach_back_to.map_or(u32::MAX, |back| {
            let minutes = back.0.div_euclid(60_000) + 1..=now.0.div_euclid(60_000);
            self.github
                .deliveries_per_minute
                .range(minutes)
                .map(|(_, n)| n)
                .sum()
        });
        let limit = limit.min(newer.saturating_add(1).div_ceil(100).saturating_mul(100));
        // The minute the newest `limit` deliveries reach back to.
        let (mut listed, mut since) = (0u32, Timestamp(i64::MIN));
        for (&minute, &n) in self
            .github
            .deliveries_per_minute
            .range(..=now.0.div_euclid(60_000))
            .rev()
        {
            listed += n;
            since = Timestamp(minute * 60_000);
            if listed >= limit {
                break;
            }
        }
        self.call_pages(
            ApiKind::GithubListDeliveries,
            listed.min(limit) as usize,
            100,
        )?;
        let mut found: Vec<Delivery> = self
            .github
            .log
            .iter()
            .filter(|(_, d)| d.at >= since && d.at <= now)
            .map(|(id, d)| Delivery {
                id: id.0,
                guid: format!("{}-{:?}", d.hook.job.0, d.hook.action),
                event: WORKFLOW_JOB_EVENT.into(),
                action: Some(
                    match d.hook.action {
                        WebhookAction::Queued => "queued",
                        WebhookAction::InProgress => "in_progress",
                        WebhookAction::Completed => "completed",
                    }
                    .into(),
                ),
                status_code: if d.ok { 202 } else { 502 },
                redelivery: d.redelivery,
                delivered_at: d.at,
            })
            .collect();
        found.sort_by_key(|d| std::cmp::Reverse((d.delivered_at, d.id)));
        found.truncate(limit as usize);
        Ok(found)
    }

    /// Asks GitHub to deliver an event again, as a new delivery that may fail like any other.
    ///
    /// # Errors
    ///
    /// GitHub 5xx on every attempt.
    pub fn github_redeliver(&mut self, id: DeliveryId) -> Result<(), ApiError> {
        self.call(ApiKind::GithubRedeliver)?;
        let Some(logged) = self.github.log.get(&id) else {
            return Ok(());
        };
        let mut hook = logged.hook.clone();
        self.github.next_delivery += 1;
        hook.delivery = DeliveryId(self.github.next_delivery);
        let after = self.sample(self.params.webhook_latency);
        let ok = !self.chance(self.faults.webhook_lost);
        if ok {
            self.notify(after, Notice::Webhook(hook.clone()));
        } else {
            self.stats.webhooks_lost += 1;
        }
        self.log_delivery(self.now + after, hook, ok, true);
        Ok(())
    }

    /// Every runner GitHub lists for the scope (all pages).
    ///
    /// # Errors
    ///
    /// GitHub 5xx on every attempt.
    pub fn github_all_runners(&mut self) -> Result<Vec<ObservedRunner>, ApiError> {
        let mut all = Vec::new();
        self.call_pages(ApiKind::GithubListRunners, self.github.registered(), 100)?;
        for class in 0..self.classes.len() {
            all.extend(self.runners_of(class));
        }
        all.extend(
            self.github
                .pending
                .iter()
                .map(|(name, (id, labels))| ObservedRunner {
                    id: *id,
                    name: name.clone(),
                    online: false,
                    busy: false,
                    labels: labels.clone(),
                }),
        );
        Ok(all)
    }

    /// The queued jobs of `repo` with their labels and creation time, oldest first, as the
    /// scan reads them: the repository's queued runs (100 a page), then the jobs of each run
    /// created at or before `created_before`. Every job here is a run of its own (the ports
    /// give it its id as run id), so that is one job listing per queued job old enough.
    ///
    /// # Errors
    ///
    /// GitHub 5xx on every attempt.
    pub fn github_queued_jobs(
        &mut self,
        repo: &str,
        created_before: Timestamp,
    ) -> Result<Vec<(JobId, Vec<String>, Timestamp)>, ApiError> {
        let mut found: Vec<JobId> = self
            .github
            .queued
            .iter()
            .flatten()
            .copied()
            .filter(|&job| self.job(job).repo == repo)
            .collect();
        found.sort();
        self.call_pages(ApiKind::GithubListQueuedJobs, found.len(), 100)?;
        found.retain(|&job| self.job(job).created_at <= created_before);
        for _ in &found {
            self.call(ApiKind::GithubListQueuedJobs)?;
        }
        Ok(found
            .into_iter()
            .map(|job| {
                let j = self.job(job);
                (job, j.labels.clone(), j.created_at)
            })
            .collect())
    }
}
