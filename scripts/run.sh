#!/usr/bin/env bash
# Sets up what is missing, then builds and opens Blastdesk.
# Its data lives in the system's app-data folder (BLASTDESK_DATA_DIR overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
export PATH="$HOME/.cargo/bin:$PATH"
exec cargo run --bin blastdesk -- "$@"
