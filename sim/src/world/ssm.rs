//! SSM Parameter Store, as far as JIT runner configs go: the manager writes one per launch, the
//! runner's entrypoint reads and deletes it when its task starts, and the reaper removes the
//! ones a failed launch left behind.

use std::collections::BTreeMap;

use rc_core::reaper::JitParameter;
use rc_core::Timestamp;

use super::api::{ApiError, ApiKind};
use super::World;

/// Parameters by name, with when they were written and the runner they are for (production
/// keeps it in the parameter's description).
#[derive(Debug, Default)]
pub(crate) struct SsmState {
    parameters: BTreeMap<String, (Timestamp, String)>,
    /// How many parameter names were drawn: the seed of the next one.
    names_drawn: u64,
}

impl<M> World<'_, M> {
    /// `ssm:PutParameter` of a JIT config named `name`, described with `runner`.
    ///
    /// # Errors
    ///
    /// Throttling or 5xx on every attempt.
    pub fn ssm_put(&mut self, name: &str, runner: &str) -> Result<(), ApiError> {
        self.call(ApiKind::SsmPutParameter)?;
        self.ssm
            .parameters
            .insert(name.to_owned(), (self.now, runner.to_owned()));
        Ok(())
    }

    /// 128 bits for a parameter name: production draws them from the OS; the world mixes a
    /// counter (SplitMix64, twice), so names are unique, repeat with the seed, and draw nothing
    /// from the generator the faults come from.
    pub(crate) fn ssm_fresh_random(&mut self) -> u128 {
        self.ssm.names_drawn += 1;
        let mix = |mut z: u64| {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let n = self.ssm.names_drawn;
        (u128::from(mix(n)) << 64) | u128::from(mix(!n))
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
    pub(crate) fn runner_consumes_config(&mut self, name: &str) -> bool {
        self.ssm.parameters.remove(name).is_some()
    }
}
