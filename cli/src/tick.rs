//! `tick`: one reconcile pass of the manager (warm pools, the reaper, lost-webhook recovery)
//! against the services the environment names, as if the clock read `--at`. Each decision is
//! printed on its own line with its reason and outcome, then a summary; `--json` prints the
//! whole report as one JSON object instead.
//!
//! With `benchmarks` configured and `RC_BENCH_TABLE` set, the benchmark sweeper runs first
//! (`--bench-only`: only it), its lines prefixed `bench:`.
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
    /// Run only the benchmark sweeper (where the manager's tick runs elsewhere).
    #[arg(long)]
    bench_only: bool,
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
    let now = args.at.unwrap_or_else(wall_clock);
    let (report, bench, pool) = runtime.block_on(async {
        let aws = aws_config::load_from_env().await;
        // The benchmark sweeper goes first: a manager that cannot be built (missing GitHub
        // credentials, say) must not keep teams locked out.
        let sweeper = crate::bench::Sweeper::from_env(&config, &aws).await?;
        let bench = match (&sweeper, &config.benchmarks) {
            (Some(sweeper), Some(section)) => Some(sweeper.sweep(section, now, args.dry_run).await),
            _ => None,
        };
        if args.bench_only {
            return anyhow::Ok((None, bench, None));
        }
        let manager = ManagerEnv::from_env()?.build(&aws, &config).await?;
        let report = manager.tick(&config, now, args.dry_run).await;
        let pool = match (&sweeper, &config.benchmarks) {
            (Some(sweeper), Some(section)) if !args.dry_run => Some(
                manager
                    .tend_bench_pool(sweeper.store(), section, config.manager.boot_timeout, now)
                    .await,
            ),
            _ => None,
        };
        anyhow::Ok((Some(report), bench, pool))
    })?;
    let bench_failures = match &bench {
        Some(Ok(sweep)) => u32::try_from(sweep.failures.len()).unwrap_or(u32::MAX),
        Some(Err(_)) => 1,
        None => 0,
    };
    if args.json {
        let mut value = match &report {
            Some(report) => serde_json::to_value(report)?,
            None => serde_json::json!({}),
        };
        if let Some(pool) = &pool {
            value["bench_pool"] = serde_json::to_value(pool)?;
        }
        if let Some(bench) = &bench {
            value["bench"] = match bench {
                Ok(sweep) => serde_json::to_value(sweep)?,
                Err(e) => serde_json::json!({"error": e.to_string()}),
            };
        }
        println!("{value}");
    } else {
        match &bench {
            Some(Ok(sweep)) => print!("{}", crate::bench::describe(sweep, args.dry_run)),
            Some(Err(e)) => println!("bench: sweeper failed: {e}"),
            None => {}
        }
        if let Some(pool) = &pool {
            println!(
                "bench: pool: {} waiting, {} running, {} workers: started {}{}",
                pool.waiting,
                pool.busy,
                pool.workers,
                pool.started.len(),
                pool.failure
                    .as_deref()
                    .map_or(String::new(), |why| format!(", then failed: {why}"))
            );
        }
        if let Some(report) = &report {
            println!("{report}");
        }
    }
    let pool_failures = u32::from(pool.as_ref().is_some_and(|p| p.failure.is_some()));
    let failures = report.as_ref().map_or(0, |r| r.failures()) + bench_failures + pool_failures;
    Ok(if failures == 0 {
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
