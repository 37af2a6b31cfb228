#!/usr/bin/env bash
# The Windows leg of the test suite, run by scripts/test.sh: cross-builds the
# workspace for Windows (x86_64-pc-windows-gnu, linked by mingw), the desktop
# app included, and runs every test that needs no window under Wine, so
# Windows' file semantics (no deleting or replacing an open file, drive
# paths, TerminateProcess) are exercised on every run. docs/windows.md says
# what this proves and what only a real Windows machine can.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

target=x86_64-pc-windows-gnu
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

rustup target list --installed | grep -qx "$target" || rustup target add "$target"
wine=$(command -v wine64 || true)
[ -n "$wine" ] || wine=/usr/lib/wine/wine64
if [ ! -x "$wine" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
  echo "the Windows leg needs wine64 and gcc-mingw-w64-x86-64 (scripts/setup.sh test installs them)" >&2
  exit 1
fi

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"
# A private Wine prefix beside the builds; no Mono or Gecko installers.
export WINEPREFIX="$target_dir/wine-prefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="

# Every crate's tests that need no window: the desktop shell's own unit
# tests and the translation check too (they start without a window, but
# with the GNU target the exe loads WebView2Loader.dll, which the app's
# build puts beside it).
crates=(-p blastdesk-core -p blastdesk-cli -p blastdesk-whatsapp -p wa-test-server)
shell=(-p blastdesk --lib --test i18n)

say "cross-build the desktop app for $target"
cargo build --locked --target "$target" -p blastdesk
built="$target_dir/$target/debug"
ls -l "$built/blastdesk.exe"

say "cross-build the tests for $target"
cargo test --locked --target "$target" "${crates[@]}" --no-run
cargo test --locked --target "$target" "${shell[@]}" --no-run

# Rust's standard library draws randomness from ProcessPrng in
# bcryptprimitives.dll, which Wine 8 lacks: a stand-in beside the test
# executables (and the CLI they start) forwards it to RtlGenRandom. Never
# shipped.
stub="$built/bcryptprimitives.dll"
if [ ! -f "$stub" ] || [ scripts/windows/bcryptprimitives.c -nt "$stub" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$stub" \
    scripts/windows/bcryptprimitives.c scripts/windows/bcryptprimitives.def -ladvapi32
fi
cp "$stub" "$built/WebView2Loader.dll" "$built/deps/"

say "run them under Wine"
cargo test --locked --target "$target" "${crates[@]}"
cargo test --locked --target "$target" "${shell[@]}"
