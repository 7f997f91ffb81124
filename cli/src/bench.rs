//! `bench-agent` (the benchmarker image's entrypoint) and the benchmark sweeper that `tick` and
//! `serve` run when `benchmarks` is configured and `RC_BENCH_TABLE` is set.
//!
//! Environment: `RC_BENCH_QUEUE_URL` (the FIFO queue), `RC_BENCH_TABLE` (the state table),
//! `RC_PORTAL_SECRET` or `RC_PORTAL_SECRET_PARAM` (an SSM SecureString) when a portal is set,
//! and the standard AWS settings.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use rc_aws::{DynamoBenchStore, HttpPortal, SqsBenchQueue, WallClock};
use rc_bench::agent::{Agent, AgentSettings, Handled};
use rc_bench::child::ChildBenchmarker;
use rc_bench::portal::PortalTarget;
use rc_bench::sweeper::SweepReport;
use rc_config::{Benchmarks, Config};
use rc_manager::bench::{portal_secret, var};

pub use rc_manager::bench::Sweeper;

#[derive(clap::Args)]
pub struct BenchAgentArgs {
    /// Config file.
    #[arg(long)]
    config: PathBuf,
    /// Run one job (or none within 20 s), then exit.
    #[arg(long)]
    once: bool,
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
