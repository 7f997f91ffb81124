# Who may do what: the agent (task role) may only receive, extend and delete its queue's
# messages, read and update benchmark state, and read the portal secret. The intake and the
# sweeper get policies (JSON) to attach to the webhook's and the manager's roles. Policies are
# written as JSON here rather than policy-document data sources so tests can read them.

locals {
  ecs_assume = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
    }]
  })

  portal_secret_statements = var.portal_secret_parameter_name == null ? [] : [{
    Sid      = "PortalSecret"
    Effect   = "Allow"
    Action   = ["ssm:GetParameter"]
    Resource = local.parameter_arn[var.portal_secret_parameter_name]
  }]

  agent_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "Queue"
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        Resource = aws_sqs_queue.jobs.arn
      },
      {
        Sid      = "State"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = aws_dynamodb_table.state.arn
      },
    ], local.portal_secret_statements)
  })

  # The webhook: accept (a transaction), undo, read, list, board.
  intake_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "Queue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = aws_sqs_queue.jobs.arn
      },
      {
        Sid    = "State"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
          "dynamodb:BatchGetItem", "dynamodb:Scan", "dynamodb:ConditionCheckItem",
        ]
        Resource = aws_dynamodb_table.state.arn
      },
      ], var.ops_token_parameter_name == null ? [] : [{
        Sid      = "OpsToken"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = local.parameter_arn[var.ops_token_parameter_name]
    }])
  })

  # The manager (the tick's sweeper): read the locks, error stale jobs, tell the portal.
  sweeper_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([{
      Sid      = "State"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem"]
      Resource = aws_dynamodb_table.state.arn
    }], local.portal_secret_statements)
  })
}

resource "aws_iam_role" "agent" {
  name               = "${var.name}-agent"
  assume_role_policy = local.ecs_assume
  tags               = var.tags
}

resource "aws_iam_role_policy" "agent" {
  name   = "bench-agent"
  role   = aws_iam_role.agent.id
  policy = local.agent_policy
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = local.ecs_assume
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}
