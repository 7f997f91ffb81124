//! The AppConfig validator Lambda: one [`rc_config_validator::validate`] per invocation.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use rc_config_validator::{validate, ValidationRequest};

#[tokio::main]
async fn main() -> Result<(), Error> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Lambda);
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<ValidationRequest>| async move {
            validate(&event.payload).map_err(Error::from)
        },
    ))
    .await
}
