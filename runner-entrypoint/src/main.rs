//! The runner image's entrypoint: takes the runner's just-in-time config out of SSM and becomes
//! the runner.
//!
//! The manager starts each runner task with `RC_JIT_CONFIG_PARAM`, the name (never the value) of
//! a SecureString holding the JIT config. This program reads it, deletes it (a config left in SSM
//! stays readable by every task that shares the task role), and then `exec`s the runner command
//! (its arguments, by default `/home/runner/run.sh`) in its own place, so the runner becomes
//! process 1 and nothing of this process, its environment included, survives. The runner gets
//! the config in `ACTIONS_RUNNER_INPUT_JITCONFIG`, which it reads as `--jitconfig`, masks in its
//! logs and removes from the environment of what it starts; on the command line it would be in
//! `/proc/<pid>/cmdline`, which every local user can read. The runner's environment is ours
//! minus the task role's credential variables (see [`scrubbed`]).
//!
//! Any failure exits non-zero before the runner starts, with one line on stderr that names the
//! parameter but never shows its value.

mod retry;
mod ssm;

use std::convert::Infallible;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};
use std::time::Duration;

use aws_config_lean::retry::RetryConfig;
use aws_config_lean::timeout::TimeoutConfig;
use aws_config_lean::BehaviorVersion;

use ssm::{take_config, Deleted};

/// Names the parameter holding the JIT config; set by the manager on RunTask.
const PARAM_ENV: &str = "RC_JIT_CONFIG_PARAM";

/// The runner reads `ACTIONS_RUNNER_INPUT_<ARG>` as `--<arg>` (actions/runner
/// `src/Runner.Listener/CommandSettings.cs`); `jitconfig` is one of its secret arguments.
const JIT_CONFIG_ENV: &str = "ACTIONS_RUNNER_INPUT_JITCONFIG";

/// The runner command when none is given: the official image's `run.sh`.
const DEFAULT_RUNNER: &str = "/home/runner/run.sh";

/// A hung connection must not hold the task forever; each attempt gets this long.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the runner was not started.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("{PARAM_ENV} is not set; it must name the SSM parameter holding the JIT config")]
    NoParam,
    #[error("SSM parameter {0} does not exist (already used, or never written)")]
    NotFound(String),
    #[error("could not read SSM parameter {0}: {1}")]
    Read(String, String),
    #[error(
        "could not delete SSM parameter {0}, so the runner is not started (the config must not \
         stay readable): {1}"
    )]
    Delete(String, String),
    #[error("could not start the runner {0:?}: {1}")]
    Exec(OsString, std::io::Error),
    #[error("could not start the async runtime: {0}")]
    Runtime(std::io::Error),
}

fn main() -> ExitCode {
    match run() {
        Ok(never) => match never {},
        Err(error) => {
            eprintln!("rc-runner-entrypoint: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Returns only on failure: on success the process image is the runner's.
fn run() -> Result<Infallible, Error> {
    let name = std::env::var(PARAM_ENV)
        .ok()
        .filter(|name| !name.is_empty())
        .ok_or(Error::NoParam)?;
    let mut runner: Vec<OsString> = std::env::args_os().skip(1).collect();
    if runner.is_empty() {
        runner.push(DEFAULT_RUNNER.into());
    }

    // One thread: two sequential calls need no more, and the runner starts sooner.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let (config, deleted) = runtime.block_on(async {
        let sdk = aws_config_lean::defaults(BehaviorVersion::latest())
            // retry::Backoff::SSM is the one retry policy; SDK retries would multiply it.
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            .load()
            .await;
        take_config(&aws_sdk_ssm_lean::Client::new(&sdk), &name).await
    })?;
    drop(runtime);

    let how = match deleted {
        Deleted::Now => "deleted it",
        // Starting anyway: the config we hold is still the only one for this runner. If a lost
        // answer hid our own successful delete, refusing would fail a healthy launch; if someone
        // else took it, GitHub refuses a second session and the reaper replaces the task.
        Deleted::AlreadyGone => "found it already deleted",
    };
    eprintln!(
        "rc-runner-entrypoint: read SSM parameter {name} ({} bytes), {how}; starting {}",
        config.len(),
        runner[0].to_string_lossy()
    );

    let error = Command::new(&runner[0])
        .args(&runner[1..])
        .env_clear()
        .envs(scrubbed(std::env::vars_os()))
        .env(JIT_CONFIG_ENV, config)
        .exec();
    Err(Error::Exec(runner.swap_remove(0), error))
}

/// The environment minus what would let a job step reach the task role's credentials (or
/// another identity's), and minus our own settings.
///
/// Without `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` a job cannot find the ECS credential
/// endpoint: the path is a per-task random id. `AWS_CONTAINER_*` also covers the full-URI and
/// authorization-token forms.
fn scrubbed(
    vars: impl Iterator<Item = (OsString, OsString)>,
) -> impl Iterator<Item = (OsString, OsString)> {
    const CREDENTIALS: [&str; 7] = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
    ];
    vars.filter(|(key, _)| {
        let key: &OsStr = key;
        !(key.as_bytes().starts_with(b"AWS_CONTAINER_")
            || key.as_bytes().starts_with(b"RC_")
            || CREDENTIALS.iter().any(|name| key == *name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_keeps_only_harmless_variables() {
        let given = [
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "RC_JIT_CONFIG_PARAM",
            "AWS_REGION",
            "ECS_CONTAINER_METADATA_URI_V4",
            "PATH",
            "RUNNER_MANUALLY_TRAP_SIG",
        ];
        let kept: Vec<OsString> = scrubbed(given.iter().map(|k| (k.into(), "v".into())))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            kept,
            [
                "AWS_REGION",
                "ECS_CONTAINER_METADATA_URI_V4",
                "PATH",
                "RUNNER_MANUALLY_TRAP_SIG"
            ]
        );
    }
}
