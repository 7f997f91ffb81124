//! The reaper: what the tick removes because nothing else will.
//!
//! Launches can half-fail and runners can die without telling anyone, so each tick compares
//! ECS tasks, GitHub runners and the SSM JIT parameters and returns what to clean up:
//!
//! - a live task whose runner is not online [`ManagerSettings::boot_timeout`] after its boot
//!   began never finished booting → delete its registration if it has one, then stop the task.
//!   The boot begins when the task leaves PROVISIONING (ECS `pullStartedAt`, else `startedAt`):
//!   waiting for capacity at an Auto Scaling Group's max is not a stuck boot, and a task still
//!   PROVISIONING is never stopped. When ECS gives neither time, a task past PROVISIONING is timed
//!   from its creation: it may be stopped early after a long capacity wait, never left forever;
//! - one of our runners that is offline with no live task, registered with our controller label,
//!   is a ghost → delete its registration;
//! - a JIT parameter no live task was told to read (its `jit_parameter`), older than
//!   [`PARAMETER_GRACE`], is left over from a launch that failed → delete it;
//! - an on-demand runner among the class's idle surplus (see [`crate::warm::idle_surplus`]: beyond
//!   the warm target and idle for `idle_timeout`) → stop it, busy-safe. The pool trims warm runners
//!   from the same surplus, so each idle runner is stopped by exactly one of them.
//!
//! Only what we created is touched: tasks carrying our class and runner tags (the adapter passes
//! only the tasks of our controller, [`ObservedTask::is_owned_by`]), runners named with our
//! runner-name prefix *and* carrying our controller label (for ghosts), parameters under our SSM
//! path (the adapter lists nothing else; each deployment has its own path). A busy runner is
//! never chosen.
//!
//! Parameter names are random ("no job can read another runner's JIT config"), so a parameter
//! is joined to its task by the name the task was given, never by parsing the name.
//!
//! # Observation order
//!
//! Launching registers the runner with GitHub (JIT), then writes its parameter, then runs its
//! task. The adapter should list runners first, then parameters, then tasks: a launch in flight
//! then shows its parameter or task by the time it is looked for, instead of its fresh offline
//! registration looking like a ghost.
//!
//! [`ManagerSettings::boot_timeout`]: rc_config::ManagerSettings::boot_timeout

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::observed::{ClassView, ObservedRunner, ObservedTask, Origin, TaskState};
use crate::warm::{idle_surplus, IdleRunner};
use crate::{RunnerClass, Timestamp};

/// How old a JIT parameter without a live task must be before it is deleted. The issue's
/// figure: long enough that no launch is still between writing it and starting its task.
pub const PARAMETER_GRACE: Duration = Duration::from_secs(3600);

/// A JIT config parameter as listed under our SSM prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JitParameter {
    /// Full parameter name: `<ssm prefix>/<random>`, unrelated to the runner's name.
    pub name: String,
    /// When it was last written.
    pub last_modified: Timestamp,
    /// The runner it was written for, as the launch recorded it beside the value (the
    /// parameter's description); `None` if it carries none.
    pub runner_name: Option<String>,
}

/// What the reaper needs to know of one class right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassPolicy {
    /// Class name, as in the task tag.
    pub name: String,
    /// Idle runners the warm windows want now.
    pub warm_target: u32,
    /// How long a surplus idle runner may wait before it is stopped.
    pub idle_timeout: Duration,
}

impl ClassPolicy {
    /// The policy of `class` while its pool's target is `warm_target`.
    pub fn at(class: &RunnerClass, warm_target: u32) -> Self {
        ClassPolicy {
            name: class.name.clone(),
            warm_target,
            idle_timeout: class.idle_timeout,
        }
    }
}

