//! `config diff` and `config push`: the platform team's loop around the YAML in AppConfig.

use std::process::ExitCode;

pub mod diff;
pub mod push;

#[derive(clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(clap::Subcommand)]
enum ConfigCommand {
    /// What changes from OLD to NEW: classes, fields, settings and routing. Exit 0 when nothing
    /// that matters changed, 1 otherwise, 2 when a file is invalid.
    Diff(diff::DiffArgs),
    /// Validate FILE, show its diff against the deployed version, store it in AppConfig,
    /// deploy it and follow the deployment to its end.
    Push(push::PushArgs),
}

pub fn run(args: ConfigArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ConfigCommand::Diff(args) => diff::run(args),
        ConfigCommand::Push(args) => push::run(args),
    }
}
