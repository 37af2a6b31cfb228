#!/usr/bin/env bash
# Sets up what is missing, then runs the whole test suite: formatting, lints,
# and every test of every crate, including the end-to-end tests of the real app;
# the window's JavaScript and CSS are checked by Biome (biome.json); then the
# Windows leg (scripts/windows-leg.sh): cross-built, its tests run under Wine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "biome ci ui (the window's JavaScript and CSS: formatting and lints)"
scripts/js-tools/node_modules/.bin/biome ci --colors=off ui

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "the Windows leg (cross-built, under Wine)"
scripts/windows-leg.sh
