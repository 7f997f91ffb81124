//! One error type for every AWS adapter, classified so callers can decide to retry.

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

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

/// Error codes AWS uses for throttling across services.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "RequestThrottled",
];

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

    /// Classifies an SDK error from any AWS client.
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or("Unknown").to_string();
                let message = service.err().message().unwrap_or_default().to_string();
                if THROTTLING_CODES.contains(&code.as_str()) {
                    AwsError::Throttled { operation, code }
                } else if service.raw().status().is_server_error() {
                    AwsError::Transient {
                        operation,
                        detail: format!("{code}: {message}"),
                    }
                } else {
                    AwsError::Rejected {
                        operation,
                        code,
                        message,
                    }
                }
            }
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => AwsError::Transient {
                operation,
                detail: err_chain(&err),
            },
            _ => AwsError::Rejected {
                operation,
                code: "ClientError".into(),
                message: err_chain(&err),
            },
        }
    }
}

fn err_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
