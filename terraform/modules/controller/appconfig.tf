# The controller config in AWS AppConfig: one application, environment and freeform profile,
# the YAML as a hosted version, and its deployment. The webhook and the manager read it through
# the AppConfig agent extension and keep the last good config when a new one fails to parse;
# the validator Lambda (created in main.tf, or an existing one; one of the two is required)
# refuses a bad config before it is deployed at all.

locals {
  config_validator_arn = var.config_validator_lambda_arn != null ? var.config_validator_lambda_arn : one(aws_lambda_function.config_validator[*].arn)
}

resource "aws_appconfig_application" "this" {
  name        = var.name
  description = "runner-controller config"
  tags        = var.tags
}

resource "aws_appconfig_environment" "this" {
  name           = var.appconfig_environment
  application_id = aws_appconfig_application.this.id
  tags           = var.tags
}

resource "aws_appconfig_configuration_profile" "this" {
  name           = var.appconfig_profile
  application_id = aws_appconfig_application.this.id
  location_uri   = "hosted"
  type           = "AWS.Freeform"
  tags           = var.tags

  validator {
    type    = "LAMBDA"
    content = local.config_validator_arn
  }

  # AppConfig calls the validator when a deployment starts. Ordering the profile after the
  # permission orders every version and deployment of it after it too, from the first apply.
  depends_on = [aws_lambda_permission.appconfig_validator]
}

resource "aws_lambda_permission" "appconfig_validator" {
  statement_id   = "${var.name}-appconfig-validator"
  action         = "lambda:InvokeFunction"
  function_name  = local.config_validator_arn
  principal      = "appconfig.amazonaws.com"
  source_account = local.account_id
}

resource "aws_appconfig_hosted_configuration_version" "this" {
  application_id           = aws_appconfig_application.this.id
  configuration_profile_id = aws_appconfig_configuration_profile.this.configuration_profile_id
  content_type             = "application/x-yaml"
  content                  = var.config_yaml
  description              = "Deployed by Terraform"
}

resource "aws_appconfig_deployment" "this" {
  application_id           = aws_appconfig_application.this.id
  environment_id           = aws_appconfig_environment.this.environment_id
  configuration_profile_id = aws_appconfig_configuration_profile.this.configuration_profile_id
  configuration_version    = aws_appconfig_hosted_configuration_version.this.version_number
  deployment_strategy_id   = var.appconfig_deployment_strategy_id
  description              = "Deployed by Terraform"
  tags                     = var.tags
}
