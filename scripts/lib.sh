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

ensure_awx_collection() {
  # awx.awx, which roles/awx and playbooks/awx_configure.yml use, without Galaxy (unreachable here): it ships in
  # the `ansible` package on PyPI. Unpacked once into $LIFEBOAT_WORK/cache/awx-collection, where the AWX tests
  # (tests/integration/awx/awxlib.py) look for it too; ansible-lint needs it to check those files.
  local cache="$LIFEBOAT_WORK/cache" dest="$LIFEBOAT_WORK/cache/awx-collection"
  [ -f "$dest/ansible_collections/awx/awx/MANIFEST.json" ] && return 0
  log "awx.awx from the ansible wheel on PyPI"
  mkdir -p "$cache"
  if ! ls "$cache"/ansible-*-py3-none-any.whl >/dev/null 2>&1; then
    "$LIFEBOAT_VENV/bin/python" -m pip download -q --no-deps -d "$cache" 'ansible>=12,<13'
  fi
  rm -rf "$dest.tmp"
  "$LIFEBOAT_VENV/bin/python" - "$cache" "$dest.tmp" <<'PY'
import glob, sys, zipfile
wheel = sorted(glob.glob(sys.argv[1] + '/ansible-*-py3-none-any.whl'))[-1]
with zipfile.ZipFile(wheel) as zf:
    zf.extractall(sys.argv[2], [n for n in zf.namelist() if n.startswith('ansible_collections/awx/awx/')])
PY
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
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
