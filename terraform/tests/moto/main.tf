# Harness for scripts/terraform-check.sh: applies the runner-cluster module against a moto
# server (the AWS emulator the project tests with), checks a second plan is empty, and destroys
# it. The controller module is only planned against moto (in the complete example): moto
# answers 404 for AppConfig environments and deployments.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.90"
    }
  }
}

variable "endpoint" {
  description = "URL of the moto server."
  type        = string
}

provider "aws" {
  region                      = "ap-northeast-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  max_retries                 = 1

  endpoints {
    autoscaling = var.endpoint
    ec2         = var.endpoint
    ecs         = var.endpoint
    iam         = var.endpoint
    logs        = var.endpoint
    ssm         = var.endpoint
    sts         = var.endpoint
  }
}

resource "aws_vpc" "this" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "this" {
  vpc_id     = aws_vpc.this.id
  cidr_block = "10.0.1.0/24"
}

module "runner_cluster" {
  source = "../../modules/runner-cluster"

  name                = "rc-moto"
  vpc_id              = aws_vpc.this.id
  subnet_ids          = [aws_subnet.this.id]
  runner_image        = "example/runner:1"
  force_delete_groups = true

  capacity_providers = {
    cp-amd64 = { architecture = "amd64", instance_type = "m7i.4xlarge", max_size = 5 }
    cp-arm64 = { architecture = "arm64", instance_type = "m7g.4xlarge", max_size = 5 }
  }
  task_definitions = {
    github-runner-amd64 = { architecture = "amd64", cpu = 2048, memory = 4096 }
    github-runner-arm64 = { architecture = "arm64", cpu = 2048, memory = 4096 }
  }
}

output "capacity_provider_names" {
  value = module.runner_cluster.capacity_provider_names
}
