#!/usr/bin/env bash
# harness/planemo.sh test-tools [TOOL.xml ...] | test-workflows | serve   [extra planemo args]
#
# test-tools tests every tool in tools/, or only the tool XMLs named (planemo test picks a free port
# itself, so several may run at once). serve listens on PORT (default 9090).
# Runs planemo against a real local Galaxy (galaxy 26.1.1 from PyPI, started through the shim in
# .galaxy-root) whose jobs find the tool environment through Galaxy's dependency resolution
# (.galaxy-deps, written by harness/envs.sh). Each call starts its own
# Galaxy (70-100 s) and stops it at the end. Reports go to $TEST_OUT (default test-output/).
# JOB_CONF=FILE: another Galaxy job configuration (default env/job_conf.yml; harness/test_pulsar.sh
# passes env/job_conf_pulsar.yml).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PLANEMO=.venv-galaxy/bin/planemo
OUT=${TEST_OUT:-$ROOT/test-output}
mkdir -p "$OUT"
# planemo.yml holds the project's planemo settings (Tool Shed targets); the paths below must be
# absolute (planemo runs Galaxy from inside galaxy_root), so they are given here.
export PLANEMO_GLOBAL_CONFIG_PATH="$ROOT/planemo.yml"
GALAXY_OPTS=(--galaxy_root "$ROOT/.galaxy-root" --skip_venv --database_type sqlite
             --no_conda_auto_init --no_conda_auto_install
             --dependency_resolvers_config_file "$ROOT/.galaxy-deps/dependency_resolvers_conf.xml"
             --job_config_file "${JOB_CONF:-$ROOT/env/job_conf.yml}")
export GALAXY_SLOTS=${GALAXY_SLOTS:-2}
# Test data lives at the repository root (test-data/), not beside the tool XMLs in tools/.
export GALAXY_TEST_FILE_DIR="$ROOT/test-data"

report() {  # report NAME: print the per-test summary from planemo's JSON report
  .venv-galaxy/bin/python "$ROOT/harness/summarize_tests.py" "$OUT/$1.json"
}

case "${1:-}" in
  test-tools)
    shift
    targets=("$@"); [ $# -gt 0 ] || targets=(tools/)
    rc=0
    timeout "${PLANEMO_TIMEOUT:-2400}" "$PLANEMO" test "${GALAXY_OPTS[@]}" \
      --test_output "$OUT/tools.html" --test_output_json "$OUT/tools.json" \
      --test_output_xunit "$OUT/tools.xunit.xml" "${targets[@]}" || rc=$?
    report tools || rc=${rc/#0/1}
    exit "$rc" ;;
  test-workflows)
    shift
    rc=0
    timeout "${PLANEMO_TIMEOUT:-2400}" "$PLANEMO" test "${GALAXY_OPTS[@]}" --extra_tools tools/ \
      --test_output "$OUT/workflows.html" --test_output_json "$OUT/workflows.json" "$@" workflows/*.ga || rc=$?
    report workflows || rc=${rc/#0/1}
    exit "$rc" ;;
  serve)
    shift
    exec "$PLANEMO" serve "${GALAXY_OPTS[@]}" --port "${PORT:-9090}" --disable_gxits "$@" tools/ ;;
  *)
    echo "usage: $0 test-tools|test-workflows|serve [planemo args]" >&2; exit 2 ;;
esac
