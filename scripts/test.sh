#!/usr/bin/env bash
# The whole test suite: installs what it needs (Debian packages, venvs, the built collection), then runs
# ruff, ansible-lint, ansible-test sanity, unit tests and integration tests (real PostgreSQL, moto S3 server,
# sshd, network-namespace cluster), each starting and stopping its own services.
#   scripts/test.sh            everything: lint, sanity and the whole suite on the newest ansible-core, and the
#                              smoke subset on every older minor version of the matrix, each in its own venv
#   scripts/test.sh lint|sanity|unit|integration [pytest args...]
#   scripts/test.sh smoke [VERSION...]   the smoke subset (`pytest tests -m smoke`) on those versions
#                                        (default: the whole matrix, the newest included)
# Parallelism (tests/README.md): pytest runs on LIFEBOAT_TEST_WORKERS pytest-xdist workers (default 4; 0 = one
# process) with `--dist loadscope` and the scopes of tests/conftest.py: each test file is a group that runs whole
# on one worker. The integration tests wait on playbooks and services far more than they compute, so 4 workers
# on 2 cores keep both busy. In `all`, lint, sanity and the older versions' smoke runs go on beside the main
# pytest run (CPU-bound beside latency-bound); their output is printed when the main run ends.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

what=${1:-all}
[ $# -gt 0 ] && shift

# meta/runtime.yml claims requires_ansible >=2.16: every minor version from there to the newest that runs on
# this Python (ansible-core 2.20 needs Python 3.12). The newest is the main venv's (tests/requirements.txt).
CORE_NEWEST=2.19
CORE_OLDER=(2.16 2.17 2.18)

setup() {
  local pkgs
  mapfile -t pkgs < <(grep -v '^\s*#' "$LIFEBOAT_ROOT/tests/apt-packages.txt" | awk 'NF {print $1}')
  ensure_apt python3 python3-venv python3-pip ca-certificates "${pkgs[@]}"
  ensure_venv "$LIFEBOAT_ROOT/tests/requirements.txt"
  ensure_awx_collection
  install_collection
}

build_opensearch_launcher() {
  # The real OpenSearch nodes of tests/integration/opensearch: a small Java launcher built with Maven (jars from
  # Maven Central into ~/.m2) when it is missing or older than its sources (docs/opensearch.md).
  log "OpenSearch test launcher"
  "$LIFEBOAT_VENV/bin/python" "$LIFEBOAT_ROOT/tests/integration/opensearch/osnode.py" build
}

run_lint() {
  log "ruff"
  (cd "$LIFEBOAT_ROOT" && ruff check .)
  log "ansible-lint (production profile)"
  (cd "$LIFEBOAT_ROOT" && ANSIBLE_COLLECTIONS_PATH="$LIFEBOAT_WORK/collections:$LIFEBOAT_WORK/cache/awx-collection" ansible-lint --offline --profile production -q)
  log "changelog: fragments, changelogs/changelog.yaml, CHANGELOG.rst generated from it"
  (cd "$LIFEBOAT_ROOT" && antsibull-changelog lint && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml)
  (cd "$LIFEBOAT_ROOT" && antsibull-changelog generate --output "$LIFEBOAT_WORK/CHANGELOG.rst" --output-format rst \
    && diff -u CHANGELOG.rst "$LIFEBOAT_WORK/CHANGELOG.rst") \
    || { echo "CHANGELOG.rst is not what changelogs/changelog.yaml generates: run antsibull-changelog generate"; return 1; }
  log "built collection: nothing of bench/, scripts/, tests/output/ or the CI and lint configurations"
  check_tarball
}

check_tarball() {
  local tarball bad
  tarball=$(ls "$LIFEBOAT_WORK"/dist/lifeboat-backup-*.tar.gz)
  bad=$(tar -tzf "$tarball" | grep -E '^(bench|scripts|tests/output|\.ci|changelogs/fragments)/|^(\.ansible-lint|ruff\.toml|\.gitignore|\.git)$' || true)
  if [ -n "$bad" ]; then
    printf 'the built collection holds files it must leave out:\n%s\n' "$bad"
    return 1
  fi
  tar -tzf "$tarball" | grep -x 'meta/runtime.yml' >/dev/null
}

run_sanity() {
  # ansible-test wants a real path ending in ansible_collections/<ns>/<name>, and downloads a pip
  # bootstrap script from a host that is unreachable here: give it a stand-in (scripts/ansible-test-pip-shim.py).
  local pipv dest="$LIFEBOAT_WORK/sanity/ansible_collections/lifeboat/backup"
  pipv=$("$LIFEBOAT_VENV/bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
  mkdir -p ~/.ansible/test/cache
  cp "$LIFEBOAT_ROOT/scripts/ansible-test-pip-shim.py" ~/.ansible/test/cache/"get_pip_${pipv//./_}.py"
  rm -rf "$dest"
  mkdir -p "$dest"
  (cd "$LIFEBOAT_ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$dest"
  log "ansible-test sanity"
  local pyver
  pyver=$("$LIFEBOAT_VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  (cd "$dest" && ansible-test sanity --venv --python "$pyver" --color no)
}

WORKERS=${LIFEBOAT_TEST_WORKERS:-4}

xdist_args() {
  # xdist_args PYTHON: the pytest-xdist options, when there are workers to use and that venv has the plugin
  local workers=$WORKERS
  [ "$workers" = auto ] && workers=$(( $(nproc) * 2 ))
  if [ "$workers" != 0 ] && "$1" -c 'import xdist' 2>/dev/null; then
    printf '%s\n' -n "$workers" --dist loadscope
  fi
}

run_pytest() {
  local rc=0 par
  mapfile -t par < <(xdist_args python)
  log "pytest ${par[*]} $*"
  (cd "$LIFEBOAT_ROOT" && python -m pytest -p no:cacheprovider "${par[@]}" "$@") || rc=$?
  # exit 5: no tests collected, which must not pass silently
  return $rc
}

run_smoke() {
  # run_smoke VERSION: the smoke subset with ansible-core VERSION.* in its own venv
  local version=$1 venv
  if [ "$version" = "$CORE_NEWEST" ]; then
    venv=$LIFEBOAT_VENV
  else
    venv="$LIFEBOAT_WORK/venv-core-$version"
    make_venv "$venv" "$LIFEBOAT_ROOT/tests/requirements-smoke.txt" "ansible-core==$version.*"
  fi
  log "smoke subset on ansible-core $("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')"
  (cd "$LIFEBOAT_ROOT" && "$venv/bin/python" -m pytest -p no:cacheprovider tests -m smoke -q -rfEs)
}

side_stages() {
  # side_stages: lint, sanity and the older versions' smoke subset, one after the other (run beside the main
  # pytest run by `all`)
  stage lint run_lint
  stage sanity run_sanity
  for v in "${CORE_OLDER[@]}"; do stage "smoke ansible-core $v" run_smoke "$v"; done
}

stage() {
  # stage NAME CMD...: run one stage, time it, remember a failure and go on (CI shows every stage)
  local name=$1 t0 rc=0
  shift
  t0=$(date +%s)
  # in the background so that `set -e` stays in force inside the stage (it is off in a `||` context)
  "$@" &
  wait $! || rc=$?
  printf '==> %s: %s in %ss\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" "$(( $(date +%s) - t0 ))" \
    | tee -a "$LIFEBOAT_WORK/stages.txt"
  [ $rc -eq 0 ] || failed+=("$name")
  return 0
}

failed=()
mkdir -p "$LIFEBOAT_WORK"
: > "$LIFEBOAT_WORK/stages.txt"
t_setup=$(date +%s)
setup
case "$what" in integration|all) build_opensearch_launcher ;; esac
printf '==> setup: ok in %ss\n' "$(( $(date +%s) - t_setup ))" | tee -a "$LIFEBOAT_WORK/stages.txt"
case "$what" in
  lint) stage lint run_lint ;;
  sanity) stage sanity run_sanity ;;
  unit) stage unit run_pytest tests/unit -q "$@" ;;
  integration) stage integration run_pytest tests/integration -q -rfEs "$@" ;;
  smoke)
    versions=("$@")
    [ ${#versions[@]} -gt 0 ] || versions=("${CORE_OLDER[@]}" "$CORE_NEWEST")
    for v in "${versions[@]}"; do stage "smoke ansible-core $v" run_smoke "$v"; done
    ;;
  all)
    # the whole suite on the newest holds the smoke subset; the older versions run the subset alone. Lint,
    # sanity and those smoke runs go on beside it (their log is printed after it); a failure there fails `all`
    # through stages.txt.
    side_log="$LIFEBOAT_WORK/side-stages.log"
    log "lint, sanity, smoke on ${CORE_OLDER[*]}: in the background, log $side_log (printed below when done)"
    side_stages > "$side_log" 2>&1 &
    side_pid=$!
    stage "pytest ansible-core $CORE_NEWEST (all)" run_pytest tests/unit tests/integration -q -rfEs --durations=25 "$@"
    wait "$side_pid" || failed+=("background stages")
    log "lint, sanity, smoke on ${CORE_OLDER[*]} (background)"
    cat "$side_log"
    grep -q ': FAILED' "$LIFEBOAT_WORK/stages.txt" && [ ${#failed[@]} -eq 0 ] && failed+=("background stages")
    ;;
  *) echo "usage: $0 [all|lint|sanity|unit|integration|smoke] [pytest args | versions]" >&2; exit 2 ;;
esac
log "Stages"
cat "$LIFEBOAT_WORK/stages.txt"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
