#!/usr/bin/env bash
# Checks the Terraform under terraform/ without network access and without touching the tree:
#
#   1. `terraform fmt -check -recursive terraform/`;
#   2. for every module, example and test harness: `terraform init -backend=false` from a
#      local provider mirror, `terraform validate`, and `terraform test` when it has tests
#      (they mock the AWS provider, so they need no credentials);
#   3. against a moto server on a free loopback port, when moto is installed
#      (`pip install 'moto[server]'`): apply the runner-cluster module (terraform/tests/moto),
#      check that a second plan is empty, destroy it; then plan the complete example.
#      TF_CHECK_MOTO=0 skips this step, TF_CHECK_MOTO=1 fails when moto is missing.
#
# Steps 2 and 3 run on a copy of terraform/ and config/examples/ in a temporary directory, so
# no .terraform/, lock file or state lands in the repository.
#
# The provider mirror (a filesystem-mirror layout, <dir>/registry.terraform.io/hashicorp/aws/...)
# is $TF_PLUGIN_DIR if set, else /opt/tf-plugins if it exists, else found by searching for a
# terraform-provider-aws binary.
#
# Usage: scripts/terraform-check.sh        Exit status: 0 when every step passed, 1 otherwise.

set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
failures=()

run() {
    echo "+ $*"
    "$@"
}

# run, with the command's own output dropped (errors still show).
run_quiet() {
    run_to /dev/null "$@"
}

# run, with the command's own output written to the file $1.
run_to() {
    local out="$1"
    shift
    echo "+ $* >$out"
    "$@" >"$out"
}

fail() {
    echo "error: $*" >&2
    exit 1
}

