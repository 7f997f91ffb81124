# Runner task definitions, one per family in `task_definitions`. They carry no secret: the
# manager passes RC_JIT_CONFIG_PARAM (a parameter name) and the class's cpu/memory as RunTask
# overrides, and the runner image reads that parameter and deletes it before starting.

resource "aws_cloudwatch_log_group" "runner" {
  name              = "/ecs/${var.name}/runner"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_ecs_task_definition" "runner" {
  for_each = var.task_definitions

  family                   = each.key
  requires_compatibilities = ["EC2"]
  network_mode             = var.network_mode
  cpu                      = tostring(each.value.cpu)
  memory                   = tostring(each.value.memory)
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = local.ecs_architecture[each.value.architecture]
  }

  # The capacity provider strategy already picks a group of the right architecture; this keeps
  # a task off the wrong one should a class name a provider of the other.
  placement_constraints {
    type       = "memberOf"
    expression = "attribute:ecs.cpu-architecture == ${local.ec2_architecture[each.value.architecture]}"
  }

  container_definitions = jsonencode([{
    name      = var.container_name
    image     = coalesce(each.value.image, var.runner_image)
    essential = true
    # The task size is the container's too; RunTask overrides both together.
    cpu    = each.value.cpu
    memory = each.value.memory
    environment = [
      for key, value in merge({ AWS_REGION = data.aws_region.current.name }, each.value.environment) :
      { name = key, value = value }
    ]
    linuxParameters = {
      # No init process: the entrypoint is PID 1 and execs the runner, so the environment it
      # started with (including the agent's credentials URI, which it scrubs before the exec)
      # is not kept in an init's /proc/1/environ for every job step to read. Zombies a job
      # leaves are then reaped only when the task ends; a task runs one job, so they do not
      # pile up.
      initProcessEnabled = false
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.runner.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = each.key
      }
    }
  }])
}
