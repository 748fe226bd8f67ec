#!/usr/bin/env bash
# Build Cadence as a standalone Linux application (no Python needed where it runs):
#
#   bash packaging/build.sh [OUT_DIR]      → OUT_DIR/cadence-VERSION-linux-ARCH.tar.gz
#                                            (default OUT_DIR: dist/; work in build/, or
#                                            in $CADENCE_BUILD_DIR)
#
# Sets up .venv (as `setup.sh` does), adds PyInstaller, builds the one-folder app from
# packaging/cadence.spec, and packs it with install.sh, the menu entry and the icons.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)"
work="${CADENCE_BUILD_DIR:-$root/build}"  # PyInstaller's work, the icons, the staging
say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

bash packaging/setup.sh env
venv="$root/.venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pyinstaller>=6.10,<7"
version="$("$venv/bin/python" -c 'import app; print(app.__version__)')"
arch="$(uname -m)"
name="cadence-$version-linux-$arch"

say "drawing the icons"
rm -rf "$work/icons"
"$venv/bin/python" packaging/make_icon.py --set "$work/icons"

say "building the app with PyInstaller (about a minute)"
"$venv/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$work/dist" --workpath "$work/pyinstaller" packaging/cadence.spec

say "packing $name.tar.gz"
stage="$work/stage/$name"
rm -rf "$work/stage"
mkdir -p "$stage"
cp -a "$work/dist/Cadence" "$stage/Cadence"
mkdir -p "$stage/icons"
cp -a "$work/icons/hicolor" "$stage/icons/"
cp packaging/linux/install.sh packaging/linux/cadence.desktop.in "$stage/"
cat > "$stage/README.txt" <<TEXT
Cadence $version for Linux ($arch)

  ./install.sh               install for this user (menu entry, icon, ~/.local/bin/cadence)
  ./install.sh --uninstall   remove it (your workspace and videos stay)
  ./Cadence/Cadence          or run it from here without installing

Narration uses espeak-ng from your system: sudo apt-get install espeak-ng
TEXT
tar -C "$work/stage" -czf "$out/$name.tar.gz.part" "$name"
mv "$out/$name.tar.gz.part" "$out/$name.tar.gz"
size="$(du -sh "$stage/Cadence" | cut -f1)"
packed="$(du -sh "$out/$name.tar.gz" | cut -f1)"
say "built $out/$name.tar.gz ($packed; $size unpacked)"
echo "$out/$name.tar.gz"
