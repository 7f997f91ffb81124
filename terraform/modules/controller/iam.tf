# One role per function, each allowed only what its code calls (see the aws/ adapters):
# - webhook: send to the jobs queue, read the webhook secret(s), read the config;
# - manager: consume and re-send jobs, RunTask the runner task definitions in the cluster
#   (passing their roles), observe and stop tasks there, write/delete/list JIT configs under
#   the JIT prefix, read the GitHub App key, read the config;
# - cluster-autoscaler: observe the cluster and raise desired capacity of its groups;
# - config-validator: nothing but its own logs (it only parses what AppConfig sends it).
# ECS calls are conditioned on the cluster; KMS grants appear only for a customer key, and only
# through SSM.

locals {
  ssm_parameter_arn_prefix = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter"
  # A parameter named /a/b has the ARN ...:parameter/a/b; one named a/b has ...:parameter/a/b too.
  parameter_arn = { for name in concat(local.webhook_secret_parameter_names, [local.github_app_key_parameter_name]) :
    name => "${local.ssm_parameter_arn_prefix}/${trimprefix(name, "/")}"
  }
  jit_parameter_arns = [
    "${local.ssm_parameter_arn_prefix}${var.jit_parameter_prefix}",
    "${local.ssm_parameter_arn_prefix}${var.jit_parameter_prefix}/*",
  ]
  # Every function writes to its own log group, and only there.
  write_own_logs = { for key in local.function_keys : key => {
    Sid      = "WriteOwnLogs"
    Effect   = "Allow"
    Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    Resource = "${aws_cloudwatch_log_group.function[key].arn}:*"
  } }

  cluster_condition = { ArnEquals = { "ecs:cluster" = var.cluster_arn } }
  ssm_via_condition = { StringEquals = { "kms:ViaService" = "ssm.${local.region}.amazonaws.com" } }

  appconfig_read = {
    Sid      = "ReadConfig"
    Effect   = "Allow"
    Action   = ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"]
    Resource = "arn:${local.partition}:appconfig:${local.region}:${local.account_id}:application/${aws_appconfig_application.this.id}/environment/${aws_appconfig_environment.this.environment_id}/configuration/${aws_appconfig_configuration_profile.this.configuration_profile_id}"
  }

  task_observation = [
    {
      Sid       = "ListTasksInCluster"
      Effect    = "Allow"
      Action    = "ecs:ListTasks"
      Resource  = "*"
      Condition = local.cluster_condition
    },
    {
      Sid       = "DescribeTasksInCluster"
      Effect    = "Allow"
      Action    = "ecs:DescribeTasks"
      Resource  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${var.cluster_name}/*"
      Condition = local.cluster_condition
    },
  ]

  statements = {
    webhook = concat(
      [
        {
          Sid      = "EnqueueJobs"
          Effect   = "Allow"
          Action   = "sqs:SendMessage"
          Resource = aws_sqs_queue.jobs.arn
        },
        {
          Sid      = "ReadWebhookSecret"
          Effect   = "Allow"
          Action   = "ssm:GetParameter"
          Resource = [for name in local.webhook_secret_parameter_names : local.parameter_arn[name]]
        },
        local.appconfig_read,
      ],
      var.kms_key_arn == null ? [] : [{
        Sid       = "DecryptSecrets"
        Effect    = "Allow"
        Action    = "kms:Decrypt"
        Resource  = var.kms_key_arn
        Condition = local.ssm_via_condition
      }],
    )

    manager = concat(
      [
        {
          Sid      = "ConsumeAndRecheckJobs"
          Effect   = "Allow"
          Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:SendMessage"]
          Resource = aws_sqs_queue.jobs.arn
        },
        {
          Sid       = "RunRunnerTasks"
          Effect    = "Allow"
          Action    = "ecs:RunTask"
          Resource  = [for family in var.task_definition_families : "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${family}:*"]
          Condition = local.cluster_condition
        },
        {
          # RunTask carries our tags (runner, job, class); tagging at launch needs this.
          Sid       = "TagRunnerTasksAtLaunch"
          Effect    = "Allow"
          Action    = "ecs:TagResource"
          Resource  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${var.cluster_name}/*"
          Condition = { StringEquals = { "ecs:CreateAction" = "RunTask" } }
        },
        {
          Sid      = "PassRunnerRoles"
          Effect   = "Allow"
          Action   = "iam:PassRole"
          Resource = var.pass_role_arns
          Condition = {
            StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" }
          }
        },
        {
          Sid       = "StopRunnerTasks"
          Effect    = "Allow"
          Action    = "ecs:StopTask"
          Resource  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${var.cluster_name}/*"
          Condition = local.cluster_condition
        },
        {
          Sid      = "ManageJitConfigs"
          Effect   = "Allow"
          Action   = ["ssm:PutParameter", "ssm:DeleteParameter"]
          Resource = local.jit_parameter_arns
        },
        {
          # The reaper lists JIT configs' names, write times and descriptions (never values).
          # DescribeParameters has no resource-level permissions; the manager filters by path.
          Sid      = "ListJitConfigs"
          Effect   = "Allow"
          Action   = "ssm:DescribeParameters"
          Resource = "*"
        },
        {
          Sid      = "ReadGithubAppKey"
          Effect   = "Allow"
          Action   = "ssm:GetParameter"
          Resource = local.parameter_arn[local.github_app_key_parameter_name]
        },
        {
          Sid      = "HoldClassLeases"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
          Resource = aws_dynamodb_table.class_locks.arn
        },
        local.appconfig_read,
      ],
      local.task_observation,
      var.kms_key_arn == null ? [] : [{
        Sid       = "EncryptJitConfigsDecryptAppKey"
        Effect    = "Allow"
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = var.kms_key_arn
        Condition = local.ssm_via_condition
      }],
    )

    cluster-autoscaler = concat(
      local.task_observation,
      [
        {
          Sid      = "ListContainerInstances"
          Effect   = "Allow"
          Action   = "ecs:ListContainerInstances"
          Resource = var.cluster_arn
        },
        {
          Sid       = "DescribeContainerInstances"
          Effect    = "Allow"
          Action    = "ecs:DescribeContainerInstances"
          Resource  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:container-instance/${var.cluster_name}/*"
          Condition = local.cluster_condition
        },
        {
          # Neither call supports resource-level permissions.
          Sid      = "DescribeCapacity"
          Effect   = "Allow"
          Action   = ["ecs:DescribeCapacityProviders", "autoscaling:DescribeAutoScalingGroups"]
          Resource = "*"
        },
        {
          Sid      = "RaiseDesiredCapacity"
          Effect   = "Allow"
          Action   = "autoscaling:SetDesiredCapacity"
          Resource = var.autoscaling_group_arns
        },
      ],
    )
  }
}

resource "aws_iam_role" "function" {
  for_each = local.function_keys

  name = "${var.name}-${each.key}"
  tags = var.tags
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name = "${var.name}-${each.key}"
  role = aws_iam_role.function[each.key].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.statements[each.key], [local.write_own_logs[each.key]])
  })
}

# Apart from the policies above, which name the AppConfig profile: the validator waits for its
# policy, and the profile for the validator.
resource "aws_iam_role_policy" "config_validator" {
  count = local.create_config_validator ? 1 : 0

  name = "${var.name}-config-validator"
  role = aws_iam_role.function["config-validator"].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [local.write_own_logs["config-validator"]]
  })
}

# The benchmarker pool's policies, when one is attached: the webhook accepts and reads
# benchmark jobs, the manager's tick sweeps them.
resource "aws_iam_role_policy" "bench_intake" {
  count = var.bench == null ? 0 : 1

  name   = "${var.name}-bench-intake"
  role   = aws_iam_role.function["webhook"].id
  policy = var.bench.intake_policy_json
}

resource "aws_iam_role_policy" "bench_sweeper" {
  count = var.bench == null ? 0 : 1

  name   = "${var.name}-bench-sweeper"
  role   = aws_iam_role.function["manager"].id
  policy = var.bench.sweeper_policy_json
}
