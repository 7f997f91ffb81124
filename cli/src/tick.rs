//! `tick`: one reconcile pass of the manager (warm pools, the reaper, lost-webhook recovery)
//! against the services the environment names, as if the clock read `--at`. Each decision is
//! printed on its own line with its reason and outcome, then a summary; `--json` prints the
//! whole report as one JSON object instead.
//!
//! The environment is the manager's (`RC_CLUSTER`, `RC_JOBS_QUEUE_URL`, `RC_SSM_PREFIX`,
//! GitHub credentials, the standard AWS settings); the config comes from `--config`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use rc_core::Timestamp;
use rc_manager::wall_clock;
use rc_manager::ManagerEnv;

#[derive(clap::Args)]
pub struct TickArgs {
    /// Config file.
    #[arg(long)]
    config: PathBuf,
    /// Decide as if the clock read this instant (RFC 3339, e.g. 2026-11-20T10:00:00+09:00).
    #[arg(long, value_parser = parse_at)]
    at: Option<Timestamp>,
    /// Decide and print, but change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

fn parse_at(text: &str) -> Result<Timestamp, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| Timestamp::from_datetime(at.to_utc()))
        .map_err(|e| format!("not an RFC 3339 time ({e}), e.g. 2026-11-20T10:00:00+09:00"))
}

/// Runs one tick; exits 1 when any decision failed to execute.
pub fn run(args: TickArgs) -> anyhow::Result<ExitCode> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Terminal);
    let config = crate::load_config(&args.config)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let aws = aws_config::load_from_env().await;
        let manager = ManagerEnv::from_env()?.build(&aws, &config).await?;
        let now = args.at.unwrap_or_else(wall_clock);
        anyhow::Ok(manager.tick(&config, now, args.dry_run).await)
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{report}");
    }
    Ok(if report.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_takes_any_offset() {
        assert_eq!(
            parse_at("2026-11-20T10:00:00+09:00"),
            parse_at("2026-11-20T01:00:00Z")
        );
        assert!(parse_at("2026-11-20 10:00").is_err());
    }
}
