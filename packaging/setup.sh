#!/usr/bin/env bash
# Set Cadence up on this machine, then open it or test it.
#
#   bash packaging/setup.sh run  [ARGS…]   set up, then start Cadence (ARGS go to main.py)
#   bash packaging/setup.sh test [ARGS…]   set up with the developer tools, then lint, type-check
#                                          and run the whole test suite (ARGS go to pytest)
#   bash packaging/setup.sh system         only install the system packages
#   bash packaging/setup.sh env            only set up .venv with Cadence's packages
#
# It installs what is missing and nothing else: system packages on Debian/Ubuntu (asking
# through sudo when not root), a virtual environment in .venv, the Python packages.
set -euo pipefail

mode="${1:-}"
case "$mode" in
  run|test|system|env) shift ;;
  *) echo "usage: bash packaging/setup.sh run|test|system|env [ARGS…]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

# --- system packages (Debian/Ubuntu) -------------------------------------------------------
# Qt's xcb platform plugin and its fonts/GL, and espeak-ng for narration. "a|b" means either.
system_packages=(
  libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3
  "libglib2.0-0t64|libglib2.0-0"
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  espeak-ng
)

# Output is captured before matching: with pipefail, `… | grep -q` fails when grep stops early.
installed() {
  local status; status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ]
}
candidate() {
  local policy; policy="$(apt-cache policy "$1" 2>/dev/null || true)"
  [[ "$policy" == *"Candidate: "* && "$policy" != *"Candidate: (none)"* ]]
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then sudo "$@"
  else return 1
  fi
}

ensure_system_packages() {
  command -v dpkg-query >/dev/null && command -v apt-get >/dev/null || {
    say "not a Debian/Ubuntu system: make sure Qt 6's xcb libraries and espeak-ng are installed"
    return 0
  }
  local missing=() spec alt found
  for spec in "${system_packages[@]}" "$@"; do
    found=""
    for alt in ${spec//|/ }; do installed "$alt" && { found=1; break; }; done
    [ -n "$found" ] || missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing system packages: ${missing[*]//|/ or }"
  if ! as_root apt-get update -qq; then
    echo "Cadence needs these system packages and cannot install them without root:" >&2
    echo "  sudo apt-get install ${missing[*]//|*/}" >&2
    echo "Run that, then run this command again." >&2
    exit 1
  fi
  local names=() unavailable=()
  for spec in "${missing[@]}"; do
    found=""
    for alt in ${spec//|/ }; do candidate "$alt" && { names+=("$alt"); found=1; break; }; done
    [ -n "$found" ] || unavailable+=("${spec//|/ or }")
  done
  if [ ${#unavailable[@]} -gt 0 ]; then
    echo "These system packages are not available from this system's package sources:" >&2
    printf '  %s\n' "${unavailable[@]}" >&2
    echo "Install their equivalents by hand, then run this command again." >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    "${names[@]}" >/dev/null
}

# --- Python ---------------------------------------------------------------------------------
find_python() {
  local p
  for p in python3.11 python3.12 python3.13 python3.14 python3; do
    if command -v "$p" >/dev/null &&
       "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$p"; return 0
    fi
  done
  return 1
}

ensure_venv() {
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' 2>/dev/null; then return 0; fi
  local python
  python="$(find_python)" || {
    echo "Cadence needs Python 3.11 or newer: sudo apt-get install python3 python3-venv" >&2
    exit 1
  }
  say "creating a virtual environment in .venv with $("$python" --version)"
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    local minor
    minor="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    ensure_system_packages "python$minor-venv|python3-venv"
    "$python" -m venv "$venv"
  fi
}

ensure_python_packages() {
  local extras="$1" stamp="$venv/.cadence-installed" want
  local hash; hash="$(sha256sum pyproject.toml | cut -c1-16)"
  want="$hash $extras"
  if [ -f "$stamp" ] && grep -qxF -- "$want" "$stamp"; then return 0; fi
  # The runtime packages are a subset of any extras' set: an install with extras will do.
  if [ -z "$extras" ] && [ -f "$stamp" ] && grep -q "^$hash " "$stamp"; then return 0; fi
  say "installing Python packages (${extras:-runtime})"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  echo "$want" > "$stamp"
}

ensure_system_packages
[ "$mode" = system ] && exit 0
ensure_venv
if [ "$mode" = run ]; then
  ensure_python_packages ""
  exec "$venv/bin/python" main.py "$@"
fi
if [ "$mode" = env ]; then
  ensure_python_packages ""
  exit 0
fi

ensure_python_packages dev
export QT_QPA_PLATFORM=offscreen
say "ruff"
"$venv/bin/ruff" check app tests main.py
"$venv/bin/ruff" format --check app tests main.py
say "mypy"
"$venv/bin/mypy"
say "pytest"
# Two test processes (`-n 0` among ARGS runs them in this one): most tests wait on renders,
# subprocesses and servers, so two share the cores well. Each process takes the next test
# when it is free; the PyInstaller build goes first, the qasync tests last (see conftest).
exec "$venv/bin/python" -m pytest -n "${CADENCE_TEST_PROCESSES:-2}" --dist load "$@"
