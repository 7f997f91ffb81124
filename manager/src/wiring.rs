//! Building a production [`Manager`] from the environment, the same way in the Lambda and in
//! `serve`.
//!
//! | Variable | Meaning |
//! |---|---|
//! | `RC_CLUSTER` | ECS cluster the runner tasks run in (name or ARN) |
//! | `RC_JOBS_QUEUE_URL` | the jobs queue: read for jobs, written for re-checks |
//! | `RC_SSM_PREFIX` | parameter path of the JIT configs, e.g. `/runner-controller/jit` |
//! | `RC_SSM_KMS_KEY_ID` | optional: KMS key (id, ARN or alias) the JIT configs are encrypted with; default `aws/ssm` |
//! | `RC_SSM_PUT_RATE` | optional: JIT config writes per second of this process, default [`DEFAULT_SSM_PUT_RATE`] |
//! | GitHub credentials | see [`rc_github::auth::Credentials::from_env`] |

use aws_config::SdkConfig;
use rc_aws::rate::RateLimiter;
use rc_aws::ssm::Parameters;
use rc_aws::{EcsClusterObserver, EcsTaskLauncher, SqsJobQueue};
use rc_config::Config;
use rc_github::auth::SetupError;
use rc_github::client::GithubClient;

use crate::Manager;

/// PutParameter's default throughput: 3 transactions per second per account and Region
/// ("AWS Systems Manager endpoints and quotas", Parameter Store, max throughput; 10 with the
/// higher-throughput setting). Writes above it fail with `ThrottlingException`.
pub const DEFAULT_SSM_PUT_RATE: f64 = 3.0;

/// Why the manager cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    /// A required variable is unset or empty.
    #[error("{0} must be set")]
    Missing(&'static str),
    /// `RC_SSM_PREFIX` is not an absolute parameter path.
    #[error("RC_SSM_PREFIX must start with `/` (a parameter path), got {0:?}")]
    BadSsmPrefix(String),
    /// `RC_SSM_PUT_RATE` is not a positive number.
    #[error("RC_SSM_PUT_RATE must be a positive number of writes per second, got {0:?}")]
    BadPutRate(String),
    /// The GitHub client cannot be built.
    #[error(transparent)]
    Github(#[from] SetupError),
}

/// The manager's own settings from the environment (the GitHub client reads its own).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagerEnv {
    /// `RC_CLUSTER`.
    pub cluster: String,
    /// `RC_JOBS_QUEUE_URL`.
    pub queue_url: String,
    /// `RC_SSM_PREFIX`, without a trailing `/`.
    pub ssm_prefix: String,
    /// `RC_SSM_KMS_KEY_ID`, if set.
    pub ssm_kms_key_id: Option<String>,
    /// `RC_SSM_PUT_RATE`, or [`DEFAULT_SSM_PUT_RATE`].
    pub ssm_put_rate: f64,
}

impl ManagerEnv {
    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// The first missing or malformed variable.
    pub fn from_env() -> Result<Self, WiringError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `env` (tests pass a map).
    ///
    /// # Errors
    ///
    /// The first missing or malformed variable.
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, WiringError> {
        let optional = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let var = |name: &'static str| optional(name).ok_or(WiringError::Missing(name));
        let ssm_prefix = var("RC_SSM_PREFIX")?.trim_end_matches('/').to_owned();
        if !ssm_prefix.starts_with('/') {
            return Err(WiringError::BadSsmPrefix(ssm_prefix));
        }
        let ssm_put_rate = match optional("RC_SSM_PUT_RATE") {
            None => DEFAULT_SSM_PUT_RATE,
            Some(raw) => raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|rate| rate.is_finite() && *rate > 0.0)
                .ok_or(WiringError::BadPutRate(raw))?,
        };
        Ok(ManagerEnv {
            cluster: var("RC_CLUSTER")?,
            queue_url: var("RC_JOBS_QUEUE_URL")?,
            ssm_prefix,
            ssm_kms_key_id: optional("RC_SSM_KMS_KEY_ID"),
            ssm_put_rate,
        })
    }

    /// The production manager: AWS clients from `aws`, the GitHub client for `config.github`
    /// with credentials from the process environment (an App key named by
    /// `RC_GITHUB_APP_KEY_PARAM` is read from SSM here, once).
    ///
    /// # Errors
    ///
    /// [`WiringError::Github`] when the GitHub credentials are missing or unusable.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub async fn build(
        &self,
        aws: &SdkConfig,
        config: &Config,
    ) -> Result<Manager<GithubClient>, WiringError> {
        let parameters = Parameters::new(aws_sdk_ssm::Client::new(aws))
            .with_kms_key_id(self.ssm_kms_key_id.clone())
            .with_put_rate(RateLimiter::new(self.ssm_put_rate));
        let key_source = parameters.clone();
        let github = GithubClient::from_env(
            &config.github,
            |name| std::env::var(name).ok(),
            |param| async move { key_source.get_secure(&param).await },
        )
        .await?;
        let ecs = aws_sdk_ecs::Client::new(aws);
        Ok(Manager::new(
            github,
            EcsTaskLauncher::new(ecs.clone(), &self.cluster),
            EcsClusterObserver::new(ecs, &self.cluster),
            SqsJobQueue::new(aws_sdk_sqs::Client::new(aws), &self.queue_url),
            parameters,
            &self.ssm_prefix,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_and_checks_the_variables() {
        let env = ManagerEnv::from_lookup(lookup(&[
            ("RC_CLUSTER", "runners"),
            ("RC_JOBS_QUEUE_URL", "https://sqs/jobs"),
            ("RC_SSM_PREFIX", "/rc/jit/"),
        ]))
        .expect("complete");
        assert_eq!(env.ssm_prefix, "/rc/jit");
        assert_eq!(env.ssm_kms_key_id, None);
        assert_eq!(env.ssm_put_rate, DEFAULT_SSM_PUT_RATE);
        let missing =
            ManagerEnv::from_lookup(lookup(&[("RC_SSM_PREFIX", "/rc"), ("RC_CLUSTER", " ")]));
        assert!(matches!(missing, Err(WiringError::Missing("RC_CLUSTER"))));
        let relative = ManagerEnv::from_lookup(lookup(&[("RC_SSM_PREFIX", "rc/jit")]));
        assert!(matches!(relative, Err(WiringError::BadSsmPrefix(_))));
    }

    #[test]
    fn reads_the_kms_key_and_the_write_rate() {
        let base = [
            ("RC_CLUSTER", "runners"),
            ("RC_JOBS_QUEUE_URL", "https://sqs/jobs"),
            ("RC_SSM_PREFIX", "/rc/jit"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            ManagerEnv::from_lookup(lookup(&pairs))
        };
        let env = with(&[
            ("RC_SSM_KMS_KEY_ID", "alias/runner-controller"),
            ("RC_SSM_PUT_RATE", "10"),
        ])
        .expect("complete");
        assert_eq!(
            env.ssm_kms_key_id.as_deref(),
            Some("alias/runner-controller")
        );
        assert_eq!(env.ssm_put_rate, 10.0);
        for bad in ["0", "-1", "fast", "inf"] {
            assert!(
                matches!(
                    with(&[("RC_SSM_PUT_RATE", bad)]),
                    Err(WiringError::BadPutRate(_))
                ),
                "{bad}"
            );
        }
    }
}
