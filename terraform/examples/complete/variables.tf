# Inputs of the complete example. Only the network, the runner image, the GitHub App and the
# AppConfig agent layer have no default; the config defaults to the DeNA-like example.

variable "region" {
  description = "AWS region."
  type        = string
  default     = "ap-northeast-1"
}

variable "name" {
  description = "Name of the deployment: the ECS cluster, and the prefix of everything else."
  type        = string
  default     = "runner-controller"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = { Project = "runner-controller" }
}

variable "config_file" {
  description = "Controller config (YAML); null for config/examples/dena.yaml of this repository. Check it with `runner-controller validate` first."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC of the runner instances."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (with a NAT gateway or VPC endpoints) the runner instances launch into."
  type        = list(string)
}

variable "runner_image" {
  description = "Runner image (images/runner of this repository, built for both architectures)."
  type        = string
}

variable "capacity_providers" {
  description = "Capacity providers by the names the config uses; see the runner-cluster module. Instance types must fit the config's largest class on them (the xlarge classes take 16 vCPU, 32 GiB)."
  type = map(object({
    architecture     = string
    instance_type    = string
    max_size         = number
    instance_cpu     = optional(number)
    instance_memory  = optional(number)
    root_volume_size = optional(number, 100)
  }))
  default = {
    cp-amd64 = { architecture = "amd64", instance_type = "m7i.4xlarge", max_size = 20 }
    cp-arm64 = { architecture = "arm64", instance_type = "m7g.4xlarge", max_size = 20 }
  }

  # Checked here, against the config, so a mismatch is reported before anything is built from it.
  validation {
    condition     = alltrue([for class in local.classes : contains(keys(var.capacity_providers), class.capacity_provider)])
    error_message = "Every class's capacity_provider must be a key of capacity_providers; the config names ${join(", ", distinct([for class in local.classes : class.capacity_provider]))}."
  }
  validation {
    condition = alltrue([for family in local.families :
      length(distinct([for class in local.classes : try(var.capacity_providers[class.capacity_provider].architecture, "") if class.task_definition == family])) == 1
    ])
    error_message = "Classes sharing a task_definition must use capacity providers of one architecture."
  }
}

variable "github_app_id" {
  description = "GitHub App id."
  type        = string
}

variable "github_app_key_parameter_name" {
  description = "Existing SecureString parameter holding the App's private key; null to create one from github_app_key."
  type        = string
  default     = null
}

variable "github_app_key" {
  description = "The App's private key (PEM), to create its parameter (e.g. TF_VAR_github_app_key=\"$(cat key.pem)\"). Write-only."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "webhook_secret_parameter_names" {
  description = "Existing SecureString parameters holding the webhook secret; empty to create one from webhook_secret."
  type        = list(string)
  default     = []
}

variable "webhook_secret" {
  description = "The webhook secret, to create its parameter. Write-only."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true
}

variable "appconfig_agent_layer_arn" {
  description = "AWS AppConfig Agent Lambda extension layer (arm64) of the region."
  type        = string
}

variable "lambda_zip_dir" {
  description = "Directory holding <binary>/bootstrap.zip from `cargo lambda build --release --arm64 --output-format zip`; null for this repository's target/lambda."
  type        = string
  default     = null
}
