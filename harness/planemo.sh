#!/usr/bin/env bash
# harness/planemo.sh test-tools [TOOL.xml ...] | test-workflows | serve | with-galaxy CMD... | wait-galaxy
#                    [extra planemo args]
#
# test-tools      tests every tool in tools/, or only the tool XMLs named, TOOL_TEST_PARALLEL tests at a
#                 time (default 4; harness/test_tools.py, Galaxy's own tool test runner).
# test-workflows  tests every workflows/*.ga and workflows/gtn/*.ga (tests in NAME-tests.yml beside each)
#                 and checks that Galaxy loads each one without upgrade messages and runs it without
#                 allow_tool_state_corrections (harness/check_upgrade_messages.py).
# serve           a Galaxy with the tools on PORT (default 9090), until ctrl-C.
# with-galaxy     starts ONE Galaxy (serve, on a free port of 127.0.0.1) in the background, exports
#                 GALAXY_URL and GALAXY_ADMIN_KEY, runs CMD (at once: CMD may do other work while Galaxy
#                 boots) and stops Galaxy when CMD ends, fails or is interrupted. `make test` runs its
#                 Galaxy stages this way: one Galaxy start-up (60-100 s) instead of one per stage.
#                 Its database is a throw-away PostgreSQL server (harness/postgres.sh; installed with
#                 apt-get when missing and run as root), so that tool jobs set their metadata in Galaxy's
#                 Celery worker (about 10 CPU s less per tool job, docs/performance.md);
#                 TEST_DATABASE=sqlite gives planemo's SQLite database instead.
# wait-galaxy     blocks until the Galaxy at GALAXY_URL answers and lists every tool in tools/, and has run
#                 one upload alone (harness/warm_galaxy.py, once per Galaxy).
#
# When GALAXY_URL is set, test-tools and test-workflows (and harness/ui_test.sh) wait for that Galaxy and
# test against it (test-workflows through planemo's external_galaxy engine, WORKFLOW_TEST_PARALLEL
# planemo runs at once, default 2); otherwise each call starts its own Galaxy through with-galaxy (on a
# free port, so several may run at once) and stops it at the end: the quick way to test one tool, e.g.
# `bash harness/planemo.sh test-tools tools/keras_model_config.xml`.
#
# The Galaxy is a real local one (galaxy 26.1.1 from PyPI, started through the shim in .galaxy-root)
# whose jobs find the tool environment through Galaxy's dependency resolution (.galaxy-deps, written by
# harness/envs.sh) and run under env/job_conf.yml. Reports go to $TEST_OUT (default test-output/).
#
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
# Test data lives at the repository root (test-data/), not beside the tool XMLs in tools/. Galaxy itself
# reads this variable at start-up (its test data resolver), so it holds for a served Galaxy too.
export GALAXY_TEST_FILE_DIR="$ROOT/test-data"
# planemo serve's admin key (planemo's default); only ever used on 127.0.0.1.
export GALAXY_ADMIN_KEY=${GALAXY_ADMIN_KEY:-test_key}

report() {  # report NAME: print the per-test summary from planemo's JSON report
  .venv-galaxy/bin/python "$ROOT/harness/summarize_tests.py" "$OUT/$1.json"
}

