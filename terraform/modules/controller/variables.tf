# Inputs of the controller: what it controls (the runner cluster module's outputs), the Lambda
# artifacts, the GitHub App and webhook secrets, and the config it serves through AppConfig.

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "runner-controller"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", var.name))
    error_message = "name must be 1-32 letters, digits, `-` or `_` (it prefixes function and role names)."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}

# --- The runner cluster (outputs of the runner-cluster module) ---------------------------------

variable "cluster_name" {
  description = "ECS cluster the runners run in (RC_CLUSTER)."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of that cluster; ECS permissions are conditioned on it."
  type        = string
}

variable "task_definition_families" {
  description = "Runner task definition families the manager may run (any revision)."
  type        = list(string)

  validation {
    condition     = length(var.task_definition_families) > 0
    error_message = "task_definition_families needs at least one family."
  }
}

variable "pass_role_arns" {
  description = "Task and execution roles of those task definitions, which RunTask passes to ECS."
  type        = list(string)
}

variable "autoscaling_group_arns" {
  description = "Auto Scaling Groups behind the capacity providers; the only groups the cluster autoscaler may resize."
  type        = list(string)
}

variable "jit_parameter_prefix" {
  description = "SSM path the manager writes runners' JIT configs under (RC_SSM_PREFIX); the runner task role must read the same path."
  type        = string
  default     = "/runner-controller/jit"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.jit_parameter_prefix))
    error_message = "jit_parameter_prefix must be an absolute parameter path without a trailing `/`, e.g. /runner-controller/jit."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for every SecureString (JIT configs, webhook secret, App key); null for the AWS managed aws/ssm key, which needs no IAM grant."
  type        = string
  default     = null
}

variable "ssm_high_throughput" {
  description = "Turn on Parameter Store's higher throughput for the whole account and Region (service setting /ssm/parameter-store/high-throughput-enabled). It raises the API quotas, PutParameter's among them, and makes every Parameter Store API call in the account and Region billable; destroying this module turns it off again. Leave false if something else manages the setting."
  type        = bool
  default     = false
}

variable "ssm_put_rate" {
  description = "JIT config writes per second of one manager process (RC_SSM_PUT_RATE); null for PutParameter's quota: 3 by default, 10 with ssm_high_throughput. Lower it when several managers run at once or other software writes parameters in the account."
  type        = number
  default     = null

  validation {
    condition     = var.ssm_put_rate == null || try(var.ssm_put_rate > 0, false)
    error_message = "ssm_put_rate must be a positive number of writes per second."
  }
}

# --- Lambda functions ----------------------------------------------------------------------------

variable "webhook_zip" {
  description = "Webhook deployment package (`cargo lambda build --release --arm64 --output-format zip`); null for target/lambda/rc-webhook/bootstrap.zip in this repository."
  type        = string
  default     = null
}

variable "manager_zip" {
  description = "Manager deployment package; null for target/lambda/rc-manager/bootstrap.zip in this repository."
  type        = string
  default     = null
}

variable "cluster_autoscaler_zip" {
  description = "Cluster autoscaler deployment package; null for target/lambda/rc-cluster-autoscaler/bootstrap.zip in this repository."
  type        = string
  default     = null
}

variable "config_validator_zip" {
  description = "Config validator deployment package; null for target/lambda/rc-config-validator/bootstrap.zip in this repository. Unused when create_config_validator is false or config_validator_lambda_arn is set."
  type        = string
  default     = null
}

