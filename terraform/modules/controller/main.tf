# The controller: the jobs queue and its dead-letter queue, and the Lambda functions (webhook
# behind a Function URL, manager on the queue and a one-minute tick, cluster autoscaler on ECS
# PROVISIONING events and a one-minute schedule, and the AppConfig validator of the config).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # AWS advises an SQS visibility timeout of six times the function timeout plus the batching
  # window, so a message is not handed out again while an invocation may still be working on it.
  queue_visibility_timeout = 6 * var.manager_timeout + var.manager_batching_window_seconds

  # `cargo lambda build --release --arm64 --output-format zip` writes
  # target/lambda/<binary>/bootstrap.zip at the workspace root.
  default_zip_dir = "${path.module}/../../../target/lambda"
  functions = {
    webhook = {
      zip         = coalesce(var.webhook_zip, "${local.default_zip_dir}/rc-webhook/bootstrap.zip")
      memory_size = var.webhook_memory_size
      timeout     = var.webhook_timeout
    }
    manager = {
      zip         = coalesce(var.manager_zip, "${local.default_zip_dir}/rc-manager/bootstrap.zip")
      memory_size = var.manager_memory_size
      timeout     = var.manager_timeout
    }
    cluster-autoscaler = {
      zip         = coalesce(var.cluster_autoscaler_zip, "${local.default_zip_dir}/rc-cluster-autoscaler/bootstrap.zip")
      memory_size = var.cluster_autoscaler_memory_size
      timeout     = var.cluster_autoscaler_timeout
    }
  }
  config_validator_zip = coalesce(var.config_validator_zip, "${local.default_zip_dir}/rc-config-validator/bootstrap.zip")

  # An existing validator named by the caller replaces the one this module would create.
  create_config_validator = var.create_config_validator && var.config_validator_lambda_arn == null
  # Every function this module creates has its own log group and role.
  function_keys = toset(concat(keys(local.functions), local.create_config_validator ? ["config-validator"] : []))

  # The AppConfig agent extension serves the config on localhost:2772 to the functions that
  # read it; prefetching the one path makes the first read of a cold start local.
  appconfig_path = "/applications/${aws_appconfig_application.this.name}/environments/${aws_appconfig_environment.this.name}/configurations/${aws_appconfig_configuration_profile.this.name}"
  appconfig_env = {
    RC_APPCONFIG_APPLICATION                      = aws_appconfig_application.this.name
    RC_APPCONFIG_ENVIRONMENT                      = aws_appconfig_environment.this.name
    RC_APPCONFIG_PROFILE                          = aws_appconfig_configuration_profile.this.name
    AWS_APPCONFIG_EXTENSION_PREFETCH_LIST         = local.appconfig_path
    AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS = tostring(var.appconfig_poll_interval_seconds)
  }

  environment = {
    webhook = merge(
      local.appconfig_env,
      {
        RC_JOBS_QUEUE_URL       = aws_sqs_queue.jobs.url
        RC_WEBHOOK_SECRET_PARAM = join(",", local.webhook_secret_parameter_names)
      },
      # The webhook refuses deliveries of other installations when it knows the manager's.
      { for key, value in { RC_GITHUB_INSTALLATION_ID = var.github_installation_id } : key => value if value != null },
      # The /benchmarks routes, when a benchmarker pool is attached.
      var.bench == null ? {} : var.bench.webhook_environment,
    )
    manager = merge(
      local.appconfig_env,
      {
        RC_CLUSTER              = var.cluster_name
        RC_JOBS_QUEUE_URL       = aws_sqs_queue.jobs.url
        RC_SSM_PREFIX           = var.jit_parameter_prefix
        RC_SSM_PUT_RATE         = tostring(local.ssm_put_rate)
        RC_GITHUB_APP_ID        = var.github_app_id
        RC_GITHUB_APP_KEY_PARAM = local.github_app_key_parameter_name
        RC_LOCK_TABLE           = aws_dynamodb_table.class_locks.name
        # Tags our tasks and labels our runners, so another deployment sharing the cluster or
        # the GitHub scope never reaps them.
        RC_CONTROLLER_ID = var.name
        # A lease must outlive the invocation holding it; twice the timeout leaves room for a
        # slow release, and bounds how long a crashed holder blocks its class.
        RC_LOCK_TTL_SECONDS = tostring(2 * var.manager_timeout)
      },
      # The optional settings stay out of the environment when unset.
      { for key, value in {
        RC_GITHUB_INSTALLATION_ID = var.github_installation_id
        RC_GITHUB_HOOK_ID         = var.github_hook_id
        RC_SSM_KMS_KEY_ID         = var.kms_key_arn
      } : key => value if value != null },
      # The tick's benchmark sweeper, when a benchmarker pool is attached.
      var.bench == null ? {} : var.bench.manager_environment,
    )
    cluster-autoscaler = {
      RC_CLUSTER = var.cluster_name
    }
  }
  layers = {
    webhook            = [var.appconfig_agent_layer_arn]
    manager            = [var.appconfig_agent_layer_arn]
    cluster-autoscaler = []
  }
  # One writer per cluster (the README's cluster autoscaler section): concurrent runs that observed
  # different moments could apply their raises out of order.
  reserved_concurrency = {
    webhook            = -1
    manager            = var.manager_reserved_concurrency
    cluster-autoscaler = var.cluster_autoscaler_reserved_concurrency
  }
}

