# Offline checks of the pool's wiring, with a mocked AWS provider: the queue is FIFO with a
# DLQ, the table is keyed by `pk`, the task definition lifts nofile/nproc and names the queue
# and table, and the agent's role reaches only its queue and table.

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
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:ap-northeast-1:123456789012:rc-bench.fifo"
      url = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/rc-bench.fifo"
    }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:ap-northeast-1:123456789012:table/rc-bench-state" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
}

variables {
  name                         = "rc-bench"
  image                        = "registry.example.com/contest/bench-agent:1"
  portal_secret_parameter_name = "/contest/portal-secret"
  ops_token_parameter_name     = "/contest/ops-token"
}

run "queue_table_task_and_roles" {
  command = apply

  assert {
    condition     = aws_sqs_queue.jobs.fifo_queue && aws_sqs_queue.dlq.fifo_queue && !aws_sqs_queue.jobs.content_based_deduplication
    error_message = "the benchmark queue and its DLQ must be FIFO, deduplicated by job id"
  }

  assert {
    condition     = aws_dynamodb_table.state.hash_key == "pk" && one(aws_dynamodb_table.state.attribute).type == "S"
    error_message = "the state table is keyed by a string `pk`"
  }

  assert {
    condition = alltrue([
      for limit in jsondecode(aws_ecs_task_definition.bench.container_definitions)[0].ulimits :
      limit.softLimit >= 65535 && limit.hardLimit >= 65535
    ]) && length(jsondecode(aws_ecs_task_definition.bench.container_definitions)[0].ulimits) == 2
    error_message = "nofile and nproc must be lifted for a load generator"
  }

  assert {
    condition = toset([for e in jsondecode(aws_ecs_task_definition.bench.container_definitions)[0].environment : e.name]) == toset([
      "AWS_REGION", "RC_BENCH_QUEUE_URL", "RC_BENCH_TABLE", "RC_PORTAL_SECRET_PARAM",
    ])
    error_message = "the agent gets the queue, the table and the portal secret's name, and no secret"
  }

  assert {
    condition     = aws_ecs_task_definition.bench.cpu == "4096" && aws_ecs_task_definition.bench.memory == "8192"
    error_message = "the task size is the pool's"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.agent.policy).Statement :
      alltrue([for a in flatten([s.Action]) : !endswith(a, "*") && !contains(["sqs:SendMessage", "dynamodb:DeleteItem", "dynamodb:Scan"], a)])
    ])
    error_message = "the agent may only read and update state and receive from its queue"
  }

  assert {
    condition     = output.webhook_environment.RC_BENCH_OPS_TOKEN_PARAM == "/contest/ops-token"
    error_message = "the webhook learns the ops token's parameter name"
  }
}

run "controller_input_wires_routes_and_sweeper" {
  command = apply

  assert {
    condition = (
      output.controller.webhook_environment.RC_BENCH_QUEUE_URL == aws_sqs_queue.jobs.url &&
      output.controller.manager_environment.RC_BENCH_TABLE == aws_dynamodb_table.state.name &&
      output.controller.manager_environment.RC_PORTAL_SECRET_PARAM == "/contest/portal-secret"
    )
    error_message = "the controller module gets the queue and table for the routes and the sweeper"
  }

  assert {
    condition     = contains(flatten([for s in jsondecode(output.controller.intake_policy_json).Statement : s.Action]), "sqs:SendMessage")
    error_message = "the intake may send to the queue"
  }
}
