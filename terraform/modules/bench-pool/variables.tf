# Inputs of the benchmarker pool: the image (images/bench), the one task size every run gets,
# the load generator's limits, and the secret parameters the agent and the intake read.

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "rc-bench"

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

variable "image" {
  description = "The benchmarker image built from images/bench (the agent is its entrypoint)."
  type        = string
}

variable "task_definition_family" {
  description = "Family of the pool's task definition: the config's benchmarks.pool.task_definition."
  type        = string
  default     = "isucon-bench"
}

variable "container_name" {
  description = "Container name: the config's benchmarks.pool.container."
  type        = string
  default     = "bench"
}

variable "cpu" {
  description = "Task CPU units: the config's benchmarks.pool.cpu, the same for every run."
  type        = number
  default     = 4096
}

variable "memory" {
  description = "Task memory (MiB): the config's benchmarks.pool.memory."
  type        = number
  default     = 8192
}

variable "architecture" {
  description = "\"amd64\" or \"arm64\": the architecture of the pool's capacity provider."
  type        = string
  default     = "amd64"

  validation {
    condition     = contains(["amd64", "arm64"], var.architecture)
    error_message = "architecture must be amd64 or arm64."
  }
}

variable "network_mode" {
  description = "Task network mode."
  type        = string
  default     = "awsvpc"
}

variable "nofile_limit" {
  description = "Open files per process. A load generator holds one socket per connection; Docker's default of 1,024 (the limit that kept benchmarkers out of Lambda) is far too low."
  type        = number
  default     = 1048576
}

variable "nproc_limit" {
  description = "Processes (threads) per user in the task, for load generators that spawn workers."
  type        = number
  default     = 65535
}

variable "portal_secret_parameter_name" {
  description = "SSM SecureString holding RC_PORTAL_SECRET (the portal callback's HMAC key); null when no portal is configured."
  type        = string
  default     = null
}

variable "ops_token_parameter_name" {
  description = "SSM SecureString holding the ops token (list and board); read by the intake only."
  type        = string
  default     = null
}

variable "queue_max_receive_count" {
  description = "Receives before a benchmark message goes to the DLQ. A message comes back only when its worker died before ending the job; the job is then running or ended, and the next receive drops it."
  type        = number
  default     = 5
}

variable "log_retention_days" {
  description = "Days the agents' logs are kept."
  type        = number
  default     = 30
}
