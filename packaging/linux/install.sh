#!/usr/bin/env bash
# Install Cadence for this user: the app in ~/.local/lib/cadence, `cadence` in ~/.local/bin,
# an entry in the applications menu and the icon in every size. No root needed.
#
#   ./install.sh              install (or update: the old version is replaced whole)
#   ./install.sh --uninstall  remove it again (your workspace and videos stay)
#
# CADENCE_PREFIX=/some/where ./install.sh installs under another prefix (default ~/.local).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${CADENCE_PREFIX:-$HOME/.local}"
app="$prefix/lib/cadence"
entry="$prefix/share/applications/cadence.desktop"
icons="$prefix/share/icons/hicolor"
refresh() {  # menus and icon caches pick the change up; neither tool is required
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$prefix/share/applications" || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$icons" || true
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$app" "$entry" "$prefix/bin/cadence"
  find "$icons" -path '*/apps/cadence.png' -delete 2>/dev/null || true
  autostart="${XDG_CONFIG_HOME:-$HOME/.config}/autostart/cadence.desktop"
  rm -f "$autostart"
  refresh
  echo "Cadence is removed. Your workspace (jobs, settings, videos) is left where it was."
  exit 0
fi

# The new version goes next to the old one and replaces it in one rename.
mkdir -p "$prefix/lib" "$prefix/bin" "$(dirname "$entry")"
rm -rf "$app.new"
cp -a "$here/Cadence" "$app.new"
rm -rf "$app.old"
if [ -e "$app" ]; then mv "$app" "$app.old"; fi
mv "$app.new" "$app"
rm -rf "$app.old"
ln -sfn "$app/Cadence" "$prefix/bin/cadence"
(cd "$here/icons" && find hicolor -name cadence.png) | while read -r icon; do
  install -D -m 644 "$here/icons/$icon" "$prefix/share/icons/$icon"
done
sed "s|@EXEC@|$app/Cadence|" "$here/cadence.desktop.in" > "$entry.part"
chmod 644 "$entry.part"
mv "$entry.part" "$entry"
refresh

echo "Cadence $("$app/Cadence" --version | cut -d' ' -f2) is installed: open it from your applications menu, or run $prefix/bin/cadence"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "($prefix/bin is not on your PATH: add it to run \`cadence\` from a terminal.)" ;; esac
if ! command -v espeak-ng >/dev/null && ! command -v espeak >/dev/null; then
  echo "Narration needs espeak-ng, which is not installed: sudo apt-get install espeak-ng"
fi