/// Everything one reaper pass looks at.
#[derive(Debug, Clone, Copy)]
pub struct ReapInput<'a> {
    /// The tick's time.
    pub now: Timestamp,
    /// Every ECS task of the cluster (ours and others). The lists must be complete: a task
    /// missing from a partial list makes its runner look like a ghost.
    pub tasks: &'a [ObservedTask],
    /// Every self-hosted runner of the GitHub scope (ours and others), all pages: a runner
    /// missing from a partial list makes its task look stuck.
    pub runners: &'a [ObservedRunner],
    /// JIT parameters under our SSM prefix.
    pub parameters: &'a [JitParameter],
    /// `github.runner_name_prefix`: runners without it are never touched.
    pub runner_name_prefix: &'a str,
    /// Our [`controller_label`](crate::observed::controller_label): a ghost without it is
    /// another deployment's.
    pub controller_label: &'a str,
    /// How long a task may take to bring its runner online.
    pub boot_timeout: Duration,
    /// Every configured class.
    pub classes: &'a [ClassPolicy],
}

/// How a task's runner looked when its task was found stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// GitHub does not list the runner at all.
    Missing,
    /// Registered (JIT registers at launch) but never came online.
    Offline,
}

/// One clean-up step, executed by the adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[must_use]
pub enum ReapAction {
    /// The task never brought its runner online: delete the runner's registration first, when
    /// it has one (GitHub's 422 for a busy runner means leave it all alone), then `ecs:StopTask`.
    StopTask {
        /// Task ARN.
        task_arn: String,
        /// GitHub's id of the registration to delete first; `None` when not registered.
        runner_id: Option<u64>,
        /// Its class tag.
        class: String,
        /// The runner it was to register as.
        runner_name: String,
        /// Time since its boot began (see the module docs).
        age: Duration,
        /// What GitHub shows of the runner.
        registration: Registration,
    },
    /// Delete a ghost runner registration: offline, and no live task runs it.
    DeleteRunner {
        /// GitHub's runner id.
        runner_id: u64,
        /// Runner name.
        runner_name: String,
    },
    /// Delete a JIT parameter no live task will read.
    DeleteParameter {
        /// Parameter name.
        name: String,
        /// Time since it was written.
        age: Duration,
    },
    /// Busy-safe stop of an idle on-demand runner. The adapter executes it in this order:
    /// delete the GitHub registration (GitHub answers 422 for a busy runner: then stop here and
    /// leave the runner alone), stop the task, delete the runner's JIT parameter if present.
    StopRunner {
        /// Its class.
        class: String,
        /// The runner and its task.
        runner: IdleRunner,
        /// How long it has been idle.
        idle_for: Duration,
        /// The class's warm target, which this runner is above.
        warm_target: u32,
    },
}

impl ReapAction {
    /// A short stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ReapAction::StopTask { .. } => "stop_task",
            ReapAction::DeleteRunner { .. } => "delete_runner",
            ReapAction::DeleteParameter { .. } => "delete_parameter",
            ReapAction::StopRunner { .. } => "stop_runner",
        }
    }
}

impl fmt::Display for ReapAction {
    /// The action and its reason, in words an operator can check.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let human = |d: &Duration| humanize(*d);
        match self {
            ReapAction::StopTask { task_arn, class, runner_name, age, registration, .. } => {
                let shown = match registration {
                    Registration::Missing => "is not registered",
                    Registration::Offline => "is registered but offline",
                };
                write!(
                    f,
                    "stop task {task_arn} ({class}): runner {runner_name} {shown} {} after launch",
                    human(age)
                )
            }
            ReapAction::DeleteRunner { runner_id, runner_name } => write!(
                f,
                "delete runner {runner_name} (id {runner_id}): offline and no live task runs it"
            ),
            ReapAction::DeleteParameter { name, age } => write!(
                f,
                "delete parameter {name}: no live task, written {} ago",
                human(age)
            ),
            ReapAction::StopRunner { class, runner, idle_for, warm_target } => write!(
                f,
                "stop runner {} ({class}, on demand): idle {}, above the warm target of {warm_target}",
                runner.runner_name,
                human(idle_for)
            ),
        }
    }
}