tool_ids() {  # the id of every tool in tools/
  sed -n 's/^<tool id="\([^"]*\)".*/\1/p' tools/*.xml
}

wait_galaxy() {  # until GALAXY_URL answers and lists every tool; fails when its server process died
  local url=${GALAXY_URL:?} listed missing id
  for _ in $(seq 1 300); do
    if [ -n "${GALAXY_SERVER_PID:-}" ] && ! kill -0 "$GALAXY_SERVER_PID" 2>/dev/null; then
      echo "Galaxy at $url stopped while starting; its log ends:" >&2
      tail -30 "${GALAXY_LOG:-/dev/null}" >&2; return 1
    fi
    # Galaxy answers before its toolbox has finished loading: wait until every tool is listed.
    if listed=$(curl -sf "$url/api/tools?in_panel=false"); then
      missing=0
      for id in $(tool_ids); do
        [[ "$listed" == *"\"id\": \"$id\""* || "$listed" == *"\"id\":\"$id\""* ]] || missing=1
      done
      [ "$missing" = 0 ] && { warm_galaxy; return; }
    fi
    sleep 2
  done
  echo "Galaxy at $url did not list all tools within 600 s" >&2; return 1
}

warm_galaxy() {  # once per Galaxy (the first stage to get here; the others wait): one upload alone first
  # (harness/warm_galaxy.py: Galaxy's Celery worker otherwise fails a task when its first ones come at once)
  # with-galaxy names a marker for its Galaxy (and removes it with it); otherwise one per URL
  local marker=${GALAXY_WARM_MARKER:-"$OUT/.warm-${GALAXY_URL//[^0-9A-Za-z]/_}"}
  (
    flock 9
    [ -e "$marker" ] && exit 0
    .venv-galaxy/bin/python "$ROOT/harness/warm_galaxy.py" "$GALAXY_URL" "$GALAXY_ADMIN_KEY" && touch "$marker"
  ) 9> "$marker.lock"
}

galaxy_args() {  # planemo's engine arguments: the shared Galaxy at GALAXY_URL, once it lists every tool
  wait_galaxy
  engine=(--engine external_galaxy --galaxy_url "$GALAXY_URL" --galaxy_admin_key "$GALAXY_ADMIN_KEY")
}

free_port() {
  .venv-galaxy/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${1:-}" in
  test-tools)
    shift
    # Against the shared Galaxy only (harness/test_tools.py: TOOL_TEST_PARALLEL tests at a time); alone,
    # this starts a Galaxy for itself and stops it at the end.
    [ -n "${GALAXY_URL:-}" ] || exec bash "$0" with-galaxy bash "$0" test-tools "$@"
    targets=("$@"); [ $# -gt 0 ] || targets=(tools/*.xml)
    wait_galaxy
    rc=0
    timeout "${PLANEMO_TIMEOUT:-2400}" .venv-galaxy/bin/python harness/test_tools.py "$GALAXY_URL" \
      "$GALAXY_ADMIN_KEY" "$OUT/tools.json" "${TOOL_TEST_PARALLEL:-4}" "${targets[@]}" || rc=$?
    # The HTML and xunit reports, from the JSON one (as `planemo test` writes them).
    "$PLANEMO" test_reports --test_output "$OUT/tools.html" --test_output_xunit "$OUT/tools.xunit.xml" \
      "$OUT/tools.json" > /dev/null || rc=1
    report tools || rc=${rc/#0/1}
    exit "$rc" ;;
  test-workflows)  # [WORKFLOW.ga ...] (default: every workflows/*.ga and workflows/gtn/*.ga) [planemo args]
    shift
    # Against the shared Galaxy only (several planemo runs below share it); alone, this starts a Galaxy
    # for itself and stops it at the end, as test-tools does.
    [ -n "${GALAXY_URL:-}" ] || exec bash "$0" with-galaxy bash "$0" test-workflows "$@"
    galaxy_args
    workflows=() planemo_args=()
    for arg in "$@"; do
      if [[ $arg == *.ga ]]; then workflows+=("$arg"); else planemo_args+=("$arg"); fi
    done
    [ ${#workflows[@]} -gt 0 ] || workflows=(workflows/*.ga workflows/gtn/*.ga)
    # The published GTN workflows mark no workflow output, and planemo can only assert on labelled
    # ones: it tests a copy of each with its step outputs labelled (nothing else changed); the state
    # check below runs on the workflows themselves. Their steps name the Galaxy-ML Tool Shed
    # repositories (tool_shed_repository): --no_shed_install, the tools are ours, already loaded.
    listed=$(.venv-galaxy/bin/python harness/label_workflow_outputs.py "$OUT/labelled" "${workflows[@]}")
    mapfile -t testable <<< "$listed"
    # WORKFLOW_TEST_PARALLEL planemo runs at once (default 2), each on every n-th workflow: one run
    # tests its workflows one after the other, and its jobs mostly wait (uploads, scheduling), so alone
    # it was the last stage of `make test` to end (docs/performance.md). Each run has its own report
    # (workflows-I.json/.html/.log); the summary reads them all. They share one API key of planemo's
    # test user, made here with planemo's own helper: left to itself each run makes a new key, and
    # Galaxy expires a user's previous key when it makes one, so the other run's calls fail with 401.
    user_key=$(.venv-galaxy/bin/python -c 'import sys; from bioblend.galaxy import GalaxyInstance
from planemo.galaxy.api import user_api_key; print(user_api_key(GalaxyInstance(sys.argv[1], key=sys.argv[2])))' \
      "$GALAXY_URL" "$GALAXY_ADMIN_KEY")
    engine+=(--galaxy_user_key "$user_key")
    # --polling_backoff 1: planemo asks for an invocation's state and its jobs' states after 0.25 s, then
    # 1 s later than the time before (1.25, 2.25, ...), instead of twice every 0.25 s (3,100 requests in
    # one `make test`); a workflow's end is then seen up to about 20 s late.
    parallel=${WORKFLOW_TEST_PARALLEL:-2} rc=0 pids=() reports=()
    for ((i = 0; i < parallel && i < ${#testable[@]}; i++)); do
      group=()
      for ((j = i; j < ${#testable[@]}; j += parallel)); do group+=("${testable[j]}"); done
      reports+=("$OUT/workflows-$i.json")
      timeout "${PLANEMO_TIMEOUT:-2400}" "$PLANEMO" test "${engine[@]}" --polling_backoff 1 \
        --test_output "$OUT/workflows-$i.html" --test_output_json "$OUT/workflows-$i.json" \
        --no_shed_install ${planemo_args[@]+"${planemo_args[@]}"} "${group[@]}" > "$OUT/workflows-$i.log" 2>&1 &
      pids+=($!)
    done
    for i in "${!pids[@]}"; do
      wait "${pids[i]}" || rc=1
      cat "$OUT/workflows-$i.log"
    done
    .venv-galaxy/bin/python "$ROOT/harness/summarize_tests.py" "${reports[@]}" || rc=1
    # CHECK_UPGRADE_MESSAGES=0 (make test-pulsar): skipped; make test checks the same workflows' states.
    if [ "${CHECK_UPGRADE_MESSAGES:-1}" != 0 ]; then
      .venv-galaxy/bin/python harness/check_upgrade_messages.py "$GALAXY_URL" "$GALAXY_ADMIN_KEY" "${workflows[@]}" || rc=1
    fi
    exit "$rc" ;;
  serve)
    shift
    # DATABASE_CONNECTION (set by with-galaxy): the PostgreSQL database of harness/postgres.sh.
    [ -z "${DATABASE_CONNECTION:-}" ] || GALAXY_OPTS+=(--database_connection "$DATABASE_CONNECTION")
    exec "$PLANEMO" serve "${GALAXY_OPTS[@]}" --port "${PORT:-9090}" --disable_gxits "$@" tools/ ;;
  wait-galaxy)
    wait_galaxy ;;
  with-galaxy)
    shift
    [ $# -gt 0 ] || { echo "usage: $0 with-galaxy CMD [ARGS...]" >&2; exit 2; }
    port=${GALAXY_PORT:-$(free_port)}  # GALAXY_PORT: a fixed port instead (a machine shared by several clones)
    export GALAXY_URL="http://127.0.0.1:$port" GALAXY_LOG="$OUT/galaxy.log" GALAXY_WARM_MARKER="$OUT/.warm-$port-$$"
    # Its database: a PostgreSQL server of its own (harness/postgres.sh, on a socket in a fresh folder
    # under /tmp: run as root, the server runs as the `postgres` user, who cannot reach a clone inside a
    # private folder such as /root), so that tool jobs set their metadata in Galaxy's Celery worker;
    # TEST_DATABASE=sqlite: planemo's SQLite database instead (metadata in a process per job, about 10
    # CPU s more per tool job).
    pg_dir= pg=false database=
    # Galaxy (gunicorn, its Celery worker and that worker's fork server) ends within about 8 s of the INT;
    # `planemo serve`, the group's leader, never does, so waiting for the whole group cost every run 30
    # s: the wait ends once only the leader is left.
    stop_galaxy() {
      if [ -n "${GALAXY_SERVER_PID:-}" ] && kill -INT -- "-$GALAXY_SERVER_PID" 2>/dev/null; then
        for _ in $(seq 1 30); do
          [ -n "$(pgrep -g "$GALAXY_SERVER_PID" | grep -vx "$GALAXY_SERVER_PID")" ] || break
          sleep 1
        done
        kill -KILL -- "-$GALAXY_SERVER_PID" 2>/dev/null || true
        wait "$GALAXY_SERVER_PID" 2>/dev/null || true  # reaped here, so bash prints no "Killed" line
      fi
      ! $pg || bash "$ROOT/harness/postgres.sh" stop "$pg_dir"
      rm -f "$GALAXY_WARM_MARKER" "$GALAXY_WARM_MARKER.lock"
    }
    trap stop_galaxy EXIT
    if [ "${TEST_DATABASE:-postgres}" = postgres ]; then
      pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/gxkeras-postgres.XXXXXX")
      pg=true database=$(bash "$ROOT/harness/postgres.sh" start "$pg_dir")
    fi
    # Its own session, so that stopping it reaches gravity's gunicorn and job handler processes.
    PORT=$port DATABASE_CONNECTION=$database setsid bash "$0" serve --host 127.0.0.1 > "$GALAXY_LOG" 2>&1 &
    export GALAXY_SERVER_PID=$!
    echo "one Galaxy for this run: $GALAXY_URL (log: $GALAXY_LOG)"
    # CMD runs in its own process group too, waited for in the background: a signal to this script
    # (ctrl-C, CI's TERM) then stops all of CMD's processes, and the EXIT trap stops Galaxy.
    setsid "$@" &
    cmd_pid=$!
    trap 'kill -TERM -- "-$cmd_pid" 2>/dev/null; exit 130' INT
    trap 'kill -TERM -- "-$cmd_pid" 2>/dev/null; exit 143' TERM
    rc=0
    wait "$cmd_pid" || rc=$?
    exit "$rc" ;;
  *)
    echo "usage: $0 test-tools|test-workflows|serve|with-galaxy CMD|wait-galaxy [args]" >&2; exit 2 ;;
esac
