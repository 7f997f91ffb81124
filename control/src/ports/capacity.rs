//! Auto Scaling Groups as the cluster autoscaler sees them: desired and max size, which
//! instances are alive, and the one action it takes, raising desired capacity.

use std::future::Future;

use rc_core::TaskSize;

use super::AwsError;

/// Tag on an Auto Scaling Group giving the CPU units one instance registers with ECS.
///
/// Read only while no instance of the group is registered (a group scaled to zero): then
/// nothing else tells the instance type's capacity without the EC2 API. The Terraform module
/// sets it from the instance type; a value a little low only adds an instance too many.
pub const INSTANCE_CPU_TAG: &str = "rc:instance-cpu";

/// Tag on an Auto Scaling Group giving the memory (MiB) one instance registers with ECS, after
/// the agent's reservation; see [`INSTANCE_CPU_TAG`].
pub const INSTANCE_MEMORY_TAG: &str = "rc:instance-memory";

/// Reads and resizes Auto Scaling Groups.
pub trait AutoScaling: Send + Sync {
    /// The named groups; a name with no group is absent from the answer.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry.
    fn describe_groups(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<GroupDescription>, AwsError>> + Send;

    /// Sets the group's desired capacity now, ignoring any cooldown: the caller decided from
    /// tasks already waiting, and a cooldown would only make them wait longer.
    ///
    /// # Errors
    ///
    /// The AWS failure, classified for retry; AWS rejects a value above the group's max.
    fn set_desired_capacity(
        &self,
        group: &str,
        desired: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// One Auto Scaling Group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group name.
    pub name: String,
    /// Desired capacity.
    pub desired: u32,
    /// Maximum size.
    pub max: u32,
    /// Instance ids in a pending lifecycle state.
    pub pending: Vec<String>,
    /// Instance ids in service.
    pub in_service: Vec<String>,
    /// Per-instance capacity from [`INSTANCE_CPU_TAG`] and [`INSTANCE_MEMORY_TAG`], when both
    /// are set and numeric.
    pub tagged_capacity: Option<TaskSize>,
}

/// A shared Auto Scaling client scales: one value can serve several roles.
impl<T: AutoScaling> AutoScaling for &T {
    fn describe_groups(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<GroupDescription>, AwsError>> + Send {
        (**self).describe_groups(names)
    }

    fn set_desired_capacity(
        &self,
        group: &str,
        desired: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        (**self).set_desired_capacity(group, desired)
    }
}
