#!/usr/bin/env bash
# Shared setup for scripts/demo.sh and scripts/test.sh: Debian packages, a venv, the built collection.
# Everything is (re)created here when missing; nothing relies on what an earlier run left.

LIFEBOAT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIFEBOAT_WORK=${LIFEBOAT_WORK:-/tmp/lifeboat-work}
LIFEBOAT_VENV=${LIFEBOAT_VENV:-$LIFEBOAT_WORK/venv}
export LIFEBOAT_ROOT LIFEBOAT_WORK LIFEBOAT_VENV

log() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_apt() {
  # ensure_apt PKG...: install the Debian packages that are missing
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  # ensure_venv REQUIREMENTS_FILE: a venv with those packages (re-installed when the file changes)
  local req=$1 stamp
  ensure_apt python3-venv python3-pip
  if [ ! -x "$LIFEBOAT_VENV/bin/python" ]; then
    log "Creating venv $LIFEBOAT_VENV"
    python3 -m venv "$LIFEBOAT_VENV"
  fi
  stamp="$LIFEBOAT_VENV/.req-$(sha256sum "$req" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "Installing Python packages from $req"
    "$LIFEBOAT_VENV/bin/python" -m pip install -q --upgrade pip
    "$LIFEBOAT_VENV/bin/python" -m pip install -q -r "$req"
    touch "$stamp"
  fi
  export PATH="$LIFEBOAT_VENV/bin:$PATH"
}

install_collection() {
  # Build the collection tarball from this checkout and install it into $LIFEBOAT_WORK/collections
  local dist="$LIFEBOAT_WORK/dist"
  rm -rf "$dist" "$LIFEBOAT_WORK/collections"
  mkdir -p "$dist" "$LIFEBOAT_WORK/collections"
  log "Building and installing lifeboat.backup"
  (cd "$LIFEBOAT_ROOT" && "$LIFEBOAT_VENV/bin/ansible-galaxy" collection build --force --output-path "$dist" >/dev/null)
  "$LIFEBOAT_VENV/bin/ansible-galaxy" collection install --force --no-deps -p "$LIFEBOAT_WORK/collections" \
    "$dist"/lifeboat-backup-*.tar.gz >/dev/null
  export ANSIBLE_COLLECTIONS_PATH="$LIFEBOAT_WORK/collections"
  export LIFEBOAT_COLLECTIONS_PATH="$LIFEBOAT_WORK/collections"
}
