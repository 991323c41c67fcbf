#!/usr/bin/env bash
# Browser test of the tool forms: starts a local Galaxy with the tools (planemo serve), runs
# harness/ui_test.py in headless Debian chromium through Playwright, stops Galaxy.
# Installs chromium with apt when missing; if it cannot be installed, says why and skips (exit 0).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${TEST_OUT:-$ROOT/test-output}/ui
PORT=${UI_PORT:-9300}
mkdir -p "$OUT"

if ! command -v chromium >/dev/null; then
  echo "ui test: installing Debian's chromium ..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } > "$OUT/apt.log" 2>&1
  if ! command -v chromium >/dev/null; then
    echo "ui test: SKIPPED: chromium cannot be installed here (see $OUT/apt.log: $(tail -1 "$OUT/apt.log"))"
    exit 0
  fi
fi

setsid bash harness/planemo.sh serve --host 127.0.0.1 --port "$PORT" > "$OUT/galaxy.log" 2>&1 &
GALAXY_PGID=$!
trap 'kill -INT -- -$GALAXY_PGID 2>/dev/null; sleep 5; kill -KILL -- -$GALAXY_PGID 2>/dev/null' EXIT
echo "ui test: starting Galaxy on port $PORT ..."
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/version" && break
  kill -0 "$GALAXY_PGID" 2>/dev/null || { echo "ui test: Galaxy did not start"; tail -30 "$OUT/galaxy.log"; exit 1; }
  sleep 2
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/version" || { echo "ui test: Galaxy not up after 600 s"; exit 1; }
# Galaxy answers before its toolbox has finished loading: wait until every tool in tools/ is listed.
for _ in $(seq 1 120); do
  listed=$(curl -sf "http://127.0.0.1:$PORT/api/tools?in_panel=false" || true)
  missing=0
  for xml in tools/*.xml; do
    id=$(sed -n 's/^<tool id="\([^"]*\)".*/\1/p' "$xml")
    [ -z "$id" ] || [[ "$listed" == *"\"id\": \"$id\""* || "$listed" == *"\"id\":\"$id\""* ]] || missing=1
  done
  [ "$missing" = 0 ] && break
  sleep 2
done
timeout 900 .venv-galaxy/bin/python harness/ui_test.py "http://127.0.0.1:$PORT" "$OUT"
