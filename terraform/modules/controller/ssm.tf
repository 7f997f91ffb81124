# Parameter Store throughput for the JIT configs the manager writes, one per launch.
#
# PutParameter is throttled per account and Region (3 transactions per second by default, 10
# with higher throughput: "AWS Systems Manager endpoints and quotas"). The manager spaces its
# writes at RC_SSM_PUT_RATE and retries throttled ones, so a burst of launches waits rather than
# fails; higher throughput shortens that wait, at a price (see the README, "SSM throughput").

locals {
  ssm_put_rate = coalesce(var.ssm_put_rate, var.ssm_high_throughput ? 10 : 3)
}

# An account-and-Region setting: it applies to every Parameter Store caller there, and
# destroying this resource resets it to the standard throughput.
resource "aws_ssm_service_setting" "high_throughput" {
  count         = var.ssm_high_throughput ? 1 : 0
  setting_id    = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:servicesetting/ssm/parameter-store/high-throughput-enabled"
  setting_value = "true"
}
