# Provider requirements. Terraform 1.11 is the first release with write-only arguments, which
# the controller module uses for secrets; both modules ask for it so they are used together.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.90"
    }
  }
}
