# What invokes the manager and the cluster autoscaler besides the jobs queue: a one-minute tick
# for the manager (warm pools, reaper, lost-event recovery; the function receives EventBridge's
# "Scheduled Event"), and for the cluster autoscaler every ECS task of the cluster entering
# PROVISIONING plus a one-minute safety-net schedule.

locals {
  rules = {
    manager-tick = {
      function            = "manager"
      description         = "Manager tick: warm pools, reaper, lost-event recovery."
      schedule_expression = var.tick_schedule
      event_pattern       = null
    }
    cluster-autoscaler-provisioning = {
      function            = "cluster-autoscaler"
      description         = "Runner tasks waiting in PROVISIONING for an instance."
      schedule_expression = null
      event_pattern = jsonencode({
        source        = ["aws.ecs"]
        "detail-type" = ["ECS Task State Change"]
        detail = {
          clusterArn = [var.cluster_arn]
          lastStatus = ["PROVISIONING"]
        }
      })
    }
    cluster-autoscaler-schedule = {
      function            = "cluster-autoscaler"
      description         = "Cluster autoscaler safety net for lost events."
      schedule_expression = var.cluster_autoscaler_schedule
      event_pattern       = null
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.rules

  name                = "${var.name}-${each.key}"
  description         = each.value.description
  schedule_expression = each.value.schedule_expression
  event_pattern       = each.value.event_pattern
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.rules

  rule = aws_cloudwatch_event_rule.this[each.key].name
  arn  = aws_lambda_function.this[each.value.function].arn
}

resource "aws_lambda_permission" "events" {
  for_each = local.rules

  statement_id  = "events-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value.function].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.key].arn
}
