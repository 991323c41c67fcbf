#!/usr/bin/env bash
# harness/postgres.sh start DIR | stop DIR
#
# A throw-away PostgreSQL server for one test Galaxy (harness/planemo.sh with-galaxy): a fresh cluster
# in DIR that listens on a unix socket in DIR only (no TCP port), with two databases, `galaxy` and
# `galaxy_celery`.
# `start` prints the SQLAlchemy URL of that database; `stop` stops the server and deletes DIR.
#
# Why PostgreSQL: Galaxy then sets each tool job's metadata in its warm Celery worker
# (metadata_strategy directory_celery, harness/galaxy_root_shim.sh) instead of a new `python
# metadata/set.py` process per job that spends about 10 CPU seconds importing Galaxy; with SQLite those
# Celery tasks stalled (one writer at a time). Measured in docs/performance.md.
#
# Debian's server binaries (/usr/lib/postgresql/N/bin) are installed with apt-get when missing and this
# runs as root (CI: .ci/run on a fresh machine); elsewhere install the `postgresql` package first.
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user the package creates.
set -euo pipefail
cmd=${1:?usage: $0 start DIR | stop DIR} dir=${2:?usage: $0 start DIR | stop DIR}

pg_bin() {  # the newest installed server's bin directory
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_owner() {  # run a server command as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    if [ -z "$(pg_bin)" ]; then
      [ "$(id -u)" = 0 ] || { echo "postgres.sh: no PostgreSQL server; install Debian's postgresql package" >&2; exit 1; }
      echo "postgres.sh: installing Debian's postgresql package ..." >&2
      # The package's own cluster is not used (and not started where no init system runs).
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql > /dev/null \
        || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql > /dev/null; }
    fi
    bin=$(pg_bin)
    rm -rf "$dir"; mkdir -p "$dir"
    chmod 700 "$dir"; [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    # Only the owner may connect (trust over the socket, which only the owner and root can reach: 0700).
    as_owner "$bin/initdb" -D "$dir/data" -A trust -E UTF8 --locale=C.UTF-8 -U galaxy > "$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # No TCP at all; the socket in DIR. fsync off: a test database, thrown away after the run.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -k '$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start > /dev/null || { cat "$dir/server.log" >&2; exit 1; }
    # Galaxy's database, and one for Celery's broker and results (harness/galaxy_root_shim.sh): Galaxy
    # refuses to start on a database that holds tables of anything else.
    as_owner "$bin/createdb" -h "$dir" -U galaxy galaxy
    as_owner "$bin/createdb" -h "$dir" -U galaxy galaxy_celery
    echo "postgresql://galaxy@/galaxy?host=$dir" ;;
  stop)
    bin=$(pg_bin)
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
      # The server's CPU time, its finished backends included (for docs/performance.md): it runs
      # outside the Galaxy process tree, so a `time` of the run does not count it.
      pid=$(head -1 "$dir/data/postmaster.pid")
      read -ra stat < <(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || true
      [ ${#stat[@]} -lt 15 ] || echo "postgres.sh: the server used $(( (stat[11] + stat[12] + stat[13] + stat[14]) / $(getconf CLK_TCK) )) CPU s" >&2
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop > /dev/null || true
    fi
    rm -rf "$dir" ;;
  *)
    echo "usage: $0 start DIR | stop DIR" >&2; exit 2 ;;
esac
