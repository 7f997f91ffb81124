//! `config push FILE --application A --environment E --profile P`: validate locally, show what
//! changes against the deployed version, store a new hosted version, deploy it and follow the
//! deployment to its end.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use rc_aws::appconfig_deploy::{AppConfigDeployer, Target};

#[derive(clap::Args)]
pub struct PushArgs {
    /// The config file to deploy.
    file: PathBuf,
    /// AppConfig application, by name or id.
    #[arg(long)]
    application: String,
    /// AppConfig environment, by name or id.
    #[arg(long)]
    environment: String,
    /// AppConfig configuration profile, by name or id.
    #[arg(long)]
    profile: String,
    /// Deployment strategy, by name or id.
    #[arg(long, default_value = "AppConfig.AllAtOnce")]
    strategy: String,
    /// Start the deployment and return without following it.
    #[arg(long)]
    no_wait: bool,
    /// How often to ask how the deployment is going.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    poll_interval: Duration,
}

/// Exit status when the file is invalid and nothing was pushed.
const INVALID: u8 = 2;

pub fn run(args: PushArgs) -> anyhow::Result<ExitCode> {
    let shown = args.file.display().to_string();
    let text = std::fs::read(&args.file).with_context(|| format!("cannot read {shown}"))?;
    let config = match std::str::from_utf8(&text)
        .map_err(|e| format!("{shown}:1:1: not UTF-8: {e}\n"))
        .and_then(|t| rc_config::parse(t).map_err(|p| p.render(&shown)))
    {
        Ok(config) => config,
        Err(problems) => {
            print!("{problems}");
            println!("refused: {shown} is invalid; nothing was pushed");
            return Ok(ExitCode::from(INVALID));
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(push(&args, &config, &text))
}

async fn push(
    args: &PushArgs,
    config: &rc_config::Config,
    text: &[u8],
) -> anyhow::Result<ExitCode> {
    let aws = aws_config::load_from_env().await;
    let deployer = AppConfigDeployer::new(aws_sdk_appconfig::Client::new(&aws));
    let target = deployer
        .resolve(&args.application, &args.environment, &args.profile)
        .await?;
    show_diff(&deployer, &target, config).await?;
    let description = format!("runner-controller config push {}", args.file.display());
    let version = deployer
        .create_version(&target, text, &description)
        .await
        .context("AppConfig refused the new version")?;
    println!("created hosted configuration version {version}");
    let strategy = deployer.strategy(&args.strategy).await?;
    let number = deployer
        .start(&target, &strategy, version, &description)
        .await
        .context("AppConfig refused the deployment")?;
    println!("started deployment {number} of version {version} with strategy {strategy}");
    if args.no_wait {
        return Ok(ExitCode::SUCCESS);
    }
    let mut printed = 0;
    loop {
        let progress = deployer.progress(&target, number).await?;
        for (at, kind, description) in &progress.events[printed.min(progress.events.len())..] {
            let at = chrono::DateTime::from_timestamp(*at, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            println!("  {at}  {kind:<20} {description}");
        }
        printed = progress.events.len();
        if progress.ended {
            println!("deployment {number}: {}", progress.state);
            return Ok(if progress.complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        println!(
            "deployment {number}: {} ({:.0}%)",
            progress.state, progress.percentage
        );
        tokio::time::sleep(args.poll_interval).await;
    }
}

/// Prints what the push changes against the deployed version.
async fn show_diff(
    deployer: &AppConfigDeployer,
    target: &Target,
    config: &rc_config::Config,
) -> anyhow::Result<()> {
    let Some(deployed) = deployer.deployed(target).await? else {
        println!("nothing deployed yet to this environment: every class is new");
        return Ok(());
    };
    println!(
        "changes against version {} (deployment {}):",
        deployed.version, deployed.deployment
    );
    match std::str::from_utf8(&deployed.content)
        .ok()
        .map(rc_config::parse)
    {
        Some(Ok(old)) => print!(
            "{}",
            super::diff::render(&rc_core::diff::diff(&old, config))
        ),
        _ => println!("  (the deployed version is not a valid config; no diff)"),
    }
    Ok(())
}
