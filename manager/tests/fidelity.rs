//! The fidelity check (issue 10): the simulator's API calls per job, by kind, against what the
//! same orchestration makes against moto and the fake GitHub for the same jobs.
//!
//! The situation is one both sides reproduce exactly: a cold class (no warm pool, no runners,
//! no tasks), [`JOBS`] jobs with the same labels queued at once and handed over as ONE batch,
//! then ONE tick, then the jobs' first re-checks as a second batch, all at one instant and
//! without faults. The production [`rc_manager::Manager`] runs the steps here over moto and
//! the fake GitHub; `rc_sim::fidelity::run_steps` runs the same `rc-control` code over the
//! simulated services for the same messages (built by `rc_sim::fidelity::messages`, so both
//! sides decide on identical input). Neither world moves between the steps: moto's tasks are
//! frozen and the fake's runners never come online, and the simulator's world stands still.
//!
//! Calls are named as the simulator names them (`service:Operation`): the AWS SDK interceptor
//! already records `ecs:RunTask`-style names, and the fake GitHub's routes are mapped below.

#[allow(dead_code)] // shared with the other test binaries; each uses part of it
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rc_core::recovery::scan_due;
use rc_manager::{wall_clock, Disposition};
use rc_sim::fidelity::{messages, run_steps, Step};
use rc_sim::{Faults, JobSpec, Workload};
use rc_testkit::github::{Call, Delivery};
use support::{Harness, Setup};

/// Jobs queued at once: one batch (the SQS event source hands over at most 10 messages).
const JOBS: u64 = 8;

const LABELS: [&str; 3] = ["self-hosted", "linux", "large"];

/// The tolerance. Launch-path calls (JIT config, PutParameter, RunTask, the re-check's
/// SendMessage, the re-check's GetJob) must agree exactly: each is one call per job on both
/// sides, whatever the page sizes. Listings (ListTasks, DescribeTasks, ListRunners,
/// DescribeParameters, deliveries, the rescue scan's run and job lists) could legitimately
/// differ by page counts only: the simulator counts pages at the real services' documented
/// sizes (ECS ListTasks/DescribeTasks 100, SSM DescribeParameters 50, GitHub 100 per page),
/// the emulators may serve smaller pages (moto pages some SSM listings by 10; the fake GitHub
/// honours `per_page` up to 100). Here every listing holds at most [`JOBS`] items (tasks,
/// runners, parameters, deliveries, queued runs, jobs of a run), and no side serves pages
/// smaller than this, so every listing is one page on both sides and the page-size slack is
/// zero: listings must agree exactly too. Raising [`JOBS`] past it fails to compile, so the
/// tolerance is revisited rather than silently wrong.
const SMALLEST_PAGE: u64 = 10;
const _: () = assert!(JOBS <= SMALLEST_PAGE);

/// A call production makes that the simulator does not model, and why that is not a per-job
/// divergence: `GithubClient` looks the runner group's id up once per client (one Lambda
/// container) and caches it, so it costs one call per cold start, never one per job.
const NOT_MODELLED: [&str; 1] = ["github:ListRunnerGroups"];

/// The simulator's name for a fake GitHub request.
fn github_kind(call: &Call) -> String {
    let segments: Vec<&str> = call.path.trim_matches('/').split('/').collect();
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let kind = match (call.method.as_str(), segments.as_slice()) {
        ("POST", [.., "actions", "runners", "generate-jitconfig"]) => "github:GenerateJitConfig",
        ("GET", [.., "actions", "runners"]) => "github:ListRunners",
        ("DELETE", [.., "actions", "runners", id]) if numeric(id) => "github:DeleteRunner",
        ("GET", [.., "actions", "runner-groups"]) => "github:ListRunnerGroups",
        ("GET", ["repos", _, _, "actions", "jobs", id]) if numeric(id) => "github:GetJob",
        // The rescue scan: a repository's queued runs, then each run's jobs.
        ("GET", ["repos", _, _, "actions", "runs"]) => "github:ListQueuedJobs",
        ("GET", ["repos", _, _, "actions", "runs", id, "jobs"]) if numeric(id) => {
            "github:ListQueuedJobs"
        }
        ("GET", [.., "deliveries"]) => "github:ListDeliveries",
        ("POST", [.., "deliveries", id, "attempts"]) if numeric(id) => "github:Redeliver",
        (method, _) => return format!("github:? {method} {}", call.path),
    };
    kind.to_owned()
}

/// The calls of one production step, by the simulator's names: AWS from the interceptor (its
/// names are the simulator's already), GitHub from the fake's log from `github_from` on.
fn production_calls(h: &Harness, github_from: usize) -> BTreeMap<String, u64> {
    let mut calls: BTreeMap<String, u64> = h
        .aws_calls
        .counts()
        .into_iter()
        .map(|(operation, n)| (operation, n as u64))
        .collect();
    for call in &h.github.calls()[github_from..] {
        *calls.entry(github_kind(call)).or_default() += 1;
    }
    calls
}

