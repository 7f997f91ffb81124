# A complete deployment: the runner cluster and the controller, wired to the DeNA-like config
# (four sizes in two architectures). The task definitions and capacity providers are the ones
# the config names, so the config and the infrastructure cannot drift apart: a class naming a
# provider or a size the cluster cannot serve fails the plan.

locals {
  config_file = coalesce(var.config_file, "${path.module}/../../../config/examples/dena.yaml")
  config_yaml = file(local.config_file)
  classes     = yamldecode(local.config_yaml).classes

  jit_parameter_prefix = "/${var.name}/jit"

  # One task definition per family the config names. Its architecture is its capacity
  # provider's, and its default size the smallest class using it: the manager overrides the
  # size with each class's own at RunTask.
  families = distinct([for class in local.classes : class.task_definition])
  task_definitions = {
    for family in local.families : family => {
      # The capacity_providers variable checks that this is exactly one.
      architecture = one(distinct([
        for class in local.classes : var.capacity_providers[class.capacity_provider].architecture
        if class.task_definition == family
      ]))
      cpu    = min([for class in local.classes : class.cpu if class.task_definition == family]...)
      memory = min([for class in local.classes : class.memory if class.task_definition == family]...)
    }
  }

  # Null lets the controller module use this repository's target/lambda.
  zip = { for binary in ["rc-webhook", "rc-manager", "rc-cluster-autoscaler", "rc-config-validator"] :
    binary => var.lambda_zip_dir == null ? null : "${var.lambda_zip_dir}/${binary}/bootstrap.zip"
  }

  # Classes no instance of their capacity provider can hold (checked by output.task_definitions).
  oversized_classes = [for class in local.classes : class.name if
    class.cpu > module.runner_cluster.instance_capacity[class.capacity_provider].cpu ||
    class.memory > module.runner_cluster.instance_capacity[class.capacity_provider].memory
  ]
}

module "runner_cluster" {
  source = "../../modules/runner-cluster"

  name                 = var.name
  tags                 = var.tags
  vpc_id               = var.vpc_id
  subnet_ids           = var.subnet_ids
  capacity_providers   = var.capacity_providers
  task_definitions     = local.task_definitions
  runner_image         = var.runner_image
  jit_parameter_prefix = local.jit_parameter_prefix
}

module "controller" {
  source = "../../modules/controller"

  name = var.name
  tags = var.tags

  cluster_name             = module.runner_cluster.cluster_name
  cluster_arn              = module.runner_cluster.cluster_arn
  task_definition_families = module.runner_cluster.task_definition_families
  pass_role_arns           = module.runner_cluster.pass_role_arns
  autoscaling_group_arns   = values(module.runner_cluster.autoscaling_group_arns)
  jit_parameter_prefix     = module.runner_cluster.jit_parameter_prefix

  webhook_zip            = local.zip["rc-webhook"]
  manager_zip            = local.zip["rc-manager"]
  cluster_autoscaler_zip = local.zip["rc-cluster-autoscaler"]
  config_validator_zip   = local.zip["rc-config-validator"]

  github_app_id                  = var.github_app_id
  github_app_key                 = var.github_app_key
  github_app_key_parameter_name  = var.github_app_key_parameter_name
  webhook_secret                 = var.webhook_secret
  webhook_secret_parameter_names = var.webhook_secret_parameter_names

  config_yaml               = local.config_yaml
  appconfig_agent_layer_arn = var.appconfig_agent_layer_arn
}
