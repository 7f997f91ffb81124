//! The webhook Lambda (Function URL or API Gateway v2): the cold start loads clients, secrets
//! and config once; each invocation is one [`rc_webhook::Webhook::serve_lambda`].

use lambda_http::{service_fn, Request};
use rc_aws::config_source::{ConfigSource, LastKnownGood, CONFIG_MAX_AGE};
use rc_aws::ssm::Parameters;
use rc_aws::SqsJobQueue;
use rc_webhook::{secrets_from_env, Webhook};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Lambda);
    let aws = aws_config::load_from_env().await;
    let queue_url =
        std::env::var("RC_JOBS_QUEUE_URL").expect("RC_JOBS_QUEUE_URL must name the jobs queue");
    let secrets = secrets_from_env(&Parameters::new(aws_sdk_ssm::Client::new(&aws))).await?;
    let config = LastKnownGood::load(ConfigSource::from_env()?).await?;
    let webhook = Webhook::new(
        secrets,
        SqsJobQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
    );
    let (webhook, config) = (&webhook, &config);
    lambda_http::run(service_fn(move |request: Request| async move {
        let config = config.current(CONFIG_MAX_AGE).await;
        Ok::<_, lambda_http::Error>(webhook.serve_lambda(&config, &request).await)
    }))
    .await
}
