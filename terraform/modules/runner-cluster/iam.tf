# Roles of the cluster: the instance role (ECS agent), the task execution role (image pull and
# logs) and the runner task role. The task role is the one a job's code can use, so it may do
# exactly one thing: read and then delete a JIT config under the JIT prefix, by exact name.
# Names carry 128 random bits, so what keeps a job from another runner's config is that the
# role can never list or search parameters: those actions are denied explicitly, whatever
# other policy someone attaches to the role later.

locals {
  ec2_assume = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  # Only ECS tasks of this account, in this cluster, may assume the task roles.
  ecs_tasks_assume = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:*" }
      }
    }]
  })

  jit_parameters_arn = "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter${var.jit_parameter_prefix}/*"

  task_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ReadThenDeleteOwnJitConfig"
          Effect   = "Allow"
          Action   = ["ssm:GetParameter", "ssm:DeleteParameter"]
          Resource = local.jit_parameters_arn
        },
        {
          # Listing, searching, batch reads (ten guesses a call) and history: nothing that
          # finds or reads a name the task was not given.
          Sid    = "NoParameterDiscovery"
          Effect = "Deny"
          Action = [
            "ssm:DescribeParameters",
            "ssm:GetParametersByPath",
            "ssm:GetParameters",
            "ssm:GetParameterHistory",
            "ssm:ListTagsForResource",
          ]
          Resource = "*"
        },
      ],
      var.kms_key_arn == null ? [] : [{
        Sid      = "DecryptJitConfig"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "ssm.${data.aws_region.current.name}.amazonaws.com" }
        }
      }],
    )
  })
}

resource "aws_iam_role" "instance" {
  name               = "${var.name}-instance"
  assume_role_policy = local.ec2_assume
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "instance_ecs" {
  role       = aws_iam_role.instance.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_role_policy_attachment" "instance_ssm" {
  count      = var.enable_ssm_session_manager ? 1 : 0
  role       = aws_iam_role.instance.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "instance" {
  name = "${var.name}-instance"
  role = aws_iam_role.instance.name
  tags = var.tags
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-task-execution"
  assume_role_policy = local.ecs_tasks_assume
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-runner-task"
  assume_role_policy = local.ecs_tasks_assume
  tags               = var.tags
}

resource "aws_iam_role_policy" "task" {
  name   = "jit-config"
  role   = aws_iam_role.task.id
  policy = local.task_policy
}
