# Offline checks of the cluster's key wiring, with a mocked AWS provider: groups start at zero,
# stay under their max and are scale-in protected; capacity providers keep managed scaling and
# managed termination protection on; the runner task role reaches only the JIT prefix; task
# definitions match their architecture and carry no secrets.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_ec2_instance_type" {
    defaults = {
      default_vcpus           = 16
      memory_size             = 65536
      supported_architectures = ["x86_64", "arm64"]
    }
  }
  mock_resource "aws_autoscaling_group" {
    defaults = { arn = "arn:aws:autoscaling:ap-northeast-1:123456789012:autoScalingGroup:0000:autoScalingGroupName/mock" }
  }
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = { arn = "arn:aws:iam::123456789012:instance-profile/mock" }
  }
}

variables {
  name         = "rc-test"
  vpc_id       = "vpc-0123456789abcdef0"
  subnet_ids   = ["subnet-0123456789abcdef0"]
  runner_image = "ghcr.io/example/runner:1"
  capacity_providers = {
    cp-amd64 = { architecture = "amd64", instance_type = "m7i.4xlarge", max_size = 7 }
    cp-arm64 = { architecture = "arm64", instance_type = "m7g.4xlarge", max_size = 3, instance_cpu = 16000, instance_memory = 60000 }
  }
  task_definitions = {
    github-runner-amd64 = { architecture = "amd64", cpu = 2048, memory = 4096 }
    github-runner-arm64 = { architecture = "arm64", cpu = 2048, memory = 4096 }
  }
  jit_parameter_prefix = "/rc-test/jit"
}

run "groups_start_at_zero_and_respect_max" {
  command = apply

  assert {
    condition     = aws_autoscaling_group.this["cp-amd64"].max_size == 7 && aws_autoscaling_group.this["cp-arm64"].max_size == 3
    error_message = "Each group's max_size must be its capacity provider's max_size."
  }
  assert {
    condition     = alltrue([for g in aws_autoscaling_group.this : g.min_size == 0 && g.protect_from_scale_in])
    error_message = "Groups must start at zero and protect instances from scale-in."
  }
  assert {
    condition     = alltrue([for g in aws_autoscaling_group.this : anytrue([for t in g.tag : t.key == "AmazonECSManaged" && t.propagate_at_launch])])
    error_message = "Groups must carry the AmazonECSManaged tag, propagated to instances."
  }
  assert {
    condition = (
      one([for t in aws_autoscaling_group.this["cp-amd64"].tag : t.value if t.key == "rc:instance-cpu"]) == "16384" &&
      one([for t in aws_autoscaling_group.this["cp-amd64"].tag : t.value if t.key == "rc:instance-memory"]) == tostring(floor(65536 * 0.92) - 256) &&
      one([for t in aws_autoscaling_group.this["cp-arm64"].tag : t.value if t.key == "rc:instance-cpu"]) == "16000"
    )
    error_message = "rc:instance-* tags must come from the instance type, or from the explicit override."
  }
}

run "capacity_providers_keep_managed_scaling_and_termination_protection" {
  command = apply

  assert {
    condition = alltrue([for cp in aws_ecs_capacity_provider.this :
      cp.auto_scaling_group_provider[0].managed_termination_protection == "ENABLED" &&
      cp.auto_scaling_group_provider[0].managed_scaling[0].status == "ENABLED"
    ])
    error_message = "Every capacity provider needs managed scaling and managed termination protection ENABLED."
  }
  assert {
    condition     = toset(aws_ecs_cluster_capacity_providers.this.capacity_providers) == toset(["cp-amd64", "cp-arm64"])
    error_message = "The cluster must be associated with every capacity provider, by the config's names."
  }
  assert {
    condition     = strcontains(base64decode(aws_launch_template.this["cp-arm64"].user_data), "\nECS_CLUSTER=rc-test\n")
    error_message = "user_data must write ECS_CLUSTER."
  }
  assert {
    condition     = data.aws_ssm_parameter.ami["arm64"].name == "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
    error_message = "arm64 groups must use the arm64 ECS-optimized AMI."
  }
  assert {
    condition     = aws_launch_template.this["cp-amd64"].metadata_options[0].http_put_response_hop_limit == 1
    error_message = "Containers must not reach the instance role through IMDS."
  }
}

run "task_role_reaches_only_the_jit_prefix" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role_policy.task.policy).Statement == [
      {
        Sid      = "ReadThenDeleteOwnJitConfig"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter", "ssm:DeleteParameter"]
        Resource = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/rc-test/jit/*"
      },
      {
        Sid    = "NoParameterDiscovery"
        Effect = "Deny"
        Action = [
          "ssm:DescribeParameters",
          "ssm:GetParametersByPath",
          "ssm:GetParameters",
          "ssm:GetParameterHistory",
          "ssm:ListTagsForResource",
        ]
        Resource = "*"
      },
    ]
    error_message = "The task role may only get and delete parameters under the JIT prefix by name, and never list or search them."
  }
}

run "task_definitions_match_architecture_and_hold_no_secrets" {
  command = apply

  assert {
    condition     = aws_ecs_task_definition.runner["github-runner-arm64"].runtime_platform[0].cpu_architecture == "ARM64"
    error_message = "arm64 task definitions must ask for ARM64."
  }
  assert {
    condition     = alltrue([for td in aws_ecs_task_definition.runner : td.network_mode == "bridge"])
    error_message = "Task definitions default to bridge networking."
  }
  assert {
    condition = alltrue([for td in aws_ecs_task_definition.runner :
      jsondecode(td.container_definitions)[0].name == "runner" &&
      !can(jsondecode(td.container_definitions)[0].secrets) &&
      !strcontains(td.container_definitions, "RC_JIT_CONFIG_PARAM")
    ])
    error_message = "The runner container is named `runner` and carries no secrets; RC_JIT_CONFIG_PARAM comes per task."
  }
  assert {
    condition = alltrue([for td in aws_ecs_task_definition.runner :
      jsondecode(td.container_definitions)[0].linuxParameters.initProcessEnabled == false
    ])
    error_message = "The entrypoint is PID 1, so no init keeps the task's credentials URI in /proc/1/environ."
  }
}

run "kms_key_adds_decrypt_via_ssm_only" {
  command = apply

  variables {
    kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.task.policy).Statement : s if s.Sid == "DecryptJitConfig"]) == {
      Sid       = "DecryptJitConfig"
      Effect    = "Allow"
      Action    = "kms:Decrypt"
      Resource  = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      Condition = { StringEquals = { "kms:ViaService" = "ssm.ap-northeast-1.amazonaws.com" } }
    }
    error_message = "A customer key adds kms:Decrypt through SSM only."
  }
}

run "rejects_unknown_architecture" {
  command = plan

  variables {
    capacity_providers = {
      cp-riscv = { architecture = "riscv64", instance_type = "m7i.large", max_size = 1 }
    }
  }

  expect_failures = [var.capacity_providers]
}

run "rejects_instance_type_of_the_wrong_architecture" {
  command = plan

  override_data {
    target = data.aws_ec2_instance_type.this["cp-arm64"]
    values = { default_vcpus = 16, memory_size = 65536, supported_architectures = ["x86_64"] }
  }

  expect_failures = [aws_launch_template.this["cp-arm64"]]
}
