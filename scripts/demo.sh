#!/usr/bin/env bash
# The main job on the embedded default: back up a demo directory on localhost into a local filesystem
# store, restore it into a scratch directory, check it is identical, and list the sets.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

DEMO=${LIFEBOAT_DEMO_DIR:-/tmp/lifeboat-demo}
ensure_apt tar zstd gzip python3 ca-certificates
ensure_venv "$LIFEBOAT_ROOT/requirements-controller.txt"
install_collection

log "Creating a demo application directory in $DEMO/app"
rm -rf "$DEMO/app" "$DEMO/restored"
mkdir -p "$DEMO/app/conf" "$DEMO/app/data/empty" "$DEMO/store"
printf 'SECRET_KEY = "demo-%s"\n' "$(date +%s)" > "$DEMO/app/conf/settings.py"
chmod 600 "$DEMO/app/conf/settings.py"
seq 1 20000 > "$DEMO/app/data/numbers.txt"
ln -sf ../conf/settings.py "$DEMO/app/data/settings-link"
printf 'odd name\n' > "$DEMO/app/data/with space & ünïcode.txt"

cat > "$DEMO/vars.yml" <<VARS
lifeboat_store:
  type: filesystem
  path: $DEMO/store
lifeboat_files:
  - name: app
    paths: [$DEMO/app]
    exclude: ["*.tmp"]
VARS
INV="localhost ansible_connection=local ansible_python_interpreter=$LIFEBOAT_VENV/bin/python"
printf '%s\n' "$INV" > "$DEMO/inventory"

log "Backing up (ansible-playbook lifeboat.backup.backup)"
ansible-playbook -i "$DEMO/inventory" lifeboat.backup.backup -e "@$DEMO/vars.yml"

log "Restoring into $DEMO/restored (ansible-playbook lifeboat.backup.restore)"
ansible-playbook -i "$DEMO/inventory" lifeboat.backup.restore -e "@$DEMO/vars.yml" \
  -e "lifeboat_restore_dest=$DEMO/restored"

log "Comparing the restored tree with the original"
diff -r --no-dereference "$DEMO/app" "$DEMO/restored$DEMO/app"
echo "identical: $DEMO/restored$DEMO/app"

log "Sets in the store"
ansible-playbook -i "$DEMO/inventory" lifeboat.backup.list -e "@$DEMO/vars.yml"
