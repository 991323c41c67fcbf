#!/usr/bin/env bash
# harness/pulsar.sh start RUN_DIR | stop RUN_DIR
#
# A Pulsar server (.venv-pulsar, built by `harness/envs.sh --pulsar`) on 127.0.0.1:8913 with its own
# staging directory, standing in for a remote compute node: env/pulsar_server.ini and env/pulsar_app.yml,
# plus the paths below. RUN_DIR gets staging/ (one folder per job), persistence/, pulsar.log (Pulsar's
# log and gunicorn's access log: every file Galaxy transfers is a request there) and pulsar.pid.
# start returns once Pulsar answers (on a restart, after marking the jobs the dead server left running
# as lost: harness/pulsar_lost_jobs.py); stop ends it (SIGTERM, then SIGKILL after 20 s).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=$(sed -n 's/^port *= *//p' "$ROOT/env/pulsar_server.ini")
cmd=${1:?usage: $0 start|stop RUN_DIR} RUN=${2:?usage: $0 start|stop RUN_DIR}

case "$cmd" in
  start)
    mkdir -p "$RUN/staging" "$RUN/persistence"
    RUN=$(cd "$RUN" && pwd)
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      echo "pulsar.sh: port $PORT is already in use (another Pulsar?): stop it first" >&2; exit 1
    fi
    # A Pulsar killed mid-job (this is a restart) leaves jobs that would answer `running` for ever: mark
    # them lost, so that Galaxy fails them with a message instead of polling for ever (docs/admin.md).
    "$ROOT/.venv-pulsar/bin/python" "$ROOT/harness/pulsar_lost_jobs.py" "$RUN/staging"
    # cwd RUN: Pulsar looks for its default tool dependency folder ("dependencies") there; XDG_RUNTIME_DIR
    # RUN: gunicorn puts its control socket there instead of ~/.gunicorn (shared by every gunicorn).
    (cd "$RUN" &&
     XDG_RUNTIME_DIR="$RUN" PULSAR_CONFIG_OVERRIDE_STAGING_DIRECTORY="$RUN/staging" \
     PULSAR_CONFIG_OVERRIDE_PERSISTENCE_DIRECTORY="$RUN/persistence" \
     PULSAR_CONFIG_OVERRIDE_DEPENDENCY_RESOLVERS_CONFIG_FILE="$ROOT/.galaxy-deps/dependency_resolvers_conf.xml" \
     exec "$ROOT/.venv-pulsar/bin/pulsar-serve" "$ROOT/env/pulsar_server.ini" --log-file "$RUN/pulsar.log" \
       >> "$RUN/pulsar.log" 2>&1) &
    echo $! > "$RUN/pulsar.pid"
    for _ in $(seq 60); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        echo "[pulsar] pid $(cat "$RUN/pulsar.pid") on 127.0.0.1:$PORT, staging $RUN/staging, log $RUN/pulsar.log"
        exit 0
      fi
      kill -0 "$(cat "$RUN/pulsar.pid")" 2>/dev/null || break
      sleep 1
    done
    echo "pulsar.sh: Pulsar did not start; its log:" >&2; tail -30 "$RUN/pulsar.log" >&2; exit 1 ;;
  stop)
    [ -f "$RUN/pulsar.pid" ] || exit 0
    pid=$(cat "$RUN/pulsar.pid")
    kill "$pid" 2>/dev/null || { rm -f "$RUN/pulsar.pid"; exit 0; }
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$RUN/pulsar.pid"
    echo "[pulsar] stopped" ;;
  *)
    echo "usage: $0 start|stop RUN_DIR" >&2; exit 2 ;;
esac