/// Durations to the second, as config files write them (`5m 3s`).
fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// Decides one reaper pass: stuck tasks, then ghost runners, then stale parameters, then idle
/// on-demand runners, each group in input order.
pub fn plan_reap(input: &ReapInput<'_>) -> Vec<ReapAction> {
    let ReapInput {
        now,
        tasks,
        runners,
        parameters,
        runner_name_prefix: prefix,
        ..
    } = *input;
    let runners_by_name: BTreeMap<&str, &ObservedRunner> =
        runners.iter().map(|r| (r.name.as_str(), r)).collect();
    // Runners our live tasks run; a task without our class tag is someone else's.
    let live_runners: BTreeSet<&str> = tasks
        .iter()
        .filter(|t| t.state.is_live() && t.class.is_some())
        .filter_map(|t| t.runner_name.as_deref())
        .collect();
    // Parameters some live task may still read; whoever's task it is, its config stays.
    let wanted_parameters: BTreeSet<&str> = tasks
        .iter()
        .filter(|t| t.state.is_live())
        .filter_map(|t| t.jit_parameter.as_deref())
        .collect();
    let ours = |name: &str| name.starts_with(prefix);
    let mut actions = Vec::new();

    let booting = tasks
        .iter()
        .filter(|t| t.state.is_live() && t.state != TaskState::Provisioning);
    for task in booting {
        let (Some(runner_name), Some(class)) = (task.runner_name.as_deref(), task.class.as_deref())
        else {
            continue;
        };
        let age = task.boot_age(now);
        let (registration, runner_id) = match runners_by_name.get(runner_name) {
            None => (Registration::Missing, None),
            Some(r) if !r.online && !r.busy => (Registration::Offline, Some(r.id)),
            Some(_) => continue,
        };
        if age >= input.boot_timeout {
            actions.push(ReapAction::StopTask {
                task_arn: task.arn.clone(),
                runner_id,
                class: class.to_owned(),
                runner_name: runner_name.to_owned(),
                age,
                registration,
            });
        }
    }

    // A parameter written moments ago belongs to a launch whose task may not be listed yet.
    let launching: BTreeSet<&str> = parameters
        .iter()
        .filter(|p| now.saturating_since(p.last_modified) < input.boot_timeout)
        .filter_map(|p| p.runner_name.as_deref())
        .collect();
    actions.extend(
        runners
            .iter()
            .filter(|r| ours(&r.name) && !r.online && !r.busy)
            .filter(|r| r.labels.iter().any(|l| l == input.controller_label))
            .filter(|r| !live_runners.contains(r.name.as_str()))
            .filter(|r| !launching.contains(r.name.as_str()))
            .map(|r| ReapAction::DeleteRunner {
                runner_id: r.id,
                runner_name: r.name.clone(),
            }),
    );

    actions.extend(parameters.iter().filter_map(|p| {
        let age = now.saturating_since(p.last_modified);
        (!wanted_parameters.contains(p.name.as_str()) && age >= PARAMETER_GRACE).then(|| {
            ReapAction::DeleteParameter {
                name: p.name.clone(),
                age,
            }
        })
    }));

    for policy in input.classes {
        let pool = ClassView::observe(&policy.name, tasks, runners).pool();
        let surplus = idle_surplus(&pool.idle, policy.warm_target, policy.idle_timeout, now);
        actions.extend(
            surplus
                .into_iter()
                .filter(|r| r.origin == Origin::Job)
                .map(|runner| ReapAction::StopRunner {
                    class: policy.name.clone(),
                    runner: runner.clone(),
                    idle_for: now.saturating_since(runner.idle_since),
                    warm_target: policy.warm_target,
                }),
        );
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskSize;
    use proptest::prelude::*;

    const LABEL: &str = "rc-controller-test";

    const MIN: Duration = Duration::from_secs(60);
    const NOW: Timestamp = Timestamp(100_000_000);

    fn task(runner: &str, state: TaskState, age: Duration) -> ObservedTask {
        ObservedTask {
            arn: format!("arn:task/{runner}"),
            state,
            size: TaskSize::default(),
            capacity_provider: None,
            created_at: NOW - age,
            boot_started_at: None,
            controller: Some("test".into()),
            class: Some("large".into()),
            job_id: None,
            runner_name: Some(runner.into()),
            origin: Some(Origin::Job),
            min_step: None,
            headroom: None,
            jit_parameter: Some(param_name(runner)),
        }
    }

    /// The launch path's names are random; any name unrelated to the runner's will do here.
    fn param_name(runner: &str) -> String {
        format!(
            "/rc/jit/{:016x}",
            runner
                .bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        )
    }

    fn foreign(mut task: ObservedTask) -> ObservedTask {
        task.class = None;
        task
    }

    fn warm(mut task: ObservedTask) -> ObservedTask {
        task.origin = Some(Origin::Warm);
        task
    }

    fn runner(name: &str, online: bool, busy: bool) -> ObservedRunner {
        ObservedRunner {
            id: name.len() as u64,
            name: name.into(),
            online,
            busy,
            labels: vec!["self-hosted".into(), LABEL.into()],
        }
    }

    fn param(runner: &str, age: Duration) -> JitParameter {
        JitParameter {
            name: param_name(runner),
            last_modified: NOW - age,
            runner_name: Some(runner.into()),
        }
    }

    fn policy(warm_target: u32) -> Vec<ClassPolicy> {
        vec![ClassPolicy {
            name: "large".into(),
            warm_target,
            idle_timeout: 10 * MIN,
        }]
    }

    fn reap(
        tasks: &[ObservedTask],
        runners: &[ObservedRunner],
        parameters: &[JitParameter],
        classes: &[ClassPolicy],
    ) -> Vec<ReapAction> {
        plan_reap(&ReapInput {
            now: NOW,
            tasks,
            runners,
            parameters,
            runner_name_prefix: "rc-",
            controller_label: LABEL,
            boot_timeout: 5 * MIN,
            classes,
        })
    }

    fn kinds(actions: &[ReapAction]) -> Vec<(&'static str, String)> {
        actions
            .iter()
            .map(|a| {
                let subject = match a {
                    ReapAction::StopTask { runner_name, .. }
                    | ReapAction::DeleteRunner { runner_name, .. } => runner_name.clone(),
                    ReapAction::DeleteParameter { name, .. } => name.clone(),
                    ReapAction::StopRunner { runner, .. } => runner.runner_name.clone(),
                };
                (a.kind(), subject)
            })
            .collect()
    }

    #[test]
    fn stops_tasks_whose_runner_never_came_online() {
        let tasks = [
            task("rc-missing", TaskState::Running, 6 * MIN),
            task("rc-offline", TaskState::Pending, 6 * MIN),
            task("rc-young", TaskState::Provisioning, 4 * MIN),
            task("rc-online", TaskState::Running, 60 * MIN),
            task("rc-stopping", TaskState::Stopping, 60 * MIN),
        ];
        let runners = [
            runner("rc-offline", false, false),
            runner("rc-young", false, false),
            runner("rc-online", true, true),
        ];
        let actions = reap(&tasks, &runners, &[], &policy(0));
        assert_eq!(
            kinds(&actions),
            [
                ("stop_task", "rc-missing".into()),
                ("stop_task", "rc-offline".into())
            ]
        );
        assert_eq!(
            actions[1].to_string(),
            "stop task arn:task/rc-offline (large): runner rc-offline is registered but offline 6m after launch"
        );
    }

    #[test]
    fn provisioning_time_does_not_count_towards_boot() {
        let mut waited = task("rc-waited", TaskState::Pending, 60 * MIN);
        waited.boot_started_at = Some(NOW - 2 * MIN);
        let mut slow = task("rc-slow", TaskState::Running, 60 * MIN);
        slow.boot_started_at = Some(NOW - 6 * MIN);
        let tasks = [
            task("rc-waiting", TaskState::Provisioning, 60 * MIN),
            waited,
            slow,
        ];
        let actions = reap(&tasks, &[], &[], &[]);
        assert_eq!(kinds(&actions), [("stop_task", "rc-slow".into())]);
        assert_eq!(
            actions[0].to_string(),
            "stop task arn:task/rc-slow (large): runner rc-slow is not registered 6m after launch"
        );
    }

    #[test]
    fn a_stuck_task_names_the_registration_to_delete_first() {
        let tasks = [task("rc-offline", TaskState::Running, 6 * MIN)];
        let runners = [runner("rc-offline", false, false)];
        let actions = reap(&tasks, &runners, &[], &[]);
        assert!(matches!(
            actions.as_slice(),
            [ReapAction::StopTask { runner_id: Some(id), .. }] if *id == runners[0].id
        ));
    }

    #[test]
    fn ghosts_of_another_controller_are_left_alone() {
        let mut theirs = runner("rc-theirs", false, false);
        theirs.labels = vec!["self-hosted".into(), "rc-controller-other".into()];
        let actions = reap(&[], &[theirs, runner("rc-ours", false, false)], &[], &[]);
        assert_eq!(kinds(&actions), [("delete_runner", "rc-ours".into())]);
    }

    #[test]
    fn deletes_ghosts_but_not_launches_in_flight() {
        let tasks = [task("rc-booting", TaskState::Pending, MIN)];
        let runners = [
            runner("rc-ghost", false, false),
            runner("rc-booting", false, false),
            runner("rc-launching", false, false),
            runner("rc-online", true, false),
            runner("rc-busy-offline", false, true),
        ];
        let parameters = [param("rc-launching", MIN)];
        let actions = reap(&tasks, &runners, &parameters, &[]);
        assert_eq!(kinds(&actions), [("delete_runner", "rc-ghost".into())]);
    }

    #[test]
    fn deletes_parameters_no_live_task_was_given_after_an_hour() {
        let mut renamed = task("rc-renamed", TaskState::Running, 90 * MIN);
        renamed.runner_name = Some("rc-something-else".into());
        let tasks = [
            task("rc-live", TaskState::Running, 90 * MIN),
            task("rc-gone", TaskState::Stopped, 90 * MIN),
            foreign(task("rc-foreign", TaskState::Running, 90 * MIN)),
            renamed,
        ];
        let runners = [
            runner("rc-live", true, true),
            runner("rc-something-else", true, true),
        ];
        let mut unlabelled = param("rc-unlabelled", 2 * 60 * MIN);
        unlabelled.runner_name = None;
        let parameters = [
            param("rc-live", 90 * MIN),
            param("rc-gone", 61 * MIN),
            param("rc-recent", 30 * MIN),
            param("rc-foreign", 5 * 60 * MIN),
            // Joined by the name its task was given, whatever the description says.
            param("rc-renamed", 5 * 60 * MIN),
            unlabelled,
        ];
        let actions = reap(&tasks, &runners, &parameters, &[]);
        assert_eq!(
            kinds(&actions),
            [
                ("delete_parameter", param_name("rc-gone")),
                ("delete_parameter", param_name("rc-unlabelled")),
            ]
        );
    }

    #[test]
    fn stops_idle_on_demand_runners_beyond_the_target_only() {
        let tasks = [
            task("rc-job-old", TaskState::Running, 60 * MIN),
            task("rc-job-recent", TaskState::Running, 5 * MIN),
            task("rc-busy", TaskState::Running, 60 * MIN),
            warm(task("rc-warm", TaskState::Running, 90 * MIN)),
        ];
        let runners = [
            runner("rc-job-old", true, false),
            runner("rc-job-recent", true, false),
            runner("rc-busy", true, true),
            runner("rc-warm", true, false),
        ];
        let at_night = reap(&tasks, &runners, &[], &policy(0));
        assert_eq!(kinds(&at_night), [("stop_runner", "rc-job-old".into())]);
        assert_eq!(
            at_night[0].to_string(),
            "stop runner rc-job-old (large, on demand): idle 1h 0m, above the warm target of 0"
        );
        // In a window wanting two, the two oldest idle runners (one warm, one on demand) stay.
        assert!(reap(&tasks, &runners, &[], &policy(2)).is_empty());
    }

    #[test]
    fn unknown_class_runners_are_not_stopped_for_idleness() {
        let mut orphan = task("rc-orphan", TaskState::Running, 60 * MIN);
        orphan.class = Some("retired".into());
        let actions = reap(
            &[orphan],
            &[runner("rc-orphan", true, false)],
            &[],
            &policy(0),
        );
        assert!(actions.is_empty());
    }

    #[test]
    fn never_touches_foreign_tasks_or_runners() {
        let tasks = [foreign(task("rc-foreign", TaskState::Running, 60 * MIN))];
        let runners = [
            runner("their-ghost", false, false),
            runner("rc-foreign", true, false),
        ];
        let parameters = [param("rc-foreign", 5 * 60 * MIN)];
        assert!(reap(&tasks, &runners, &parameters, &policy(0)).is_empty());
    }

    fn arb_world(
    ) -> impl Strategy<Value = (Vec<ObservedTask>, Vec<ObservedRunner>, Vec<JitParameter>)> {
        let names = prop_oneof![Just("rc-"), Just("them-")];
        let task = (
            names.clone(),
            0u8..6,
            any::<bool>(),
            any::<bool>(),
            0u32..120,
            0u8..8,
        )
            .prop_map(|(prefix, i, tagged, warm_origin, age_min, state)| {
                let state = TaskState::from_ecs(
                    [
                        "PROVISIONING",
                        "PENDING",
                        "ACTIVATING",
                        "RUNNING",
                        "DEACTIVATING",
                        "STOPPING",
                        "DEPROVISIONING",
                        "STOPPED",
                    ][state as usize],
                )
                .expect("known state");
                let mut t = task(&format!("{prefix}{i}"), state, age_min * MIN);
                t.class = tagged.then(|| "large".into());
                t.origin = Some(if warm_origin {
                    Origin::Warm
                } else {
                    Origin::Job
                });
                t
            });
        let runner = (
            names.clone(),
            0u8..6,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(prefix, i, online, busy, ours)| {
                let mut r = runner(&format!("{prefix}{i}"), online, busy);
                if !ours {
                    r.labels = vec!["self-hosted".into(), "rc-controller-other".into()];
                }
                r
            });
        let param = (names, 0u8..6, 0u32..180)
            .prop_map(|(prefix, i, age)| param(&format!("{prefix}{i}"), age * MIN));
        (
            proptest::collection::vec(task, 0..10),
            proptest::collection::btree_map(any::<u8>(), runner, 0..10).prop_map(|m| {
                let mut by_name = BTreeMap::new();
                for r in m.into_values() {
                    by_name.insert(r.name.clone(), r);
                }
                by_name.into_values().collect()
            }),
            proptest::collection::vec(param, 0..10),
        )
    }

    proptest! {
        #[test]
        fn only_ours_and_never_busy((tasks, runners, parameters) in arb_world(), target in 0u32..4) {
            let actions = reap(&tasks, &runners, &parameters, &policy(target));
            let our_task_arns: BTreeSet<&str> =
                tasks.iter().filter(|t| t.class.is_some()).map(|t| t.arn.as_str()).collect();
            let busy: BTreeSet<&str> = runners.iter().filter(|r| r.busy).map(|r| r.name.as_str()).collect();
            let wanted: BTreeSet<&str> = tasks
                .iter()
                .filter(|t| t.state.is_live())
                .filter_map(|t| t.jit_parameter.as_deref())
                .collect();
            for action in &actions {
                match action {
                    ReapAction::StopTask { task_arn, runner_name, .. } => {
                        prop_assert!(our_task_arns.contains(task_arn.as_str()));
                        prop_assert!(!busy.contains(runner_name.as_str()));
                    }
                    ReapAction::DeleteRunner { runner_name, .. } => {
                        prop_assert!(runner_name.starts_with("rc-"));
                        let runner = runners.iter().find(|r| &r.name == runner_name).expect("listed");
                        prop_assert!(runner.labels.iter().any(|l| l == LABEL));
                        prop_assert!(!busy.contains(runner_name.as_str()));
                    }
                    ReapAction::DeleteParameter { name, age } => {
                        prop_assert!(!wanted.contains(name.as_str()));
                        prop_assert!(*age >= PARAMETER_GRACE);
                    }
                    ReapAction::StopRunner { runner, .. } => {
                        prop_assert!(our_task_arns.contains(runner.task_arn.as_str()));
                        prop_assert!(!busy.contains(runner.runner_name.as_str()));
                        prop_assert_eq!(runner.origin, Origin::Job);
                    }
                }
            }
        }
    }
}