# The directory to pass as -plugin-dir: the part of a provider binary's path before
# /registry.terraform.io/ (the mirror layout terraform expects).
find_plugin_dir() {
    if [[ -n "${TF_PLUGIN_DIR:-}" ]]; then
        [[ -d "$TF_PLUGIN_DIR" ]] || fail "TF_PLUGIN_DIR=$TF_PLUGIN_DIR is not a directory"
        echo "$TF_PLUGIN_DIR"
        return
    fi
    if [[ -d /opt/tf-plugins ]]; then
        echo /opt/tf-plugins
        return
    fi
    echo "searching for a terraform-provider-aws binary (set TF_PLUGIN_DIR to skip this)" >&2
    local binary
    binary="$(find / \( -path /proc -o -path /sys \) -prune -o -name 'terraform-provider-aws*' -type f -print -quit 2>/dev/null)"
    [[ -n "$binary" ]] || fail "no terraform-provider-aws found; set TF_PLUGIN_DIR to a provider mirror"
    [[ "$binary" == */registry.terraform.io/* ]] ||
        fail "$binary is not in a mirror layout (<dir>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/); set TF_PLUGIN_DIR"
    echo "${binary%%/registry.terraform.io/*}"
}

command -v terraform >/dev/null || fail "terraform is not on PATH"
plugin_dir="$(find_plugin_dir)" || exit 1

work="$(mktemp -d)"
moto_pid=""
cleanup() {
    if [[ -n "$moto_pid" ]]; then
        kill "$moto_pid" 2>/dev/null
        wait "$moto_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# No checkpoint (version check) call, and a CLI config of our own that installs providers
# from the mirror only, so nothing ever reaches for a registry.
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
export TF_CLI_CONFIG_FILE="$work/terraformrc"
printf 'provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' "$plugin_dir" >"$TF_CLI_CONFIG_FILE"
unset TF_DATA_DIR TF_WORKSPACE

run terraform version
echo "provider mirror: $plugin_dir"

echo "== fmt"
if ! (cd "$root" && run terraform fmt -check -recursive -diff terraform/); then
    failures+=("fmt")
fi

# The example reads ../../../config/examples/*.yaml, so copy that alongside.
tar -C "$root" --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' \
    -cf - terraform config/examples | tar -C "$work" -xf - || fail "cannot copy terraform/ to $work"

init() {
    run_quiet terraform init -backend=false -input=false -no-color -plugin-dir="$plugin_dir"
}

for dir in "$work"/terraform/modules/*/ "$work"/terraform/examples/*/ "$work"/terraform/tests/*/; do
    [[ -d "$dir" ]] || continue
    name="${dir#"$work"/}"
    name="${name%/}"
    echo "== $name"
    export TF_DATA_DIR="$work/data/${name//\//_}"
    (
        cd "$dir" && init && run terraform validate -no-color &&
            if compgen -G "tests/*.tftest.hcl" >/dev/null || compgen -G "*.tftest.hcl" >/dev/null; then
                run terraform test -no-color
            fi
    ) || failures+=("$name")
done

# Starts moto on a free port; sets moto_pid and moto_endpoint.
start_moto() {
    local port log="$work/moto.log"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" || return 1
    # AWS managed policies (AmazonECSTaskExecutionRolePolicy, ...) exist in moto only on request.
    MOTO_IAM_LOAD_MANAGED_POLICIES=true python3 -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    moto_pid=$!
    moto_endpoint="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "moto listening on $moto_endpoint"
            return 0
        fi
        kill -0 "$moto_pid" 2>/dev/null || break
        sleep 0.2
    done
    echo "error: moto did not start; its log:" >&2
    cat "$log" >&2
    return 1
}

moto_checks() {
    local harness="$work/terraform/tests/moto" example="$work/terraform/examples/complete"
    local endpoint_var applied destroyed
    start_moto || return 1
    endpoint_var="endpoint=$moto_endpoint"

    export TF_DATA_DIR="$work/data/moto"
    (
        cd "$harness" && init &&
            run_quiet terraform apply -auto-approve -input=false -no-color -var "$endpoint_var" &&
            run_quiet terraform plan -detailed-exitcode -input=false -no-color -var "$endpoint_var"
    )
    applied=$?
    # Destroy even after a failed step, so moto's state and the report show both.
    (cd "$harness" && run_quiet terraform destroy -auto-approve -input=false -no-color -var "$endpoint_var")
    destroyed=$?
    if ((applied != 0 || destroyed != 0)); then
        echo "error: moto apply/plan/destroy failed (exit $applied/$destroyed); moto's log ends:" >&2
        tail -n 20 "$work/moto.log" >&2
        return 1
    fi

    # An override file merges moto's endpoints into the example's provider block; planning
    # only reads data sources (STS, SSM, EC2).
    printf '%s\n' \
        'provider "aws" {' \
        '  access_key                  = "test"' \
        '  secret_key                  = "test"' \
        '  skip_credentials_validation = true' \
        '  skip_requesting_account_id  = true' \
        '  skip_metadata_api_check     = true' \
        '  max_retries                 = 1' \
        '  endpoints {' \
        "    sts = \"$moto_endpoint\"" \
        "    ssm = \"$moto_endpoint\"" \
        "    ec2 = \"$moto_endpoint\"" \
        '  }' \
        '}' >"$example/moto_override.tf"
    export TF_DATA_DIR="$work/data/terraform_examples_complete"
    (
        cd "$example" &&
            run_to "$work/example-plan.txt" terraform plan -input=false -no-color \
                -var vpc_id=vpc-00000000 -var 'subnet_ids=["subnet-00000000"]' \
                -var runner_image=example/runner:1 -var github_app_id=1 \
                -var github_app_key=not-a-key -var webhook_secret=not-a-secret \
                -var appconfig_agent_layer_arn=arn:aws:lambda:ap-northeast-1:123456789012:layer:appconfig-agent:1 &&
            grep -E '^Plan:' "$work/example-plan.txt"
    ) || {
        cat "$work/example-plan.txt" >&2
        return 1
    }
}

case "${TF_CHECK_MOTO:-auto}" in
0) echo "== moto: skipped (TF_CHECK_MOTO=0)" ;;
*)
    if python3 -c 'import moto.server' 2>/dev/null; then
        echo "== moto"
        moto_checks || failures+=("moto")
    elif [[ "${TF_CHECK_MOTO:-auto}" == 1 ]]; then
        echo "error: TF_CHECK_MOTO=1 but moto is not installed (pip install 'moto[server]')" >&2
        failures+=("moto")
    else
        echo "== moto: skipped (moto is not installed)"
    fi
    ;;
esac

echo
if ((${#failures[@]} > 0)); then
    echo "FAILED: ${failures[*]}" >&2
    exit 1
fi
echo "all terraform checks passed"
