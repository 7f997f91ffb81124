//! SSM Parameter Store, as far as JIT runner configs go: the manager writes one per launch, the
//! runner's entrypoint reads and deletes it when its task starts, and the reaper removes the
//! ones a failed launch left behind.

use std::collections::BTreeMap;

use rc_core::reaper::JitParameter;
use rc_core::Timestamp;

use super::api::{ApiError, ApiKind};
use super::World;

/// The parameter path the launch path writes for `runner`. Production names are random; the
/// world derives them so runs stay deterministic, and joins them to tasks by the name each task
/// was given, as production does.
pub fn parameter_name(runner: &str) -> String {
    format!("/runner-controller/jit/{runner}")
}

/// Parameters by name, with when they were written and the runner they are for (production
/// keeps it in the parameter's description).
#[derive(Debug, Default)]
pub(crate) struct SsmState {
    parameters: BTreeMap<String, (Timestamp, String)>,
}

impl<M> World<'_, M> {
    /// `ssm:PutParameter` of `runner`'s JIT config.
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ssm_put(&mut self, runner: &str) -> Result<(), ApiError> {
        self.call(ApiKind::SsmPutParameter)?;
        self.ssm
            .parameters
            .insert(parameter_name(runner), (self.now, runner.to_owned()));
        Ok(())
    }

    /// `ssm:DeleteParameter`; a missing parameter is not an error.
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ssm_delete(&mut self, name: &str) -> Result<(), ApiError> {
        self.call(ApiKind::SsmDeleteParameter)?;
        self.ssm.parameters.remove(name);
        Ok(())
    }

    /// Every JIT parameter (`ssm:DescribeParameters`, 50 per page).
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ssm_list(&mut self) -> Result<Vec<JitParameter>, ApiError> {
        self.call_pages(ApiKind::SsmListParameters, self.ssm.parameters.len(), 50)?;
        Ok(self
            .ssm
            .parameters
            .iter()
            .map(|(name, (last_modified, runner))| JitParameter {
                name: name.clone(),
                last_modified: *last_modified,
                runner_name: Some(runner.clone()),
            })
            .collect())
    }

    /// The runner's entrypoint reads its config and deletes it (the runner's own calls, not
    /// the controller's); `false` when there was none to read.
    pub(crate) fn runner_consumes_config(&mut self, runner: &str) -> bool {
        self.ssm
            .parameters
            .remove(&parameter_name(runner))
            .is_some()
    }
}
