# What the controller module needs from the cluster: names and ARNs to run tasks in, the roles
# it passes to RunTask, and the groups the cluster autoscaler may resize.

output "cluster_name" {
  description = "ECS cluster name (RC_CLUSTER)."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ECS cluster ARN."
  value       = aws_ecs_cluster.this.arn
}

output "capacity_provider_names" {
  description = "Capacity provider names, as the config's `capacity_provider` refers to them."
  value       = [for cp in aws_ecs_capacity_provider.this : cp.name]
}

output "autoscaling_group_arns" {
  description = "Auto Scaling Group ARN per capacity provider."
  value       = { for name, group in aws_autoscaling_group.this : name => group.arn }
}

output "autoscaling_group_names" {
  description = "Auto Scaling Group name per capacity provider."
  value       = { for name, group in aws_autoscaling_group.this : name => group.name }
}

output "instance_capacity" {
  description = "CPU units and MiB one instance of each capacity provider is taken to register (the rc:instance-* tags)."
  value       = local.instance_capacity
}

output "task_definition_families" {
  description = "Runner task definition families, as the config's `task_definition` refers to them."
  value       = keys(aws_ecs_task_definition.runner)
}

output "task_definition_arns" {
  description = "Current revision ARN per task definition family."
  value       = { for family, td in aws_ecs_task_definition.runner : family => td.arn }
}

output "task_role_arn" {
  description = "Runner task role (reads and deletes JIT configs)."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "Runner task execution role."
  value       = aws_iam_role.execution.arn
}

output "pass_role_arns" {
  description = "Roles the manager must be allowed to pass to ECS at RunTask."
  value       = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
}

output "jit_parameter_prefix" {
  description = "SSM path of the JIT configs (the manager's RC_SSM_PREFIX)."
  value       = var.jit_parameter_prefix
}

output "instance_security_group_id" {
  description = "Security group of the container instances."
  value       = aws_security_group.instances.id
}

output "runner_log_group" {
  description = "Log group of the runner containers."
  value       = aws_cloudwatch_log_group.runner.name
}
