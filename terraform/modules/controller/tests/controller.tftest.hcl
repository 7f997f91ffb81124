# Offline checks of the controller's key wiring, with a mocked AWS provider: the manager's
# event source reports batch item failures and the queue outlasts it; the functions run the
# custom runtime on arm64 with the environment their code reads; the cluster autoscaler fires
# on PROVISIONING tasks of this cluster; AppConfig validates the config with the function
# created here or the one named; and each role is limited to what its code calls.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:ap-northeast-1:123456789012:mock"
      url = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/mock"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:ap-northeast-1:123456789012:rule/mock" }
  }
  mock_resource "aws_lambda_function_url" {
    defaults = { function_url = "https://abc.lambda-url.ap-northeast-1.on.aws/" }
  }
  mock_resource "aws_appconfig_application" {
    defaults = { id = "app1234" }
  }
  mock_resource "aws_appconfig_environment" {
    defaults = { environment_id = "env1234" }
  }
  mock_resource "aws_appconfig_configuration_profile" {
    defaults = { configuration_profile_id = "prof123" }
  }
}

# Its own ARN, so that naming the validator cannot pass for naming any other function.
override_resource {
  target = aws_lambda_function.config_validator
  values = { arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:rc-test-config-validator" }
}

# The secrets are ephemeral, and in Terraform 1.11 an apply run that leaves one unset fails
# ("was not set during the plan phase, and so must remain unset during the apply phase"), so
# every run sets both; the run that names existing parameters shows they are then unused.
variables {
  github_app_key            = "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----"
  webhook_secret            = "not-a-secret"
  name                      = "rc-test"
  cluster_name              = "rc-test"
  cluster_arn               = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/rc-test"
  task_definition_families  = ["github-runner-amd64", "github-runner-arm64"]
  pass_role_arns            = ["arn:aws:iam::123456789012:role/rc-test-runner-task", "arn:aws:iam::123456789012:role/rc-test-task-execution"]
  autoscaling_group_arns    = ["arn:aws:autoscaling:ap-northeast-1:123456789012:autoScalingGroup:1111:autoScalingGroupName/rc-test-cp-amd64"]
  jit_parameter_prefix      = "/rc-test/jit"
  github_app_id             = "12345"
  config_yaml               = "github:\n  scope: org\n  name: acme\nclasses: []\n"
  appconfig_agent_layer_arn = "arn:aws:lambda:ap-northeast-1:980059726660:layer:AWS-AppConfig-Extension-Arm64:1"
  manager_timeout           = 90
  manager_batch_size        = 5
}

run "manager_consumes_the_queue_with_partial_batch_failures" {
  command = apply

  assert {
    condition     = aws_lambda_event_source_mapping.jobs.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The event source mapping must report batch item failures."
  }
  assert {
    condition     = aws_lambda_event_source_mapping.jobs.batch_size == 5 && aws_lambda_event_source_mapping.jobs.event_source_arn == aws_sqs_queue.jobs.arn
    error_message = "The manager consumes the jobs queue in batches of manager_batch_size."
  }
  assert {
    condition     = aws_sqs_queue.jobs.visibility_timeout_seconds >= 6 * 90
    error_message = "The queue's visibility timeout must be at least six manager timeouts."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.jobs.redrive_policy).deadLetterTargetArn == aws_sqs_queue.jobs_dlq.arn
    error_message = "The jobs queue must redrive to its dead-letter queue."
  }
}

