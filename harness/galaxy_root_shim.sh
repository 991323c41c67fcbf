#!/usr/bin/env bash
# galaxy_root_shim.sh SHIM_DIR GALAXY_VENV
#
# planemo's local engine wants a Galaxy *checkout* (--galaxy_root): it reads lib/galaxy/version and runs
# ./run.sh. Galaxy here comes from PyPI (no git clone possible offline), so this writes a small folder that
# supplies both and starts the pip-installed Galaxy through gravity's `galaxy` command.
set -euo pipefail
SHIM=$1 GXV=$(cd "$2" && pwd)
mkdir -p "$SHIM/lib"
GX_PKG=$("$GXV/bin/python" -c 'import galaxy.version, os; print(os.path.dirname(os.path.dirname(galaxy.version.__file__)))')
ln -sfn "$GX_PKG" "$SHIM/lib/galaxy"
# An unquoted here-document: unescaped dollars and backquotes below are expanded NOW, when the shim is written (a backquoted
# word in a comment once ran make test recursively); escape them or keep them out.
cat > "$SHIM/run.sh" <<RUN
#!/bin/bash
# Called by planemo as: run.sh \$COMMON_STARTUP_ARGS --server-name main (arguments ignored).
export GRAVITY_SKIP_SYSTEMD=1   # gravity refuses to run as root otherwise
# planemo passes its settings as GALAXY_CONFIG_OVERRIDE_* variables.
export GALAXY_CONFIG_OVERRIDE_INTERACTIVETOOLS_ENABLE=false
# On PostgreSQL (the galaxy.yml edit below says why), these two replace what planemo set for SQLite;
# as variables, since planemo's own GALAXY_CONFIG_OVERRIDE_* variables win over galaxy.yml.
# The broker and Celery's results go to a second database of the same server, NAME_celery
# (harness/postgres.sh creates it): in Galaxy's own, their tables would make Galaxy refuse the database.
db="\${GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION:-}"
case "\$db" in
  postgresql*)
    base="\${db%%\?*}"
    export CELERY_DATABASE_CONNECTION="\${base}_celery\${db#"\$base"}"
    export GALAXY_CONFIG_OVERRIDE_METADATA_STRATEGY=directory_celery
    export GALAXY_CONFIG_OVERRIDE_AMQP_INTERNAL_CONNECTION="sqlalchemy+\$CELERY_DATABASE_CONNECTION" ;;
esac
cfg="\${GALAXY_CONFIG_FILE:?planemo sets GALAXY_CONFIG_FILE}"
"$GXV/bin/python" - "\$cfg" <<'PY'
import json, os, sys
path = sys.argv[1]
config = json.load(open(path))
gravity = config.setdefault("gravity", {})
gravity["gx_it_proxy"] = {"enable": False}   # would run 'npx @galaxyproject/gx-it-proxy'
gravity["virtualenv"] = "$GXV"               # else gravity looks for /bin/gunicorn
# One celery worker (planemo's default set-up): every upload (each tool test input) runs inside it,
# metadata included, instead of a __DATA_FETCH__ job that starts two new Python processes importing
# Galaxy (about 10 CPU seconds each). Beat (periodic clean-ups) is not needed here.
gravity.setdefault("celery", {}).update({"enable": True, "enable_beat": False, "concurrency": 2, "loglevel": "INFO"})
galaxy = config.setdefault("galaxy", {})
galaxy["interactivetools_enable"] = False
# The routes are Galaxy's defaults, which celery_conf replaces.
routes = {"galaxy.fetch_data": "galaxy.external", "galaxy.set_job_metadata": "galaxy.external"}
database = galaxy.get("database_connection", "")
if database.startswith("postgresql"):
    # On PostgreSQL (harness/postgres.sh, make test): tool jobs' metadata is set in the warm worker too
    # (a forked child of it), not in a python metadata/set.py process per job (metadata_strategy,
    # above); the broker and Galaxy's internal messages (amqp_internal_connection, above) and Celery's
    # results live in the second database of that server.
    celery_database = os.environ["CELERY_DATABASE_CONNECTION"]
    galaxy["celery_conf"] = {"result_backend": "db+" + celery_database, "task_routes": routes}
else:
    # SQLite (planemo's default: make run, make serve, the Pulsar test): tool jobs set their metadata
    # in a process of their own, as directory_celery stalled here (the job runner waits for the task while
    # SQLite serialises the writers). Celery's result store (Galaxy waits for some tasks' results):
    # SQLite beside this Galaxy's galaxy.yml (Galaxy's default, <data_dir>/results.sqlite, is not
    # writable from the shim). SQLite's default 5 s lock timeout is too short for the broker and result
    # store under load (the worker dropped its broker connection over and over with "database is
    # locked"): 60 s.
    wait_for_locks = {"connect_args": {"timeout": 60}}
    galaxy["celery_conf"] = {
        "result_backend": "db+sqlite:///" + os.path.join(os.path.dirname(os.path.abspath(path)), "celery_results.sqlite"),
        "broker_transport_options": wait_for_locks,
        "database_engine_options": wait_for_locks,
        "task_routes": routes,
    }
json.dump(config, open(path, "w"))
PY
exec "$GXV/bin/galaxy" -c "\$cfg"
RUN
chmod +x "$SHIM/run.sh"