variable "lambda_architecture" {
  description = "Architecture the Lambda zips were built for; the AppConfig agent layer must match it."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "webhook_memory_size" {
  description = "Webhook memory (MiB)."
  type        = number
  default     = 128
}

variable "webhook_timeout" {
  description = "Webhook timeout (seconds). GitHub gives up on a delivery after 10 s."
  type        = number
  default     = 10
}

variable "manager_memory_size" {
  description = "Manager memory (MiB)."
  type        = number
  default     = 256
}

variable "manager_timeout" {
  description = "Manager timeout (seconds). The jobs queue's visibility timeout is set to six times this plus the batching window, as AWS advises for SQS event sources."
  type        = number
  default     = 60

  validation {
    condition     = var.manager_timeout >= 1 && var.manager_timeout <= 900
    error_message = "manager_timeout must be between 1 and 900 seconds."
  }
}

variable "manager_batch_size" {
  description = "Messages per manager invocation from the jobs queue."
  type        = number
  default     = 10

  validation {
    condition     = var.manager_batch_size >= 1 && var.manager_batch_size <= 10000
    error_message = "manager_batch_size must be between 1 and 10000."
  }
}

variable "manager_batching_window_seconds" {
  description = "How long the event source gathers messages before invoking the manager; 0 reacts fastest. Batch sizes above 10 need at least 1."
  type        = number
  default     = 0

  validation {
    condition     = var.manager_batching_window_seconds >= 0 && var.manager_batching_window_seconds <= 300
    error_message = "manager_batching_window_seconds must be between 0 and 300."
  }
  validation {
    condition     = var.manager_batch_size <= 10 || var.manager_batching_window_seconds >= 1
    error_message = "SQS event sources with a batch size above 10 need a batching window of at least 1 second."
  }
}

variable "manager_maximum_concurrency" {
  description = "Most concurrent manager invocations the SQS event source starts (2-1000); null for no limit."
  type        = number
  default     = null

  validation {
    condition     = var.manager_maximum_concurrency == null || try(var.manager_maximum_concurrency >= 2 && var.manager_maximum_concurrency <= 1000, false)
    error_message = "manager_maximum_concurrency must be between 2 and 1000, or null."
  }
}

variable "cluster_autoscaler_memory_size" {
  description = "Cluster autoscaler memory (MiB)."
  type        = number
  default     = 128
}

variable "manager_reserved_concurrency" {
  description = "Reserved concurrency of the manager; -1 (default) leaves it unreserved. max_runners holds without it (per-class leases in DynamoDB); a small reservation throttles the SQS poller, which then backs off and delays jobs (README, The manager, Deployment notes)."
  type        = number
  default     = -1

  validation {
    condition     = var.manager_reserved_concurrency == -1 || var.manager_reserved_concurrency >= 1
    error_message = "manager_reserved_concurrency must be -1 or at least 1."
  }
}

variable "cluster_autoscaler_reserved_concurrency" {
  description = "Reserved concurrency of the cluster autoscaler: 1 keeps one writer per cluster (README, Cluster autoscaler); -1 leaves it unreserved, for accounts whose concurrency limit leaves nothing to reserve."
  type        = number
  default     = 1

  validation {
    condition     = var.cluster_autoscaler_reserved_concurrency == 1 || var.cluster_autoscaler_reserved_concurrency == -1
    error_message = "cluster_autoscaler_reserved_concurrency must be 1 or -1."
  }
}

variable "cluster_autoscaler_timeout" {
  description = "Cluster autoscaler timeout (seconds)."
  type        = number
  default     = 30
}

variable "tick_schedule" {
  description = "EventBridge schedule of the manager's tick (warm pools, reaper, lost-event recovery)."
  type        = string
  default     = "rate(1 minute)"
}

variable "cluster_autoscaler_schedule" {
  description = "EventBridge schedule of the cluster autoscaler's safety-net run, next to its PROVISIONING events."
  type        = string
  default     = "rate(1 minute)"
}

variable "log_level" {
  description = "RUST_LOG of the functions."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups."
  type        = number
  default     = 30
}

variable "webhook_public_invoke_permission" {
  description = <<-EOT
    Also grant lambda:InvokeFunction to everyone, which function URLs created since October 2025
    require next to lambda:InvokeFunctionUrl. Provider 5.x cannot limit it to function URL calls
    (the lambda:InvokedViaFunctionUrl condition), so it also opens the Invoke API; that reaches
    the same handler, which still refuses anything without a valid HMAC signature.
  EOT
  type        = bool
  default     = true
}

# --- Jobs queue ----------------------------------------------------------------------------------

variable "queue_max_receive_count" {
  description = "Receives before a job message moves to the dead-letter queue. A message of a full class comes back up to every 15 minutes, and GitHub drops jobs queued for 24 hours, so keep this near 100."
  type        = number
  default     = 100
}

variable "queue_message_retention_seconds" {
  description = "How long the jobs queue keeps a message (default 2 days, past GitHub's 24-hour job queue limit)."
  type        = number
  default     = 172800
}

# --- GitHub and secrets --------------------------------------------------------------------------

variable "github_app_id" {
  description = "GitHub App id (RC_GITHUB_APP_ID)."
  type        = string

  validation {
    condition     = can(regex("^[1-9][0-9]*$", var.github_app_id))
    error_message = "github_app_id must be a positive integer."
  }
}

variable "github_installation_id" {
  description = "GitHub App installation id (RC_GITHUB_INSTALLATION_ID); null to look it up."
  type        = string
  default     = null
}

variable "github_hook_id" {
  description = "Id of an org or repository webhook whose deliveries the redelivery sweep reads (RC_GITHUB_HOOK_ID); null for the App's own webhook."
  type        = string
  default     = null
}

variable "secret_parameter_prefix" {
  description = "SSM path of the parameters this module creates for secrets; null for /<name>."
  type        = string
  default     = null
}

variable "github_app_key_parameter_name" {
  description = "Existing SecureString parameter holding the App's private key (PEM). Null to create <secret_parameter_prefix>/github-app-key from github_app_key."
  type        = string
  default     = null
}

variable "github_app_key" {
  description = "The App's private key (PEM), when this module creates its parameter. Write-only: it never enters the state or a plan."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = var.github_app_key_parameter_name != null || var.github_app_key != null
    error_message = "Set github_app_key_parameter_name (an existing parameter) or github_app_key (to create one)."
  }
}

