//! The webhook Lambda (Function URL or API Gateway v2): the cold start loads clients and secrets
//! and tries the config once; each invocation is one [`rc_webhook::Webhook::serve_lambda`], a 503
//! while no valid config has loaded (retried, at most every few seconds, by later invocations).

use lambda_http::{service_fn, Request};
use rc_aws::config_source::{ConfigCell, ConfigSource, CONFIG_MAX_AGE};
use rc_aws::ssm::Parameters;
use rc_aws::SqsJobQueue;
use rc_webhook::{installation_from_lookup, secrets_from_env, Webhook};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    rc_aws::logging::init_json_logs(rc_aws::logging::LogTarget::Lambda);
    let aws = aws_config::load_from_env().await;
    let queue_url =
        std::env::var("RC_JOBS_QUEUE_URL").expect("RC_JOBS_QUEUE_URL must name the jobs queue");
    let secrets = secrets_from_env(&Parameters::new(aws_sdk_ssm::Client::new(&aws))).await?;
    let config = ConfigCell::new(ConfigSource::from_env()?);
    config.ready().await;
    let installation = installation_from_lookup(|name| std::env::var(name).ok())?;
    let webhook = Webhook::new(
        secrets,
        SqsJobQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
    )
    .with_installation(installation)
    .with_bench(
        rc_webhook::bench::BenchPorts::from_lookup(
            |name| std::env::var(name).ok(),
            &aws,
            &Parameters::new(aws_sdk_ssm::Client::new(&aws)),
        )
        .await?,
    );
    let (webhook, config) = (&webhook, &config);
    lambda_http::run(service_fn(move |request: Request| async move {
        let config = config.current(CONFIG_MAX_AGE).await;
        Ok::<_, lambda_http::Error>(webhook.serve_lambda(config.as_deref(), &request).await)
    }))
    .await
}
