# Where GitHub sends webhooks, the queues, the functions and the config's AppConfig coordinates.

output "webhook_url" {
  description = "Function URL of the webhook (ends in `/`)."
  value       = aws_lambda_function_url.webhook.function_url
}

output "github_webhook_url" {
  description = "Payload URL to give GitHub (the webhook's `POST /github/webhook` route)."
  value       = "${trimsuffix(aws_lambda_function_url.webhook.function_url, "/")}/github/webhook"
}

output "jobs_queue_url" {
  description = "URL of the jobs queue (RC_JOBS_QUEUE_URL)."
  value       = aws_sqs_queue.jobs.url
}

output "jobs_queue_arn" {
  description = "ARN of the jobs queue."
  value       = aws_sqs_queue.jobs.arn
}

output "jobs_dlq_url" {
  description = "URL of the jobs dead-letter queue; alarm on its depth."
  value       = aws_sqs_queue.jobs_dlq.url
}

output "function_names" {
  description = "Lambda function name per role (webhook, manager, cluster-autoscaler, and config-validator when created)."
  value = merge(
    { for key, fn in aws_lambda_function.this : key => fn.function_name },
    { for fn in aws_lambda_function.config_validator : "config-validator" => fn.function_name },
  )
}

output "function_role_arns" {
  description = "IAM role ARN per function created here."
  value       = { for key, role in aws_iam_role.function : key => role.arn }
}

output "webhook_secret_parameter_names" {
  description = "SSM parameters the webhook reads its secret(s) from."
  value       = local.webhook_secret_parameter_names
}

output "github_app_key_parameter_name" {
  description = "SSM parameter the manager reads the GitHub App key from."
  value       = local.github_app_key_parameter_name
}

output "appconfig" {
  description = "AppConfig application, environment and profile (names and ids) of the config, and the validator Lambda's ARN (null when none)."
  value = {
    application    = aws_appconfig_application.this.name
    application_id = aws_appconfig_application.this.id
    environment    = aws_appconfig_environment.this.name
    environment_id = aws_appconfig_environment.this.environment_id
    profile        = aws_appconfig_configuration_profile.this.name
    profile_id     = aws_appconfig_configuration_profile.this.configuration_profile_id
    validator_arn  = local.config_validator_arn
  }
}
