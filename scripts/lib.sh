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
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
    # a virtual package (postgresql-contrib-15 is provided by postgresql-15): present when an installed one provides it
    dpkg-query -W -f='${Status} ${Provides}\n' 2>/dev/null | grep '^install ok installed' \
      | grep -E "[ ,]$p( |,|\$)" >/dev/null && continue
    missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

make_venv() {
  # make_venv DIR REQUIREMENTS_FILE [PACKAGE...]: a venv at DIR with those packages (re-installed when the
  # file or the extra packages change)
  local dir=$1 req=$2 stamp
  shift 2
  ensure_apt python3-venv python3-pip
  if [ ! -x "$dir/bin/python" ]; then
    log "Creating venv $dir"
    python3 -m venv "$dir"
  fi
  stamp="$dir/.req-$( (cat "$req"; printf '%s\n' "$@") | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "Installing Python packages into $dir from $req${*:+ with $*}"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$req" "$@"
    rm -f "$dir"/.req-*
    touch "$stamp"
  fi
}

ensure_venv() {
  # ensure_venv REQUIREMENTS_FILE: the main venv ($LIFEBOAT_VENV) with those packages, first on PATH
  make_venv "$LIFEBOAT_VENV" "$1"
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
