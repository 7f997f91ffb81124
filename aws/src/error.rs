//! Classifying SDK failures into [`AwsError`], the error type of the AWS-shaped ports (defined
//! in `rc-control`, where the simulator's services answer with it too).

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

pub use rc_control::ports::AwsError;

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

/// Classifies an SDK error from any AWS client.
pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
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
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            AwsError::Transient {
                operation,
                detail: err_chain(&err),
            }
        }
        _ => AwsError::Rejected {
            operation,
            code: "ClientError".into(),
            message: err_chain(&err),
        },
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
