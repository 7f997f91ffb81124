# Inputs of the runner cluster: where instances run, which capacity providers exist (the names
# the controller config's `capacity_provider` refers to), which task definitions exist (the
# config's `task_definition`), and the SSM path the runners read their JIT configs from.

variable "name" {
  description = "Name of the ECS cluster, and prefix of every other resource name."
  type        = string
  default     = "runner-controller"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", var.name))
    error_message = "name must be 1-32 letters, digits, `-` or `_` (it prefixes IAM role names)."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "VPC of the container instances."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the Auto Scaling Groups launch into. Runners need outbound HTTPS to GitHub, ECR and SSM (a NAT gateway or VPC endpoints); nothing connects in."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "security_group_ids" {
  description = "Extra security groups for the container instances, on top of the module's egress-only group."
  type        = list(string)
  default     = []
}

variable "capacity_providers" {
  description = <<-EOT
    Capacity providers by name (the name the config's `capacity_provider` uses). Each gets a
    launch template, an Auto Scaling Group (min 0) and an ECS capacity provider with managed
    scaling and managed termination protection.
    - architecture: "amd64" or "arm64"; picks the ECS-optimized AMI.
    - instance_type: must support the architecture and fit the largest task sent to it.
    - max_size: the group's max size; neither ECS nor the cluster autoscaler goes past it.
    - instance_cpu / instance_memory: the CPU units and MiB one instance registers with ECS,
      written to the group's `rc:instance-cpu` / `rc:instance-memory` tags, which the cluster
      autoscaler reads while the group has no instance. Default: vCPUs x 1024, and 92% of the
      instance memory minus `ecs_reserved_memory` (a little low only costs an extra instance).
    - root_volume_size: GiB of gp3 root volume (images and workspaces live there).
  EOT
  type = map(object({
    architecture     = string
    instance_type    = string
    max_size         = number
    instance_cpu     = optional(number)
    instance_memory  = optional(number)
    root_volume_size = optional(number, 100)
  }))

  validation {
    condition     = length(var.capacity_providers) > 0
    error_message = "capacity_providers needs at least one entry."
  }
  validation {
    condition     = alltrue([for cp in values(var.capacity_providers) : contains(["amd64", "arm64"], cp.architecture)])
    error_message = "Every capacity provider's architecture must be \"amd64\" or \"arm64\"."
  }
  validation {
    condition     = alltrue([for cp in values(var.capacity_providers) : cp.max_size >= 1 && floor(cp.max_size) == cp.max_size])
    error_message = "Every capacity provider's max_size must be a whole number of at least 1."
  }
  validation {
    # ECS rejects names starting with these prefixes.
    condition     = alltrue([for name in keys(var.capacity_providers) : can(regex("^[A-Za-z0-9_-]{1,255}$", name)) && !can(regex("^(?i)(aws|ecs|fargate)", name))])
    error_message = "Capacity provider names are letters, digits, `-` and `_`, and must not start with aws, ecs or fargate."
  }
}

variable "task_definitions" {
  description = <<-EOT
    Runner task definitions by family (the name the config's `task_definition` uses).
    - architecture: "amd64" or "arm64"; the task only runs on instances of that architecture.
    - cpu / memory: the task size when RunTask gives none. The manager always overrides both
      with the runner class's size, so several classes can share one family.
    - image: defaults to `runner_image`.
    - environment: extra plain environment variables. Never put secrets here: the runner's
      only secret, its JIT config, reaches it by SSM parameter name (RC_JIT_CONFIG_PARAM,
      set per task by the manager).
  EOT
  type = map(object({
    architecture = string
    cpu          = number
    memory       = number
    image        = optional(string)
    environment  = optional(map(string), {})
  }))

  validation {
    condition     = alltrue([for td in values(var.task_definitions) : contains(["amd64", "arm64"], td.architecture)])
    error_message = "Every task definition's architecture must be \"amd64\" or \"arm64\"."
  }
  validation {
    condition     = alltrue([for td in values(var.task_definitions) : td.cpu >= 128 && td.memory >= 128])
    error_message = "Task definitions need at least 128 CPU units and 128 MiB."
  }
}

variable "runner_image" {
  description = "Runner image (the project's images/runner, multi-arch) for task definitions that name none."
  type        = string
}

variable "container_name" {
  description = "Name of the runner container in every task definition (the config's `container`)."
  type        = string
  default     = "runner"
}

variable "network_mode" {
  description = "Task network mode. `bridge` (default) or `host`: the manager's RunTask sends no awsvpc network configuration, and awsvpc would also cap tasks per instance at its ENI count. `host` puts jobs on the instance's own network, where the IMDS hop limit does not stop them from using the instance role: use it only for trusted repositories."
  type        = string
  default     = "bridge"

  validation {
    condition     = contains(["bridge", "host"], var.network_mode)
    error_message = "network_mode must be \"bridge\" or \"host\"."
  }
}

variable "jit_parameter_prefix" {
  description = "SSM path of the runners' JIT configs (the manager's RC_SSM_PREFIX). The task role may read and delete parameters under it, nothing else."
  type        = string
  default     = "/runner-controller/jit"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.jit_parameter_prefix))
    error_message = "jit_parameter_prefix must be an absolute parameter path without a trailing `/`, e.g. /runner-controller/jit."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key the JIT parameters are encrypted with; null for the AWS managed aws/ssm key (which needs no IAM grant)."
  type        = string
  default     = null
}

variable "ecs_reserved_memory" {
  description = "MiB per instance kept from tasks for the OS and the ECS agent (ECS_RESERVED_MEMORY)."
  type        = number
  default     = 256
}

variable "ecs_agent_settings" {
  description = "Extra /etc/ecs/ecs.config lines, e.g. { ECS_IMAGE_PULL_BEHAVIOR = \"prefer-cached\" } to start runners faster from a fixed image tag."
  type        = map(string)
  default     = {}
}

variable "managed_scaling" {
  description = "ECS managed scaling of every capacity provider. It stays on next to the cluster autoscaler: it is what holds tasks in PROVISIONING and what scales in (see the README's cluster autoscaler section)."
  type = object({
    target_capacity           = optional(number, 100)
    minimum_scaling_step_size = optional(number, 1)
    maximum_scaling_step_size = optional(number, 10)
    instance_warmup_period    = optional(number, 120)
  })
  default = {}
}

variable "container_insights" {
  description = "ECS Container Insights: \"enabled\", \"enhanced\" or \"disabled\"."
  type        = string
  default     = "disabled"

  validation {
    condition     = contains(["enabled", "enhanced", "disabled"], var.container_insights)
    error_message = "container_insights must be \"enabled\", \"enhanced\" or \"disabled\"."
  }
}

variable "enable_ssm_session_manager" {
  description = "Attach AmazonSSMManagedInstanceCore to the instance role, for shell access to container instances."
  type        = bool
  default     = true
}

variable "force_delete_groups" {
  description = "Let `terraform destroy` delete the Auto Scaling Groups with instances still in them (they are scale-in protected, so a destroy otherwise waits for ECS)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the runner containers' log group."
  type        = number
  default     = 30
}
