//! SSM Parameter Store: webhook secrets and GitHub App keys are read from SecureString
//! parameters, and each runner's JIT config is written to one that only its task role can read.
//! The tick's reaper lists the JIT configs to delete the ones no task will read.

use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;
use rc_core::reaper::JitParameter;
use rc_core::Timestamp;

use crate::AwsError;

/// GetParametersByPath returns at most 10 parameters per call (SSM API reference).
const PATH_PAGE: i32 = 10;

/// SecureString parameters.
#[derive(Clone, Debug)]
pub struct Parameters {
    client: Client,
}

impl Parameters {
    /// Parameters through `client`.
    pub fn new(client: Client) -> Self {
        Parameters { client }
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
            .map_err(|e| AwsError::from_sdk("ssm:GetParameter", e))?;
        out.parameter
            .and_then(|p| p.value)
            .ok_or_else(|| AwsError::Unexpected {
                operation: "ssm:GetParameter",
                detail: format!("{name} has no value"),
            })
    }

    /// Writes a SecureString, replacing any previous value (so a retried launch is harmless).
    ///
    /// # Errors
    ///
    /// The AWS failure.
    pub async fn put_secure(&self, name: &str, value: &str) -> Result<(), AwsError> {
        self.client
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm:PutParameter", e))?;
        Ok(())
    }

    /// Deletes a parameter; one that is already gone counts as deleted.
    ///
    /// # Errors
    ///
    /// The AWS failure.
    pub async fn delete(&self, name: &str) -> Result<(), AwsError> {
        match self.client.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) => match AwsError::from_sdk("ssm:DeleteParameter", e) {
                AwsError::Rejected { code, .. } if code == "ParameterNotFound" => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Every parameter under `path` (recursively, all pages) with its last write time: the JIT
    /// configs the reaper compares with live tasks.
    ///
    /// Values are not decrypted (SecureStrings come back as ciphertext and are dropped here), so
    /// listing needs no KMS permission and never holds a secret. A parameter SSM reports
    /// without a name or a write time is left out; it cannot be matched to a runner anyway.
    ///
    /// # Errors
    ///
    /// The AWS failure of any page. There is no partial answer: the reaper reads a fresh
    /// parameter as a launch in flight, and one missing from the list would make that launch's
    /// new registration look like a ghost.
    pub async fn list_jit_parameters(&self, path: &str) -> Result<Vec<JitParameter>, AwsError> {
        let mut pages = self
            .client
            .get_parameters_by_path()
            .path(path)
            .recursive(true)
            .with_decryption(false)
            .max_results(PATH_PAGE)
            .into_paginator()
            .send();
        let mut parameters = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ssm:GetParametersByPath", e))?;
            parameters.extend(page.parameters().iter().filter_map(|p| {
                Some(JitParameter {
                    name: p.name()?.to_owned(),
                    last_modified: Timestamp(p.last_modified_date()?.to_millis().ok()?),
                })
            }));
        }
        Ok(parameters)
    }
}