# --- Class leases ---------------------------------------------------------------------------------

# One item per runner class while a manager invocation observes, decides and launches for it, so
# concurrent invocations keep max_runners (README, The manager, Deployment notes). Items carry
# their expiry in `expires_at`, which DynamoDB's TTL also sweeps.
resource "aws_dynamodb_table" "class_locks" {
  name         = "${var.name}-class-locks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  tags         = var.tags

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
}

# --- Jobs queue ----------------------------------------------------------------------------------

resource "aws_sqs_queue" "jobs_dlq" {
  name                      = "${var.name}-jobs-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "jobs" {
  name                       = "${var.name}-jobs"
  visibility_timeout_seconds = local.queue_visibility_timeout
  message_retention_seconds  = var.queue_message_retention_seconds
  sqs_managed_sse_enabled    = true
  tags                       = var.tags

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.jobs_dlq.arn
    maxReceiveCount     = var.queue_max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "jobs_dlq" {
  queue_url = aws_sqs_queue.jobs_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.jobs.arn]
  })
}

# --- Functions -----------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.function_keys
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name = "${var.name}-${each.key}"
  role          = aws_iam_role.function[each.key].arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.lambda_architecture]
  filename      = each.value.zip
  # Validation and plans work before the zips are built; an apply without them fails.
  source_code_hash               = fileexists(each.value.zip) ? filebase64sha256(each.value.zip) : null
  memory_size                    = each.value.memory_size
  timeout                        = each.value.timeout
  reserved_concurrent_executions = local.reserved_concurrency[each.key]
  layers                         = local.layers[each.key]
  tags                           = var.tags

  environment {
    variables = merge({ RUST_LOG = var.log_level }, local.environment[each.key])
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  # A function must not start before it may log and before its config is deployed.
  depends_on = [aws_iam_role_policy.function, aws_appconfig_deployment.this]
}

# The AppConfig validator (config-validator/) is apart from the functions above because its
# order is the reverse of theirs: they start after the config is deployed, while AppConfig calls
# the validator to allow that deployment (appconfig.tf).
resource "aws_lambda_function" "config_validator" {
  count = local.create_config_validator ? 1 : 0

  function_name    = "${var.name}-config-validator"
  role             = aws_iam_role.function["config-validator"].arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = local.config_validator_zip
  source_code_hash = fileexists(local.config_validator_zip) ? filebase64sha256(local.config_validator_zip) : null
  # It parses one YAML file per deployment; the timeout leaves room for a cold start.
  memory_size = 128
  timeout     = 10
  tags        = var.tags

  environment {
    variables = { RUST_LOG = var.log_level }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function["config-validator"].name
  }

  depends_on = [aws_iam_role_policy.config_validator]
}

resource "aws_lambda_function_url" "webhook" {
  function_name = aws_lambda_function.this["webhook"].function_name
  # GitHub cannot sign AWS requests; the function checks the webhook's HMAC signature instead.
  # With NONE the provider also grants lambda:InvokeFunctionUrl to everyone.
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"
}

resource "aws_lambda_permission" "webhook_public_invoke" {
  count         = var.webhook_public_invoke_permission ? 1 : 0
  statement_id  = "FunctionURLAllowInvokeAction"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["webhook"].function_name
  principal     = "*"
}

resource "aws_lambda_event_source_mapping" "jobs" {
  event_source_arn                   = aws_sqs_queue.jobs.arn
  function_name                      = aws_lambda_function.this["manager"].arn
  batch_size                         = var.manager_batch_size
  maximum_batching_window_in_seconds = var.manager_batching_window_seconds
  # The manager answers with the ids of the messages it did not finish; SQS deletes the rest.
  function_response_types = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = var.manager_maximum_concurrency == null ? [] : [var.manager_maximum_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }
}

# Scheduled and ECS events invoke asynchronously. Every run is level-triggered, so a stale or
# failed event is worth nothing once the next one is due: drop it instead of retrying.
resource "aws_lambda_function_event_invoke_config" "async" {
  for_each = toset(["manager", "cluster-autoscaler"])

  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_event_age_in_seconds = 60
  maximum_retry_attempts       = 0
}
