//! Pushing a config to AppConfig: what is deployed now, a new hosted version, a deployment and
//! its progress. The adapter behind `runner-controller config push`.
//!
//! Applications, environments and profiles may be given by name or by id, as in the AppConfig
//! console; the API wants ids, so [`AppConfigDeployer::resolve`] looks them up once.

use aws_sdk_appconfig::primitives::Blob;
use aws_sdk_appconfig::types::DeploymentState;
use aws_sdk_appconfig::Client;

use crate::error::from_sdk;
use crate::AwsError;

/// The YAML media type AppConfig stores our configs under.
pub const YAML: &str = "application/x-yaml";

/// Where a config goes, as ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Application id.
    pub application: String,
    /// Environment id.
    pub environment: String,
    /// Configuration profile id.
    pub profile: String,
    /// Configuration profile name (deployments name the profile by it).
    pub profile_name: String,
}

/// A deployed hosted configuration version and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The deployment that put it there.
    pub deployment: i32,
    /// Its hosted configuration version.
    pub version: i32,
    /// The content.
    pub content: Vec<u8>,
}

/// Where a deployment stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// `DEPLOYING`, `BAKING`, `COMPLETE`, `ROLLED_BACK`, ...
    pub state: String,
    /// Whether the deployment has ended (complete, rolled back or reverted).
    pub ended: bool,
    /// Whether it ended with the new version in place.
    pub complete: bool,
    /// Share of clients that have the new version.
    pub percentage: f32,
    /// Its events, oldest first: (seconds since the epoch, type, description).
    pub events: Vec<(i64, String, String)>,
}

/// AppConfig calls for one push.
pub struct AppConfigDeployer {
    client: Client,
}

