//! SSM Parameter Store: webhook secrets and GitHub App keys are read from SecureString
//! parameters, and each runner's JIT config is written to one that only its task reads.
//! The tick's reaper lists the JIT configs to delete the ones no task will read.
//!
//! A JIT config is written in the tier that holds its size ([`tier_for`]), encrypted with the
//! configured KMS key, and through a [`RateLimiter`] shared by every launch of the process, with
//! throttled attempts retried ([`Backoff`]): a burst of launches waits for SSM instead of failing.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType};
use aws_sdk_ssm::Client;
use rc_core::reaper::JitParameter;
use rc_core::Timestamp;

use crate::rate::RateLimiter;
use rc_control::ports::JitSecrets;
use rc_control::retry::retry;
use rc_core::schedule::Backoff;

use crate::error::from_sdk;
use crate::runtime::TokioRuntime;
use crate::AwsError;

/// DescribeParameters returns at most 50 parameters per call (SSM API reference).
const DESCRIBE_PAGE: i32 = 50;

/// The largest value a Standard parameter holds: 4 KB ("Managing parameter tiers", SSM user
/// guide: Standard 4 KB, Advanced 8 KB). Counted in bytes, which for the ASCII (base64) JIT
/// configs is their length in characters and for any other value errs towards Advanced.
pub const STANDARD_TIER_MAX: usize = 4096;

/// PutParameter attempts of one write. The SDK retries throttling inside each attempt too;
/// these go back through the rate limiter, so they wait for room rather than hammer SSM.
const PUT_BACKOFF: Backoff = Backoff {
    attempts: 4,
    first_wait: Duration::from_millis(500),
};

/// The tier a value of this size needs: Standard up to [`STANDARD_TIER_MAX`], Advanced above.
///
/// GitHub's `encoded_jit_config` has been about 5-6 KB since mid-2025, so JIT configs are
/// Advanced parameters in practice. Advanced parameters are billed per parameter-hour; ours
/// live from launch until the runner's entrypoint deletes them, minutes. A value over 8 KB is
/// refused by SSM whatever the tier, and the launch fails with that error.
pub fn tier_for(value: &str) -> ParameterTier {
    if value.len() <= STANDARD_TIER_MAX {
        ParameterTier::Standard
    } else {
        ParameterTier::Advanced
    }
}

/// SecureString parameters.
#[derive(Clone, Debug)]
pub struct Parameters {
    client: Client,
    kms_key_id: Option<String>,
    put_rate: Option<Arc<RateLimiter>>,
}

impl Parameters {
    /// Parameters through `client`, encrypted with the account's `aws/ssm` key, writes not
    /// rate-limited.
    pub fn new(client: Client) -> Self {
        Parameters {
            client,
            kms_key_id: None,
            put_rate: None,
        }
    }

    /// Encrypts written SecureStrings with this KMS key (id, ARN or alias) instead of `aws/ssm`.
    pub fn with_kms_key_id(mut self, key_id: Option<String>) -> Self {
        self.kms_key_id = key_id;
        self
    }

    /// Sends every write through `limiter`, shared by the clones of this value.
    pub fn with_put_rate(mut self, limiter: RateLimiter) -> Self {
        self.put_rate = Some(Arc::new(limiter));
        self
    }

