# The webhook secret and the GitHub App private key as SSM SecureString parameters: either
# existing ones by name, or created here from write-only values that never reach the state.

locals {
  secret_parameter_prefix = coalesce(var.secret_parameter_prefix, "/${var.name}")

  webhook_secret_parameter_names = length(var.webhook_secret_parameter_names) > 0 ? var.webhook_secret_parameter_names : aws_ssm_parameter.webhook_secret[*].name
  github_app_key_parameter_name  = var.github_app_key_parameter_name != null ? var.github_app_key_parameter_name : one(aws_ssm_parameter.github_app_key[*].name)
}

resource "aws_ssm_parameter" "webhook_secret" {
  count = length(var.webhook_secret_parameter_names) == 0 ? 1 : 0

  name             = "${local.secret_parameter_prefix}/webhook-secret"
  description      = "GitHub webhook secret of ${var.name} (HMAC key of X-Hub-Signature-256)."
  type             = "SecureString"
  key_id           = var.kms_key_arn
  value_wo         = var.webhook_secret
  value_wo_version = var.webhook_secret_version
  tags             = var.tags
}

resource "aws_ssm_parameter" "github_app_key" {
  count = var.github_app_key_parameter_name == null ? 1 : 0

  name             = "${local.secret_parameter_prefix}/github-app-key"
  description      = "GitHub App private key (PEM) of ${var.name}."
  type             = "SecureString"
  tier             = "Standard"
  key_id           = var.kms_key_arn
  value_wo         = var.github_app_key
  value_wo_version = var.github_app_key_version
  tags             = var.tags
}