run "functions_use_the_custom_runtime_and_read_their_environment" {
  command = apply

  assert {
    condition = alltrue([for fn in concat(values(aws_lambda_function.this), aws_lambda_function.config_validator) :
    fn.runtime == "provided.al2023" && fn.architectures == tolist(["arm64"]) && fn.handler == "bootstrap"])
    error_message = "Every function runs provided.al2023 on arm64."
  }
  assert {
    condition     = output.function_names["config-validator"] == "rc-test-config-validator" && endswith(aws_lambda_function.config_validator[0].filename, "target/lambda/rc-config-validator/bootstrap.zip")
    error_message = "The validator is created by default, from this repository's rc-config-validator zip."
  }
  assert {
    condition = alltrue([for key in ["RC_JOBS_QUEUE_URL", "RC_WEBHOOK_SECRET_PARAM", "RC_APPCONFIG_APPLICATION", "RC_APPCONFIG_ENVIRONMENT", "RC_APPCONFIG_PROFILE"] :
    contains(keys(aws_lambda_function.this["webhook"].environment[0].variables), key)])
    error_message = "The webhook needs the queue, its secret parameter and the AppConfig coordinates."
  }
  assert {
    condition     = aws_lambda_function.this["webhook"].environment[0].variables.RC_WEBHOOK_SECRET_PARAM == "/rc-test/webhook-secret"
    error_message = "The webhook reads the secret parameter the module created."
  }
  assert {
    condition = {
      for key in ["RC_CLUSTER", "RC_SSM_PREFIX", "RC_GITHUB_APP_ID", "RC_GITHUB_APP_KEY_PARAM"] :
      key => aws_lambda_function.this["manager"].environment[0].variables[key]
      } == {
      RC_CLUSTER              = "rc-test"
      RC_SSM_PREFIX           = "/rc-test/jit"
      RC_GITHUB_APP_ID        = "12345"
      RC_GITHUB_APP_KEY_PARAM = "/rc-test/github-app-key"
    }
    error_message = "The manager's environment names the cluster, JIT prefix and GitHub App."
  }

  assert {
    condition     = aws_lambda_function.this["manager"].environment[0].variables.RC_LOCK_TTL_SECONDS == "180" && aws_lambda_function.this["manager"].reserved_concurrent_executions == -1
    error_message = "The manager takes class leases that outlive an invocation, and runs unreserved."
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.this["manager"].environment[0].variables), "RC_GITHUB_INSTALLATION_ID")
    error_message = "Unset optional variables stay out of the environment."
  }
  assert {
    condition     = aws_lambda_function.this["cluster-autoscaler"].environment[0].variables.RC_CLUSTER == "rc-test" && aws_lambda_function.this["cluster-autoscaler"].reserved_concurrent_executions == 1
    error_message = "The cluster autoscaler is one writer per cluster."
  }
  assert {
    condition     = aws_lambda_function.this["webhook"].layers == tolist([var.appconfig_agent_layer_arn]) && length(aws_lambda_function.this["cluster-autoscaler"].layers) == 0
    error_message = "The functions that read the config carry the AppConfig agent layer."
  }
  assert {
    condition     = aws_lambda_function_url.webhook.authorization_type == "NONE" && output.github_webhook_url == "https://abc.lambda-url.ap-northeast-1.on.aws/github/webhook"
    error_message = "The webhook is public (it checks HMAC) and GitHub posts to /github/webhook."
  }
}

run "cluster_autoscaler_fires_on_provisioning_tasks_of_this_cluster" {
  command = apply

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this["cluster-autoscaler-provisioning"].event_pattern) == {
      source        = ["aws.ecs"]
      "detail-type" = ["ECS Task State Change"]
      detail = {
        clusterArn = ["arn:aws:ecs:ap-northeast-1:123456789012:cluster/rc-test"]
        lastStatus = ["PROVISIONING"]
      }
    }
    error_message = "The cluster autoscaler must fire on this cluster's PROVISIONING tasks."
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this["cluster-autoscaler-schedule"].schedule_expression == "rate(1 minute)" && aws_cloudwatch_event_rule.this["manager-tick"].schedule_expression == "rate(1 minute)"
    error_message = "Both the tick and the autoscaler's safety net run every minute."
  }
}

run "roles_are_least_privilege" {
  command = apply

  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.function["manager"].policy).Statement : s.Resource if s.Sid == "RunRunnerTasks"]) == [
      "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/github-runner-amd64:*",
      "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/github-runner-arm64:*",
    ]
    error_message = "RunTask is limited to the runner task definitions."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.function["manager"].policy).Statement :
      s.Condition.ArnEquals["ecs:cluster"] == var.cluster_arn
      if contains(["RunRunnerTasks", "StopRunnerTasks", "ListTasksInCluster", "DescribeTasksInCluster"], s.Sid)
    ])
    error_message = "ECS task calls are conditioned on the cluster."
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.function["manager"].policy).Statement : s if s.Sid == "ManageJitConfigs"]).Resource == [
      "arn:aws:ssm:ap-northeast-1:123456789012:parameter/rc-test/jit",
      "arn:aws:ssm:ap-northeast-1:123456789012:parameter/rc-test/jit/*",
    ]
    error_message = "JIT configs are written only under the JIT prefix."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.function["manager"].policy).Statement : s.Action if s.Sid == "ListJitConfigs"]) == "ssm:DescribeParameters"
    error_message = "The reaper lists JIT configs with DescribeParameters (metadata, never values)."
  }
  assert {
    condition     = aws_lambda_function.this["manager"].environment[0].variables.RC_SSM_PUT_RATE == "3" && !contains(keys(aws_lambda_function.this["manager"].environment[0].variables), "RC_SSM_KMS_KEY_ID")
    error_message = "By default the manager writes at PutParameter's standard quota with the aws/ssm key."
  }
  assert {
    condition     = length(aws_ssm_service_setting.high_throughput) == 0
    error_message = "Higher Parameter Store throughput is opt-in."
  }
  assert {
    condition     = tolist(one([for s in jsondecode(aws_iam_role_policy.function["manager"].policy).Statement : s if s.Sid == "PassRunnerRoles"]).Resource) == var.pass_role_arns
    error_message = "The manager passes only the runner roles."
  }
  assert {
    condition     = tolist(one([for s in jsondecode(aws_iam_role_policy.function["cluster-autoscaler"].policy).Statement : s.Resource if s.Sid == "RaiseDesiredCapacity"])) == var.autoscaling_group_arns
    error_message = "The cluster autoscaler may only resize the runner groups."
  }
  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.function["webhook"].policy).Statement : s.Action])) == toset([
      "sqs:SendMessage", "ssm:GetParameter", "appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration",
      "logs:CreateLogStream", "logs:PutLogEvents",
    ])
    error_message = "The webhook may only enqueue, read its secret, read the config and log."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.function["webhook"].policy, "kms:")
    error_message = "With the aws/ssm key no KMS grant is needed."
  }
}

