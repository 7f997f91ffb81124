# The benchmarker pool's state and queue: a FIFO queue (one message group per team, first come
# first served) with its DLQ, and a DynamoDB table keyed by `pk` holding jobs and the per-team
# locks. The intake (webhook) writes both; agents read and update them; the tick's sweeper
# reads and updates the table.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  ecs_architecture = { amd64 = "X86_64", arm64 = "ARM64" }
  parameter_arn = {
    for name in compact([var.portal_secret_parameter_name, var.ops_token_parameter_name]) :
    name => "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter/${trimprefix(name, "/")}"
  }
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-dlq.fifo"
  fifo_queue                = true
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_sqs_queue" "jobs" {
  name       = "${var.name}.fifo"
  fifo_queue = true
  # Deduplication by MessageDeduplicationId = job id, set by the intake.
  content_based_deduplication = false
  # The agent sets its own visibility at receive and extends it while running.
  visibility_timeout_seconds = 60
  # A contest day; a job older than that is not worth running.
  message_retention_seconds = 86400
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.queue_max_receive_count
  })
  tags = var.tags
}

resource "aws_dynamodb_table" "state" {
  name         = "${var.name}-state"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = var.tags
}
