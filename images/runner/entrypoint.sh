#!/usr/bin/env bash
# Starts one ephemeral runner from the JIT config the manager stored in SSM.
#
# The manager sets RC_JIT_CONFIG_PARAM (the parameter's name, never its value) on RunTask. The
# task role may read and delete only parameters under the controller's prefix. The parameter is
# deleted before the runner starts so the credential exists in exactly one place; a runner that
# dies before registering is stopped by the reaper after the boot timeout.
set -euo pipefail

: "${RC_JIT_CONFIG_PARAM:?RC_JIT_CONFIG_PARAM must name the SSM parameter holding the JIT config}"

jit_config=$(aws ssm get-parameter --with-decryption --name "$RC_JIT_CONFIG_PARAM" \
    --query Parameter.Value --output text)
aws ssm delete-parameter --name "$RC_JIT_CONFIG_PARAM" || true

# Every runner task shares one task role, which may read any JIT parameter under the prefix;
# job steps must not inherit it, or a job could read another runner's registration.
unset AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE

cd /home/runner
exec ./run.sh --jitconfig "$jit_config"