    /// Reads and decrypts one parameter.
    ///
    /// # Errors
    ///
    /// The AWS failure; a missing parameter is [`AwsError::Rejected`] with code
    /// `ParameterNotFound`.
    pub async fn get_secure(&self, name: &str) -> Result<String, AwsError> {
        let out = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| from_sdk("ssm:GetParameter", e))?;
        out.parameter
            .and_then(|p| p.value)
            .ok_or_else(|| AwsError::Unexpected {
                operation: "ssm:GetParameter",
                detail: format!("{name} has no value"),
            })
    }

    /// Writes a SecureString in the tier its size needs, with the configured KMS key,
    /// replacing any previous value (so a retried attempt is harmless). `description` is
    /// stored in the clear and comes back in [`Parameters::list_jit_parameters`]: never a
    /// secret there.
    ///
    /// Waits for the rate limiter, if one is set, before every attempt; throttled and
    /// transient failures are retried a few times with backoff.
    ///
    /// # Errors
    ///
    /// The AWS failure of the last attempt.
    pub async fn put_secure(
        &self,
        name: &str,
        value: &str,
        description: &str,
    ) -> Result<(), AwsError> {
        let tier = tier_for(value);
        retry(
            PUT_BACKOFF,
            &TokioRuntime,
            "ssm:PutParameter",
            AwsError::is_retryable,
            || async {
                if let Some(limiter) = &self.put_rate {
                    limiter.acquire().await;
                }
                self.client
                    .put_parameter()
                    .name(name)
                    .value(value)
                    .description(description)
                    .r#type(ParameterType::SecureString)
                    .tier(tier.clone())
                    .set_key_id(self.kms_key_id.clone())
                    .overwrite(true)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| from_sdk("ssm:PutParameter", e))
            },
        )
        .await
    }

    /// Deletes a parameter; one that is already gone counts as deleted.
    ///
    /// # Errors
    ///
    /// The AWS failure.
    pub async fn delete(&self, name: &str) -> Result<(), AwsError> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) => match from_sdk("ssm:DeleteParameter", e) {
                AwsError::Rejected { code, .. } if code == "ParameterNotFound" => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Every parameter under `path` (recursively, all pages) with its last write time and
    /// description (the runner name the launch wrote there): the JIT configs the reaper
    /// compares with live tasks.
    ///
    /// DescribeParameters returns metadata only, never a value, so listing needs no KMS
    /// permission and never holds a secret. A parameter SSM reports without a name or a write
    /// time is left out.
    ///
    /// # Errors
    ///
    /// The AWS failure of any page. There is no partial answer: the reaper reads a fresh
    /// parameter as a launch in flight, and one missing from the list would make that launch's
    /// new registration look like a ghost.
    pub async fn list_jit_parameters(&self, path: &str) -> Result<Vec<JitParameter>, AwsError> {
        let under_path = ParameterStringFilter::builder()
            .key("Path")
            .option("Recursive")
            .values(path)
            .build()
            .map_err(|e| AwsError::Unexpected {
                operation: "ssm:DescribeParameters",
                detail: e.to_string(),
            })?;
        let mut pages = self
            .client
            .describe_parameters()
            .parameter_filters(under_path)
            .max_results(DESCRIBE_PAGE)
            .into_paginator()
            .send();
        let mut parameters = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| from_sdk("ssm:DescribeParameters", e))?;
            parameters.extend(page.parameters().iter().filter_map(|p| {
                Some(JitParameter {
                    name: p.name()?.to_owned(),
                    last_modified: Timestamp(p.last_modified_date()?.to_millis().ok()?),
                    runner_name: p.description().map(str::to_owned),
                })
            }));
        }
        Ok(parameters)
    }
}

impl JitSecrets for Parameters {
    async fn put_secure(&self, name: &str, value: &str, description: &str) -> Result<(), AwsError> {
        Parameters::put_secure(self, name, value, description).await
    }

    async fn delete(&self, name: &str) -> Result<(), AwsError> {
        Parameters::delete(self, name).await
    }

    async fn list_jit_parameters(&self, path: &str) -> Result<Vec<JitParameter>, AwsError> {
        Parameters::list_jit_parameters(self, path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tier_switches_above_4096_characters() {
        let sized = |n: usize| "A".repeat(n);
        assert_eq!(tier_for(&sized(1)), ParameterTier::Standard);
        assert_eq!(tier_for(&sized(4096)), ParameterTier::Standard);
        assert_eq!(tier_for(&sized(4097)), ParameterTier::Advanced);
        assert_eq!(tier_for(&sized(5_700)), ParameterTier::Advanced);
    }
}
