output "queue_url" {
  description = "RC_BENCH_QUEUE_URL for the webhook and the agents."
  value       = aws_sqs_queue.jobs.url
}

output "queue_arn" {
  description = "ARN of the FIFO queue."
  value       = aws_sqs_queue.jobs.arn
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue (alarm on its depth)."
  value       = aws_sqs_queue.dlq.arn
}

output "table_name" {
  description = "RC_BENCH_TABLE for the webhook, the manager (sweeper) and the agents."
  value       = aws_dynamodb_table.state.name
}

output "table_arn" {
  description = "ARN of the state table."
  value       = aws_dynamodb_table.state.arn
}

output "task_definition_arn" {
  description = "The pool's task definition."
  value       = aws_ecs_task_definition.bench.arn
}

output "agent_role_arn" {
  description = "The agents' task role (the manager needs iam:PassRole on it to start workers)."
  value       = aws_iam_role.agent.arn
}

output "execution_role_arn" {
  description = "The pool's execution role (iam:PassRole as well)."
  value       = aws_iam_role.execution.arn
}

output "intake_policy_json" {
  description = "Policy for the webhook's role: send to the queue, accept/read/list jobs, read the ops token."
  value       = local.intake_policy
}

output "sweeper_policy_json" {
  description = "Policy for the manager's role: the tick's sweeper."
  value       = local.sweeper_policy
}

output "webhook_environment" {
  description = "Environment the webhook needs for the /benchmarks routes (merge into its variables)."
  value = merge(
    { RC_BENCH_QUEUE_URL = aws_sqs_queue.jobs.url, RC_BENCH_TABLE = aws_dynamodb_table.state.name },
    var.ops_token_parameter_name == null ? {} : { RC_BENCH_OPS_TOKEN_PARAM = var.ops_token_parameter_name },
  )
}

output "manager_environment" {
  description = "Environment the manager needs for the tick's benchmark sweeper (merge into its variables)."
  value = merge(
    { RC_BENCH_TABLE = aws_dynamodb_table.state.name },
    var.portal_secret_parameter_name == null ? {} : { RC_PORTAL_SECRET_PARAM = var.portal_secret_parameter_name },
  )
}

output "controller" {
  description = "Everything the controller module's `bench` input takes: pass `module.<this>.controller`."
  value = {
    webhook_environment = merge(
      { RC_BENCH_QUEUE_URL = aws_sqs_queue.jobs.url, RC_BENCH_TABLE = aws_dynamodb_table.state.name },
      var.ops_token_parameter_name == null ? {} : { RC_BENCH_OPS_TOKEN_PARAM = var.ops_token_parameter_name },
    )
    manager_environment = merge(
      { RC_BENCH_TABLE = aws_dynamodb_table.state.name },
      var.portal_secret_parameter_name == null ? {} : { RC_PORTAL_SECRET_PARAM = var.portal_secret_parameter_name },
    )
    intake_policy_json  = local.intake_policy
    sweeper_policy_json = local.sweeper_policy
  }
}
