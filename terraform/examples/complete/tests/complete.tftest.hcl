# Offline checks of the example's wiring, with a mocked AWS provider: the task definitions and
# capacity providers come from the DeNA-like config, and a config the cluster cannot serve
# fails the plan with a clear reason.

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
  mock_resource "aws_launch_template" {
    defaults = { id = "lt-0123456789abcdef0" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = { arn = "arn:aws:iam::123456789012:instance-profile/mock" }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = { arn = "arn:aws:ecs:ap-northeast-1:123456789012:cluster/runner-controller" }
  }
  mock_resource "aws_autoscaling_group" {
    defaults = { arn = "arn:aws:autoscaling:ap-northeast-1:123456789012:autoScalingGroup:0000:autoScalingGroupName/mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:ap-northeast-1:123456789012:mock"
      url = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/mock"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:ap-northeast-1:123456789012:rule/mock" }
  }
  mock_resource "aws_lambda_function_url" {
    defaults = { function_url = "https://abc.lambda-url.ap-northeast-1.on.aws/" }
  }
  mock_resource "aws_appconfig_application" {
    defaults = { id = "app1234" }
  }
  mock_resource "aws_appconfig_environment" {
    defaults = { environment_id = "env1234" }
  }
  mock_resource "aws_appconfig_configuration_profile" {
    defaults = { configuration_profile_id = "prof123" }
  }
}

variables {
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-0123456789abcdef0"]
  runner_image              = "ghcr.io/example/runner:1"
  github_app_id             = "12345"
  github_app_key            = "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----"
  webhook_secret            = "not-a-secret"
  appconfig_agent_layer_arn = "arn:aws:lambda:ap-northeast-1:980059726660:layer:AWS-AppConfig-Extension-Arm64:1"
}

run "builds_the_cluster_the_config_names" {
  command = apply

  assert {
    condition = output.task_definitions == {
      github-runner-amd64 = { architecture = "amd64", cpu = 2048, memory = 4096 }
      github-runner-arm64 = { architecture = "arm64", cpu = 2048, memory = 4096 }
    }
    error_message = "One task definition per family the config names, of its capacity provider's architecture."
  }
  assert {
    condition     = toset(module.runner_cluster.capacity_provider_names) == toset(["cp-amd64", "cp-arm64"])
    error_message = "The capacity providers carry the config's names."
  }
  assert {
    condition     = output.github_webhook_url == "https://abc.lambda-url.ap-northeast-1.on.aws/github/webhook"
    error_message = "GitHub posts to the webhook's /github/webhook route."
  }
  assert {
    condition     = output.jobs_queue_url == "https://sqs.ap-northeast-1.amazonaws.com/123456789012/mock"
    error_message = "The jobs queue URL is an output."
  }
}

run "rejects_a_config_naming_a_missing_capacity_provider" {
  command = plan

  variables {
    capacity_providers = {
      cp-amd64 = { architecture = "amd64", instance_type = "m7i.4xlarge", max_size = 20 }
    }
  }

  expect_failures = [var.capacity_providers]
}

run "rejects_classes_larger_than_an_instance" {
  command = plan

  variables {
    capacity_providers = {
      cp-amd64 = { architecture = "amd64", instance_type = "m7i.2xlarge", max_size = 20, instance_cpu = 8192 }
      cp-arm64 = { architecture = "arm64", instance_type = "m7g.4xlarge", max_size = 20 }
    }
  }

  expect_failures = [output.task_definitions]
}
