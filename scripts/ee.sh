#!/usr/bin/env bash
# The execution environment of docs/awx.md: build this checkout's collection into ee/collections/, then run
# ansible-builder on execution-environment.yml.
#   scripts/ee.sh                 create the build context in ./context (works without a container runtime)
#   scripts/ee.sh build -t NAME   build the image (needs podman, or: --container-runtime docker)
# ansible-builder comes from the venv of scripts/test.sh when it exists, else from PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
verb=${1:-create}
[ $# -gt 0 ] && shift
venv=${LIFEBOAT_VENV:-${LIFEBOAT_WORK:-/tmp/lifeboat-work}/venv}
[ -x "$venv/bin/ansible-builder" ] && export PATH="$venv/bin:$PATH"
for tool in ansible-galaxy ansible-builder; do
  command -v "$tool" >/dev/null || { echo "$tool not found: pip install ansible-core ansible-builder" >&2; exit 2; }
done

dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
(cd "$root" && ansible-galaxy collection build --force --output-path "$dist" >/dev/null)
mkdir -p "$root/ee/collections"
# one fixed name: ee/requirements.yml installs collections/lifeboat-backup.tar.gz
cp "$dist"/lifeboat-backup-*.tar.gz "$root/ee/collections/lifeboat-backup.tar.gz"

cd "$root"
case "$verb" in
  create) exec ansible-builder create -f execution-environment.yml --output-filename Containerfile "$@" ;;
  build) exec ansible-builder build -f execution-environment.yml "$@" ;;
  *) echo "usage: $0 [create|build] [ansible-builder options]" >&2; exit 2 ;;
esac
