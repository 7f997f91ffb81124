# What to give GitHub, where the jobs go, and what the cluster was built from, with a last check
# that every class of the config fits one instance of its capacity provider.

output "github_webhook_url" {
  description = "Payload URL for the GitHub App (or org webhook), content type application/json, event `Workflow jobs`."
  value       = module.controller.github_webhook_url
}

output "webhook_url" {
  description = "Function URL of the webhook."
  value       = module.controller.webhook_url
}

output "jobs_queue_url" {
  description = "URL of the jobs queue."
  value       = module.controller.jobs_queue_url
}

output "jobs_dlq_url" {
  description = "URL of the jobs dead-letter queue."
  value       = module.controller.jobs_dlq_url
}

output "cluster_name" {
  description = "ECS cluster of the runners."
  value       = module.runner_cluster.cluster_name
}

output "task_definitions" {
  description = "Runner task definitions derived from the config."
  value       = local.task_definitions

  precondition {
    condition     = length(local.oversized_classes) == 0
    error_message = "Larger than one instance of their capacity provider (choose a larger instance_type): ${join(", ", local.oversized_classes)}."
  }
}
