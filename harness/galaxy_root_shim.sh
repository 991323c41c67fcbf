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
cat > "$SHIM/run.sh" <<RUN
#!/bin/bash
# Called by planemo as: run.sh \$COMMON_STARTUP_ARGS --server-name main (arguments ignored).
export GRAVITY_SKIP_SYSTEMD=1   # gravity refuses to run as root otherwise
# planemo passes its settings as GALAXY_CONFIG_OVERRIDE_* variables.
export GALAXY_CONFIG_OVERRIDE_INTERACTIVETOOLS_ENABLE=false
cfg="\${GALAXY_CONFIG_FILE:?planemo sets GALAXY_CONFIG_FILE}"
"$GXV/bin/python" - "\$cfg" <<'PY'
import json, os, sys
path = sys.argv[1]
config = json.load(open(path))
gravity = config.setdefault("gravity", {})
gravity["gx_it_proxy"] = {"enable": False}   # would run 'npx @galaxyproject/gx-it-proxy'
gravity["virtualenv"] = "$GXV"               # else gravity looks for /bin/gunicorn
# One celery worker (planemo's default set-up, with its SQLite broker): every upload (each tool test
# input) runs inside it, metadata included, instead of a __DATA_FETCH__ job that starts two new Python
# processes importing Galaxy (about 10 CPU seconds each). Tool jobs still set their metadata in a
# process of their own: metadata_strategy "directory_celery" stalled here (the job runner waits for the
# task while SQLite serialises the writers). Beat (periodic clean-ups) is not needed here.
gravity.setdefault("celery", {}).update({"enable": True, "enable_beat": False, "concurrency": 2, "loglevel": "INFO"})
galaxy = config.setdefault("galaxy", {})
galaxy["interactivetools_enable"] = False
# Celery's result store (Galaxy waits for some tasks' results): SQLite beside this Galaxy's
# galaxy.yml (Galaxy's default, <data_dir>/results.sqlite, is not writable from the shim). The routes
# are Galaxy's defaults, which this setting replaces. SQLite's default 5 s lock timeout is too short
# for the broker and result store under load (the worker dropped its broker connection over and over
# with "database is locked"): 60 s.
wait_for_locks = {"connect_args": {"timeout": 60}}
galaxy["celery_conf"] = {
    "result_backend": "db+sqlite:///" + os.path.join(os.path.dirname(os.path.abspath(path)), "celery_results.sqlite"),
    "broker_transport_options": wait_for_locks,
    "database_engine_options": wait_for_locks,
    "task_routes": {"galaxy.fetch_data": "galaxy.external", "galaxy.set_job_metadata": "galaxy.external"},
}
json.dump(config, open(path, "w"))
PY
exec "$GXV/bin/galaxy" -c "\$cfg"
RUN
chmod +x "$SHIM/run.sh"
