# The ECS cluster and its EC2 capacity: per capacity provider a launch template (ECS-optimized
# AMI of its architecture), an Auto Scaling Group that starts at zero, and a capacity provider
# with managed scaling and managed termination protection, so ECS alone scales in and never
# terminates an instance that still runs a runner. The cluster autoscaler Lambda raises desired
# capacity for tasks waiting in PROVISIONING; it reads the groups' rc:instance-* tags while they
# are empty.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # ECS-optimized Amazon Linux 2023 AMIs, published as SSM public parameters.
  ami_parameter = {
    amd64 = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    arm64 = "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
  }
  # Architecture names of EC2 (DescribeInstanceTypes) and ECS (runtimePlatform).
  ec2_architecture = { amd64 = "x86_64", arm64 = "arm64" }
  ecs_architecture = { amd64 = "X86_64", arm64 = "ARM64" }

  architectures = toset([for cp in values(var.capacity_providers) : cp.architecture])

  ecs_config = merge(
    {
      ECS_CLUSTER              = aws_ecs_cluster.this.name
      ECS_RESERVED_MEMORY      = tostring(var.ecs_reserved_memory)
      ECS_ENABLE_TASK_IAM_ROLE = "true"
    },
    var.ecs_agent_settings,
  )
  user_data = join("\n", concat(
    ["#!/bin/bash", "cat >> /etc/ecs/ecs.config <<'CONFIG'"],
    [for key, value in local.ecs_config : "${key}=${value}"],
    ["CONFIG", ""],
  ))

  # What one instance registers with ECS; see the capacity_providers variable.
  instance_capacity = {
    for name, cp in var.capacity_providers : name => {
      cpu    = coalesce(cp.instance_cpu, data.aws_ec2_instance_type.this[name].default_vcpus * 1024)
      memory = coalesce(cp.instance_memory, floor(data.aws_ec2_instance_type.this[name].memory_size * 0.92) - var.ecs_reserved_memory)
    }
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = var.container_insights
  }
}

data "aws_ssm_parameter" "ami" {
  for_each = local.architectures
  name     = local.ami_parameter[each.key]
}

data "aws_ec2_instance_type" "this" {
  for_each      = var.capacity_providers
  instance_type = each.value.instance_type
}

resource "aws_security_group" "instances" {
  name_prefix = "${var.name}-instances-"
  description = "Runner container instances: outbound only."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-instances" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.instances.id
  description       = "Runners reach GitHub, registries and AWS APIs."
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_launch_template" "this" {
  for_each = var.capacity_providers

  name_prefix            = "${var.name}-${each.key}-"
  image_id               = data.aws_ssm_parameter.ami[each.value.architecture].insecure_value
  instance_type          = each.value.instance_type
  user_data              = base64encode(local.user_data)
  vpc_security_group_ids = concat([aws_security_group.instances.id], var.security_group_ids)
  update_default_version = true
  tags                   = var.tags

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance.arn
  }

  # IMDSv2 with a hop limit of 1: a runner container on the bridge network is one hop further
  # away, so jobs cannot borrow the instance role. (The module offers no awsvpc mode, where
  # ECS_AWSVPC_BLOCK_IMDS would be needed instead; host mode shares the instance's network and
  # reaches IMDS: see network_mode.)
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = each.value.root_volume_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-${each.key}" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = "${var.name}-${each.key}" })
  }

  lifecycle {
    precondition {
      condition     = contains(data.aws_ec2_instance_type.this[each.key].supported_architectures, local.ec2_architecture[each.value.architecture])
      error_message = "Capacity provider ${each.key}: instance type ${each.value.instance_type} does not support ${each.value.architecture}."
    }
  }
}

resource "aws_autoscaling_group" "this" {
  for_each = var.capacity_providers

  name                = "${var.name}-${each.key}"
  vpc_zone_identifier = var.subnet_ids
  min_size            = 0
  max_size            = each.value.max_size
  # Managed termination protection requires every instance to start protected; ECS lifts the
  # protection from instances without tasks when it scales in.
  protect_from_scale_in = true
  force_delete          = var.force_delete_groups

  launch_template {
    id      = aws_launch_template.this[each.key].id
    version = aws_launch_template.this[each.key].latest_version
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  tag {
    key                 = "rc:instance-cpu"
    value               = tostring(local.instance_capacity[each.key].cpu)
    propagate_at_launch = false
  }

  tag {
    key                 = "rc:instance-memory"
    value               = tostring(local.instance_capacity[each.key].memory)
    propagate_at_launch = false
  }

  dynamic "tag" {
    for_each = var.tags
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Desired capacity belongs to ECS managed scaling and the cluster autoscaler.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "this" {
  for_each = var.capacity_providers

  name = each.key
  tags = var.tags

  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.this[each.key].arn
    managed_termination_protection = "ENABLED"
    managed_draining               = "ENABLED"

    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = var.managed_scaling.target_capacity
      minimum_scaling_step_size = var.managed_scaling.minimum_scaling_step_size
      maximum_scaling_step_size = var.managed_scaling.maximum_scaling_step_size
      instance_warmup_period    = var.managed_scaling.instance_warmup_period
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = [for cp in aws_ecs_capacity_provider.this : cp.name]
}
