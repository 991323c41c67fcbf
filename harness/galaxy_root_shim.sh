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
# planemo passes its settings as GALAXY_CONFIG_OVERRIDE_* variables. No celery worker runs here,
# so celery tasks must be off or uploads stay in state "new" for ever.
export GALAXY_CONFIG_OVERRIDE_ENABLE_CELERY_TASKS=false
export GALAXY_CONFIG_OVERRIDE_INTERACTIVETOOLS_ENABLE=false
cfg="\${GALAXY_CONFIG_FILE:?planemo sets GALAXY_CONFIG_FILE}"
"$GXV/bin/python" - "\$cfg" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
gravity = config.setdefault("gravity", {})
gravity["gx_it_proxy"] = {"enable": False}   # would run 'npx @galaxyproject/gx-it-proxy'
gravity["virtualenv"] = "$GXV"               # else gravity looks for /bin/gunicorn
gravity.setdefault("celery", {}).update({"enable": False, "enable_beat": False})
config.setdefault("galaxy", {})["interactivetools_enable"] = False
json.dump(config, open(path, "w"))
PY
exec "$GXV/bin/galaxy" -c "\$cfg"
RUN
chmod +x "$SHIM/run.sh"
