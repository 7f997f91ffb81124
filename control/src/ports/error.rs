//! The one error every AWS-shaped port answers with, classified so the orchestration can decide
//! to retry. The production adapters build it from SDK errors; the simulator's services build it
//! from their injected faults.

/// An AWS call failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// AWS asked us to slow down (throttling or a request limit).
    #[error("{operation}: throttled ({code})")]
    Throttled {
        /// The API operation.
        operation: &'static str,
        /// AWS error code.
        code: String,
    },
    /// The service answered with an error that retrying will not fix.
    #[error("{operation}: {code}: {message}")]
    Rejected {
        /// The API operation.
        operation: &'static str,
        /// AWS error code.
        code: String,
        /// AWS error message.
        message: String,
    },
    /// A network failure, a timeout or a 5xx: worth retrying.
    #[error("{operation}: transient failure: {detail}")]
    Transient {
        /// The API operation.
        operation: &'static str,
        /// What happened.
        detail: String,
    },
    /// The answer lacked something the adapter needs.
    #[error("{operation}: unexpected response: {detail}")]
    Unexpected {
        /// The API operation.
        operation: &'static str,
        /// What was missing.
        detail: String,
    },
}

impl AwsError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            AwsError::Throttled { .. } | AwsError::Transient { .. }
        )
    }

    /// A short label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            AwsError::Throttled { .. } => "throttled",
            AwsError::Rejected { .. } => "rejected",
            AwsError::Transient { .. } => "transient",
            AwsError::Unexpected { .. } => "unexpected",
        }
    }
}
