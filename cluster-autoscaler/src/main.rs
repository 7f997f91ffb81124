//! Lambda entry point of the cluster autoscaler: EventBridge "ECS Task State Change" events and a
//! one-minute schedule both land here; see the library for what a run does.
//!
//! Environment: `RC_CLUSTER` (the ECS cluster name or ARN), plus the standard AWS SDK settings.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use rc_aws::{AsgAutoScaling, EcsClusterObserver};
use rc_cluster_autoscaler::Autoscaler;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Lambda);
    let cluster = std::env::var("RC_CLUSTER").expect(
        "RC_CLUSTER must name the ECS cluster whose capacity providers this function scales",
    );
    let config = aws_config::load_from_env().await;
    let autoscaler = Autoscaler::new(
        EcsClusterObserver::new(aws_sdk_ecs::Client::new(&config), &cluster),
        AsgAutoScaling::new(aws_sdk_autoscaling::Client::new(&config)),
        cluster,
    );
    let autoscaler = &autoscaler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Boxed: inlined in the handler's future, the run's future overflows the compiler's
        // layout query depth.
        Box::pin(autoscaler.handle(&event.payload))
            .await
            .map_err(Error::from)
    }))
    .await
}
