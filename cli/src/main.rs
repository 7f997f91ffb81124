//! `runner-controller`: the operator's command line.
//!
//! Each subcommand lives in its own module and is a thin driver over the libraries: parse flags,
//! load the config, call the same core functions the Lambdas call, print the result.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod config_cmd;
mod explain;
mod job;
mod serve;
mod simulate;
mod tick;
mod timeline;
mod validate;

/// GitHub Actions self-hosted runner autoscaler for AWS ECS.
#[derive(Parser)]
#[command(name = "runner-controller", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run benchmark jobs from the FIFO queue (the benchmarker image's entrypoint).
    BenchAgent(bench::BenchAgentArgs),
    /// Diff configs semantically, or push one to AppConfig.
    Config(config_cmd::ConfigArgs),
    /// The timeline of one job from the controller's logs, and where its wait went.
    Job(job::JobArgs),
    /// Check config files; print FILE:LINE:COL: message per problem.
    Validate(validate::ValidateArgs),
    /// Show which runner class a job with these labels gets, and why.
    Explain(explain::ExplainArgs),
    /// Run the world on a virtual clock and compare policies on the same workload.
    Simulate(simulate::SimulateArgs),
    /// Run the controller (or some of its parts) in one process.
    Serve(serve::ServeArgs),
    /// One reconcile pass (warm pools, reaper, lost webhooks), every decision printed.
    Tick(tick::TickArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::BenchAgent(args) => bench::run_agent(args),
        Command::Config(args) => config_cmd::run(args),
        Command::Job(args) => job::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Tick(args) => tick::run(args),
    };
    result.unwrap_or_else(|err| {
        eprintln!("runner-controller: {err:#}");
        ExitCode::FAILURE
    })
}

/// Reads and validates a config file, printing its problems the way `validate` does.
fn load_config(path: &std::path::Path) -> anyhow::Result<rc_config::Config> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    rc_config::parse(&text).map_err(|problems| {
        anyhow::anyhow!(
            "invalid config:\n{}",
            problems.render(&path.display().to_string()).trim_end()
        )
    })
}
