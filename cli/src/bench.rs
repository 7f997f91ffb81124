//! `bench-agent` (the benchmarker image's entrypoint) and the benchmark sweeper that `tick` and
//! `serve` run when `benchmarks` is configured and `RC_BENCH_TABLE` is set.
//!
//! Environment: `RC_BENCH_QUEUE_URL` (the FIFO queue), `RC_BENCH_TABLE` (the state table),
//! `RC_PORTAL_SECRET` or `RC_PORTAL_SECRET_PARAM` (an SSM SecureString) when a portal is set,
//! and the standard AWS settings.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use rc_aws::ssm::Parameters;
use rc_aws::{DynamoBenchStore, HttpPortal, SqsBenchQueue, WallClock};
use rc_bench::agent::{Agent, AgentSettings, Handled};
use rc_bench::child::ChildBenchmarker;
use rc_bench::portal::PortalTarget;
use rc_bench::sweeper::SweepReport;
use rc_config::{Benchmarks, Config};
use rc_core::Timestamp;

#[derive(clap::Args)]
pub struct BenchAgentArgs {
    /// Config file.
    #[arg(long)]
    config: PathBuf,
    /// Run one job (or none within 20 s), then exit.
    #[arg(long)]
    once: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `RC_PORTAL_SECRET`, or the SSM SecureString `RC_PORTAL_SECRET_PARAM` names; `None` when the
/// config has no portal.
async fn portal_secret(
    bench: &Benchmarks,
    aws: &aws_config::SdkConfig,
) -> anyhow::Result<Option<Vec<u8>>> {
    if bench.portal.is_none() {
        return Ok(None);
    }
    if let Some(secret) = var("RC_PORTAL_SECRET") {
        return Ok(Some(secret.into_bytes()));
    }
    let name = var("RC_PORTAL_SECRET_PARAM")
        .context("benchmarks.portal is set: set RC_PORTAL_SECRET or RC_PORTAL_SECRET_PARAM")?;
    let secret = Parameters::new(aws_sdk_ssm::Client::new(aws))
        .get_secure(&name)
        .await
        .context("reading RC_PORTAL_SECRET_PARAM")?;
    Ok(Some(secret.into_bytes()))
}

fn benchmarks(config: &Config) -> anyhow::Result<&Benchmarks> {
    config
        .benchmarks
        .as_ref()
        .context("the config has no `benchmarks` section")
}

pub fn run_agent(args: BenchAgentArgs) -> anyhow::Result<ExitCode> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Terminal);
    let config = crate::load_config(&args.config)?;
    let bench = benchmarks(&config)?;
    let table = var("RC_BENCH_TABLE").context("RC_BENCH_TABLE must be set")?;
    let queue_url = var("RC_BENCH_QUEUE_URL").context("RC_BENCH_QUEUE_URL must be set")?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let handled = runtime.block_on(async {
        let aws = aws_config::load_from_env().await;
        let secret = portal_secret(bench, &aws).await?;
        let store = DynamoBenchStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
        let queue = SqsBenchQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url);
        let portal = bench.portal.as_ref().map(|p| HttpPortal::new(&p.url));
        let agent = Agent {
            store: &store,
            queue: &queue,
            portal: portal
                .as_ref()
                .zip(secret.as_deref())
                .map(|(portal, secret)| PortalTarget { portal, secret }),
            clock: &WallClock,
            benchmarker: &ChildBenchmarker,
            settings: AgentSettings::from_config(bench, args.once),
        };
        anyhow::Ok(agent.run().await)
    })?;
    let mut failed = false;
    for outcome in &handled {
        let line = match outcome {
            Handled::Ran(job) => serde_json::json!({"ran": job.view()}),
            Handled::Skipped(reason) => serde_json::json!({"skipped": reason}),
            Handled::Failed(e) => {
                failed = true;
                serde_json::json!({"failed": e.to_string()})
            }
        };
        println!("{line}");
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The sweeper's ports, when `benchmarks` is configured and `RC_BENCH_TABLE` is set.
pub struct Sweeper {
    store: DynamoBenchStore,
    portal: Option<(HttpPortal, Vec<u8>)>,
}

impl Sweeper {
    /// `None` when there is nothing to sweep (no section, or no table named).
    ///
    /// # Errors
    ///
    /// A portal is configured but its secret cannot be had.
    pub async fn from_env(
        config: &Config,
        aws: &aws_config::SdkConfig,
    ) -> anyhow::Result<Option<Self>> {
        let (Some(bench), Some(table)) = (&config.benchmarks, var("RC_BENCH_TABLE")) else {
            return Ok(None);
        };
        let secret = portal_secret(bench, aws).await?;
        Ok(Some(Sweeper {
            store: DynamoBenchStore::new(aws_sdk_dynamodb::Client::new(aws), table),
            portal: bench
                .portal
                .as_ref()
                .zip(secret)
                .map(|(p, s)| (HttpPortal::new(&p.url), s)),
        }))
    }

    /// The benchmark store, which the worker pool reads too.
    pub fn store(&self) -> &DynamoBenchStore {
        &self.store
    }

    /// One pass at `now`; with `dry_run`, what it would do, as failures-free report lines.
    pub async fn sweep(
        &self,
        bench: &Benchmarks,
        now: Timestamp,
        dry_run: bool,
    ) -> Result<SweepReport, rc_bench::PortError> {
        if dry_run {
            let planned = rc_bench::sweeper::plan(&self.store, bench, now).await?;
            let mut report = SweepReport::default();
            for action in planned {
                match action {
                    rc_core::bench::sweep::SweepAction::Error { id, .. } => report.errored.push(id),
                    rc_core::bench::sweep::SweepAction::Unlock { team, .. } => {
                        report.unlocked.push(team)
                    }
                }
            }
            return Ok(report);
        }
        let target = self
            .portal
            .as_ref()
            .map(|(portal, secret)| PortalTarget { portal, secret });
        rc_bench::sweeper::sweep(&self.store, target.as_ref(), &WallClock, bench, now).await
    }
}

/// A sweep's report as tick lines.
pub fn describe(report: &SweepReport, dry_run: bool) -> String {
    let verb = if dry_run { "would mark" } else { "marked" };
    let mut out = String::new();
    for id in &report.errored {
        out.push_str(&format!(
            "bench: {verb} {id} errored (no heartbeat for stale_after)\n"
        ));
    }
    for team in &report.unlocked {
        out.push_str(&format!(
            "bench: {} {team}'s lock left by an ended job\n",
            if dry_run { "would free" } else { "freed" }
        ));
    }
    for failure in &report.failures {
        out.push_str(&format!("bench: failed: {failure}\n"));
    }
    out.push_str(&format!(
        "bench: {} errored, {} unlocked, {} failures\n",
        report.errored.len(),
        report.unlocked.len(),
        report.failures.len()
    ));
    out
}