variable "github_app_key_version" {
  description = "Bump to write a new github_app_key (write-only values are not compared)."
  type        = number
  default     = 1
}

variable "webhook_secret_parameter_names" {
  description = "Existing SecureString parameters holding the webhook secret; two during a rotation. Empty to create <secret_parameter_prefix>/webhook-secret from webhook_secret."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.webhook_secret_parameter_names) <= 2
    error_message = "At most two webhook secrets (old and new, during a rotation)."
  }
}

variable "webhook_secret" {
  description = "The webhook secret, when this module creates its parameter. Write-only: it never enters the state or a plan."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = length(var.webhook_secret_parameter_names) > 0 || var.webhook_secret != null
    error_message = "Set webhook_secret_parameter_names (existing parameters) or webhook_secret (to create one)."
  }
}

variable "webhook_secret_version" {
  description = "Bump to write a new webhook_secret (write-only values are not compared)."
  type        = number
  default     = 1
}

# --- AppConfig -----------------------------------------------------------------------------------

variable "config_yaml" {
  description = "The controller config (YAML), deployed as a hosted configuration version; check it first with `runner-controller validate`."
  type        = string
}

variable "appconfig_agent_layer_arn" {
  description = "ARN of the AWS AppConfig Agent Lambda extension layer for this region and lambda_architecture (AWS publishes one per region; see the AppConfig user guide)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.appconfig_agent_layer_arn))
    error_message = "appconfig_agent_layer_arn must be a Lambda layer version ARN."
  }
}

variable "appconfig_environment" {
  description = "AppConfig environment name."
  type        = string
  default     = "default"
}

variable "appconfig_profile" {
  description = "AppConfig configuration profile name."
  type        = string
  default     = "config"
}

variable "appconfig_deployment_strategy_id" {
  description = "Deployment strategy of config changes; the predefined AppConfig.AllAtOnce applies them at once."
  type        = string
  default     = "AppConfig.AllAtOnce"
}

variable "appconfig_poll_interval_seconds" {
  description = "How often the AppConfig agent polls for a new deployment."
  type        = number
  default     = 45
}

variable "create_config_validator" {
  description = "Create the validator Lambda (config-validator/ of this repository) that AppConfig runs on every deployment, refusing a config `runner-controller validate` would refuse. False only together with config_validator_lambda_arn: a config is never deployed unvalidated."
  type        = bool
  default     = true
  nullable    = false

  # An unvalidated bad config would reach every function; each keeps its last good one, but a
  # cold start with none answers 503 until a good version is deployed.
  validation {
    condition     = var.create_config_validator || var.config_validator_lambda_arn != null
    error_message = "create_config_validator = false needs config_validator_lambda_arn: AppConfig must always validate the config."
  }
}

variable "config_validator_lambda_arn" {
  description = "An existing validator Lambda to use instead of creating one (overrides create_config_validator); AppConfig is allowed to invoke it. Whether it is set must be known at plan time: a literal or a data source's ARN, not one of a function created in the same apply."
  type        = string
  default     = null
}

variable "bench" {
  description = <<-EOT
    The benchmarker pool (terraform/modules/bench-pool's `controller` output), or null. When set,
    the webhook's Function URL serves /benchmarks routes (the URL forwards every path to the
    webhook) and the manager's tick sweeps stale benchmark jobs; both roles get the pool's
    policies.
  EOT
  type = object({
    webhook_environment = map(string)
    manager_environment = map(string)
    intake_policy_json  = string
    sweeper_policy_json = string
  })
  default = null
}