impl AppConfigDeployer {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        AppConfigDeployer { client }
    }

    /// Looks up the ids of an application, environment and profile given by name or id.
    ///
    /// # Errors
    ///
    /// A failed list call, or [`AwsError::Rejected`] naming what does not exist.
    pub async fn resolve(
        &self,
        application: &str,
        environment: &str,
        profile: &str,
    ) -> Result<Target, AwsError> {
        let apps = self
            .client
            .list_applications()
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:ListApplications", e))?;
        let app = find(apps.items(), application, |a| (a.id(), a.name()))
            .ok_or_else(|| missing("appconfig:ListApplications", "application", application))?;
        let envs = self
            .client
            .list_environments()
            .application_id(&app)
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:ListEnvironments", e))?;
        let env = find(envs.items(), environment, |e| (e.id(), e.name()))
            .ok_or_else(|| missing("appconfig:ListEnvironments", "environment", environment))?;
        let profiles = self
            .client
            .list_configuration_profiles()
            .application_id(&app)
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:ListConfigurationProfiles", e))?;
        let found = profiles
            .items()
            .iter()
            .find(|p| p.id() == Some(profile) || p.name() == Some(profile))
            .ok_or_else(|| {
                missing(
                    "appconfig:ListConfigurationProfiles",
                    "configuration profile",
                    profile,
                )
            })?;
        Ok(Target {
            application: app,
            environment: env,
            profile: found.id().unwrap_or_default().to_string(),
            profile_name: found.name().unwrap_or_default().to_string(),
        })
    }

    /// The version of the profile the environment's latest complete deployment put in place.
    ///
    /// # Errors
    ///
    /// A failed ListDeployments or GetHostedConfigurationVersion.
    pub async fn deployed(&self, target: &Target) -> Result<Option<Deployed>, AwsError> {
        let deployments = self
            .client
            .list_deployments()
            .application_id(&target.application)
            .environment_id(&target.environment)
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:ListDeployments", e))?;
        let latest = deployments
            .items()
            .iter()
            .filter(|d| {
                d.state() == Some(&DeploymentState::Complete)
                    && d.configuration_name() == Some(target.profile_name.as_str())
            })
            .max_by_key(|d| d.deployment_number());
        let Some((deployment, Some(version))) = latest.map(|d| {
            (
                d.deployment_number(),
                d.configuration_version().and_then(|v| v.parse().ok()),
            )
        }) else {
            return Ok(None);
        };
        let hosted = self
            .client
            .get_hosted_configuration_version()
            .application_id(&target.application)
            .configuration_profile_id(&target.profile)
            .version_number(version)
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:GetHostedConfigurationVersion", e))?;
        Ok(Some(Deployed {
            deployment,
            version,
            content: hosted
                .content()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
        }))
    }

    /// Stores `content` as a new hosted configuration version; returns its number.
    ///
    /// # Errors
    ///
    /// The service's refusal (a validator's messages come back in it) or a failed call.
    pub async fn create_version(
        &self,
        target: &Target,
        content: &[u8],
        description: &str,
    ) -> Result<i32, AwsError> {
        let created = self
            .client
            .create_hosted_configuration_version()
            .application_id(&target.application)
            .configuration_profile_id(&target.profile)
            .content(Blob::new(content))
            .content_type(YAML)
            .description(description)
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:CreateHostedConfigurationVersion", e))?;
        Ok(created.version_number())
    }

    /// The id of a deployment strategy given by name or id (`AppConfig.AllAtOnce`, ...).
    ///
    /// # Errors
    ///
    /// A failed list call, or [`AwsError::Rejected`] when no strategy has that name or id.
    pub async fn strategy(&self, name_or_id: &str) -> Result<String, AwsError> {
        let strategies = self
            .client
            .list_deployment_strategies()
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:ListDeploymentStrategies", e))?;
        find(strategies.items(), name_or_id, |s| (s.id(), s.name())).ok_or_else(|| {
            missing(
                "appconfig:ListDeploymentStrategies",
                "deployment strategy",
                name_or_id,
            )
        })
    }

    /// Starts deploying `version` to the environment; returns the deployment number.
    ///
    /// # Errors
    ///
    /// The service's refusal (validators run here too) or a failed call.
    pub async fn start(
        &self,
        target: &Target,
        strategy: &str,
        version: i32,
        description: &str,
    ) -> Result<i32, AwsError> {
        let started = self
            .client
            .start_deployment()
            .application_id(&target.application)
            .environment_id(&target.environment)
            .configuration_profile_id(&target.profile)
            .configuration_version(version.to_string())
            .deployment_strategy_id(strategy)
            .description(description)
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:StartDeployment", e))?;
        Ok(started.deployment_number())
    }

    /// Where deployment `number` stands.
    ///
    /// # Errors
    ///
    /// A failed GetDeployment.
    pub async fn progress(&self, target: &Target, number: i32) -> Result<Progress, AwsError> {
        let d = self
            .client
            .get_deployment()
            .application_id(&target.application)
            .environment_id(&target.environment)
            .deployment_number(number)
            .send()
            .await
            .map_err(|e| from_sdk("appconfig:GetDeployment", e))?;
        let state = d.state().cloned().unwrap_or(DeploymentState::Deploying);
        let mut events: Vec<(i64, String, String)> = d
            .event_log()
            .iter()
            .map(|e| {
                (
                    e.occurred_at().map_or(0, |t| t.secs()),
                    e.event_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    e.description().unwrap_or_default().to_string(),
                )
            })
            .collect();
        // The service lists the newest event first.
        events.reverse();
        Ok(Progress {
            ended: matches!(
                state,
                DeploymentState::Complete | DeploymentState::RolledBack | DeploymentState::Reverted
            ),
            complete: state == DeploymentState::Complete,
            state: state.as_str().to_string(),
            percentage: d.percentage_complete().unwrap_or_default(),
            events,
        })
    }
}

/// The id of the item whose id or name is `wanted`.
fn find<T>(
    items: &[T],
    wanted: &str,
    key: impl Fn(&T) -> (Option<&str>, Option<&str>),
) -> Option<String> {
    items.iter().find_map(|item| {
        let (id, name) = key(item);
        (id == Some(wanted) || name == Some(wanted)).then(|| id.unwrap_or_default().to_string())
    })
}

fn missing(operation: &'static str, what: &str, wanted: &str) -> AwsError {
    AwsError::Rejected {
        operation,
        code: "NotFound".into(),
        message: format!("no {what} named or with id `{wanted}`"),
    }
}