run "appconfig_validates_with_the_created_function_by_default" {
  command = apply

  assert {
    condition = one(aws_appconfig_configuration_profile.this.validator) == {
      type    = "LAMBDA"
      content = "arn:aws:lambda:ap-northeast-1:123456789012:function:rc-test-config-validator"
    } && output.appconfig.validator_arn == aws_lambda_function.config_validator[0].arn
    error_message = "The profile's validator is the function this module created."
  }
  assert {
    condition = (
      aws_lambda_permission.appconfig_validator.function_name == aws_lambda_function.config_validator[0].arn &&
      aws_lambda_permission.appconfig_validator.principal == "appconfig.amazonaws.com" &&
      aws_lambda_permission.appconfig_validator.source_account == "123456789012"
    )
    error_message = "AppConfig of this account may invoke the validator."
  }
  assert {
    condition     = aws_lambda_function.config_validator[0].environment[0].variables == tomap({ RUST_LOG = "info" })
    error_message = "The validator reads nothing but the event AppConfig sends it."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.config_validator[0].policy).Statement == [{
      Sid      = "WriteOwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.function["config-validator"].arn}:*"
    }]
    error_message = "The validator's role may only write its own logs."
  }
}

run "an_existing_validator_replaces_the_created_one" {
  command = apply

  variables {
    config_validator_lambda_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:shared-config-validator"
  }

  assert {
    condition     = one(aws_appconfig_configuration_profile.this.validator).content == var.config_validator_lambda_arn && aws_lambda_permission.appconfig_validator.function_name == var.config_validator_lambda_arn
    error_message = "The profile's validator is the given function, and AppConfig may invoke it."
  }
  assert {
    condition     = length(aws_lambda_function.config_validator) == 0 && !contains(keys(aws_iam_role.function), "config-validator") && !contains(keys(aws_cloudwatch_log_group.function), "config-validator")
    error_message = "No validator, role or log group is created when one is given."
  }
}

run "validation_cannot_be_left_out" {
  command = plan

  variables {
    create_config_validator = false
  }

  expect_failures = [var.create_config_validator]
}

run "existing_secret_parameters_are_used_by_name" {
  command = apply

  variables {
    webhook_secret_parameter_names = ["/shared/webhook-secret-old", "/shared/webhook-secret-new"]
    github_app_key_parameter_name  = "/shared/github-app-key"
    kms_key_arn                    = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_ssm_parameter.webhook_secret) == 0 && length(aws_ssm_parameter.github_app_key) == 0
    error_message = "No parameter is created when existing ones are named."
  }
  assert {
    condition     = aws_lambda_function.this["manager"].environment[0].variables.RC_SSM_KMS_KEY_ID == var.kms_key_arn
    error_message = "The manager encrypts JIT configs with the configured key."
  }
  assert {
    condition     = aws_lambda_function.this["webhook"].environment[0].variables.RC_WEBHOOK_SECRET_PARAM == "/shared/webhook-secret-old,/shared/webhook-secret-new"
    error_message = "Both webhook secrets are read during a rotation."
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.function["webhook"].policy).Statement : s if s.Sid == "DecryptSecrets"]) == {
      Sid       = "DecryptSecrets"
      Effect    = "Allow"
      Action    = "kms:Decrypt"
      Resource  = var.kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "ssm.ap-northeast-1.amazonaws.com" } }
    }
    error_message = "A customer key is granted for decryption through SSM only."
  }
}

run "a_secret_source_is_required" {
  command = plan

  variables {
    webhook_secret = null
  }

  expect_failures = [var.webhook_secret]
}

run "higher_parameter_store_throughput_is_opt_in_and_raises_the_write_rate" {
  command = apply

  variables {
    ssm_high_throughput = true
  }

  assert {
    condition     = aws_ssm_service_setting.high_throughput[0].setting_value == "true" && endswith(aws_ssm_service_setting.high_throughput[0].setting_id, ":servicesetting/ssm/parameter-store/high-throughput-enabled")
    error_message = "The opt-in turns on the account's higher Parameter Store throughput."
  }
  assert {
    condition     = aws_lambda_function.this["manager"].environment[0].variables.RC_SSM_PUT_RATE == "10"
    error_message = "With higher throughput the manager writes at the higher PutParameter quota."
  }
}
