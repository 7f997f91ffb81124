# The pool's task definition: one size for every run (fairness), the agent as entrypoint, and
# the limits a load generator needs.

resource "aws_cloudwatch_log_group" "agent" {
  name              = "/ecs/${var.name}/agent"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_ecs_task_definition" "bench" {
  family                   = var.task_definition_family
  requires_compatibilities = ["EC2"]
  network_mode             = var.network_mode
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  task_role_arn            = aws_iam_role.agent.arn
  execution_role_arn       = aws_iam_role.execution.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = local.ecs_architecture[var.architecture]
  }

  container_definitions = jsonencode([{
    name      = var.container_name
    image     = var.image
    essential = true
    cpu       = var.cpu
    memory    = var.memory
    ulimits = [
      { name = "nofile", softLimit = var.nofile_limit, hardLimit = var.nofile_limit },
      { name = "nproc", softLimit = var.nproc_limit, hardLimit = var.nproc_limit },
    ]
    environment = [
      for key, value in merge(
        {
          AWS_REGION         = data.aws_region.current.name
          RC_BENCH_QUEUE_URL = aws_sqs_queue.jobs.url
          RC_BENCH_TABLE     = aws_dynamodb_table.state.name
        },
        var.portal_secret_parameter_name == null ? {} : { RC_PORTAL_SECRET_PARAM = var.portal_secret_parameter_name },
      ) : { name = key, value = value }
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.agent.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "agent"
      }
    }
  }])
}