fn step_name(step: Step) -> String {
    match step {
        Step::Batch { attempt: 0 } => "batch (webhook messages)".to_owned(),
        Step::Batch { attempt } => format!("batch (re-check {attempt})"),
        Step::Tick => "tick".to_owned(),
    }
}

fn per_job(n: u64) -> String {
    format!("{:.3}", n as f64 / JOBS as f64)
}

#[tokio::test]
async fn the_simulator_makes_the_calls_production_makes_per_job() {
    let h = Harness::start("fidelity", Setup::default()).await;
    // The emulators stamp tasks and parameters with the real clock: the steps run at it, so the
    // reaper sees young tasks on both sides.
    let now = wall_clock();
    // A repository the tick's rescue scan looks at this minute, so the scan's calls are compared
    // too (each repository is scanned on one tick in `rescue_after`).
    let rescue_after = h.config.manager.rescue_after;
    let repo = (0..)
        .map(|i| format!("acme/fidelity-{i}"))
        .find(|repo| scan_due(repo, now, rescue_after))
        .expect("some repository is due");
    let workload = Workload {
        name: "fidelity".to_owned(),
        start: now - Duration::from_secs(5),
        span: Duration::ZERO,
        jobs: (0..JOBS)
            .map(|_| JobSpec {
                at: Duration::ZERO,
                labels: LABELS.map(String::from).to_vec(),
                duration: Duration::from_secs(600),
                repo: repo.clone(),
            })
            .collect(),
        faults: Faults::none(),
    };
    // What GitHub knows of the jobs in the simulated world: each queued, in a run of its own
    // (job n in run n), its `queued` webhook delivered.
    for job in 1..=JOBS {
        h.github.add_job(&repo, job, job, &LABELS);
        h.github
            .add_delivery(Delivery::new(job, "workflow_job", 202).action("queued"));
    }
    let steps = [
        Step::Batch { attempt: 0 },
        Step::Tick,
        Step::Batch { attempt: 1 },
    ];

    let mut production = Vec::new();
    for step in steps {
        h.aws_calls.clear();
        let github_from = h.github.calls().len();
        match step {
            Step::Batch { attempt } => {
                let batch = messages(&h.config, &workload, attempt);
                assert_eq!(batch.len() as u64, JOBS, "every job routes to the class");
                let outcome = h.manager.handle_batch(&h.config, now, &batch).await;
                assert!(
                    outcome.dispositions.iter().all(|d| *d == Disposition::Done),
                    "{:?}",
                    outcome.dispositions
                );
            }
            Step::Tick => {
                let report = h.manager.tick(&h.config, now, false).await;
                eprintln!("{report}");
            }
        }
        production.push(production_calls(&h, github_from));
    }
    assert_eq!(
        h.live_tasks().await.len() as u64,
        JOBS,
        "one task per job: the re-checks found each job covered"
    );

    let simulated: Vec<BTreeMap<String, u64>> = run_steps(&h.config, &workload, now, &steps)
        .into_iter()
        .map(|calls| {
            calls
                .into_iter()
                .map(|(kind, n)| (kind.to_owned(), n))
                .collect()
        })
        .collect();

    let mut table = format!(
        "fidelity: {JOBS} jobs, one batch, one tick, one re-check batch; calls per job\n\
         {:<26} {:<40} {:>9} {:>9}  verdict\n",
        "step", "kind", "sim", "moto"
    );
    let mut divergences = Vec::new();
    let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for ((step, sim), moto) in steps.iter().zip(&simulated).zip(&production) {
        let kinds: BTreeSet<&String> = sim.keys().chain(moto.keys()).collect();
        for kind in kinds {
            let s = sim.get(kind).copied().unwrap_or(0);
            let m = moto.get(kind).copied().unwrap_or(0);
            let total = totals.entry(kind.clone()).or_default();
            total.0 += s;
            total.1 += m;
            let verdict = if NOT_MODELLED.contains(&kind.as_str()) {
                "not modelled (once per client)"
            } else if s == m {
                "equal"
            } else {
                divergences.push(format!("{}: {kind}: sim {s}, moto {m}", step_name(*step)));
                "DIVERGES"
            };
            table += &format!(
                "{:<26} {:<40} {:>9} {:>9}  {verdict}\n",
                step_name(*step),
                kind,
                per_job(s),
                per_job(m)
            );
        }
    }
    for (kind, (s, m)) in &totals {
        table += &format!(
            "{:<26} {:<40} {:>9} {:>9}\n",
            "all steps",
            kind,
            per_job(*s),
            per_job(*m)
        );
    }
    eprintln!("{table}");

    // The not-modelled lookup stays what it is: once per client, never per job.
    for kind in NOT_MODELLED {
        let (s, m) = totals.get(kind).copied().unwrap_or((0, 0));
        assert_eq!(s, 0, "{kind} is modelled now: compare it");
        assert!(m <= 1, "{kind}: {m} calls, expected at most one per client");
    }
    assert!(
        divergences.is_empty(),
        "the simulator's calls diverge from production's:\n{}",
        divergences.join("\n")
    );
}
